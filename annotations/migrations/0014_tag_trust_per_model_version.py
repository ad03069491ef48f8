"""Trust in a tag is measured per model version: the version whose own suggestions count.

Rows written before count every version's suggestions; they have no version, and the next
measurement starts them again from the promoted version's own evidence.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0013_search_documents_off_the_import_path"),
    ]

    operations = [
        migrations.AddField(
            model_name="tagtrust",
            name="model_version",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="annotations.modelversion",
            ),
        ),
    ]
