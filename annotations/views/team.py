"""The team page: agreement between annotators and the effort each puts in."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from annotations.roles import P_VIEW_ALL_ANNOTATIONS
from annotations.selectors import get_project_for_user
from annotations.selectors.agreement import project_agreement


@login_required
def team(request: HttpRequest, project_id: int) -> HttpResponse:
    if not request.user.has_perm(P_VIEW_ALL_ANNOTATIONS):
        raise PermissionDenied(_("Your role does not allow seeing other annotators' work."))
    project = get_project_for_user(request.user, project_id)
    return render(
        request,
        "annotations/team.html",
        {"project": project, "agreement": project_agreement(project)},
    )
