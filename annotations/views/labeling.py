"""The labeling screen: one video, its suggestions and the annotator's decisions.

Decisions are saved one by one as they are made (htmx), so a reload or a closed
tab loses nothing. Submit and Skip answer with the next video's screen, swapped
in place with the address pushed to the history, so moving on needs no reload.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import markdown
import nh3
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from annotations.models import POSITIVE_DECISIONS, Annotation, Project, Tag, Video
from annotations.roles import P_LABEL, P_VIEW_SUGGESTIONS
from annotations.selectors import (
    get_project_for_user,
    get_video_for_user,
    label_tag_matches,
    shown_metadata,
)
from annotations.services.labeling.annotation import (
    AnnotationConflict,
    annotation_activity,
    annotation_skip,
    annotation_start,
    annotation_submit,
    decision_set,
)
from annotations.services.labeling.queue import REMAINING_CAP, next_video_for, queue_remaining
from annotations.views.htmx import HtmxHttpRequest
from ml.taxonomy import PATH_SEPARATOR

TAG_OPTIONS = 10
GUIDELINE_TAGS = {
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "hr", "li", "ol", "p",
    "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip


@dataclass
class DecisionRow:
    tag: Tag
    decision: str
    score: float | None = None
    model_label: str = ""
    suggested: bool = False

    @property
    def positive(self) -> bool:
        return self.decision in POSITIVE_DECISIONS

    @property
    def parents(self) -> list[str]:
        return self.tag.path.split(PATH_SEPARATOR)[:-1]


@dataclass
class TagOption:
    tag: Tag
    parents: list[str]
    score: float | None
    chosen: bool


def guidelines_html(project: Project) -> str:
    """The project's Markdown guidelines as HTML with anything active stripped."""
    return _markdown_to_safe_html(project.guidelines)


@lru_cache(maxsize=64)
def _markdown_to_safe_html(text: str) -> str:
    # Cached by the text itself: guidelines change rarely and are shown on every page.
    if not text.strip():
        return ""
    html = markdown.markdown(text, extensions=["tables", "sane_lists"])
    return nh3.clean(html, tags=GUIDELINE_TAGS, attributes={"a": {"href", "title"}})


def _float(value: str | None) -> float:
    try:
        number = float(value or 0)
    except ValueError:
        return 0.0
    return number if math.isfinite(number) else 0.0


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise ValidationError(_("The page sent an invalid number; reload it.")) from None


def _require_label(request: HtmxHttpRequest) -> User:
    user = request.user
    if not user.has_perm(P_LABEL):
        raise PermissionDenied(_("Your role does not allow labeling."))
    assert isinstance(user, User)
    return user


def _own_annotation(request: HtmxHttpRequest, annotation_id: int) -> Annotation:
    user = _require_label(request)
    return get_object_or_404(
        Annotation.objects.select_related("video__project", "annotator"),
        pk=annotation_id,
        annotator=user,
    )


def decision_rows(annotation: Annotation, *, with_suggestions: bool) -> tuple[list, list]:
    """(suggestion rows, rows for tags the annotator added), in display order."""
    decisions = dict(annotation.decisions.order_by().values_list("tag_id", "decision"))
    suggestion_rows = []
    seen: set[int] = set()
    if with_suggestions:
        suggestions = annotation.video.suggestions.select_related("tag", "model_version")
        for suggestion in suggestions.order_by("rank", "id"):
            seen.add(suggestion.tag_id)
            version = suggestion.model_version
            suggestion_rows.append(
                DecisionRow(
                    tag=suggestion.tag,
                    decision=decisions.get(suggestion.tag_id, ""),
                    score=suggestion.score,
                    model_label=f"v{version.number}" if version else _("zero-shot"),
                    suggested=True,
                )
            )
    added_ids = [
        tag_id for tag_id, d in decisions.items() if tag_id not in seen and d in POSITIVE_DECISIONS
    ]
    added_rows = [
        DecisionRow(tag=tag, decision=decisions[tag.pk])
        for tag in Tag.objects.filter(pk__in=added_ids).order_by("path")
    ]
    return suggestion_rows, added_rows


