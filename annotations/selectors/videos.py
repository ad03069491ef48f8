"""Videos and their annotations as one person may see them: lists, filters, one video."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from annotations.models import (
    Annotation,
    Keyframe,
    PendingSearchDocument,
    Project,
    SearchDocument,
    TagDecision,
    TranscriptSegment,
    Video,
    VideoStatus,
)
from annotations.selectors.access import AnyUser, get_video_for_user, videos_for_user
from annotations.selectors.progress import videos_with_state
from annotations.selectors.tags import tag_subtree
from annotations.selectors.visibility import (
    choices_seen_in,
    confirmed_labels_seen_in,
    sees_labels,
    visible_annotations,
    visible_confirmed_labels,
    visible_suggestions,
)

SELECTIVE_SEARCH = 1000


@dataclass(frozen=True)
class VideoFilters:
    """What a video list is narrowed to; empty fields filter nothing.

    ``tag_id`` matches the tag and every tag under it.
    """

    status: str = ""
    tag_id: int | None = None
    annotator_id: int | None = None
    confirmed: bool | None = None
    has_suggestions: bool | None = None
    query: str = ""


def _text_search(videos: QuerySet[Video], project: Project, query: str) -> QuerySet[Video]:
    """Title, description and transcript contain the query, or it is the external id.

    On PostgreSQL: full-text search with the Russian configuration (stems, so
    «футбола» finds «футбол»), served by GIN indexes: on the search documents of titles
    and descriptions (models.search) and on the transcript. A video whose document is
    not written yet (seconds after its import) is matched by every word of the query
    in its title or description as written. Elsewhere: a case-insensitive substring
    match.
    """
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        wanted = SearchQuery(query, config="russian", search_type="websearch")
        in_text = SearchDocument.objects.filter(project=project, document=wanted).values("video_id")
        not_written_yet = (
            PendingSearchDocument.objects.filter(video__project=project)
            .filter(_has_every_word(query))
            .values("video_id")
        )
        in_transcript = (
            TranscriptSegment.objects.filter(video__project=project)
            .annotate(document=SearchVector("text", config="russian"))
            .filter(document=wanted)
            .order_by()
            .values("video_id")
        )
        by_id = Video.objects.filter(project=project, external_id=query).values("pk")
        # A search that matches few videos is answered from their ids (the planner
        # cannot tell how few, and would otherwise walk the whole project in list
        # order); one that matches many finds a page of them soonest by walking.
        # UNION ALL stops at the limit (a plain UNION would first collect every match).
        matching = in_text.union(not_written_yet, in_transcript, by_id, all=True)
        few = list(matching.values_list("video_id", flat=True)[: SELECTIVE_SEARCH + 1])
        if len(few) <= SELECTIVE_SEARCH:
            return videos.filter(pk__in=set(few))
        return videos.filter(
            Q(pk__in=in_text)
            | Q(pk__in=not_written_yet)
            | Q(pk__in=in_transcript)
            | Q(pk__in=by_id)
        )
    # SQLite folds the case of ASCII letters only: try the usual spellings of the
    # query too, so «матч» also finds «Матч» and «МАТЧ».
    matches = Q(external_id=query)
    for spelling in {query, query.lower(), query.capitalize(), query.upper()}:
        segments = TranscriptSegment.objects.filter(video=OuterRef("pk"), text__contains=spelling)
        matches |= (
            Q(title__icontains=spelling) | Q(description__icontains=spelling) | Q(Exists(segments))
        )
    return videos.filter(matches)


def _has_every_word(query: str) -> Q:
    """The pending video's title or description holds each word of a web-style query.

    Quotes are dropped, and so are the words that are operators (``or``, ``-word``):
    a near match for the seconds until the video's search document is written.
    """
    words = [w.strip('"') for w in query.split() if w.lower() != "or" and not w.startswith("-")]
    matches = Q()
    for word in filter(None, words):
        matches &= Q(video__title__icontains=word) | Q(video__description__icontains=word)
    return matches


def videos_filtered(user: AnyUser, project: Project, filters: VideoFilters) -> QuerySet[Video]:
    """The project's videos ``user`` may see, narrowed by ``filters``.

    Filters about labels look only at the labels ``user`` may see (see
    ``selectors.visibility``): a tag matches a confirmed label or an annotator's
    choice, ``confirmed`` asks for confirmed labels; for those who may not see
    labels, both look at their own chosen tags. ``annotator`` looks at the
    annotations ``user`` may see, ``has_suggestions`` at the suggestions.
    """
    videos = videos_for_user(user, project)
    if filters.status:
        videos = videos.filter(status=filters.status)
    if filters.tag_id is not None:
        tag = project.tags.filter(pk=filters.tag_id).first()
        # Ids read first: the database then plans with each tag's own number of rows.
        tags = list(tag_subtree(tag).values_list("pk", flat=True)) if tag is not None else []
        # From the tags' (indexed) rows to their videos: a tag is on few videos of many.
        chosen = choices_seen_in(user, project).filter(tag__in=tags).order_by()
        confirmed = confirmed_labels_seen_in(user, project).filter(tag__in=tags).order_by()
        # One set of ids (a UNION), so the database starts from the tags' few videos
        # instead of testing every video of the project against two sets.
        tagged = chosen.values("annotation__video_id").union(confirmed.values("video_id"))
        videos = videos.filter(pk__in=tagged)
    if filters.annotator_id is not None:
        worked_on = visible_annotations(user).filter(
            video=OuterRef("pk"), annotator=filters.annotator_id
        )
        videos = videos.filter(Exists(worked_on))
    if filters.confirmed is not None:
        if sees_labels(user, project):
            labeled = Exists(confirmed_labels_seen_in(user, project).filter(video=OuterRef("pk")))
        else:  # their own chosen tags stand for the confirmed ones they may not see
            labeled = Exists(
                choices_seen_in(user, project).filter(annotation__video=OuterRef("pk"))
            )
        videos = videos.filter(labeled if filters.confirmed else ~labeled)
    if filters.has_suggestions is not None:
        suggested = Exists(visible_suggestions(user).filter(video=OuterRef("pk")))
        videos = videos.filter(suggested if filters.has_suggestions else ~suggested)
    if filters.query:
        videos = _text_search(videos, project, filters.query)
    return videos


def search_documents_pending(project: Project) -> int:
    """How many of the project's videos the search still matches by their words as written."""
    return PendingSearchDocument.objects.filter(video__project=project).count()


