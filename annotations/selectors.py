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
from django.db.models import Count, QuerySet
from django.http import Http404

from annotations.models import Project, Tag, Video, VideoStatus
from annotations.roles import P_LABEL, P_LABEL_ANY

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