def _decisions_context(
    request: HtmxHttpRequest, annotation: Annotation, *, error: str = ""
) -> dict[str, object]:
    suggestion_rows, added_rows = decision_rows(
        annotation, with_suggestions=request.user.has_perm(P_VIEW_SUGGESTIONS)
    )
    return {
        "annotation": annotation,
        "video": annotation.video,
        "project": annotation.video.project,
        "suggestion_rows": suggestion_rows,
        "added_rows": added_rows,
        "chosen_count": sum(row.positive for row in [*suggestion_rows, *added_rows]),
        "error": error,
    }


def _main_context(
    request: HtmxHttpRequest, video: Video, annotation: Annotation, *, notice: str = ""
) -> dict[str, object]:
    _require_label(request)
    project = video.project
    return {
        **_decisions_context(request, annotation),
        "segments": video.transcript_segments.order_by("index"),
        "keyframes": video.keyframes.order_by("timestamp_seconds"),
        "metadata": shown_metadata(request.user, video),
        "hotkey_tags": project.tags.active().exclude(hotkey="").order_by("hotkey"),
        "guidelines": guidelines_html(project),
        "notice": notice,
    }


def _render_main(
    request: HtmxHttpRequest, video: Video, annotation: Annotation, *, notice: str = ""
) -> HttpResponse:
    context = _main_context(request, video, annotation, notice=notice)
    full_page = not request.htmx or request.htmx.boosted or request.htmx.history_restore_request
    template = "annotations/label.html" if full_page else "annotations/partials/label_main.html"
    return render(request, template, context)


@login_required
@require_GET
def label_video(request: HtmxHttpRequest, video_id: int) -> HttpResponse:
    user = _require_label(request)
    video = get_video_for_user(user, video_id)
    annotation = annotation_start(video=video, annotator=user)
    return _render_main(request, video, annotation)


def _done(request: HtmxHttpRequest, project: Project, *, notice: str = "") -> HttpResponse:
    context = {"project": project, "notice": notice}
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        response = render(request, "annotations/partials/label_done.html", context)
        response["HX-Push-Url"] = reverse("queue_next", args=[project.pk])
        return response
    return render(request, "annotations/label_done.html", context)


