"""Videos whose tags are confirmed move to the end of "most uncertain first".

From now on a video stores UNCERTAINTY_CONFIRMED once its tags are confirmed (see
``services/learning/uncertainty``); the videos confirmed before kept the uncertainty of
their suggestions, in front of the open ones the queue looks for. One statement sets them;
going back leaves them as they are, which the older code reads as any other uncertainty.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef

# ``models.videos.UNCERTAINTY_CONFIRMED`` as this migration was written.
UNCERTAINTY_CONFIRMED = 3.0


def confirmed_last(apps, schema_editor):
    Video = apps.get_model("annotations", "Video")
    ConfirmedLabel = apps.get_model("annotations", "ConfirmedLabel")
    Video.objects.filter(Exists(ConfirmedLabel.objects.filter(video=OuterRef("pk")))).exclude(
        uncertainty=UNCERTAINTY_CONFIRMED
    ).update(uncertainty=UNCERTAINTY_CONFIRMED)


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0015_label_source_of_another_model"),
    ]

    operations = [
        migrations.RunPython(confirmed_last, migrations.RunPython.noop, elidable=True),
    ]
