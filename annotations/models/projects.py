from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ml.taxonomy import PATH_SEPARATOR


class LabelingMode(models.TextChoices):
    MULTI_LABEL = "multi", _("Multi-label (any number of tags per video)")
    SINGLE_LABEL = "single", _("Single-label (exactly one tag per video)")


class QueueOrder(models.TextChoices):
    UPLOAD = "upload", _("Upload order")
    RANDOM = "random", _("Random")
    UNCERTAIN = "uncertain", _("Most uncertain first (active learning)")


class ProjectQuerySet(models.QuerySet["Project"]):
    def active(self) -> ProjectQuerySet:
        return self.filter(archived_at__isnull=True)

    def archived(self) -> ProjectQuerySet:
        return self.filter(archived_at__isnull=False)


class Project(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    taxonomy_name = models.CharField(
        _("taxonomy"), max_length=200, blank=True, help_text=_("Where the tags come from.")
    )
    labeling_mode = models.CharField(
        _("labeling mode"),
        max_length=10,
        choices=LabelingMode.choices,
        default=LabelingMode.MULTI_LABEL,
    )
    guidelines = models.TextField(_("guidelines (Markdown)"), blank=True)
    annotators_per_video = models.PositiveSmallIntegerField(
        _("annotators per video"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
    )
    queue_order = models.CharField(
        _("queue order"), max_length=10, choices=QueueOrder.choices, default=QueueOrder.UPLOAD
    )
    auto_confirm_agreement = models.BooleanField(
        _("confirm agreed videos automatically"),
        default=True,
        help_text=_(
            "When all annotators of a video chose the same tags, confirm them without review."
        ),
    )
    review_majority_share = models.FloatField(
        _("share of annotators that proposes a tag for review"),
        default=0.5,
        validators=[MinValueValidator(0.01), MaxValueValidator(1.0)],
        help_text=_(
            "On the review screen a tag starts checked when at least this share of the "
            "video's annotators chose it; tags already confirmed always start checked."
        ),
    )
    self_review = models.BooleanField(
        _("experts may review videos they annotated"),
        default=False,
        help_text=_(
            "Off: an expert does not review a video they annotated, unless no other expert could."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # An archived project is kept with all its data, but only admins see it, and its
    # queue hands out nothing.
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        # The roles are made of these; see annotations/roles.py.
        permissions = [
            ("manage_projects", "Can create projects, choose their members and see them all"),
            ("manage_taxonomy", "Can import and edit a project's taxonomy"),
            ("import_videos", "Can import videos"),
            ("process_videos", "Can re-run the processing of videos"),
            ("label_videos", "Can label the videos assigned to them"),
            ("label_any_video", "Can label any video of a project"),
            ("view_suggestions", "Can see the model's suggestions"),
            ("view_all_annotations", "Can see other annotators' labels"),
            ("review_annotations", "Can review annotations and confirm labels"),
            ("retrain_model", "Can retrain, promote and roll back models"),
            ("export_dataset", "Can export datasets"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(annotators_per_video__gte=1),
                name="project_needs_at_least_one_annotator",
            ),
            models.CheckConstraint(
                condition=models.Q(review_majority_share__gt=0, review_majority_share__lte=1),
                name="review_majority_share_is_a_share",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_single_label(self) -> bool:
        return self.labeling_mode == LabelingMode.SINGLE_LABEL

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class ProjectRole(models.TextChoices):
    """What a person does in one project; admins need none, they see every project."""

    EXPERT = "expert", _("Expert")
    CROWD = "crowd", _("Crowd worker")


class MembershipQuerySet(models.QuerySet["Membership"]):
    def experts(self) -> MembershipQuerySet:
        return self.filter(role=ProjectRole.EXPERT)

    def crowd(self) -> MembershipQuerySet:
        return self.filter(role=ProjectRole.CROWD)


class Membership(models.Model):
    """A person's place in a project: only members (and admins) see the project at all."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role in the project"), max_length=10, choices=ProjectRole.choices)
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["project", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.project_id} as {self.role}"


class Invitation(models.Model):
    """A link that lets a new person create their account and join a project with a role.

    Only the SHA-256 of the link's secret is stored: the link is shown once, when made.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=10, choices=ProjectRole.choices)
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "-created_at"]

    def __str__(self) -> str:
        return f"invitation to {self.project_id} as {self.role}"


class TagQuerySet(models.QuerySet["Tag"]):
    def active(self) -> TagQuerySet:
        return self.filter(active=True)


class Tag(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tags")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(_("name"), max_length=200)
    # The full path, "Level 1: Level 2: Level 3": what imports, exports and the
    # model use to name a tag, so it is stored rather than rebuilt on each read.
    path = models.CharField(_("path"), max_length=1000)
    depth = models.PositiveSmallIntegerField(default=1)
    # A deprecated tag (inactive) stays on the labels that carry it, but is no longer
    # offered to annotators nor learned by the model.
    active = models.BooleanField(_("active"), default=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hotkey = models.CharField(
        _("hotkey"),
        max_length=1,
        blank=True,
        validators=[
            RegexValidator(r"^[0-9a-z]$", _("A hotkey is one digit or lower-case letter."))
        ],
    )

    objects = TagQuerySet.as_manager()

    class Meta:
        ordering = ["project", "path"]
        constraints = [
            models.UniqueConstraint(fields=["project", "path"], name="unique_tag_path_per_project"),
            models.UniqueConstraint(
                fields=["project", "hotkey"],
                condition=~models.Q(hotkey=""),
                name="unique_tag_hotkey_per_project",
            ),
            models.CheckConstraint(condition=~models.Q(name=""), name="tag_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.path

    def ancestor_paths(self) -> list[str]:
        """This tag's path and its parents' paths, the root first."""
        parts = self.path.split(PATH_SEPARATOR)
        return [PATH_SEPARATOR.join(parts[: i + 1]) for i in range(len(parts))]


class TaxonomyChange(models.Model):
    """The taxonomy's history: every tag added, renamed, moved, merged or deprecated."""

    class Action(models.TextChoices):
        ADDED = "added", _("Added")
        RENAMED = "renamed", _("Renamed")
        MOVED = "moved", _("Moved")
        MERGED = "merged", _("Merged")
        DEPRECATED = "deprecated", _("Deprecated")
        RESTORED = "restored", _("Restored")
        HOTKEY = "hotkey", _("Hotkey changed")
        IMPORTED = "imported", _("Imported from a file")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="taxonomy_changes")
    tag = models.ForeignKey(
        Tag, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    action = models.CharField(max_length=12, choices=Action.choices)
    # What changed, in words a person reads back: the path before and after, the tag
    # merged into, how many labels and decisions moved.
    before = models.CharField(max_length=1000, blank=True)
    after = models.CharField(max_length=1000, blank=True)
    details = models.JSONField(default=dict, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.before} -> {self.after}"
