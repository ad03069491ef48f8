"""Reads shared by the pages and the API, with the role rules applied.

``access``: which projects, videos, model versions and exports a user may reach
(``jobs``: the same for background jobs of every kind); every lookup by id goes
through ``get_for_user``, so an object of a project the user may not see is a 404
like one that does not exist. ``visibility``: what a user may see of a video (labels,
suggestions, metadata), the one rule every field, filter and count below applies.
"""

from __future__ import annotations

from annotations.selectors.access import (
    AnyUser,
    exports_for_user,
    get_export_for_user,
    get_for_user,
    get_prediction_job_for_user,
    get_project_for_user,
    get_version_for_user,
    get_video_for_user,
    model_history_for_user,
    projects_for_user,
    versions_for_user,
    videos_for_user,
)
from annotations.selectors.jobs import (
    JOB_KINDS,
    JobStatus,
    get_job_for_user,
    get_task_for_user,
    job_kind,
    job_of,
    job_status,
    job_statuses,
    jobs_for_user,
)
from annotations.selectors.projects import ProjectOverview, project_overview
from annotations.selectors.tags import (
    TagNode,
    label_tag_matches,
    project_tags,
    tag_paths,
    tag_subtree,
    tag_tree,
    tags_by_path,
)
from annotations.selectors.videos import (
    VideoFilters,
    annotations_for_user,
    get_video_detail_for_user,
    labeling_closed,
    own_annotation,
    search_documents_pending,
    shown_confirmed_paths,
    status_counts,
    video_annotations_for_user,
    video_in_full,
    videos_as_listed,
    videos_filtered,
    with_shown_labels,
)
from annotations.selectors.visibility import (
    LABEL_METADATA_KEYS,
    sees_labels,
    shown_metadata,
    visible_annotations,
    visible_choices,
    visible_confirmed_labels,
    visible_suggestions,
)

__all__ = [
    "JOB_KINDS",
    "LABEL_METADATA_KEYS",
    "AnyUser",
    "JobStatus",
    "ProjectOverview",
    "TagNode",
    "VideoFilters",
    "annotations_for_user",
    "exports_for_user",
    "get_export_for_user",
    "get_for_user",
    "get_job_for_user",
    "get_prediction_job_for_user",
    "get_project_for_user",
    "get_task_for_user",
    "get_version_for_user",
    "get_video_detail_for_user",
    "get_video_for_user",
    "job_kind",
    "job_of",
    "job_status",
    "job_statuses",
    "jobs_for_user",
    "label_tag_matches",
    "labeling_closed",
    "model_history_for_user",
    "own_annotation",
    "project_overview",
    "project_tags",
    "projects_for_user",
    "search_documents_pending",
    "sees_labels",
    "shown_confirmed_paths",
    "shown_metadata",
    "status_counts",
    "tag_paths",
    "tag_subtree",
    "tag_tree",
    "tags_by_path",
    "versions_for_user",
    "video_annotations_for_user",
    "video_in_full",
    "videos_as_listed",
    "videos_filtered",
    "videos_for_user",
    "visible_annotations",
    "visible_choices",
    "visible_confirmed_labels",
    "visible_suggestions",
    "with_shown_labels",
]
