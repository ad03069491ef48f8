"""The label store audit of one project, for admins: the same checks as ``audit_labels``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from annotations.roles import P_EXPORT
from annotations.selectors.audit import label_store_audit
from annotations.views.requests import AuthenticatedHttpRequest, project_for_perm


@login_required
def label_audit(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = project_for_perm(
        request, project_id, P_EXPORT, _("Only admins can audit the labels.")
    )
    violations = label_store_audit(project)
    return render(request, "annotations/audit.html", {"project": project, "violations": violations})
