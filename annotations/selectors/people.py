"""Who works on a project and how far each person is: the People page and one person's queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet

from annotations.models import (
    Annotation,
    Assignment,
    GoldVideo,
    Invitation,
    Membership,
    Project,
)
from annotations.roles import Role, role_of


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    account_role: str
    assigned: int
    submitted: int
    skipped: int
    drafts: int
    last_submitted: object

    @property
    def user(self) -> User:
        return self.membership.user

    @property
    def open(self) -> int:
        """Assigned videos not yet submitted or skipped: their queue."""
        return max(self.assigned - self.submitted - self.skipped, 0)


def project_people(project: Project) -> list[MemberRow]:
    """Every member with their work in the project, by user name."""
    members = list(
        Membership.objects.filter(project=project).select_related("user").order_by("user__username")
    )
    ids = [m.user_id for m in members]
    assigned = dict(
        Assignment.objects.filter(video__project=project, annotator__in=ids)
        .values_list("annotator")
        .annotate(n=Count("pk"))
        .values_list("annotator", "n")
    )
    work: dict[int, dict[str, Any]] = {
        row["annotator"]: dict(row)
        for row in Annotation.objects.in_project(project)
        .filter(annotator__in=ids)
        .values("annotator")
        .annotate(
            submitted=Count("pk", filter=Q(state=Annotation.State.SUBMITTED)),
            skipped=Count("pk", filter=Q(state=Annotation.State.SKIPPED)),
            drafts=Count("pk", filter=Q(state=Annotation.State.DRAFT)),
            last=Max("submitted_at"),
        )
    }
    rows = []
    for membership in members:
        done = work.get(membership.user_id, {})
        account = role_of(membership.user)
        rows.append(
            MemberRow(
                membership=membership,
                account_role=account.value if account else "",
                assigned=assigned.get(membership.user_id, 0),
                submitted=done.get("submitted", 0),
                skipped=done.get("skipped", 0),
                drafts=done.get("drafts", 0),
                last_submitted=done.get("last"),
            )
        )
    return rows


def addable_users(project: Project) -> QuerySet[User]:
    """Active accounts with a role that are not yet members (admins need no membership)."""
    members = Membership.objects.filter(project=project).values("user")
    return (
        User.objects.filter(
            is_active=True, is_superuser=False, groups__name__in=[Role.EXPERT, Role.CROWD]
        )
        .exclude(groups__name=Role.ADMIN)
        .exclude(pk__in=members)
        .distinct()
        .order_by("username")
    )


@dataclass(frozen=True)
class QueueItem:
    assignment: Assignment
    # "todo", the annotation's state (draft, submitted, skipped), or "confirmed": the
    # video's tags were confirmed before this person finished it, so it is no longer asked
    # of them (gold excepted: it is asked on purpose).
    state: str

    @property
    def video(self) -> object:
        return self.assignment.video


def person_queue(project: Project, user: User) -> list[QueueItem]:
    """The videos assigned to ``user`` in ``project``, unfinished first, with how far they got."""
    states = dict(
        Annotation.objects.in_project(project)
        .filter(annotator=user)
        .values_list("video_id", "state")
    )
    assignments = Assignment.objects.filter(video__project=project, annotator=user).select_related(
        "video"
    )
    closed = set(
        project.videos.labeled()
        .exclude(Exists(GoldVideo.objects.filter(video=OuterRef("pk"))))
        .filter(pk__in=assignments.values("video"))
        .values_list("pk", flat=True)
    )
    order = {"draft": 0, "todo": 1, "confirmed": 2, "skipped": 3, "submitted": 4}
    items = []
    for assignment in assignments:
        state = states.get(assignment.video_id, "todo")
        if state in ("todo", "draft") and assignment.video_id in closed:
            state = "confirmed"
        items.append(QueueItem(assignment, state))
    return sorted(items, key=lambda item: (order[item.state], item.assignment.video_id))


def open_invitations(project: Project) -> QuerySet[Invitation]:
    return project.invitations.filter(used_at__isnull=True).select_related("created_by")
