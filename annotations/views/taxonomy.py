"""The taxonomy editor: the tree with counts, and every change to a tag, kept in a history.

Anyone in the project sees the tree (counted among the labels they may see); admins
add, rename, move, merge, deprecate and restore tags, set hotkeys, import a file and
download the taxonomy in any layout the importer reads.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from annotations.forms import TaxonomyUploadForm
from annotations.models import Project, Tag, TaxonomyChange
from annotations.roles import P_MANAGE_TAXONOMY
from annotations.selectors import get_project_for_user, tag_tree
from annotations.selectors.access import may
from annotations.selectors.visibility import sees_labels
from annotations.services.taxonomy import taxonomy_import_text, taxonomy_text
from annotations.services.taxonomy_edit import (
    descendants,
    tag_add,
    tag_deprecate,
    tag_hotkey_set,
    tag_merge,
    tag_move,
    tag_rename,
    tag_restore,
)
from annotations.views.display import taxonomy_error
from annotations.views.errors import refused_with
from annotations.views.requests import (
    AuthenticatedHttpRequest,
    clean_text,
    parse_int,
    project_for_perm,
)
from ml.taxonomy import TaxonomyFormatError, detect_format

REFUSAL = gettext_lazy("Only admins can change the taxonomy.")
HISTORY_PER_PAGE = 50
DOWNLOAD_TYPES = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "lines": ("text/plain; charset=utf-8", "txt"),
    "json": ("application/json", "json"),
}


def _editor(request: AuthenticatedHttpRequest, project_id: int) -> Project:
    return project_for_perm(request, project_id, P_MANAGE_TAXONOMY, str(REFUSAL))


def _tag_of(project: Project, tag_id: int | None) -> Tag | None:
    return project.tags.filter(pk=tag_id).first() if tag_id is not None else None


def _chosen_tag(project: Project, tag_id: int | None, missing: str) -> Tag:
    """The project's tag a form names; refused saying ``missing`` when there is none."""
    tag = _tag_of(project, tag_id)
    if tag is None:
        raise ValidationError(missing)
    return tag


