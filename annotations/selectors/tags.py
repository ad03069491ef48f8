"""A project's tags: by path, as a tree, and matching what a person types."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from annotations.models import Project, Tag
from annotations.selectors.access import AnyUser
from annotations.selectors.visibility import (
    choices_seen_in,
    confirmed_labels_seen_in,
    sees_labels,
)
from ml.taxonomy import PATH_SEPARATOR, normalize_path


def tags_by_path(project: Project, paths: Iterable[str]) -> dict[str, Tag]:
    """The project's tag for each of ``paths``, keyed by the path as given.

    Paths are compared in their normal form ("Спорт:Футбол " is "Спорт: Футбол").
    ValidationError names every path that is not a tag of the project.
    """
    given = {path: normalize_path(path) for path in paths}
    found = {tag.path: tag for tag in project.tags.filter(path__in=set(given.values()))}
    unknown = sorted({path for path in given.values() if path not in found})
    if unknown:
        raise ValidationError(
            [_("No tag “%(path)s” in the taxonomy.") % {"path": path} for path in unknown]
        )
    return {path: found[normal] for path, normal in given.items()}


def project_tags(project: Project) -> QuerySet[Tag]:
    """Every tag of the project, in path order."""
    return project.tags.order_by("path")


def tag_subtree(tag: Tag) -> QuerySet[Tag]:
    """The tag and every tag under it."""
    return Tag.objects.filter(
        Q(pk=tag.pk) | Q(project=tag.project_id, path__startswith=tag.path + PATH_SEPARATOR)
    )


def tag_paths(project: Project, tag_ids: Iterable[int]) -> dict[int, str]:
    return dict(project.tags.filter(pk__in=set(tag_ids)).values_list("pk", "path"))


@dataclass
class TagNode:
    tag: Tag
    children: list[TagNode] = field(default_factory=list)
    labeled_videos: int = 0


def labeled_video_counts(user: AnyUser, project: Project) -> dict[int, int]:
    """How many videos carry each tag of the project (by tag id; tags on none are left out).

    Counted among the labels ``user`` may see: the confirmed ones, or their own choices.
    """
    if sees_labels(user, project):
        labels = confirmed_labels_seen_in(user, project).filter(tag__project=project).order_by()
        return dict(labels.values_list("tag").annotate(n=Count("video")).values_list("tag", "n"))
    chosen = choices_seen_in(user, project).filter(tag__project=project).order_by()
    videos = Count("annotation__video", distinct=True)
    return dict(chosen.values_list("tag").annotate(n=videos).values_list("tag", "n"))


def tag_tree(user: AnyUser, project: Project) -> list[TagNode]:
    """The project's taxonomy as a forest, with how many videos carry each tag
    (``labeled_video_counts``)."""
    labeled = labeled_video_counts(user, project)
    nodes: dict[int, TagNode] = {}
    roots: list[TagNode] = []
    for tag in project.tags.order_by("depth", "path"):
        node = TagNode(tag=tag, labeled_videos=labeled.get(tag.pk, 0))
        nodes[tag.pk] = node
        parent = nodes.get(tag.parent_id) if tag.parent_id else None
        (parent.children if parent else roots).append(node)
    return roots


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
