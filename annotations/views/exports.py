"""The exports page: ask for a snapshot with a format and filters, see every snapshot, download.

Snapshots are built in the background (``services.export``); while one is building the
list reloads itself. Downloads go through the API's download endpoint, which checks
the same permission with the browser's session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from annotations.models import ExportSnapshot, Project
from annotations.roles import P_EXPORT
from annotations.selectors import exports_for_user
from annotations.services.export import ExportFilterError, ExportFilters, export_request
from annotations.views.requests import (
    AuthenticatedHttpRequest,
    project_for_perm,
    wants_partial,
)

REFUSAL = gettext_lazy("Only admins can export datasets.")
SNAPSHOTS_SHOWN = 100
SCOPE_CHOICES = [
    ("confirmed", gettext_lazy("Videos with confirmed tags")),
    ("all", gettext_lazy("Also videos with only submitted answers")),
]


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=ExportSnapshot.Format.choices,
        widget=forms.RadioSelect,
        initial=ExportSnapshot.Format.JSONL,
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Videos"), choices=SCOPE_CHOICES, initial="confirmed"
    )
    date_from = forms.DateField(
        label=gettext_lazy("Confirmed or submitted from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=gettext_lazy("until (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    tags = forms.MultipleChoiceField(
        label=gettext_lazy("Only videos with one of these tags (or a tag under one)"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=gettext_lazy("Hold Ctrl (⌘ on a Mac) to choose several; none chosen: all."),
    )
    min_agreement = forms.FloatField(
        label=gettext_lazy("Least agreement between annotators (0 to 1)"),
        required=False,
        min_value=0.0,
        max_value=1.0,
        widget=forms.NumberInput(attrs={"step": "0.05"}),
        help_text=gettext_lazy("Leaves out videos with fewer than two annotators."),
    )
    include_decisions = forms.BooleanField(
        label=gettext_lazy("Add each annotator's decisions (JSONL, Label Studio)"), required=False
    )
    human_only = forms.BooleanField(
        label=gettext_lazy("People's labels only"),
        required=False,
        help_text=gettext_lazy(
            "Leaves out the tags the model confirmed by itself (auto-confirmation), in every "
            "format, and the videos only the model confirmed."
        ),
    )

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tags = self.fields["tags"]
        assert isinstance(tags, forms.ChoiceField)
        paths = project.tags.order_by("path").values_list("path", flat=True)
        tags.choices = [(path, path) for path in paths]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The first day comes after the last one."))
        return data

    def export_filters(self) -> ExportFilters:
        data = dict(self.cleaned_data)
        data.pop("format")
        data["tags"] = list(data.get("tags") or [])
        return ExportFilters.from_dict(data)


@dataclass(frozen=True)
class SnapshotRow:
    snapshot: ExportSnapshot
    size: int | None


def _size(snapshot: ExportSnapshot) -> int | None:
    """The file's size, or None when it is not built or is missing from the storage."""
    if snapshot.state != ExportSnapshot.State.READY or not snapshot.file:
        return None
    try:
        return int(snapshot.file.size)
    except OSError:
        return None


def _exporter(request: AuthenticatedHttpRequest, project_id: int) -> Project:
    return project_for_perm(request, project_id, P_EXPORT, str(REFUSAL))


@login_required
@require_http_methods(["GET", "POST"])
def exports(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = _exporter(request, project_id)
    form = ExportForm(request.POST or None, project=project)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                filters = form.export_filters()
            except ExportFilterError as invalid:
                form.add_error(None, str(invalid))
            else:
                snapshot = export_request(
                    project=project,
                    user=request.user,
                    fmt=form.cleaned_data["format"],
                    filters=filters,
                )
                messages.success(
                    request,
                    _("Snapshot #%(id)d asked for; it appears below when it is built.")
                    % {"id": snapshot.pk},
                )
                return redirect("exports", project_id=project.pk)
        status = 422
    snapshots = list(exports_for_user(request.user, project)[:SNAPSHOTS_SHOWN])
    context = {
        "project": project,
        "form": form,
        "rows": [SnapshotRow(snapshot, _size(snapshot)) for snapshot in snapshots],
        "building": any(s.state == ExportSnapshot.State.BUILDING for s in snapshots),
    }
    if wants_partial(request):
        return render(request, "annotations/partials/export_list.html", context)
    return render(request, "annotations/exports.html", context, status=status)
