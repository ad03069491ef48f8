"""The labeling screen: one video, its suggestions and the annotator's decisions.

Decisions are saved one by one as they are made (htmx), so a reload or a closed
tab loses nothing. Submit and Skip answer with the next video's screen, swapped
in place with the address pushed to the history, so moving on needs no reload.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from annotations.models import POSITIVE_DECISIONS, Annotation, Decision, Project, Tag, Video
from annotations.roles import P_LABEL, P_VIEW_SUGGESTIONS
from annotations.selectors import (
    get_annotation_for_user,
    get_project_for_user,
    get_video_for_user,
    label_tag_matches,
    labeling_closed,
    shown_metadata,
)
from annotations.services.labeling.annotation import (
    added_suggestion_note,
    annotation_activity,
    annotation_skip,
    annotation_start,
    annotation_submit,
    decision_set,
)
from annotations.services.labeling.queue import REMAINING_CAP, next_video_for, queue_remaining
from annotations.views.display import metadata_rows
from annotations.views.errors import refused_with
from annotations.views.markup import markdown_html
from annotations.views.requests import (
    AuthenticatedHttpRequest,
    clean_text,
    parse_int,
    require_perm,
    wants_partial,
)
from ml.taxonomy import PATH_SEPARATOR

TAG_OPTIONS = 10


@dataclass
class DecisionRow:
    tag: Tag
    decision: str
    score: float | None = None
    model_label: str = ""
    suggested: bool = False
    # Chosen by the model ("likely"), or a candidate below its decision ("possible").
    likely: bool = False

    @property
    def below(self) -> bool:
        """A candidate under the model's decision, shown for the annotator to consider."""
        return self.suggested and not self.likely

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
    return markdown_html(project.guidelines)


def _active_seconds(request: AuthenticatedHttpRequest) -> float:
    """Seconds the annotator was active since the last save; junk counts as none."""
    try:
        seconds = float(request.POST.get("active_seconds") or 0)
    except ValueError:
        return 0.0
    return seconds if math.isfinite(seconds) else 0.0


def _revision(request: AuthenticatedHttpRequest) -> int:
    revision = parse_int(request.POST.get("revision"))
    if revision is None:
        raise ValidationError(_("The page sent an invalid number; reload it."))
    return revision


def _chosen_tag(request: AuthenticatedHttpRequest, annotation: Annotation) -> Tag:
    tag_id = parse_int(request.POST.get("tag"))
    tag = annotation.video.project.tags.filter(pk=tag_id).first() if tag_id else None
    if tag is None:
        raise ValidationError(
            _("The page sent a tag that is not in this project's taxonomy; reload it.")
        )
    return tag


def _require_label(request: AuthenticatedHttpRequest) -> User:
    return require_perm(request, P_LABEL, _("Your role does not allow labeling."))


def _own_annotation(request: AuthenticatedHttpRequest, annotation_id: int) -> Annotation:
    """The user's annotation, while they may still open its video (404 once they may not)."""
    return get_annotation_for_user(_require_label(request), annotation_id)


