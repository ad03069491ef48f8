"""The schema as of 0011, in one step.

It replaces 0001_initial … 0011_video_text_only_title_index: a database migrated through
them is taken as migrated here, and a new one is created in one go. Their data steps
(backfills for rows made before a feature existed) have nothing to do on a new database
and are left out; a database part-way through them is migrated by the release that still
carries them (see the README's "Upgrading").

Two kinds of index are made by hand because Django's ``Meta.indexes`` cannot say them:

- the full-text indexes of the video list, on PostgreSQL only. Their expressions are the
  ones Django writes for ``SearchVector("title", "description", config="russian")`` and
  ``SearchVector("text", config="russian")`` (see selectors.videos), so the planner uses
  them; other databases search without them.
- the index by which an import recognises a text-only video (no id, no file) by its title
  (annotations.services.media.video_import.bulk.existing_text_only). On PostgreSQL a hash
  index: a title can be 500 characters, and a hash index keeps 4 bytes of each where a
  B-tree keeps the whole title (a B-tree measured 214 MB at 1.3 million videos), so an
  import's random inserts into it stay in memory. Elsewhere a plain partial index.
"""

import annotations.models.jobs
import annotations.models.videos
import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


SEARCH_INDEXES = {
    "video_search_russian": (
        "annotations_video",
        "to_tsvector('russian'::regconfig, COALESCE(title, '') || ' ' || COALESCE(description, ''))",
    ),
    "segment_search_russian": (
        "annotations_transcriptsegment",
        "to_tsvector('russian'::regconfig, COALESCE(text, ''))",
    ),
}
TEXT_ONLY_INDEX = "video_text_only_title"
TEXT_ONLY_CONDITION = "external_id = '' AND sha256 = ''"


def create_indexes(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        for name, (table, expression) in SEARCH_INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({expression}))"
            )
    columns = "USING hash (title)" if postgresql else "(project_id, title)"
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TEXT_ONLY_INDEX} ON annotations_video {columns} "
        f"WHERE {TEXT_ONLY_CONDITION}"
    )


