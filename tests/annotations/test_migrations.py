"""The squashed migration: a database part-way through the migrations it replaces is
refused with a clear message instead of being left half migrated in silence."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from annotations.checks import (
    database_not_part_way_through_replaced_migrations,
    replaced_migrations,
)

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
