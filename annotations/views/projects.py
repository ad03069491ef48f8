"""Projects from the browser: create one, change its settings, archive it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from annotations.forms import ProjectForm
from annotations.models import Project
from annotations.roles import P_MANAGE_PROJECTS
from annotations.selectors import get_project_for_user
from annotations.services.projects import (
    EDITABLE_FIELDS,
    default_guidelines,
    project_archive,
    project_create,
    project_update,
)
from annotations.views.markup import markdown_html
from annotations.views.requests import AuthenticatedHttpRequest, clean_text, require_perm

MANAGE_REFUSAL = gettext_lazy("Only admins can create and change projects.")


def _managed_project(request: AuthenticatedHttpRequest, project_id: int) -> Project:
    require_perm(request, P_MANAGE_PROJECTS, str(MANAGE_REFUSAL))
    return get_project_for_user(request.user, project_id)


def _fields(form: ProjectForm) -> dict[str, object]:
    return {name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.fields}


@login_required
@require_http_methods(["GET", "POST"])
def project_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_perm(request, P_MANAGE_PROJECTS, str(MANAGE_REFUSAL))
    form = ProjectForm(request.POST or None, initial={"guidelines": default_guidelines()})
    if request.method == "POST" and form.is_valid():
        fields = _fields(form)
        try:
            project = project_create(name=str(fields.pop("name")), **fields)
        except ValidationError as invalid:
            form.add_error(None, invalid)
        else:
            messages.success(
                request,
                _("Project “%(name)s” created. Next: give it tags, then people and videos.")
                % {"name": project.name},
            )
            return redirect("taxonomy", project_id=project.pk)
    status = 422 if form.errors else 200
    return render(request, "annotations/project_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def project_settings(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = _managed_project(request, project_id)
    form = ProjectForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid():
        try:
            project_update(project=Project.objects.get(pk=project.pk), **_fields(form))
        except ValidationError as invalid:
            form.add_error(None, invalid)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("project_settings", project_id=project.pk)
    project.refresh_from_db()
    status = 422 if form.errors else 200
    return render(
        request,
        "annotations/project_form.html",
        {"form": form, "project": project},
        status=status,
    )


@login_required
@require_POST
def project_archive_view(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = _managed_project(request, project_id)
    archive = request.POST.get("archive") != "0"
    project_archive(project=project, archived=archive)
    if archive:
        messages.success(
            request,
            _("“%(name)s” is archived: its members no longer see it; nothing was deleted.")
            % {"name": project.name},
        )
    else:
        messages.success(request, _("“%(name)s” is active again.") % {"name": project.name})
    return redirect("project_settings", project_id=project.pk)


@login_required
@require_POST
def guidelines_preview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The guidelines as annotators will see them, while an admin writes them."""
    require_perm(request, P_MANAGE_PROJECTS, str(MANAGE_REFUSAL))
    text = clean_text(request.POST.get("guidelines"), max_length=100_000)
    return render(
        request, "annotations/partials/guidelines_preview.html", {"html": markdown_html(text)}
    )
