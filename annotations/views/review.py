"""Review: experts compare the annotators' choices side by side and confirm the final tags."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from annotations.models import LabelChange, Project, Video
from annotations.roles import P_REVIEW
from annotations.selectors import get_project_for_user, get_video_for_user, tags_by_path
from annotations.services.labeling.review import review_confirm, review_sheet, videos_needing_review
from annotations.views.htmx import HtmxHttpRequest

REVIEWS_PER_PAGE = 50
HISTORY_SHOWN = 50


def _reviewer(request: HtmxHttpRequest) -> User:
    if not request.user.has_perm(P_REVIEW):
        raise PermissionDenied(_("Your role does not allow reviewing."))
    assert isinstance(request.user, User)
    return request.user


def _partial(request: HtmxHttpRequest) -> bool:
    return (
        bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request
    )


@login_required
def review_list(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    user = _reviewer(request)
    project = get_project_for_user(user, project_id)
    videos = videos_needing_review(project)
    page = Paginator(videos, REVIEWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "annotations/review_list.html", {"project": project, "page": page})


def _review_context(
    video: Video, *, error: str = "", notice: str = "", remaining: int | None = None
) -> dict[str, object]:
    project = video.project
    history = (
        LabelChange.objects.filter(video=video)
        .select_related("tag", "changed_by")
        .order_by("-changed_at", "-id")[:HISTORY_SHOWN]
    )
    return {
        "video": video,
        "project": project,
        "sheet": review_sheet(video),
        "history": history,
        "all_tags": project.tags.active().only("path").order_by("path"),
        "error": error,
        "notice": notice,
        "remaining": (
            remaining if remaining is not None else videos_needing_review(project).count()
        ),
        "segments": video.transcript_segments.only("start_seconds", "end_seconds", "text"),
    }


def _render_review(request: HtmxHttpRequest, context: dict[str, object], status: int = 200):
    template = (
        "annotations/partials/review_main.html" if _partial(request) else "annotations/review.html"
    )
    return render(request, template, context, status=status)


def _next_review(request: HtmxHttpRequest, project: Project, notice: str) -> HttpResponse:
    remaining = videos_needing_review(project)
    following = remaining.first()
    if following is None:
        context = {"project": project, "notice": notice}
        if _partial(request):
            response = render(request, "annotations/partials/review_done.html", context)
            response["HX-Push-Url"] = reverse("review_list", args=[project.pk])
            return response
        return redirect("review_list", project_id=project.pk)
    if not _partial(request):
        return redirect("review_video", video_id=following.pk)
    response = _render_review(
        request, _review_context(following, notice=notice, remaining=remaining.count())
    )
    response["HX-Push-Url"] = reverse("review_video", args=[following.pk])
    return response


@login_required
def review_next(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    user = _reviewer(request)
    project = get_project_for_user(user, project_id)
    following = videos_needing_review(project).first()
    if following is None:
        return redirect("review_list", project_id=project.pk)
    return redirect("review_video", video_id=following.pk)


@login_required
@require_http_methods(["GET", "POST"])
def review_video(request: HtmxHttpRequest, video_id: int) -> HttpResponse:
    user = _reviewer(request)
    video = get_video_for_user(user, video_id)
    if request.method == "GET":
        return _render_review(request, _review_context(video))
    tag_ids: set[int] = set()
    for value in request.POST.getlist("tag"):
        if value.isdigit():
            tag_ids.add(int(value))
    added_path = request.POST.get("add_path", "").strip()
    if added_path:
        try:
            added = tags_by_path(video.project, [added_path])[added_path]
        except ValidationError as exc:
            context = _review_context(video, error=" ".join(exc.messages))
            return _render_review(request, context, status=422)
        if video.project.is_single_label:
            tag_ids = set()
        tag_ids.add(added.pk)
    try:
        review_confirm(video=video, tag_ids=tag_ids, reviewer=user)
    except ValidationError as exc:
        return _render_review(
            request, _review_context(video, error=" ".join(exc.messages)), status=422
        )
    notice = _("Confirmed the tags of “%(title)s”.") % {"title": video.title}
    return _next_review(request, video.project, notice)
