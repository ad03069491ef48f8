"""Review: experts compare the annotators' choices side by side and confirm the final tags."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from annotations.models import LabelChange, Project, Video
from annotations.roles import P_REVIEW
from annotations.selectors import get_video_for_user, tags_by_path
from annotations.selectors.review import review_sheet, videos_needing_review
from annotations.services.labeling.review import ReviewConflict, review_confirm
from annotations.views.errors import CONFLICT, refused_with
from annotations.views.requests import (
    AuthenticatedHttpRequest,
    clean_text,
    in_project_for_perm,
    parse_int,
    project_for_perm,
    wants_partial,
)

REFUSAL = gettext_lazy("Your role does not allow reviewing.")
REVIEWS_PER_PAGE = 50
HISTORY_SHOWN = 50


def _reviewed_video(request: AuthenticatedHttpRequest, video_id: int) -> Video:
    """The video, when the user may review in its project."""
    return in_project_for_perm(request, get_video_for_user, video_id, P_REVIEW, str(REFUSAL))


@login_required
def review_list(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    user = request.user
    project = project_for_perm(request, project_id, P_REVIEW, str(REFUSAL))
    videos = videos_needing_review(project, user)
    page = Paginator(videos, REVIEWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "annotations/review_list.html", {"project": project, "page": page})


def _review_context(
    video: Video,
    reviewer: User,
    *,
    error: str = "",
    notice: str = "",
    remaining: int | None = None,
    ticked: tuple[set[int], int] | None = None,
    reason: str = "",
    since: int | None = None,
) -> dict[str, object]:
    """The screen's data.

    ``ticked``: the tags a refused confirmation sent and the revision they were decided
    on, which replace the proposal (and stay the base of the next try). ``since``: the
    revision a stale page was built on; the history marks what changed after it.
    """
    project = video.project
    sheet = review_sheet(video)
    if ticked is not None:
        tag_ids, sheet.revision = ticked
        sheet.select(tag_ids)
    history = (
        LabelChange.objects.filter(video=video)
        .select_related("tag", "changed_by")
        .order_by("-changed_at", "-id")[:HISTORY_SHOWN]
    )
    return {
        "video": video,
        "project": project,
        "sheet": sheet,
        "reason": reason,
        "history": history,
        "since": since,
        "all_tags": project.tags.active().only("path").order_by("path"),
        "error": error,
        "notice": notice,
        "remaining": (
            remaining if remaining is not None else videos_needing_review(project, reviewer).count()
        ),
        "segments": video.transcript_segments.only("start_seconds", "end_seconds", "text"),
    }


def _render_review(
    request: AuthenticatedHttpRequest, context: dict[str, object], status: int = 200
) -> HttpResponse:
    partial = wants_partial(request)
    template = "annotations/partials/review_main.html" if partial else "annotations/review.html"
    return render(request, template, context, status=status)


def _review_refused(
    request: AuthenticatedHttpRequest, reason: str, status: int, video_id: int
) -> HttpResponse:
    """The review screen with the reason; nothing was confirmed.

    Refused as invalid, the sheet stays ticked as it was sent, on the revision it was
    sent on. Stale, it shows the current tags, and the history marks what changed.
    """
    reviewer = request.user
    video = _reviewed_video(request, video_id)
    base = parse_int(request.POST.get("revision"))
    ticked = None
    if request.method == "POST" and status != CONFLICT and base is not None:
        tag_ids = {t for v in request.POST.getlist("tag") if (t := parse_int(v)) is not None}
        ticked = (tag_ids, base)
    context = _review_context(
        video,
        reviewer,
        error=reason,
        ticked=ticked,
        reason=clean_text(request.POST.get("reason")),
        since=base if status == CONFLICT else None,
    )
    return _render_review(request, context, status=status)


def _next_review(request: AuthenticatedHttpRequest, project: Project, notice: str) -> HttpResponse:
    remaining = videos_needing_review(project, request.user)
    following = remaining.first()
    if following is None:
        context = {"project": project, "notice": notice}
        if wants_partial(request):
            response = render(request, "annotations/partials/review_done.html", context)
            response["HX-Push-Url"] = reverse("review_list", args=[project.pk])
            return response
        return redirect("review_list", project_id=project.pk)
    if not wants_partial(request):
        return redirect("review_video", video_id=following.pk)
    response = _render_review(
        request,
        _review_context(following, request.user, notice=notice, remaining=remaining.count()),
    )
    response["HX-Push-Url"] = reverse("review_video", args=[following.pk])
    return response


@login_required
def review_next(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    user = request.user
    project = project_for_perm(request, project_id, P_REVIEW, str(REFUSAL))
    following = videos_needing_review(project, user).first()
    if following is None:
        return redirect("review_list", project_id=project.pk)
    return redirect("review_video", video_id=following.pk)


def _chosen_tag_ids(request: AuthenticatedHttpRequest, project: Project) -> set[int]:
    """The tags ticked on the sheet, with the one typed in the "add" box."""
    tag_ids = set()
    for value in request.POST.getlist("tag"):
        tag_id = parse_int(value)
        if tag_id is None:
            raise ValidationError(
                _("The page sent a tag that is not in this project's taxonomy; reload it.")
            )
        tag_ids.add(tag_id)
    added_path = clean_text(request.POST.get("add_path")).strip()
    if not added_path:
        return tag_ids
    added = next(iter(tags_by_path(project, [added_path]).values()))
    return {added.pk} if project.is_single_label else {*tag_ids, added.pk}


def _sheet_revision(request: AuthenticatedHttpRequest) -> int:
    """The revision of the confirmed tags the sheet that was sent showed."""
    revision = parse_int(request.POST.get("revision"))
    if revision is None:
        raise ValidationError(
            _(
                "The page did not say which confirmed tags it showed. It now shows the "
                "current ones: check them and confirm again."
            )
        )
    return revision


@login_required
@require_http_methods(["GET", "POST"])
@refused_with(_review_refused, conflicts=(ReviewConflict,))
def review_video(request: AuthenticatedHttpRequest, video_id: int) -> HttpResponse:
    user = request.user
    video = _reviewed_video(request, video_id)
    if request.method == "GET":
        return _render_review(request, _review_context(video, user))
    review_confirm(
        video=video,
        tag_ids=_chosen_tag_ids(request, video.project),
        reviewer=user,
        revision=_sheet_revision(request),
        reason=clean_text(request.POST.get("reason")),
    )
    notice = _("Confirmed the tags of “%(title)s”.") % {"title": video.title}
    return _next_review(request, video.project, notice)
