"""The model pages: versions with their figures, retraining with progress, promotion."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from annotations.models import Job, ModelVersion, Project
from annotations.roles import P_RETRAIN, P_VIEW_ALL_ANNOTATIONS
from annotations.selectors import (
    get_version_for_user,
    job_of,
    model_history_for_user,
    model_report,
)
from annotations.selectors.access import may
from annotations.selectors.model_registry import can_roll_back
from annotations.selectors.monitoring import model_monitoring
from annotations.services.learning.registry import (
    PromotionRefused,
    model_promote,
    model_rollback,
)
from annotations.services.learning.retraining import RetrainingLimited, retraining_request
from annotations.services.learning.training import (
    TrainingAlreadyRunning,
    new_labels_since_last_version,
)
from annotations.views.errors import refused_with
from annotations.views.processing import job_context
from annotations.views.quality import auto_confirm_context
from annotations.views.requests import (
    AuthenticatedHttpRequest,
    clean_text,
    in_project_for_perm,
    project_for_perm,
    reload_when_finished,
    require_perm,
    wants_partial,
)


def _project_for_models(request: AuthenticatedHttpRequest, project_id: int) -> Project:
    return project_for_perm(
        request, project_id, P_VIEW_ALL_ANNOTATIONS, _("Your role cannot see the models.")
    )


def _models_context(request: AuthenticatedHttpRequest, project: Project) -> dict[str, object]:
    versions = list(project.model_versions.all())
    training = next((v for v in versions if v.state == ModelVersion.State.TRAINING), None)
    training_job = job_of(Job.Kind.TRAINING, training.pk) if training is not None else None
    # The refresh of the suggestions after a promotion, running or the last one.
    refresh_job = job_of(Job.Kind.SUGGESTIONS, project.pk)
    return {
        "project": project,
        "versions": [(version, model_report.headline(version)) for version in versions],
        "metric_names": [model_report.metric_name(m) for m in model_report.HEADLINE],
        "gate_metric": model_report.metric_name(settings.PROMOTION_METRIC),
        "versions_chart": model_report.versions_chart(versions),
        "training": training,
        "training_job": job_context(request, training_job),
        "refresh_job": job_context(request, refresh_job),
        "busy": training is not None or (refresh_job is not None and refresh_job.is_active),
        "can_retrain": may(request.user, project, P_RETRAIN),
        "can_roll_back": can_roll_back(project),
        "new_labels": new_labels_since_last_version(project),
        "history": model_history_for_user(request.user, project),
        **auto_confirm_context(request, project),
    }


@login_required
def model_list(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = _project_for_models(request, project_id)
    context = _models_context(request, project)
    if not wants_partial(request):
        return render(request, "annotations/models.html", context)
    response = render(request, "annotations/partials/model_versions.html", context)
    return reload_when_finished(request, response, busy=bool(context["busy"]))


def retraining_limited(
    request: AuthenticatedHttpRequest, project: Project, limited: RetrainingLimited
) -> HttpResponse:
    """The models page with 429: trainings started too often; says when to try again."""
    minutes = max(1, round(limited.retry_after / 60))
    started = ngettext(
        "Training was started %(n)d time within the last hour.",
        "Training was started %(n)d times within the last hour.",
        limited.limit,
    ) % {"n": limited.limit}
    again = ngettext(
        "Try again in about %(n)d minute.", "Try again in about %(n)d minutes.", minutes
    ) % {"n": minutes}
    messages.error(request, f"{started} {again}")
    response = render(
        request, "annotations/models.html", _models_context(request, project), status=429
    )
    response["Retry-After"] = str(limited.retry_after)
    return response


@login_required
@require_POST
def model_retrain(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = project_for_perm(
        request, project_id, P_RETRAIN, _("Only admins can retrain the model.")
    )
    try:
        version = retraining_request(project=project, user=request.user)
    except RetrainingLimited as limited:
        return retraining_limited(request, project, limited)
    except TrainingAlreadyRunning as running:
        messages.info(
            request, _("Version %(n)d is already training.") % {"n": running.version.number}
        )
    else:
        messages.success(
            request, _("Training of version %(n)d has started.") % {"n": version.number}
        )
    return redirect("model_list", project_id=project.pk)


def _models_refused(
    request: AuthenticatedHttpRequest,
    reason: str,
    status: int,
    project: Project,
    change: Callable[[], ModelVersion],
) -> HttpResponse:
    messages.error(request, reason)
    context = _models_context(request, project)
    return render(request, "annotations/models.html", context, status=status)


@refused_with(_models_refused, conflicts=(PromotionRefused,))
def _promoted_model_change(
    request: AuthenticatedHttpRequest, project: Project, change: Callable[[], ModelVersion]
) -> HttpResponse:
    """Promote a version by hand or roll back; a change the states refuse is shown with 409."""
    version = change()
    messages.success(request, _("Version %(n)d is now the promoted model.") % {"n": version.number})
    return redirect("model_list", project_id=project.pk)


def _reason(request: AuthenticatedHttpRequest) -> str:
    return clean_text(request.POST.get("reason"), max_length=500).strip()


@login_required
@require_POST
def model_promote_view(request: AuthenticatedHttpRequest, version_id: int) -> HttpResponse:
    version = in_project_for_perm(
        request, get_version_for_user, version_id, P_RETRAIN, _("Only admins can promote a model.")
    )
    return _promoted_model_change(
        request,
        version.project,
        lambda: model_promote(version=version, user=request.user, reason=_reason(request)),
    )


@login_required
@require_POST
def model_rollback_view(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = project_for_perm(
        request, project_id, P_RETRAIN, _("Only admins can roll back a model.")
    )
    return _promoted_model_change(
        request,
        project,
        lambda: model_rollback(project=project, user=request.user, reason=_reason(request)),
    )


@login_required
def model_detail(request: AuthenticatedHttpRequest, version_id: int) -> HttpResponse:
    require_perm(request, P_VIEW_ALL_ANNOTATIONS, _("Your role cannot see the models."))
    version = get_version_for_user(request.user, version_id)
    monitoring = model_monitoring(version)
    folds, cv_rows = model_report.cross_validation(version)
    acceptance = [f for f in monitoring.per_tag[:25] if f.acceptance is not None]
    context = {
        "version": version,
        "project": version.project,
        "headline": model_report.headline(version),
        "cv_folds": folds,
        "cv_rows": cv_rows,
        "gate": (version.metrics or {}).get("gate"),
        "gate_metric": model_report.metric_name(settings.PROMOTION_METRIC),
        "calibration": model_report.calibration(version),
        "skipped": model_report.skipped(version),
        "features_used": model_report.features_used(version),
        "parameters": model_report.parameters_shown(version),
        "monitoring": monitoring,
        "per_tag_chart": model_report.per_tag_chart(version),
        "reliability_chart": model_report.reliability_chart(version),
        "learning_curve_chart": model_report.learning_curve_chart(version),
        "acceptance_chart": {
            "type": "bar",
            "labels": [f.path for f in acceptance],
            "datasets": [
                {
                    "label": _("Accepted share"),
                    "data": [round(f.acceptance or 0.0, 3) for f in acceptance],
                }
            ],
            "options": {"indexAxis": "y", "scales": {"x": {"min": 0, "max": 1}}},
        }
        if acceptance
        else None,
        "over_time_chart": {
            "type": "line",
            "labels": [str(day) for day, _rate, _n in monitoring.per_day],
            "datasets": [
                {
                    "label": _("Accepted share"),
                    "data": [round(r, 3) for _d, r, _n in monitoring.per_day],
                }
            ],
            "options": {"scales": {"y": {"min": 0, "max": 1}}},
        }
        if monitoring.per_day
        else None,
    }
    return render(request, "annotations/model_detail.html", context)