def _page(
    request: AuthenticatedHttpRequest,
    project: Project,
    *,
    selected: Tag | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    can_manage = may(request.user, project, P_MANAGE_TAXONOMY)
    tags = list(project.tags.order_by("path"))
    context: dict[str, object] = {
        "project": project,
        "roots": tag_tree(request.user, project),
        "tag_count": sum(1 for tag in tags if tag.active),
        "deprecated_count": sum(1 for tag in tags if not tag.active),
        "can_manage": can_manage,
        "form": TaxonomyUploadForm() if can_manage else None,
        "all_tags": [tag for tag in tags if tag.active],
        "selected": selected,
        "error": error,
        "recent": project.taxonomy_changes.select_related("changed_by")[:5],
        # A merge's counts of labels and decisions moved are counts of labels.
        "sees_labels": sees_labels(request.user, project),
    }
    if selected is not None and can_manage:
        under = set(descendants(selected).values_list("pk", flat=True))
        context["parents"] = [
            tag for tag in tags if tag.active and tag.pk != selected.pk and tag.pk not in under
        ]
        context["merge_targets"] = context["parents"]
        context["labeled_videos"] = selected.confirmed_labels.count()
        context["decision_count"] = selected.decisions.count()
    return render(request, "annotations/taxonomy.html", context, status=status)


@login_required
@require_GET
def taxonomy(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for_user(request.user, project_id)
    return _page(request, project, selected=_tag_of(project, parse_int(request.GET.get("tag"))))


def _create_refused(
    request: AuthenticatedHttpRequest, reason: str, status: int, project_id: int
) -> HttpResponse:
    """The editor again, with the reason; nothing was changed."""
    return _page(request, _editor(request, project_id), error=reason, status=status)


def _edit_refused(
    request: AuthenticatedHttpRequest,
    reason: str,
    status: int,
    project_id: int,
    tag_id: int,
    action: str,
) -> HttpResponse:
    """The editor again, with the reason and the tag it was about; nothing was changed."""
    project = _editor(request, project_id)
    return _page(request, project, selected=_tag_of(project, tag_id), error=reason, status=status)


def _back(project: Project, tag: Tag | None = None) -> HttpResponse:
    url = reverse("taxonomy", args=[project.pk])
    return redirect(f"{url}?tag={tag.pk}" if tag is not None else url)


def _parent_from(request: AuthenticatedHttpRequest, project: Project) -> Tag | None:
    value = request.POST.get("parent", "")
    if not value:
        return None
    return _chosen_tag(
        project,
        parse_int(value),
        _("The chosen parent is not a tag of this project; reload the page."),
    )


@login_required
@require_POST
@refused_with(_create_refused)
def tag_create(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = _editor(request, project_id)
    tag = tag_add(
        project=project,
        name=clean_text(request.POST.get("name"), max_length=300),
        parent=_parent_from(request, project),
        hotkey=clean_text(request.POST.get("hotkey"), max_length=5),
        by=request.user,
    )
    messages.success(request, _("Added “%(path)s”.") % {"path": tag.path})
    return _back(project, tag)


def _edited_tag(request: AuthenticatedHttpRequest, project_id: int, tag_id: int) -> Tag:
    return _chosen_tag(
        _editor(request, project_id),
        tag_id,
        _("This tag is not in the project any more; reload the page."),
    )


@login_required
@require_POST
@refused_with(_edit_refused)
def tag_edit(
    request: AuthenticatedHttpRequest, project_id: int, tag_id: int, action: str
) -> HttpResponse:
    tag = _edited_tag(request, project_id, tag_id)
    project = tag.project
    user = request.user
    if action == "rename":
        before = tag.path
        tag_rename(tag=tag, name=clean_text(request.POST.get("name"), max_length=300), by=user)
        done = _("Renamed “%(before)s” to “%(after)s”.") % {"before": before, "after": tag.path}
    elif action == "move":
        tag_move(tag=tag, parent=_parent_from(request, project), by=user)
        done = _("Moved to “%(path)s”.") % {"path": tag.path}
    elif action == "hotkey":
        tag_hotkey_set(
            tag=tag, hotkey=clean_text(request.POST.get("hotkey"), max_length=5), by=user
        )
        done = _("Hotkey saved.")
    elif action == "merge":
        target = _chosen_tag(
            project, parse_int(request.POST.get("target")), _("Choose the tag to merge into.")
        )
        result = tag_merge(source=tag, target=target, by=user)
        labels = result.labels_moved + result.labels_already_there
        # Translators: %(labels)s and %(decisions)s are counts with their nouns ("3 decisions").
        done = _("Merged “%(source)s” into “%(target)s”: %(labels)s and %(decisions)s moved.") % {
            "source": tag.path,
            "target": target.path,
            "labels": ngettext("%(n)d confirmed label", "%(n)d confirmed labels", labels)
            % {"n": labels},
            "decisions": ngettext("%(n)d decision", "%(n)d decisions", result.decisions_moved)
            % {"n": result.decisions_moved},
        }
        tag = target
    elif action == "deprecate":
        count = tag_deprecate(tag=tag, by=user)
        done = ngettext(
            "Deprecated %(n)d tag: it stays on old labels but is no longer offered.",
            "Deprecated %(n)d tags: they stay on old labels but are no longer offered.",
            count,
        ) % {"n": count}
    elif action == "restore":
        count = tag_restore(tag=tag, by=user)
        done = ngettext("%(n)d tag is offered again.", "%(n)d tags are offered again.", count) % {
            "n": count
        }
    else:
        raise ValidationError(_("Unknown change."))
    messages.success(request, done)
    return _back(project, tag)


@login_required
@require_POST
def taxonomy_upload(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = _editor(request, project_id)
    form = TaxonomyUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            text = form.text()
            fmt = form.cleaned_data["format"]
            if fmt == "auto":
                fmt = detect_format(form.cleaned_data["file"].name or "", text)
            result = taxonomy_import_text(project=project, text=text, fmt=fmt, by=request.user)
        except (TaxonomyFormatError, ValidationError) as exc:
            detail = (
                " ".join(exc.messages)
                if isinstance(exc, ValidationError)
                else taxonomy_error(str(exc))
            )
            messages.error(request, _("Nothing was imported: %(error)s") % {"error": detail})
        else:
            messages.success(
                request,
                ngettext(
                    "Taxonomy imported: %(created)d new tag, %(unchanged)d already present.",
                    "Taxonomy imported: %(created)d new tags, %(unchanged)d already present.",
                    result.created,
                )
                % {"created": result.created, "unchanged": result.unchanged},
            )
    else:
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
    return redirect("taxonomy", project_id=project.pk)


@login_required
@require_GET
def taxonomy_download(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    """The taxonomy in a layout the importer reads back; deprecated tags only when asked."""
    project = get_project_for_user(request.user, project_id)
    fmt = request.GET.get("format", "csv")
    if fmt not in DOWNLOAD_TYPES:
        return HttpResponse(
            _("Unknown format “%(format)s”; choose csv, lines or json.") % {"format": fmt},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    content_type, extension = DOWNLOAD_TYPES[fmt]
    text = taxonomy_text(project, fmt, with_deprecated=request.GET.get("deprecated") == "1")
    response = HttpResponse(text, content_type=content_type)
    filename = f"{project.name}-taxonomy.{extension}".replace("/", "_").replace('"', "")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@login_required
@require_GET
def taxonomy_history(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for_user(request.user, project_id)
    changes = TaxonomyChange.objects.filter(project=project).select_related("changed_by", "tag")
    page = Paginator(changes, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    context = {"project": project, "page": page, "sees_labels": sees_labels(request.user, project)}
    return render(request, "annotations/taxonomy_history.html", context)
