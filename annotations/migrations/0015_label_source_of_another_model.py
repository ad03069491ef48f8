"""A dataset's label that another project's model confirmed has a source of its own.

Before, such a label arrived as "import" (people's word) and the video's metadata listed
it under "model_confirmed_tags"; those labels, and the history entries that added them,
now say what they are, and the metadata key goes.
"""

from typing import Any

from django.db import migrations, models

SOURCES = [
    ("import", "Imported with the video"),
    ("review", "Confirmed by an expert"),
    ("agreement", "Agreed by the annotators"),
    ("model", "Confirmed by the model"),
    ("import_model", "Imported; a model confirmed it elsewhere"),
]


def label_the_model_s_imports(apps: Any, schema_editor: Any) -> None:
    Video = apps.get_model("annotations", "Video")
    ConfirmedLabel = apps.get_model("annotations", "ConfirmedLabel")
    LabelChange = apps.get_model("annotations", "LabelChange")
    marked = Video.objects.filter(metadata__has_key="model_confirmed_tags")
    for video in marked.only("pk", "metadata").iterator(chunk_size=500):
        paths = [str(p) for p in video.metadata.pop("model_confirmed_tags") or []]
        for rows in (ConfirmedLabel.objects, LabelChange.objects):
            rows.filter(video_id=video.pk, tag__path__in=paths, source="import").update(
                source="import_model"
            )
        video.save(update_fields=["metadata"])


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0014_tag_trust_per_model_version"),
    ]

    operations = [
        migrations.AlterField(
            model_name="confirmedlabel",
            name="source",
            field=models.CharField(choices=SOURCES, max_length=16),
        ),
        migrations.AlterField(
            model_name="labelchange",
            name="source",
            field=models.CharField(choices=SOURCES, max_length=16),
        ),
        migrations.RunPython(label_the_model_s_imports, migrations.RunPython.noop),
    ]