def videos_as_listed(user: AnyUser, project: Project, ids: list[int]) -> list[Video]:
    """The videos of a list's page, in the order of ``ids``, with what the list shows of
    each: ``labeling_state`` as ``user`` may know it, ``thumbnail`` (the first keyframe's
    id) and ``shown_labels``.

    For one page's rows alone: over a whole project, PostgreSQL plans the labeling
    state's subqueries as hashed sets of every confirmed label (0.6 s a page at 100,000
    videos), where for a page of rows it looks each one up.
    """
    first_keyframe = Keyframe.objects.filter(video=OuterRef("pk")).order_by(
        "timestamp_seconds", "id"
    )
    rows = videos_with_state(user, project, Video.objects.filter(pk__in=ids))
    rows = with_shown_labels(
        user, rows.annotate(thumbnail=Subquery(first_keyframe.values("pk")[:1]))
    )
    by_id = {video.pk: video for video in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


def with_shown_labels(user: AnyUser, videos: QuerySet[Video]) -> QuerySet[Video]:
    """``videos`` with the confirmed labels ``user`` may see, as ``shown_labels``."""
    labels = visible_confirmed_labels(user).select_related("tag", "confirmed_by")
    return videos.prefetch_related(
        Prefetch("confirmed_labels", queryset=labels.order_by("tag__path"), to_attr="shown_labels")
    )


def video_in_full(user: AnyUser, video: Video) -> Video:
    """``video`` read again with all it has that ``user`` may see: its transcript,
    keyframes and steps, and ``shown_labels`` and ``shown_suggestions``."""
    # A deprecated tag is no longer offered: its stored suggestions are not shown either.
    suggestions = (
        visible_suggestions(user).filter(tag__active=True).select_related("tag", "model_version")
    )
    return (
        with_shown_labels(user, Video.objects.filter(pk=video.pk))
        .select_related("project")
        .prefetch_related(
            "transcript_segments",
            "keyframes",
            "steps",
            Prefetch("suggestions", queryset=suggestions, to_attr="shown_suggestions"),
        )
        .get()
    )


def get_video_detail_for_user(user: AnyUser, video_id: int) -> Video:
    return video_in_full(user, get_video_for_user(user, video_id))


def shown_confirmed_paths(user: AnyUser, video: Video) -> list[str]:
    labels = visible_confirmed_labels(user).filter(video=video)
    return sorted(labels.values_list("tag__path", flat=True))


def status_counts(videos: QuerySet[Video]) -> dict[str, int]:
    counted = Counter(
        dict(videos.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    )
    return {status.value: counted.get(status.value, 0) for status in VideoStatus}


def _with_decisions(annotations: QuerySet[Annotation]) -> QuerySet[Annotation]:
    return annotations.select_related("annotator").prefetch_related(
        Prefetch("decisions", queryset=TagDecision.objects.select_related("tag"))
    )


def annotations_for_user(
    user: AnyUser, project: Project, *, annotator: str = "", state: str = ""
) -> QuerySet[Annotation]:
    """The project's annotations ``user`` may see, with their decisions."""
    annotations = visible_annotations(user).filter(video__project=project)
    if annotator:
        annotations = annotations.filter(annotator__username=annotator)
    if state:
        annotations = annotations.filter(state=state)
    return _with_decisions(annotations)


def video_annotations_for_user(user: AnyUser, video: Video) -> QuerySet[Annotation]:
    """The video's annotations ``user`` may see, with their decisions."""
    return _with_decisions(visible_annotations(user).filter(video=video))


def own_annotation(user: AnyUser, video: Video) -> Annotation | None:
    """The annotation ``user`` made of ``video``, with its decisions, if any."""
    return _with_decisions(video.annotations.filter(annotator=user.pk)).first()


def labeling_closed(video: Video) -> bool:
    """Whether the queue no longer hands ``video`` to anyone: its tags are confirmed.

    Gold videos are left out: they are confirmed too, but handed out on purpose, and
    nothing on the labeling page may tell them apart from other videos.
    """
    return Video.objects.filter(pk=video.pk, gold__isnull=True).labeled().exists()
