"""The team page: agreement between annotators and the effort each puts in."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from annotations.roles import P_VIEW_ALL_ANNOTATIONS
from annotations.selectors import get_project_for_user
from annotations.selectors.access import require_project_perm
from annotations.selectors.agreement import project_agreement
from annotations.views.requests import AuthenticatedHttpRequest, require_perm


@login_required
def team(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    refusal = _("Your role does not allow seeing other annotators' work.")
    require_perm(request, P_VIEW_ALL_ANNOTATIONS, refusal)
    project = get_project_for_user(request.user, project_id)
    require_project_perm(request.user, project, P_VIEW_ALL_ANNOTATIONS, refusal)
    return render(
        request,
        "annotations/team.html",
        {"project": project, "agreement": project_agreement(project)},
    )
