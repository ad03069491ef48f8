"""Reads shared by the pages and the API, with the role rules applied.

Every lookup of a project or video on behalf of a user goes through
``get_project_for_user`` / ``get_video_for_user``: a crowd worker asking for a
video they are not assigned gets the same 404 as for a video that does not
exist, so ids cannot be probed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from annotations.models import (
    Annotation,
    ConfirmedLabel,
    ModelEvent,
    ModelVersion,
    Project,
    Suggestion,
    Tag,
    TagDecision,
    TranscriptSegment,
    Video,
    VideoStatus,
)
from annotations.roles import P_LABEL, P_LABEL_ANY, P_VIEW_ALL_ANNOTATIONS, P_VIEW_SUGGESTIONS

AnyUser = User | AnonymousUser


def projects_for_user(user: AnyUser) -> QuerySet[Project]:
    if user.has_perm(P_LABEL_ANY):
        return Project.objects.all()
    if user.has_perm(P_LABEL):
        return Project.objects.filter(videos__assignments__annotator=user.pk).distinct()
    return Project.objects.none()


def videos_for_user(user: AnyUser, project: Project) -> QuerySet[Video]:
    videos = project.videos.all()
    if user.has_perm(P_LABEL_ANY):
        return videos
    if user.has_perm(P_LABEL):
        return videos.filter(assignments__annotator=user.pk)
    return videos.none()


def get_project_for_user(user: AnyUser, project_id: int) -> Project:
    try:
        return projects_for_user(user).get(pk=project_id)
    except Project.DoesNotExist:
        raise Http404("No such project.") from None


def get_video_for_user(user: AnyUser, video_id: int) -> Video:
    if user.has_perm(P_LABEL_ANY):
        videos = Video.objects.all()
    elif user.has_perm(P_LABEL):
        videos = Video.objects.filter(assignments__annotator=user.pk)
    else:
        videos = Video.objects.none()
    try:
        return videos.select_related("project").get(pk=video_id)
    except Video.DoesNotExist:
        raise Http404("No such video.") from None


def get_version_for_user(user: AnyUser, version_id: int) -> ModelVersion:
    """A model version of a project the user may see, for those who may see models."""
    versions = ModelVersion.objects.none()
    if user.has_perm(P_VIEW_ALL_ANNOTATIONS):
        versions = ModelVersion.objects.filter(project__in=projects_for_user(user))
    try:
        return versions.select_related("project", "requested_by").get(pk=version_id)
    except ModelVersion.DoesNotExist:
        raise Http404("No such model version.") from None


def model_history(project: Project, *, limit: int = 50) -> QuerySet[ModelEvent]:
    """The registry's events of a project, the newest first: promotions and rollbacks."""
    return project.model_events.select_related("version", "previous", "by").order_by("-at", "-id")[
        :limit
    ]


@dataclass
class TagNode:
    tag: Tag
    children: list[TagNode] = field(default_factory=list)
    labeled_videos: int = 0


def tag_tree(project: Project) -> list[TagNode]:
    """The project's taxonomy as a forest, with how many videos carry each tag."""
    tags = project.tags.annotate(labeled=Count("confirmed_labels")).order_by("depth", "path")
    nodes: dict[int, TagNode] = {}
    roots: list[TagNode] = []
    for tag in tags:
        node = TagNode(tag=tag, labeled_videos=tag.labeled)
        nodes[tag.pk] = node
        parent = nodes.get(tag.parent_id) if tag.parent_id else None
        (parent.children if parent else roots).append(node)
    return roots