def drop_indexes(apps, schema_editor):
    for name in [*SEARCH_INDEXES, TEXT_ONLY_INDEX]:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    initial = True

    replaces = [
        ("annotations", "0001_initial"),
        ("annotations", "0002_pipeline_queue_training"),
        ("annotations", "0003_model_progress_and_reprocess"),
        ("annotations", "0004_prediction_jobs"),
        ("annotations", "0005_video_search"),
        ("annotations", "0006_review_rules_locks_registry"),
        ("annotations", "0007_rate_counts"),
        ("annotations", "0008_projects_membership_taxonomy_history"),
        ("annotations", "0009_calibrated_scoring_auto_confirmation_gold_priority"),
        ("annotations", "0010_job_lifecycle"),
        ("annotations", "0011_video_text_only_title_index"),
    ]

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RateCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=200, unique=True)),
                ("count", models.PositiveIntegerField(default=0)),
                ("expires_at", models.DateTimeField(db_index=True)),
            ],
        ),
        migrations.CreateModel(
            name="Annotation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("draft", "Draft"),
                            ("submitted", "Submitted"),
                            ("skipped", "Skipped"),
                        ],
                        default="draft",
                        max_length=10,
                    ),
                ),
                ("skip_reason", models.CharField(blank=True, max_length=500)),
                ("revision", models.PositiveIntegerField(default=1)),
                ("seconds_spent", models.FloatField(default=0.0)),
                ("started_at", models.DateTimeField(auto_now_add=True)),
                ("submitted_at", models.DateTimeField(blank=True, null=True)),
                ("submit_count", models.PositiveSmallIntegerField(default=0)),
                ("locked_at", models.DateTimeField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "annotator",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="annotations",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["video", "started_at"],
            },
        ),
        migrations.CreateModel(
            name="Project",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200, unique=True, verbose_name="name")),
                (
                    "taxonomy_name",
                    models.CharField(
                        blank=True,
                        help_text="Where the tags come from.",
                        max_length=200,
                        verbose_name="taxonomy",
                    ),
                ),
                (
                    "labeling_mode",
                    models.CharField(
                        choices=[
                            ("multi", "Multi-label (any number of tags per video)"),
                            ("single", "Single-label (exactly one tag per video)"),
                        ],
                        default="multi",
                        max_length=10,
                        verbose_name="labeling mode",
                    ),
                ),
                ("guidelines", models.TextField(blank=True, verbose_name="guidelines (Markdown)")),
                (
                    "annotators_per_video",
                    models.PositiveSmallIntegerField(
                        default=1,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(20),
                        ],
                        verbose_name="annotators per video",
                    ),
                ),
                (
                    "queue_order",
                    models.CharField(
                        choices=[
                            ("upload", "Upload order"),
                            ("random", "Random"),
                            ("uncertain", "Most uncertain first (active learning)"),
                        ],
                        default="upload",
                        max_length=10,
                        verbose_name="queue order",
                    ),
                ),
                (
                    "auto_confirm_agreement",
                    models.BooleanField(
                        default=True,
                        help_text="When all annotators of a video chose the same tags, confirm them without review.",
                        verbose_name="confirm agreed videos automatically",
                    ),
                ),
                (
                    "review_majority_share",
                    models.FloatField(
                        default=0.5,
                        help_text="On the review screen a tag starts checked when at least this share of the video's annotators chose it; tags already confirmed always start checked.",
                        validators=[
                            django.core.validators.MinValueValidator(0.01),
                            django.core.validators.MaxValueValidator(1.0),
                        ],
                        verbose_name="share of annotators that proposes a tag for review",
                    ),
                ),
                (
                    "self_review",
                    models.BooleanField(
                        default=False,
                        help_text="Off: an expert does not review a video they annotated, unless no other expert could.",
                        verbose_name="experts may review videos they annotated",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "archived_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="archived"),
                ),
            ],
            options={
                "ordering": ["name"],
                "permissions": [
                    (
                        "manage_projects",
                        "Can create projects, choose their members and see them all",
                    ),
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
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("annotators_per_video__gte", 1)),
                        name="project_needs_at_least_one_annotator",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("review_majority_share__gt", 0), ("review_majority_share__lte", 1)
                        ),
                        name="review_majority_share_is_a_share",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ModelVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField()),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("training", "Training"),
                            ("candidate", "Candidate"),
                            ("promoted", "Promoted"),
                            ("retired", "Retired"),
                            ("failed", "Failed"),
                        ],
                        default="training",
                        max_length=10,
                    ),
                ),
                ("artifact_path", models.CharField(blank=True, max_length=1000)),
                ("parameters", models.JSONField(blank=True, default=dict)),
                ("metrics", models.JSONField(blank=True, default=dict)),
                ("training_data", models.JSONField(blank=True, default=dict)),
                ("library_versions", models.JSONField(blank=True, default=dict)),
                ("note", models.TextField(blank=True, help_text="Why it was or was not promoted.")),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("promoted_at", models.DateTimeField(blank=True, null=True)),
                (
                    "requested_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="model_versions",
                        to="annotations.project",
                    ),
                ),
            ],
            options={
                "ordering": ["project", "-number"],
            },
        ),
        migrations.CreateModel(
            name="ModelEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[("promoted", "Promotion"), ("rolled_back", "Rollback")],
                        max_length=12,
                    ),
                ),
                ("reason", models.TextField(blank=True)),
                ("at", models.DateTimeField(auto_now_add=True)),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "previous",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="annotations.modelversion",
                    ),
                ),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="annotations.modelversion",
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="model_events",
                        to="annotations.project",
                    ),
                ),
            ],
            options={
                "ordering": ["project", "at", "id"],
            },
        ),
        migrations.CreateModel(
            name="Membership",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "role",
                    models.CharField(
                        choices=[("expert", "Expert"), ("crowd", "Crowd worker")],
                        max_length=10,
                        verbose_name="role in the project",
                    ),
                ),
                ("added_at", models.DateTimeField(auto_now_add=True)),
                (
                    "added_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="annotations.project",
                    ),
                ),
            ],
            options={
                "ordering": ["project", "user__username"],
            },
        ),
        migrations.CreateModel(
            name="Job",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("ingest", "Video processing"),
                            ("training", "Training"),
                            ("suggestions", "Suggestions refresh"),
                            ("predict", "Prediction"),
                            ("export", "Export"),
                            ("import", "Dataset import"),
                        ],
                        max_length=20,
                    ),
                ),
                ("object_id", models.BigIntegerField(blank=True, null=True)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("done", "Done"),
                            ("failed", "Failed"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="queued",
                        max_length=10,
                    ),
                ),
                ("stage", models.CharField(blank=True, max_length=200)),
                ("progress", models.FloatField(default=0.0)),
                ("message", models.TextField(blank=True)),
                ("params", models.JSONField(blank=True, default=dict)),
                ("result", models.JSONField(blank=True, default=dict)),
                (
                    "input_file",
                    models.FileField(
                        blank=True,
                        max_length=500,
                        upload_to=annotations.models.jobs.job_input_upload_to,
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("claim", models.CharField(blank=True, max_length=32)),
                ("worker", models.CharField(blank=True, max_length=200)),
                ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                ("enqueued_at", models.DateTimeField(blank=True, null=True)),
                ("again", models.BooleanField(default=False)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "after",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="followers",
                        to="annotations.job",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="jobs",
                        to="annotations.project",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="Invitation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "role",
                    models.CharField(
                        choices=[("expert", "Expert"), ("crowd", "Crowd worker")], max_length=10
                    ),
                ),
                ("token_sha256", models.CharField(max_length=64, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("expires_at", models.DateTimeField()),
                ("used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "used_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="invitations",
                        to="annotations.project",
                    ),
                ),
            ],
            options={
                "ordering": ["project", "-created_at"],
            },
        ),
        migrations.CreateModel(
            name="ExportSnapshot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "format",
                    models.CharField(
                        choices=[
                            ("jsonl", "JSONL"),
                            ("csv", "CSV (Rutube layout)"),
                            ("labelstudio", "Label Studio JSON"),
                        ],
                        max_length=20,
                    ),
                ),
                ("filters", models.JSONField(blank=True, default=dict)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("building", "Building"),
                            ("ready", "Ready"),
                            ("failed", "Failed"),
                        ],
                        default="building",
                        max_length=10,
                    ),
                ),
                ("file", models.FileField(blank=True, max_length=500, upload_to="exports/")),
                ("row_count", models.PositiveIntegerField(default=0)),
                ("sha256", models.CharField(blank=True, max_length=64)),
                ("error", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "model_version",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="annotations.modelversion",
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="exports",
                        to="annotations.project",
                    ),
                ),
            ],
            options={
                "ordering": ["project", "-created_at"],
            },
        ),
        migrations.CreateModel(
            name="ProjectQuality",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "auto_confirm",
                    models.BooleanField(
                        default=False,
                        help_text="A video whose every proposed tag is trusted is confirmed by the model, with its version, and leaves the annotators' queue.",
                        verbose_name="confirm tags the model has earned trust on",
                    ),
                ),
                (
                    "target_precision",
                    models.FloatField(
                        default=0.95,
                        help_text="A tag is trusted while the lower bound (at 95 in 100 confidence) of the model's precision on it, measured against people's labels, is at least this.",
                        validators=[
                            django.core.validators.MinValueValidator(0.5),
                            django.core.validators.MaxValueValidator(0.999),
                        ],
                        verbose_name="precision a tag must prove",
                    ),
                ),
                (
                    "min_score",
                    models.FloatField(
                        default=0.5,
                        help_text="Only tags the model proposes with at least this probability count.",
                        validators=[
                            django.core.validators.MinValueValidator(0.0),
                            django.core.validators.MaxValueValidator(1.0),
                        ],
                        verbose_name="lowest probability confirmed",
                    ),
                ),
                (
                    "audit_share",
                    models.FloatField(
                        default=0.05,
                        help_text="Drawn at random and sent to an expert's review.",
                        validators=[
                            django.core.validators.MinValueValidator(0.0),
                            django.core.validators.MaxValueValidator(1.0),
                        ],
                        verbose_name="share of auto-confirmed videos audited",
                    ),
                ),
                (
                    "gold_share",
                    models.FloatField(
                        default=0.0,
                        validators=[
                            django.core.validators.MinValueValidator(0.0),
                            django.core.validators.MaxValueValidator(0.5),
                        ],
                        verbose_name="share of a crowd worker's queue that is gold",
                    ),
                ),
                (
                    "gold_min_accuracy",
                    models.FloatField(
                        default=0.7,
                        validators=[
                            django.core.validators.MinValueValidator(0.0),
                            django.core.validators.MaxValueValidator(1.0),
                        ],
                        verbose_name="accuracy on gold below which an annotator is flagged",
                    ),
                ),
                (
                    "gold_min_checks",
                    models.PositiveSmallIntegerField(
                        default=5, verbose_name="gold videos answered before a flag is raised"
                    ),
                ),
                (
                    "project",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="quality",
                        to="annotations.project",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="Tag",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200, verbose_name="name")),
                ("path", models.CharField(max_length=1000, verbose_name="path")),
                ("depth", models.PositiveSmallIntegerField(default=1)),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "hotkey",
                    models.CharField(
                        blank=True,
                        max_length=1,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[0-9a-z]$", "A hotkey is one digit or lower-case letter."
                            )
                        ],
                        verbose_name="hotkey",
                    ),
                ),
                (
                    "merged_into",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="annotations.tag",
                    ),
                ),
                (
                    "parent",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="children",
                        to="annotations.tag",
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tags",
                        to="annotations.project",
                    ),
                ),
            ],
            options={
                "ordering": ["project", "path"],
            },
        ),
        migrations.CreateModel(
            name="TagDecision",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "decision",
                    models.CharField(
                        choices=[
                            ("accept", "Accepted suggestion"),
                            ("reject", "Rejected suggestion"),
                            ("add", "Added by hand"),
                        ],
                        max_length=10,
                    ),
                ),
                ("suggested_score", models.FloatField(blank=True, null=True)),
                ("decided_at", models.DateTimeField(auto_now=True)),
                (
                    "annotation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="decisions",
                        to="annotations.annotation",
                    ),
                ),
                (
                    "model_version",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to="annotations.modelversion",
                    ),
                ),
                (
                    "tag",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="decisions",
                        to="annotations.tag",
                    ),
                ),
            ],
            options={
                "ordering": ["annotation", "tag__path"],
            },
        ),
        migrations.CreateModel(
            name="TagTrust",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("checked", models.PositiveIntegerField(default=0)),
                ("right", models.PositiveIntegerField(default=0)),
                ("lower_bound", models.FloatField(default=0.0)),
                ("trusted", models.BooleanField(default=False)),
                ("changed_at", models.DateTimeField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tag_trust",
                        to="annotations.project",
                    ),
                ),
                (
                    "tag",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="trust",
                        to="annotations.tag",
                    ),
                ),
            ],
            options={
                "ordering": ["project", "tag__path"],
            },
        ),
        migrations.CreateModel(
            name="TaxonomyChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("added", "Added"),
                            ("renamed", "Renamed"),
                            ("moved", "Moved"),
                            ("merged", "Merged"),
                            ("deprecated", "Deprecated"),
                            ("restored", "Restored"),
                            ("hotkey", "Hotkey changed"),
                            ("imported", "Imported from a file"),
                        ],
                        max_length=12,
                    ),
                ),
                ("before", models.CharField(blank=True, max_length=1000)),
                ("after", models.CharField(blank=True, max_length=1000)),
                ("details", models.JSONField(blank=True, default=dict)),
                ("changed_at", models.DateTimeField(auto_now_add=True)),
                (
                    "changed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="taxonomy_changes",
                        to="annotations.project",
                    ),
                ),
                (
                    "tag",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="changes",
                        to="annotations.tag",
                    ),
                ),
            ],
            options={
                "ordering": ["project", "-changed_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="Video",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(max_length=500, verbose_name="title")),
                ("description", models.TextField(blank=True, verbose_name="description")),
                (
                    "external_id",
                    models.CharField(
                        blank=True,
                        help_text="The id in the source system.",
                        max_length=255,
                        verbose_name="external id",
                    ),
                ),
                (
                    "source_file",
                    models.FileField(
                        blank=True,
                        max_length=500,
                        upload_to=annotations.models.videos.video_upload_to,
                        verbose_name="file",
                    ),
                ),
                (
                    "subtitles_file",
                    models.FileField(
                        blank=True,
                        max_length=500,
                        upload_to=annotations.models.videos.subtitles_upload_to,
                    ),
                ),
                (
                    "source_name",
                    models.CharField(
                        blank=True, max_length=2000, verbose_name="original file name or URL"
                    ),
                ),
                ("sha256", models.CharField(blank=True, max_length=64)),
                ("size_bytes", models.BigIntegerField(blank=True, null=True)),
                ("duration_seconds", models.FloatField(blank=True, null=True)),
                ("fps", models.FloatField(blank=True, null=True)),
                ("width", models.PositiveIntegerField(blank=True, null=True)),
                ("height", models.PositiveIntegerField(blank=True, null=True)),
                ("has_video_stream", models.BooleanField(default=False)),
                ("has_audio_stream", models.BooleanField(default=False)),
                ("metadata", models.JSONField(blank=True, default=dict)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for processing"),
                            ("processing", "Processing"),
                            ("ready", "Ready"),
                            ("failed", "Failed"),
                        ],
                        db_index=True,
                        default="pending",
                        max_length=20,
                    ),
                ),
                (
                    "status_error",
                    models.TextField(
                        blank=True,
                        help_text="What went wrong, in words an annotator or admin can act on.",
                    ),
                ),
                ("summary", models.TextField(blank=True, verbose_name="summary")),
                ("uncertainty", models.FloatField(default=2.0)),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="videos",
                        to="annotations.project",
                    ),
                ),
            ],
            options={
                "ordering": ["project", "created_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="TranscriptSegment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("index", models.PositiveIntegerField()),
                ("start_seconds", models.FloatField()),
                ("end_seconds", models.FloatField()),
                ("text", models.TextField()),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("asr", "Speech recognition"),
                            ("sidecar", "Subtitle file"),
                            ("embedded", "Subtitle stream in the video"),
                        ],
                        max_length=10,
                    ),
                ),
                ("producer", models.JSONField(blank=True, default=dict)),
                (
                    "video",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="transcript_segments",
                        to="annotations.video",
                    ),
                ),
            ],
            options={
                "ordering": ["video", "index"],
            },
        ),
        migrations.CreateModel(
            name="Suggestion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("score", models.FloatField()),
                ("rank", models.PositiveSmallIntegerField()),
                ("above_threshold", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "model_version",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="suggestions",
                        to="annotations.modelversion",
                    ),
                ),
                (
                    "tag",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="suggestions",
                        to="annotations.tag",
                    ),
                ),
                (
                    "video",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="suggestions",
                        to="annotations.video",
                    ),
                ),
            ],
            options={
                "ordering": ["video", "rank"],
            },
        ),
        migrations.CreateModel(
            name="ReviewRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("audit", "Audit of the model's confirmation"),
                            ("flagged", "Its annotator is below the gold accuracy threshold"),
                        ],
                        max_length=10,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                (
                    "requested_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "resolved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "video",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="review_requests",
                        to="annotations.video",
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="ProcessingStep",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=50)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("running", "Running"),
                            ("done", "Done"),
                            ("skipped", "Skipped"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("progress", models.FloatField(default=0.0)),
                ("message", models.TextField(blank=True)),
                ("details", models.JSONField(blank=True, default=dict)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "video",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="steps",
                        to="annotations.video",
                    ),
                ),
            ],
            options={
                "ordering": ["video", "id"],
            },
        ),
        migrations.CreateModel(
            name="PredictionJob",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token", models.CharField(max_length=32, unique=True)),
                ("title", models.CharField(blank=True, max_length=500)),
                ("description", models.TextField(blank=True)),
                ("source_url", models.CharField(blank=True, max_length=2000)),
                (
                    "upload",
                    models.FileField(
                        blank=True,
                        max_length=500,
                        upload_to=annotations.models.jobs.prediction_upload_to,
                    ),
                ),
                ("upload_name", models.CharField(blank=True, max_length=255)),
                ("keep_video", models.BooleanField(default=True)),
                ("created_video", models.BooleanField(default=False)),
                ("result", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="prediction_jobs",
                        to="annotations.project",
                    ),
                ),
                (
                    "video",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="annotations.video",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="LabelChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("added", "Added"),
                            ("removed", "Removed"),
                            ("confirmed", "Confirmed again"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("import", "Imported with the video"),
                            ("review", "Confirmed by an expert"),
                            ("agreement", "Agreed by the annotators"),
                            ("model", "Confirmed by the model"),
                        ],
                        max_length=10,
                    ),
                ),
                ("changed_at", models.DateTimeField(auto_now_add=True)),
                ("reason", models.CharField(blank=True, max_length=500)),
                (
                    "changed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "model_version",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="annotations.modelversion",
                    ),
                ),
                (
                    "tag",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="annotations.tag",
                    ),
                ),
                (
                    "video",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="label_changes",
                        to="annotations.video",
                    ),
                ),
            ],
            options={
                "ordering": ["video", "changed_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="Keyframe",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("timestamp_seconds", models.FloatField()),
                ("shot_index", models.PositiveIntegerField(default=0)),
                (
                    "image",
                    models.FileField(
                        max_length=500, upload_to=annotations.models.videos.keyframe_upload_to
                    ),
                ),
                (
                    "video",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="keyframes",
                        to="annotations.video",
                    ),
                ),
            ],
            options={
                "ordering": ["video", "timestamp_seconds"],
            },
        ),
        migrations.CreateModel(
            name="GoldVideo",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("marked_at", models.DateTimeField(auto_now_add=True)),
                (
                    "marked_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "video",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="gold",
                        to="annotations.video",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="ConfirmedLabel",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("import", "Imported with the video"),
                            ("review", "Confirmed by an expert"),
                            ("agreement", "Agreed by the annotators"),
                            ("model", "Confirmed by the model"),
                        ],
                        max_length=10,
                    ),
                ),
                ("confirmed_at", models.DateTimeField(auto_now_add=True)),
                (
                    "confirmed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "model_version",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="confirmed_labels",
                        to="annotations.modelversion",
                    ),
                ),
                (
                    "tag",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="confirmed_labels",
                        to="annotations.tag",
                    ),
                ),
                (
                    "video",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="confirmed_labels",
                        to="annotations.video",
                    ),
                ),
            ],
            options={
                "ordering": ["video", "tag__path"],
            },
        ),
        migrations.CreateModel(
            name="Assignment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("assigned_at", models.DateTimeField(auto_now_add=True)),
                ("lease_expires_at", models.DateTimeField(blank=True, null=True)),
                (
                    "annotator",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="assignments",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "video",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="assignments",
                        to="annotations.video",
                    ),
                ),
            ],
            options={
                "ordering": ["assigned_at", "id"],
            },
        ),
        migrations.AddField(
            model_name="annotation",
            name="video",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="annotations",
                to="annotations.video",
            ),
        ),
        migrations.CreateModel(
            name="VideoFeatures",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("text", models.JSONField(blank=True, default=dict)),
                ("visual", models.JSONField(blank=True, default=dict)),
                ("audio", models.JSONField(blank=True, default=dict)),
                ("image_embedding", models.JSONField(blank=True, null=True)),
                ("notes", models.JSONField(blank=True, default=dict)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "video",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="features",
                        to="annotations.video",
                    ),
                ),
            ],
        ),
        migrations.AddConstraint(
            model_name="modelversion",
            constraint=models.UniqueConstraint(
                fields=("project", "number"), name="unique_model_number"
            ),
        ),
        migrations.AddConstraint(
            model_name="modelversion",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state", "promoted")),
                fields=("project",),
                name="one_promoted_model_per_project",
            ),
        ),
        migrations.AddConstraint(
            model_name="modelversion",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state", "training")),
                fields=("project",),
                name="one_training_per_project",
            ),
        ),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.UniqueConstraint(
                fields=("project", "user"), name="one_membership_per_user"
            ),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(
                fields=["state", "heartbeat_at"], name="annotations_state_5db1ec_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["project", "kind"], name="annotations_project_d9f08c_idx"),
        ),
        migrations.AddConstraint(
            model_name="job",
            constraint=models.UniqueConstraint(
                condition=models.Q(("object_id__isnull", False)),
                fields=("kind", "object_id"),
                name="one_job_per_object",
            ),
        ),
        migrations.AddConstraint(
            model_name="tag",
            constraint=models.UniqueConstraint(
                fields=("project", "path"), name="unique_tag_path_per_project"
            ),
        ),
        migrations.AddConstraint(
            model_name="tag",
            constraint=models.UniqueConstraint(
                condition=models.Q(("hotkey", ""), _negated=True),
                fields=("project", "hotkey"),
                name="unique_tag_hotkey_per_project",
            ),
        ),
        migrations.AddConstraint(
            model_name="tag",
            constraint=models.CheckConstraint(
                condition=models.Q(("name", ""), _negated=True), name="tag_name_not_empty"
            ),
        ),
        migrations.AddConstraint(
            model_name="tagdecision",
            constraint=models.UniqueConstraint(
                fields=("annotation", "tag"), name="one_decision_per_tag"
            ),
        ),
        migrations.AddIndex(
            model_name="video",
            index=models.Index(fields=["project", "status"], name="annotations_project_8831e9_idx"),
        ),
        migrations.AddIndex(
            model_name="video",
            index=models.Index(
                fields=["project", "status", "uncertainty", "id"], name="video_queue_uncertainty"
            ),
        ),
        migrations.AddConstraint(
            model_name="video",
            constraint=models.UniqueConstraint(
                condition=models.Q(("sha256", ""), _negated=True),
                fields=("project", "sha256"),
                name="unique_video_file_per_project",
            ),
        ),
        migrations.AddConstraint(
            model_name="video",
            constraint=models.UniqueConstraint(
                condition=models.Q(("external_id", ""), _negated=True),
                fields=("project", "external_id"),
                name="unique_video_external_id_per_project",
            ),
        ),
        migrations.AddConstraint(
            model_name="video",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("sha256", ""), ("sha256__regex", "^[0-9a-f]{64}$"), _connector="OR"
                ),
                name="video_sha256_is_hex",
            ),
        ),
        migrations.AddConstraint(
            model_name="transcriptsegment",
            constraint=models.UniqueConstraint(
                fields=("video", "index"), name="unique_segment_index"
            ),
        ),
        migrations.AddConstraint(
            model_name="transcriptsegment",
            constraint=models.CheckConstraint(
                condition=models.Q(("end_seconds__gte", models.F("start_seconds"))),
                name="segment_ends_after_start",
            ),
        ),
        migrations.AddConstraint(
            model_name="suggestion",
            constraint=models.UniqueConstraint(
                fields=("video", "tag"), name="one_suggestion_per_tag"
            ),
        ),
        migrations.AddConstraint(
            model_name="reviewrequest",
            constraint=models.UniqueConstraint(
                condition=models.Q(("resolved_at__isnull", True)),
                fields=("video", "reason"),
                name="one_open_review_request_per_reason",
            ),
        ),
        migrations.AddConstraint(
            model_name="processingstep",
            constraint=models.UniqueConstraint(
                fields=("video", "name"), name="unique_step_per_video"
            ),
        ),
        migrations.AddIndex(
            model_name="labelchange",
            index=models.Index(
                fields=["video", "tag", "-changed_at"], name="annotations_video_i_1c8c31_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="keyframe",
            constraint=models.UniqueConstraint(
                fields=("video", "timestamp_seconds"), name="unique_keyframe_time"
            ),
        ),
        migrations.AddConstraint(
            model_name="confirmedlabel",
            constraint=models.UniqueConstraint(
                fields=("video", "tag"), name="one_confirmed_label_per_tag"
            ),
        ),
        migrations.AddConstraint(
            model_name="assignment",
            constraint=models.UniqueConstraint(
                fields=("video", "annotator"), name="one_assignment_per_annotator"
            ),
        ),
        migrations.AddConstraint(
            model_name="annotation",
            constraint=models.UniqueConstraint(
                fields=("video", "annotator"), name="one_annotation_per_annotator"
            ),
        ),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
