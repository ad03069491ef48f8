"""A project's progress: labeling states, the pace, the estimated finish and the burn-down."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from annotations.roles import P_VIEW_ALL_ANNOTATIONS
from annotations.selectors.agreement import project_agreement
from annotations.selectors.progress import LabelingState, Progress, project_progress
from annotations.views.requests import AuthenticatedHttpRequest, project_for_perm

# Past this, a projection says little; the chart stops there.
PROJECTION_DAYS = 60
STATE_COLORS = {
    LabelingState.NEW: "#98a2b3",
    LabelingState.IN_PROGRESS: "#2f6fed",
    LabelingState.SUBMITTED: "#b54708",
    LabelingState.REVIEW: "#c01048",
    LabelingState.CONFIRMED: "#12805c",
    LabelingState.SKIPPED: "#5b3fc4",
}
WORST_TAGS = 12


def _day(day: dt.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def _burndown(progress: Progress) -> dict[str, object]:
    labels = [_day(day) for day in progress.days]
    actual: list[int | None] = list(progress.remaining_by_day)
    projected: list[float | None] = [None] * (len(labels) - 1) + [float(progress.remaining)]
    today = progress.days[-1]
    finish = progress.finish
    if finish is not None and finish > today and progress.per_day > 0:
        horizon = min((finish - today).days, PROJECTION_DAYS)
        for step in range(1, horizon + 1):
            labels.append(_day(today + dt.timedelta(days=step)))
            actual.append(None)
            projected.append(max(progress.remaining - progress.per_day * step, 0.0))
    return {
        "type": "line",
        "labels": labels,
        "datasets": [
            {
                "label": _("Answers still needed"),
                "data": actual,
                "borderColor": "#2f6fed",
                "backgroundColor": "#2f6fed",
                "tension": 0.1,
            },
            {
                "label": _("At the current pace"),
                "data": projected,
                "borderColor": "#98a2b3",
                "backgroundColor": "#98a2b3",
                "borderDash": [6, 4],
                "pointRadius": 0,
            },
        ],
        "options": {"scales": {"y": {"beginAtZero": True, "ticks": {"precision": 0}}}},
    }


def _states_chart(progress: Progress) -> dict[str, object]:
    return {
        "type": "bar",
        "labels": [str(label) for _value, label in LabelingState.choices],
        "datasets": [
            {
                "label": _("Videos"),
                "data": [progress.states[value] for value in LabelingState.values],
                "backgroundColor": [STATE_COLORS[value] for value in LabelingState.values],
            }
        ],
        "options": {
            "indexAxis": "y",
            "plugins": {"legend": {"display": False}},
            "scales": {"x": {"beginAtZero": True, "ticks": {"precision": 0}}},
        },
    }


def _throughput_chart(progress: Progress) -> dict[str, object]:
    return {
        "type": "bar",
        "labels": [row.user.get_username() for row in progress.annotators],
        "datasets": [
            {
                "label": _("Submitted in the last 7 days"),
                "data": [row.last_days for row in progress.annotators],
                "backgroundColor": "#2f6fed",
            }
        ],
        "options": {
            "plugins": {"legend": {"display": False}},
            "scales": {"y": {"beginAtZero": True, "ticks": {"precision": 0}}},
        },
    }


def _agreement_chart(per_tag: list) -> dict[str, object]:
    worst = per_tag[:WORST_TAGS]
    return {
        "type": "bar",
        "labels": [f"{row.tag.path} ({row.percent:.0f}%)" for row in worst],
        "datasets": [
            {
                "label": _("Videos on which all annotators agree (%)"),
                "data": [round(row.percent, 1) for row in worst],
                "backgroundColor": "#12805c",
            }
        ],
        "options": {
            "indexAxis": "y",
            "plugins": {"legend": {"display": False}},
            "scales": {"x": {"min": 0, "max": 100}},
        },
    }


@login_required
@require_GET
def project_dashboard(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    refusal = _("Your role does not allow seeing the project's progress.")
    project = project_for_perm(request, project_id, P_VIEW_ALL_ANNOTATIONS, refusal)
    progress = project_progress(project)
    agreement = project_agreement(project)
    efforts = {effort.user.pk: effort for effort in agreement.annotators}
    rows = [(row, efforts.get(row.user.pk)) for row in progress.annotators]
    context = {
        "project": project,
        "progress": progress,
        "agreement": agreement,
        "rows": rows,
        "state_rows": [
            (value, label, progress.states[value]) for value, label in LabelingState.choices
        ],
        "charts": {
            "burndown": _burndown(progress),
            "states": _states_chart(progress),
            "throughput": _throughput_chart(progress),
            "agreement": _agreement_chart(agreement.per_tag),
        },
    }
    return render(request, "annotations/dashboard.html", context)
