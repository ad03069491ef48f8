"""Full-text search indexes for the video list, on PostgreSQL only.

The expressions are the ones Django writes for
``SearchVector("title", "description", config="russian")`` and
``SearchVector("text", config="russian")`` (see selectors._text_search), so the
planner uses the indexes. Other databases search without them.
"""

from django.db import migrations

INDEXES = {
    "video_search_russian": (
        "annotations_video",
        "to_tsvector('russian'::regconfig, COALESCE(title, '') || ' ' || COALESCE(description, ''))",
    ),
    "segment_search_russian": (
        "annotations_transcriptsegment",
        "to_tsvector('russian'::regconfig, COALESCE(text, ''))",
    ),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, expression) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({expression}))"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0004_prediction_jobs"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
