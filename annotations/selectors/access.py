"""Which objects a user may reach, by list or by id.

Every read by id goes through ``get_for_user``: the object must belong to one of
``projects_for_user``. An id from a project the user may not see answers the same
404 as an id that does not exist, so ids cannot be probed, and a rule added to
``projects_for_user`` applies to every kind of object at once.

Projects are seen by their members; admins (who may manage projects) see them all.
A member's permissions in a project are those of their account's role that their
role in the project also holds (``project_permissions``): an expert made a crowd
worker in one project labels only what they are assigned there, and sees nobody
else's labels there, while staying an expert elsewhere.
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Exists, Model, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from annotations.models import (
    Annotation,
    Assignment,
    ExportSnapshot,
    Job,
    Membership,
    ModelEvent,
    ModelVersion,
    PredictionJob,
    Project,
    ProjectRole,
    Video,
)
from annotations.roles import (
    P_EXPORT,
    P_LABEL,
    P_LABEL_ANY,
    P_MANAGE_PROJECTS,
    P_RETRAIN,
    P_VIEW_ALL_ANNOTATIONS,
    ROLE_PERMISSIONS,
    Role,
)

AnyUser = User | AnonymousUser
M = TypeVar("M", bound=Model)

# The permissions each role in a project allows there (the account's role still caps them).
PROJECT_ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    ProjectRole.EXPERT: frozenset(ROLE_PERMISSIONS[Role.EXPERT]),
    ProjectRole.CROWD: frozenset(ROLE_PERMISSIONS[Role.CROWD]),
}


def sees_every_project(user: AnyUser) -> bool:
    """Admins, who manage projects, see and act in every project without membership."""
    return user.has_perm(P_MANAGE_PROJECTS)


def _roles_allowing(permission: str) -> list[str]:
    return [role for role, perms in PROJECT_ROLE_PERMISSIONS.items() if permission in perms]


def projects_with_perm(user: AnyUser, permission: str) -> QuerySet[Project]:
    """The projects in which ``user`` holds ``permission`` (see ``project_permissions``)."""
    if not user.is_authenticated or not user.has_perm(permission):
        return Project.objects.none()
    if sees_every_project(user):
        return Project.objects.all()
    return Project.objects.active().filter(
        Exists(
            Membership.objects.filter(
                project=OuterRef("pk"), user=user.pk, role__in=_roles_allowing(permission)
            )
        )
    )


def project_role(user: AnyUser, project: Project) -> str | None:
    """The user's role in ``project`` ("expert", "crowd"), or None for admins and others."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(project=project, user=user.pk)
        .values_list("role", flat=True)
        .first()
    )


def may(user: AnyUser, project: Project, permission: str) -> bool:
    """Whether ``user`` holds ``permission`` in ``project``.

    Admins hold their account's permissions everywhere; a member holds those of
    their account that their role in the project allows, in a project not archived.
    """
    if not user.is_authenticated or not user.has_perm(permission):
        return False
    if sees_every_project(user):
        return True
    role = project_role(user, project)
    return (
        role is not None
        and not project.is_archived
        and (permission in PROJECT_ROLE_PERMISSIONS[role])
    )


def require_project_perm(user: AnyUser, project: Project, permission: str, refusal: str) -> None:
    """PermissionDenied saying ``refusal`` unless ``user`` holds ``permission`` in ``project``."""
    if not may(user, project, permission):
        raise PermissionDenied(refusal)


def projects_for_user(user: AnyUser) -> QuerySet[Project]:
    """The projects ``user`` may see: all for admins, else the live ones they are members of."""
    return projects_with_perm(user, P_LABEL)


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
    """Every video of the projects where the user may label any; their assigned ones elsewhere."""
    if sees_every_project(user) and user.has_perm(P_LABEL_ANY):
        return Video.objects.all()
    assigned = Exists(Assignment.objects.filter(video=OuterRef("pk"), annotator=user.pk))
    return Video.objects.filter(
        Q(project__in=projects_with_perm(user, P_LABEL_ANY))
        | (Q(project__in=projects_with_perm(user, P_LABEL)) & Q(assigned))
    )


def openable_videos(user: AnyUser) -> QuerySet[Video]:
    """Every video ``user`` may open, in any project: ``get_video_for_user``'s rule."""
    return _openable_videos(user)


def videos_for_user(user: AnyUser, project: Project) -> QuerySet[Video]:
    return _openable_videos(user).filter(project=project)


def get_video_for_user(user: AnyUser, video_id: int) -> Video:
    videos = _openable_videos(user).select_related("project")
    return get_for_user(user, videos, video_id, missing="No such video.")


def get_annotation_for_user(user: AnyUser, annotation_id: int) -> Annotation:
    """The user's own annotation, while they may still open its video.

    Someone removed from the project, whose project was archived, or whose video was
    taken from them gets a 404, as for an annotation that does not exist.
    """
    annotations = Annotation.objects.select_related("video__project", "annotator").filter(
        annotator=user.pk, video__in=_openable_videos(user)
    )
    return get_for_user(
        user,
        annotations,
        annotation_id,
        missing="No such annotation.",
        project_field="video__project",
    )


def get_version_for_user(user: AnyUser, version_id: int) -> ModelVersion:
    """A model version of a project the user may see, for those who may see models."""
    versions = ModelVersion.objects.select_related("project", "requested_by").filter(
        project__in=projects_with_perm(user, P_VIEW_ALL_ANNOTATIONS)
    )
    return get_for_user(user, versions, version_id, missing="No such model version.")


def get_export_for_user(user: AnyUser, export_id: int) -> ExportSnapshot:
    """An export snapshot of a project where the user's role lets them export."""
    snapshots = ExportSnapshot.objects.select_related(
        "project", "model_version", "created_by"
    ).filter(project__in=projects_with_perm(user, P_EXPORT))
    return get_for_user(user, snapshots, export_id, missing="No such export.")


def get_prediction_job_for_user(user: AnyUser, job_id: int) -> PredictionJob:
    """A prediction job of a project the user may see: their own, or any where their
    role lets them retrain."""
    jobs = PredictionJob.objects.filter(
        Q(created_by=user.pk) | Q(project__in=projects_with_perm(user, P_RETRAIN))
    )
    return get_for_user(user, jobs, job_id, missing="No such job.")


def exports_for_user(user: AnyUser, project: Project) -> QuerySet[ExportSnapshot]:
    """The project's snapshots, for those who may export, the newest first."""
    if not may(user, project, P_EXPORT):
        return ExportSnapshot.objects.none()
    return project.exports.select_related("model_version", "created_by").order_by("-id")


def versions_for_user(user: AnyUser, project: Project) -> QuerySet[ModelVersion]:
    """The project's model versions, for those who may see models, the newest first."""
    if not may(user, project, P_VIEW_ALL_ANNOTATIONS):
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
    if not may(user, project, P_VIEW_ALL_ANNOTATIONS):
        return ModelEvent.objects.none()
    events = project.model_events.select_related("version", "previous", "by")
    return events.order_by("-at", "-id")[:limit]
