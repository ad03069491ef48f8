"""The team page: agreement between annotators and the effort each puts in."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from annotations.roles import P_RETRAIN, P_VIEW_ALL_ANNOTATIONS
from annotations.selectors.access import may
from annotations.selectors.agreement import project_agreement
from annotations.views.quality import team_quality_context
from annotations.views.requests import AuthenticatedHttpRequest, project_for_perm


@login_required
def team(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    refusal = _("Your role does not allow seeing other annotators' work.")
    project = project_for_perm(request, project_id, P_VIEW_ALL_ANNOTATIONS, refusal)
    return render(
        request,
        "annotations/team.html",
        {
            "project": project,
            "agreement": project_agreement(project),
            **team_quality_context(project),
            "can_send_to_review": may(request.user, project, P_RETRAIN),
        },
    )
