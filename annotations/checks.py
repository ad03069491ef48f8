"""System checks that need the database: run by ``migrate`` and ``check --database``."""

from __future__ import annotations

import importlib
from typing import Any

from django.core.checks import Error, Tags, register
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

SQUASHED_MIGRATION = "annotations.migrations.0001_squashed_0011_video_text_only_title_index"


def replaced_migrations() -> set[str]:
    """The names of the migrations that the squashed one stands for."""
    migration = importlib.import_module(SQUASHED_MIGRATION).Migration
    return {name for _app, name in migration.replaces}


@register(Tags.database)
def database_not_part_way_through_replaced_migrations(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[Error]:
    """A database migrated part of the way through 0001…0011 cannot take the squashed
    migration, and Django would then apply nothing to it without a word."""
    errors = []
    replaced = replaced_migrations()
    for alias in databases or []:
        recorder = MigrationRecorder(connections[alias])
        if not recorder.has_table():
            continue
        applied = {name for app, name in recorder.applied_migrations() if app == "annotations"}
        done = applied & replaced
        if done and done != replaced:
            errors.append(
                Error(
                    f"Database {alias!r} is part-way through the annotations migrations "
                    f"(its last is {max(done)}).",
                    hint="Migrate it to 0011_video_text_only_title_index with a version "
                    "of the app that still carries those migrations (see the README's "
                    "'Upgrading'), then migrate with this one.",
                    id="annotations.E001",
                )
            )
    return errors
