"""An index by which an import recognises a text-only video: no id, no file, its title.

Rows of a manifest without a video_id or a file are matched to the project's videos by
title and description (annotations.services.media.video_import.bulk.existing_text_only),
a batch at a time. On PostgreSQL a hash index: a title can be 500 characters, and a
hash index keeps 4 bytes of each where a B-tree keeps the whole title, so at a million
videos it is a fraction of the size (a B-tree here measured 214 MB at 1.3 million) and
an import's random inserts into it stay in memory. Elsewhere a plain partial index.
"""

from django.db import migrations

NAME = "video_text_only_title"
CONDITION = "external_id = '' AND sha256 = ''"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        columns = "USING hash (title)"
    else:
        columns = "(project_id, title)"
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {NAME} ON annotations_video {columns} WHERE {CONDITION}"
    )


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0010_job_lifecycle"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