@login_required
@require_GET
def queue_next(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    user = _require_label(request)
    project = get_project_for_user(user, project_id)
    video = next_video_for(user, project)
    if video is None:
        return _done(request, project)
    return redirect("label_video", video_id=video.pk)


def _next_screen(request: HtmxHttpRequest, project: Project, notice: str) -> HttpResponse:
    user = _require_label(request)
    if not request.htmx:
        return redirect("queue_next", project_id=project.pk)
    video = next_video_for(user, project)
    if video is None:
        return _done(request, project, notice=notice)
    annotation = annotation_start(video=video, annotator=user)
    response = _render_main(request, video, annotation, notice=notice)
    response["HX-Push-Url"] = reverse("label_video", args=[video.pk])
    return response


def _refused(request: HtmxHttpRequest, annotation: Annotation, message: str, status: int):
    """The decisions panel with the reason, in place of whatever the request targeted."""
    annotation.refresh_from_db()
    response = render(
        request,
        "annotations/partials/label_decisions.html",
        _decisions_context(request, annotation, error=message),
        status=status,
    )
    response["HX-Retarget"] = "#decisions"
    response["HX-Reswap"] = "outerHTML"
    return response


@login_required
@require_POST
def decision_save(request: HtmxHttpRequest, annotation_id: int) -> HttpResponse:
    annotation = _own_annotation(request, annotation_id)
    tag = get_object_or_404(Tag, pk=_int(request.POST.get("tag")))
    decision = request.POST.get("decision", "")
    try:
        annotation = decision_set(
            annotation=annotation,
            tag=tag,
            decision=None if decision == "clear" else decision,
            revision=_int(request.POST.get("revision")),
            active_seconds=_float(request.POST.get("active_seconds")),
        )
    except AnnotationConflict as conflict:
        return _refused(request, conflict.annotation, str(conflict), 409)
    except ValidationError as exc:
        return _refused(request, annotation, " ".join(exc.messages), 422)
    return render(
        request,
        "annotations/partials/label_decisions.html",
        _decisions_context(request, annotation),
    )


@login_required
@require_POST
def submit(request: HtmxHttpRequest, annotation_id: int) -> HttpResponse:
    annotation = _own_annotation(request, annotation_id)
    try:
        annotation_submit(
            annotation=annotation,
            revision=_int(request.POST.get("revision")),
            active_seconds=_float(request.POST.get("active_seconds")),
        )
    except AnnotationConflict as conflict:
        return _refused(request, conflict.annotation, str(conflict), 409)
    except ValidationError as exc:
        return _refused(request, annotation, " ".join(exc.messages), 422)
    notice = _("Submitted “%(title)s”.") % {"title": annotation.video.title}
    return _next_screen(request, annotation.video.project, notice)


@login_required
@require_POST
def skip(request: HtmxHttpRequest, annotation_id: int) -> HttpResponse:
    annotation = _own_annotation(request, annotation_id)
    try:
        annotation_skip(
            annotation=annotation,
            revision=_int(request.POST.get("revision")),
            reason=request.POST.get("reason", ""),
            active_seconds=_float(request.POST.get("active_seconds")),
        )
    except AnnotationConflict as conflict:
        return _refused(request, conflict.annotation, str(conflict), 409)
    except ValidationError as exc:
        return _refused(request, annotation, " ".join(exc.messages), 422)
    notice = _("Skipped “%(title)s”.") % {"title": annotation.video.title}
    return _next_screen(request, annotation.video.project, notice)


@login_required
@require_GET
def remaining(request: HtmxHttpRequest, video_id: int) -> HttpResponse:
    """How many more videos the queue holds for the user; loaded after the page, not with it."""
    user = _require_label(request)
    video = get_video_for_user(user, video_id)
    count = queue_remaining(user, video.project, besides=video)
    return render(
        request,
        "annotations/partials/label_remaining.html",
        {"remaining": count, "capped": count >= REMAINING_CAP},
    )


@login_required
@require_POST
def activity(request: HtmxHttpRequest, annotation_id: int) -> HttpResponse:
    """Active seconds sent when the page is left, so time between saves is not lost."""
    annotation = _own_annotation(request, annotation_id)
    annotation_activity(
        annotation=annotation, active_seconds=_float(request.POST.get("active_seconds"))
    )
    return HttpResponse(status=204)


@login_required
@require_GET
def tag_search(request: HtmxHttpRequest, video_id: int) -> HttpResponse:
    """Taxonomy paths matching what was typed, the model's likeliest for this video first."""
    user = _require_label(request)
    video = get_video_for_user(user, video_id)
    if not request.user.has_perm(P_VIEW_SUGGESTIONS):
        scores: dict[int, float] = {}
    else:
        scores = dict(video.suggestions.order_by().values_list("tag_id", "score"))
    query = request.GET.get("q", "")[:200]
    matches = label_tag_matches(video.project, query, scores=scores, limit=TAG_OPTIONS)
    annotation = Annotation.objects.filter(video=video, annotator=user).order_by().first()
    if annotation is None:
        raise Http404(_("Open the video for labeling first."))
    chosen = set(annotation.decisions.positive().values_list("tag_id", flat=True))
    options = [
        TagOption(
            tag=tag,
            parents=tag.path.split(PATH_SEPARATOR)[:-1],
            score=scores.get(tag.pk),
            chosen=tag.pk in chosen,
        )
        for tag in matches
    ]
    # What is already chosen goes last, so Enter adds the best tag not yet chosen.
    options.sort(key=lambda option: option.chosen)
    return render(
        request,
        "annotations/partials/label_tag_options.html",
        {"options": options, "annotation": annotation, "query": query},
    )
