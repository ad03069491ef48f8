"""The video list's search documents in a table of their own, written after the import.

The full-text index on the video table (``video_search_russian`` of 0001) stemmed every
title and description while the import stored it. Here it is replaced, on PostgreSQL, by
``SearchDocument`` rows with a GIN index, written in batches by a background task, and a
trigger that lists in ``PendingSearchDocument`` every video inserted (one statement-level
insert per INSERT or COPY, from its transition table) and every video whose title or
description changes. Existing videos are listed too: their documents are written by the
first worker that runs, and until then the search matches them by their words.
"""

import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
DROP INDEX IF EXISTS video_search_russian;
CREATE INDEX search_document_russian ON annotations_searchdocument USING gin (document);

CREATE FUNCTION annotations_video_inserted_for_search() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO annotations_pendingsearchdocument (video_id)
    SELECT id FROM inserted_videos
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER video_inserted_for_search
AFTER INSERT ON annotations_video
REFERENCING NEW TABLE AS inserted_videos
FOR EACH STATEMENT EXECUTE FUNCTION annotations_video_inserted_for_search();

CREATE FUNCTION annotations_video_text_changed_for_search() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO annotations_pendingsearchdocument (video_id) VALUES (NEW.id)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER video_text_changed_for_search
AFTER UPDATE OF title, description ON annotations_video
FOR EACH ROW
WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.description IS DISTINCT FROM NEW.description)
EXECUTE FUNCTION annotations_video_text_changed_for_search();

INSERT INTO annotations_pendingsearchdocument (video_id) SELECT id FROM annotations_video;
"""

BACKWARD = """
DROP TRIGGER IF EXISTS video_text_changed_for_search ON annotations_video;
DROP FUNCTION IF EXISTS annotations_video_text_changed_for_search();
DROP TRIGGER IF EXISTS video_inserted_for_search ON annotations_video;
DROP FUNCTION IF EXISTS annotations_video_inserted_for_search();
CREATE INDEX IF NOT EXISTS video_search_russian ON annotations_video USING gin ((
    to_tsvector('russian'::regconfig, COALESCE(title, '') || ' ' || COALESCE(description, ''))
));
"""


def _statements(script):
    # One statement per call; a function body's semicolons stay inside its $$ quotes.
    parts, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        if line.endswith(";") and "".join(current).count("$$") % 2 == 0:
            parts.append("\n".join(current))
            current = []
    return parts


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in _statements(FORWARD):
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in _statements(BACKWARD):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0012_fewer_indexes_on_imported_rows"),
    ]

    operations = [
        migrations.CreateModel(
            name="PendingSearchDocument",
            fields=[
                (
                    "video",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="annotations.video",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="SearchDocument",
            fields=[
                (
                    "video",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="annotations.video",
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="annotations.project",
                    ),
                ),
                ("document", django.contrib.postgres.search.SearchVectorField()),
            ],
        ),
        migrations.RunPython(forward, backward),
    ]