def decision_rows(annotation: Annotation, *, with_suggestions: bool) -> tuple[list, list]:
    """(suggestion rows, rows for tags the annotator added), in display order."""
    decisions = dict(annotation.decisions.order_by().values_list("tag_id", "decision"))
    suggestion_rows = []
    seen: set[int] = set()
    if with_suggestions:
        suggestions = annotation.video.suggestions.filter(tag__active=True).select_related(
            "tag", "model_version"
        )
        # The model's suggestions first, then the candidates below its threshold, by score.
        for suggestion in suggestions.order_by("-above_threshold", "-score", "rank", "id"):
            seen.add(suggestion.tag_id)
            version = suggestion.model_version
            suggestion_rows.append(
                DecisionRow(
                    tag=suggestion.tag,
                    decision=decisions.get(suggestion.tag_id, ""),
                    score=suggestion.score,
                    model_label=f"v{version.number}" if version else _("zero-shot"),
                    suggested=True,
                    likely=suggestion.above_threshold,
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
    request: AuthenticatedHttpRequest, annotation: Annotation, *, error: str = "", note: str = ""
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
        "note": note,
    }


def _main_context(
    request: AuthenticatedHttpRequest, video: Video, annotation: Annotation, *, notice: str = ""
) -> dict[str, object]:
    _require_label(request)
    project = video.project
    return {
        **_decisions_context(request, annotation),
        "segments": video.transcript_segments.order_by("index"),
        "keyframes": video.keyframes.order_by("timestamp_seconds"),
        "metadata": metadata_rows(shown_metadata(request.user, video)),
        "hotkey_tags": project.tags.active().exclude(hotkey="").order_by("hotkey"),
        "guidelines": guidelines_html(project),
        "notice": notice,
        # Opened from a link or a draft left before the tags were confirmed: the queue
        # would not have served it, and the page should not pretend it still needs work.
        "labeling_closed": not annotation.is_locked and labeling_closed(video),
    }


def _render_main(
    request: AuthenticatedHttpRequest, video: Video, annotation: Annotation, *, notice: str = ""
) -> HttpResponse:
    context = _main_context(request, video, annotation, notice=notice)
    partial = wants_partial(request)
    template = "annotations/partials/label_main.html" if partial else "annotations/label.html"
    return render(request, template, context)


@login_required
@require_GET
def label_video(request: AuthenticatedHttpRequest, video_id: int) -> HttpResponse:
    user = _require_label(request)
    video = get_video_for_user(user, video_id)
    annotation = annotation_start(video=video, annotator=user)
    return _render_main(request, video, annotation)


def _done(request: AuthenticatedHttpRequest, project: Project, *, notice: str = "") -> HttpResponse:
    context = {"project": project, "notice": notice}
    if not wants_partial(request):
        return render(request, "annotations/label_done.html", context)
    response = render(request, "annotations/partials/label_done.html", context)
    response["HX-Push-Url"] = reverse("queue_next", args=[project.pk])
    return response


@login_required
@require_GET
def queue_next(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    user = _require_label(request)
    project = get_project_for_user(user, project_id)
    video = next_video_for(user, project)
    if video is None:
        return _done(request, project)
    return redirect("label_video", video_id=video.pk)


def _next_screen(request: AuthenticatedHttpRequest, project: Project, notice: str) -> HttpResponse:
    """The next video's screen in place of this one, its address pushed to the history."""
    if not wants_partial(request):
        return redirect("queue_next", project_id=project.pk)
    video = next_video_for(request.user, project)
    if video is None:
        return _done(request, project, notice=notice)
    annotation = annotation_start(video=video, annotator=request.user)
    response = _render_main(request, video, annotation, notice=notice)
    response["HX-Push-Url"] = reverse("label_video", args=[video.pk])
    return response


def _decisions_refused(
    request: AuthenticatedHttpRequest, reason: str, status: int, annotation_id: int
) -> HttpResponse:
    """The decisions panel as saved, with the reason, in place of what the request targeted."""
    annotation = _own_annotation(request, annotation_id)
    context = _decisions_context(request, annotation, error=reason)
    response = render(request, "annotations/partials/label_decisions.html", context, status=status)
    response["HX-Retarget"] = "#decisions"
    response["HX-Reswap"] = "outerHTML"
    return response


@login_required
@require_POST
@refused_with(_decisions_refused)
def decision_save(request: AuthenticatedHttpRequest, annotation_id: int) -> HttpResponse:
    annotation = _own_annotation(request, annotation_id)
    decision = request.POST.get("decision", "")
    tag = _chosen_tag(request, annotation)
    note = ""
    if decision == Decision.ADD and request.user.has_perm(P_VIEW_SUGGESTIONS):
        note = added_suggestion_note(annotation=annotation, tag=tag)
    annotation = decision_set(
        annotation=annotation,
        tag=tag,
        decision=None if decision == "clear" else decision,
        revision=_revision(request),
        active_seconds=_active_seconds(request),
    )
    context = _decisions_context(request, annotation, note=note)
    return render(request, "annotations/partials/label_decisions.html", context)


def _finished(
    request: AuthenticatedHttpRequest,
    annotation_id: int,
    finish: Callable[..., object],
    notice: str,
) -> HttpResponse:
    """The user's annotation ended by ``finish`` (submitted or skipped) at the revision and
    active time the page sent, then the next video, with ``notice`` naming this one."""
    annotation = _own_annotation(request, annotation_id)
    finish(
        annotation=annotation,
        revision=_revision(request),
        active_seconds=_active_seconds(request),
    )
    notice %= {"title": annotation.video.title}
    return _next_screen(request, annotation.video.project, notice)


@login_required
@require_POST
@refused_with(_decisions_refused)
def submit(request: AuthenticatedHttpRequest, annotation_id: int) -> HttpResponse:
    return _finished(request, annotation_id, annotation_submit, _("Submitted “%(title)s”."))


@login_required
@require_POST
@refused_with(_decisions_refused)
def skip(request: AuthenticatedHttpRequest, annotation_id: int) -> HttpResponse:
    reason = clean_text(request.POST.get("reason"))
    finish = partial(annotation_skip, reason=reason)
    return _finished(request, annotation_id, finish, _("Skipped “%(title)s”."))


@login_required
@require_GET
def remaining(request: AuthenticatedHttpRequest, video_id: int) -> HttpResponse:
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
def activity(request: AuthenticatedHttpRequest, annotation_id: int) -> HttpResponse:
    """Active seconds sent when the page is left, so time between saves is not lost."""
    annotation = _own_annotation(request, annotation_id)
    annotation_activity(annotation=annotation, active_seconds=_active_seconds(request))
    return HttpResponse(status=204)


@login_required
@require_GET
def tag_search(request: AuthenticatedHttpRequest, video_id: int) -> HttpResponse:
    """Taxonomy paths matching what was typed, the model's likeliest for this video first."""
    user = _require_label(request)
    video = get_video_for_user(user, video_id)
    if not user.has_perm(P_VIEW_SUGGESTIONS):
        scores: dict[int, float] = {}
    else:
        scores = dict(video.suggestions.order_by().values_list("tag_id", "score"))
    query = clean_text(request.GET.get("q"), max_length=200)
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
