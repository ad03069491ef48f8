"""The squashed migration: a database part-way through the migrations it replaces is
refused with a clear message instead of being left half migrated in silence."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

from annotations.checks import (
    database_not_part_way_through_replaced_migrations,
    replaced_migrations,
)
from annotations.models import Video

pytestmark = pytest.mark.django_db


def test_a_fully_migrated_database_passes() -> None:
    assert database_not_part_way_through_replaced_migrations(databases=["default"]) == []


def test_a_database_part_way_through_the_replaced_migrations_is_refused() -> None:
    later = sorted(replaced_migrations())[8:]
    MigrationRecorder(connection).migration_qs.filter(app="annotations", name__in=later).delete()
    errors = database_not_part_way_through_replaced_migrations(databases=["default"])
    assert [error.id for error in errors] == ["annotations.E001"]
    assert "0008_projects_membership_taxonomy_history" in errors[0].msg


def test_a_database_with_none_of_them_is_a_new_one() -> None:
    MigrationRecorder(connection).migration_qs.filter(app="annotations").delete()
    assert database_not_part_way_through_replaced_migrations(databases=["default"]) == []


@pytest.mark.django_db(transaction=True)
def test_labels_a_model_confirmed_elsewhere_get_their_own_source_on_migrating() -> None:
    before, after = (
        ("annotations", "0014_tag_trust_per_model_version"),
        (
            "annotations",
            "0015_label_source_of_another_model",
        ),
    )
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    apps = executor.loader.project_state([before]).apps
    project = apps.get_model("annotations", "Project").objects.create(name="before")
    tags = {
        path: apps.get_model("annotations", "Tag").objects.create(
            project=project, name=path, path=path
        )
        for path in ("Спорт", "Музыка")
    }
    video = apps.get_model("annotations", "Video").objects.create(
        project=project, title="a", metadata={"model_confirmed_tags": ["Спорт"], "channel": "c"}
    )
    for tag in tags.values():
        apps.get_model("annotations", "ConfirmedLabel").objects.create(
            video=video, tag=tag, source="import"
        )
        apps.get_model("annotations", "LabelChange").objects.create(
            video=video, tag=tag, action="added", source="import"
        )

    executor = MigrationExecutor(connection)
    executor.migrate([after])
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = Video.objects.get(pk=video.pk)
    assert moved.metadata == {"channel": "c"}
    assert sorted(moved.confirmed_labels.values_list("tag__path", "source")) == [
        ("Музыка", "import"),
        ("Спорт", "import_model"),
    ]
    assert sorted(moved.label_changes.values_list("tag__path", "source")) == [
        ("Музыка", "import"),
        ("Спорт", "import_model"),
    ]