def status_counts(videos: QuerySet[Video]) -> dict[str, int]:
    counted = Counter(
        dict(videos.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    )
    return {status.value: counted.get(status.value, 0) for status in VideoStatus}


def label_tag_matches(
    project: Project, query: str, *, scores: dict[int, float], limit: int
) -> list[Tag]:
    """Active tags whose path contains every word of ``query``, best first.

    Matching is done in Python with ``casefold`` because SQLite's LIKE folds the
    case of ASCII letters only, and the taxonomy is Russian. The model's score
    for the video ranks first; then tags whose own name starts with the query,
    then shallower tags. An empty query lists the model's likeliest tags.
    """
    words = query.casefold().split()
    tags = project.tags.active().only("pk", "path", "name", "depth", "hotkey", "parent_id")
    if not words:
        likeliest = sorted((tag for tag in tags if tag.pk in scores), key=lambda t: -scores[t.pk])
        return likeliest[:limit]
    first = words[0]
    ranked = []
    for tag in tags:
        path = tag.path.casefold()
        if not all(word in path for word in words):
            continue
        name = tag.name.casefold()
        ranked.append(
            (
                -scores.get(tag.pk, -1.0),
                not name.startswith(first),
                first not in name,
                tag.depth,
                tag.path,
                tag,
            )
        )
    ranked.sort(key=lambda row: row[:5])
    return [row[5] for row in ranked[:limit]]


SELECTIVE_SEARCH = 1000


@dataclass(frozen=True)
class VideoFilters:
    """What a video list is narrowed to; empty fields filter nothing."""

    status: str = ""
    tag_id: int | None = None
    annotator_id: int | None = None
    confirmed: bool | None = None
    has_suggestions: bool | None = None
    query: str = ""


def _text_search(videos: QuerySet[Video], project: Project, query: str) -> QuerySet[Video]:
    """Title, description and transcript contain the query.

    On PostgreSQL: full-text search with the Russian configuration (stems, so
    «футбола» finds «футбол»), served by the GIN indexes of migration
    0005_video_search. Elsewhere: a case-insensitive substring match.
    """
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        wanted = SearchQuery(query, config="russian", search_type="websearch")
        in_text = (
            Video.objects.filter(project=project)
            .annotate(document=SearchVector("title", "description", config="russian"))
            .filter(document=wanted)
            .order_by()
            .values("pk")
        )
        in_transcript = (
            TranscriptSegment.objects.filter(video__project=project)
            .annotate(document=SearchVector("text", config="russian"))
            .filter(document=wanted)
            .order_by()
            .values("video_id")
        )
        # A search that matches few videos is answered from their ids (the planner
        # cannot tell how few, and would otherwise walk the whole project in list
        # order); one that matches many finds a page of them soonest by walking.
        # UNION ALL stops at the limit (a plain UNION would first collect every match).
        matching = in_text.union(in_transcript, all=True)
        few = list(matching.values_list("pk", flat=True)[: SELECTIVE_SEARCH + 1])
        if len(few) <= SELECTIVE_SEARCH:
            return videos.filter(pk__in=set(few))
        return videos.filter(Q(pk__in=in_text) | Q(pk__in=in_transcript))
    # SQLite folds the case of ASCII letters only: try the usual spellings of the
    # query too, so «матч» also finds «Матч» and «МАТЧ».
    matches = Q(external_id=query)
    for spelling in {query, query.lower(), query.capitalize(), query.upper()}:
        segments = TranscriptSegment.objects.filter(video=OuterRef("pk"), text__contains=spelling)
        matches |= (
            Q(title__icontains=spelling) | Q(description__icontains=spelling) | Q(Exists(segments))
        )
    return videos.filter(matches)


def videos_filtered(user: AnyUser, project: Project, filters: VideoFilters) -> QuerySet[Video]:
    """The project's videos ``user`` may see, narrowed by ``filters``.

    A tag matches a confirmed label or an annotator's choice; confirmed labels and
    other annotators' work count only for those who may see them, anyone else's
    tag filter looks at their own decisions.
    """
    sees_all = user.has_perm(P_VIEW_ALL_ANNOTATIONS)
    videos = videos_for_user(user, project)
    if filters.status:
        videos = videos.filter(status=filters.status)
    if filters.tag_id is not None:
        # From the tag's (indexed) rows to their videos: a tag is on few videos of many.
        chosen = TagDecision.objects.positive().filter(tag_id=filters.tag_id)
        if not sees_all:
            chosen = chosen.filter(annotation__annotator=user.pk)
        tagged = chosen.order_by().values("annotation__video_id")
        if sees_all:
            confirmed = ConfirmedLabel.objects.filter(tag_id=filters.tag_id).order_by()
            # One set of ids (a UNION), so the database starts from the tag's few videos
            # instead of testing every video of the project against two sets.
            tagged = tagged.union(confirmed.values("video_id"))
        videos = videos.filter(pk__in=tagged)
    if filters.annotator_id is not None and sees_all:
        videos = videos.filter(
            Exists(Annotation.objects.filter(video=OuterRef("pk"), annotator=filters.annotator_id))
        )
    if filters.confirmed is not None and sees_all:
        labeled = Exists(ConfirmedLabel.objects.filter(video=OuterRef("pk")))
        videos = videos.filter(labeled if filters.confirmed else ~labeled)
    if filters.has_suggestions is not None and user.has_perm(P_VIEW_SUGGESTIONS):
        suggested = Exists(Suggestion.objects.filter(video=OuterRef("pk")))
        videos = videos.filter(suggested if filters.has_suggestions else ~suggested)
    if filters.query:
        videos = _text_search(videos, project, filters.query)
    return videos


# Metadata that carries the answer (the tags a video came with): hidden from those who
# may not see other people's labels, so it cannot steer their own.
LABEL_METADATA_KEYS = {"original_tags", "unknown_tags"}


def shown_metadata(user: AnyUser, video: Video) -> dict[str, object]:
    """The video's metadata as a person may see it; the raw probe is left out."""
    hidden = {"media"}
    if not user.has_perm(P_VIEW_ALL_ANNOTATIONS):
        hidden |= LABEL_METADATA_KEYS
    return {key: value for key, value in video.metadata.items() if key not in hidden}
