"""A project's video list with filters: status, tag, annotator, confirmed, suggestions, text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from annotations.models import Project, Video, VideoStatus
from annotations.roles import P_VIEW_ALL_ANNOTATIONS, P_VIEW_SUGGESTIONS
from annotations.selectors import (
    AnyUser,
    VideoFilters,
    get_project_for_user,
    search_documents_pending,
    videos_as_listed,
    videos_filtered,
)
from annotations.selectors.access import may
from annotations.selectors.progress import LabelingState, videos_with_state
from annotations.views.requests import AuthenticatedHttpRequest, wants_partial

VIDEOS_PER_PAGE = 50
COUNT_CAP = 10_000
YES_NO = [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]


class CappedPaginator(Paginator):
    """Counts matches only up to ``COUNT_CAP``: an exact count of a large filtered list
    costs more than the page itself, and past ten thousand nobody pages through."""

    @cached_property
    def count(self) -> int:
        videos = self.object_list
        assert isinstance(videos, QuerySet)
        return videos.order_by()[: COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP


class VideoFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *VideoStatus.choices]
    )
    tag = forms.TypedChoiceField(label=_("Tag"), required=False, coerce=int, empty_value=None)
    annotator = forms.TypedChoiceField(
        label=_("Annotator"), required=False, coerce=int, empty_value=None
    )
    state = forms.ChoiceField(
        label=_("Labeling state"),
        required=False,
        choices=[("", _("Any state")), *LabelingState.choices],
    )
    confirmed = forms.ChoiceField(label=_("Confirmed"), required=False, choices=YES_NO)
    suggested = forms.ChoiceField(label=_("Has suggestions"), required=False, choices=YES_NO)

    def __init__(self, *args: Any, project: Project, user: AnyUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tag_field = self.fields["tag"]
        assert isinstance(tag_field, forms.ChoiceField)
        tag_field.choices = [
            ("", _("Any tag")),
            *project.tags.active().order_by("path").values_list("pk", "path"),
        ]
        annotator_field = self.fields["annotator"]
        assert isinstance(annotator_field, forms.ChoiceField)
        if may(user, project, P_VIEW_ALL_ANNOTATIONS):
            # Everyone with a role: finding who worked on this project would read all of
            # its annotations on every page view.
            annotators = User.objects.filter(groups__isnull=False).distinct().order_by("username")
            annotator_field.choices = [
                ("", _("Anyone")),
                *((user.pk, user.get_username()) for user in annotators),
            ]
        else:
            del self.fields["annotator"]
            del self.fields["confirmed"]
        if not may(user, project, P_VIEW_SUGGESTIONS):
            del self.fields["suggested"]

    def filters(self) -> VideoFilters:
        data: dict[str, Any] = {}
        if self.is_bound:
            # A field that does not validate (junk, a tag since removed) filters nothing;
            # the fields that do validate still apply.
            self.is_valid()
            data = self.cleaned_data

        def yes_no(name: str) -> bool | None:
            value = data.get(name) or ""
            return None if not value else value == "yes"

        return VideoFilters(
            status=data.get("status") or "",
            tag_id=data.get("tag"),
            annotator_id=data.get("annotator"),
            confirmed=yes_no("confirmed"),
            has_suggestions=yes_no("suggested"),
            query=(data.get("q") or "").strip(),
        )


def filter_controls(form: VideoFilterForm) -> SafeString:
    """The form's fields as labelled inputs and selects.

    Written here rather than with the widget templates: the tag select has one
    option per taxonomy path (hundreds), and a template per option costs more
    than the rest of the page together.
    """
    data = form.data
    parts = []
    for name, field in form.fields.items():
        value = str(data.get(name, "") or "")
        if isinstance(field, forms.ChoiceField):
            choices = cast("Iterable[tuple[object, object]]", field.choices)
            options = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (key, mark_safe(" selected") if str(key) == value else "", text)
                    for key, text in choices
                ),
            )
            control = format_html('<select name="{}">{}</select>', name, options)
        else:
            control = format_html('<input type="search" name="{}" value="{}">', name, value)
        parts.append(
            format_html('<label class="filter">{} {}</label>', field.label or name, control)
        )
    return mark_safe("".join(parts))  # noqa: S308 - every part is built with format_html


@login_required
def video_list(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for_user(request.user, project_id)
    form = VideoFilterForm(request.GET or None, project=project, user=request.user)
    filters = form.filters()
    videos = videos_filtered(request.user, project, filters)
    state = str(form.cleaned_data.get("state") or "") if form.is_bound else ""
    if state in LabelingState.values:
        videos = videos_with_state(request.user, project, videos, state)
    videos = videos.order_by("created_at", "id")
    page = CappedPaginator(videos, VIDEOS_PER_PAGE).get_page(request.GET.get("page"))
    on_page = cast("QuerySet[Video]", page.object_list)
    page.object_list = videos_as_listed(
        request.user, project, list(on_page.values_list("pk", flat=True))
    )
    query_string = request.GET.copy()
    query_string.pop("page", None)
    context = {
        "project": project,
        "filters": filter_controls(form),
        "page": page,
        "query_string": query_string.urlencode(),
        "states": LabelingState.choices,
        # Videos imported moments ago, whose stemmed search documents a worker is writing.
        "search_pending": search_documents_pending(project) if filters.query else 0,
    }
    if wants_partial(request):
        return render(request, "annotations/partials/video_list_table.html", context)
    return render(request, "annotations/video_list.html", context)
