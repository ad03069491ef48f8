"""A project at a glance, as one person may see it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from annotations.models import ModelVersion, Project
from annotations.selectors.access import AnyUser, videos_for_user
from annotations.selectors.videos import status_counts


@dataclass(frozen=True)
class ProjectOverview:
    """A project with its counts; it reads like the project (``overview.name``) too."""

    project: Project
    video_counts: dict[str, int]
    tag_count: int
    promoted_model: int | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.project, name)


def project_overview(user: AnyUser, project: Project) -> ProjectOverview:
    """The project with how many of the videos ``user`` may see are in each status."""
    promoted = ModelVersion.objects.filter(project=project).promoted().first()
    return ProjectOverview(
        project=project,
        video_counts=status_counts(videos_for_user(user, project)),
        tag_count=project.tags.count(),
        promoted_model=promoted.number if promoted else None,
    )
