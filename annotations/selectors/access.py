"""Which objects a user may reach, by list or by id.

Every read by id goes through ``get_for_user``: the object must belong to one of
``projects_for_user``. An id from a project the user may not see answers the same
404 as an id that does not exist, so ids cannot be probed, and a rule added to
``projects_for_user`` (membership, say) applies to every kind of object at once.
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, OuterRef, QuerySet, Subquery
from django.http import Http404

from annotations.models import (
    ExportSnapshot,
    Job,
    ModelEvent,
    ModelVersion,
    PredictionJob,
    Project,
    Video,
)
from annotations.roles import P_EXPORT, P_LABEL, P_LABEL_ANY, P_RETRAIN, P_VIEW_ALL_ANNOTATIONS

AnyUser = User | AnonymousUser
M = TypeVar("M", bound=Model)


def projects_for_user(user: AnyUser) -> QuerySet[Project]:
    if user.has_perm(P_LABEL_ANY):
        return Project.objects.all()
    if user.has_perm(P_LABEL):
        return Project.objects.filter(videos__assignments__annotator=user.pk).distinct()
    return Project.objects.none()


def get_for_user(
    user: AnyUser,
    objects: QuerySet[M],
    pk: object,
    *,
    missing: str,
    project_field: str = "project",
) -> M:
    """The object ``pk`` of ``objects``, when it belongs to a project ``user`` may see.

    ``objects`` carries the finer rules of its kind (a crowd worker's videos are their
    assignments); otherwise Http404 saying ``missing``.
    """
    visible = objects.filter(**{f"{project_field}__in": projects_for_user(user)})
    try:
        return visible.get(pk=pk)
    except ObjectDoesNotExist:
        raise Http404(missing) from None


def get_project_for_user(user: AnyUser, project_id: int) -> Project:
    return get_for_user(
        user, Project.objects.all(), project_id, missing="No such project.", project_field="pk"
    )


def _openable_videos(user: AnyUser) -> QuerySet[Video]:
    if user.has_perm(P_LABEL_ANY):
        return Video.objects.all()
    if user.has_perm(P_LABEL):
        return Video.objects.filter(assignments__annotator=user.pk)
    return Video.objects.none()


def videos_for_user(user: AnyUser, project: Project) -> QuerySet[Video]:
    return _openable_videos(user).filter(project=project)


def get_video_for_user(user: AnyUser, video_id: int) -> Video:
    videos = _openable_videos(user).select_related("project")
    return get_for_user(user, videos, video_id, missing="No such video.")


def get_version_for_user(user: AnyUser, version_id: int) -> ModelVersion:
    """A model version of a project the user may see, for those who may see models."""
    versions = ModelVersion.objects.none()
    if user.has_perm(P_VIEW_ALL_ANNOTATIONS):
        versions = ModelVersion.objects.select_related("project", "requested_by")
    return get_for_user(user, versions, version_id, missing="No such model version.")


def get_export_for_user(user: AnyUser, export_id: int) -> ExportSnapshot:
    """An export snapshot of a project the user may see, for those who may export."""
    snapshots = ExportSnapshot.objects.none()
    if user.has_perm(P_EXPORT):
        snapshots = ExportSnapshot.objects.select_related("project", "model_version", "created_by")
    return get_for_user(user, snapshots, export_id, missing="No such export.")


def get_prediction_job_for_user(user: AnyUser, job_id: int) -> PredictionJob:
    """A prediction job of a project the user may see: their own, or any for admins."""
    jobs = PredictionJob.objects.all()
    if not user.has_perm(P_RETRAIN):
        jobs = jobs.filter(created_by=user.pk)
    return get_for_user(user, jobs, job_id, missing="No such job.")


def exports_for_user(user: AnyUser, project: Project) -> QuerySet[ExportSnapshot]:
    """The project's snapshots, for those who may export, the newest first."""
    if not user.has_perm(P_EXPORT):
        return ExportSnapshot.objects.none()
    return project.exports.select_related("model_version", "created_by").order_by("-id")


def versions_for_user(user: AnyUser, project: Project) -> QuerySet[ModelVersion]:
    """The project's model versions, for those who may see models, the newest first."""
    if not user.has_perm(P_VIEW_ALL_ANNOTATIONS):
        return ModelVersion.objects.none()
    job = Job.objects.filter(kind=Job.Kind.TRAINING, object_id=OuterRef("pk"))
    return (
        project.model_versions.select_related("requested_by")
        .annotate(
            job_stage=Subquery(job.values("stage")[:1]),
            job_progress=Subquery(job.values("progress")[:1]),
        )
        .order_by("-id")
    )


def model_history_for_user(
    user: AnyUser, project: Project, *, limit: int = 50
) -> QuerySet[ModelEvent]:
    """The registry's events of a project (promotions, rollbacks), the newest first."""
    if not user.has_perm(P_VIEW_ALL_ANNOTATIONS):
        return ModelEvent.objects.none()
    events = project.model_events.select_related("version", "previous", "by")
    return events.order_by("-at", "-id")[:limit]
