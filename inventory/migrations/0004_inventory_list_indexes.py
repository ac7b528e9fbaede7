"""Indexes of the inventory list at 100,000 models (docs/performance.md, "After the inventory fixes").

The tag and validator filters ask "which models have this tag / validator?" as an EXISTS over the many-to-many
tables. Django's own indexes there lead with the model (the unique pair) or hold the tag alone, so the question
read the tag's rows and then every matching row of the table; (tag, model) answers it from the index alone.
Those tables are created by Django for the many-to-many fields, so their indexes are plain SQL (valid on
PostgreSQL and SQLite alike) rather than ``Meta.indexes``.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0003_saved_views"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="registeredmodel",
            index=models.Index(fields=["risk_tier", "lifecycle_stage", "key"], name="model_tier_stage_key_idx"),
        ),
        migrations.RunSQL(
            "CREATE INDEX model_tags_tag_model_idx ON inventory_registeredmodel_tags (tag_id, registeredmodel_id);",
            "DROP INDEX model_tags_tag_model_idx;",
        ),
        migrations.RunSQL(
            "CREATE INDEX model_validators_user_model_idx "
            "ON inventory_registeredmodel_validators (user_id, registeredmodel_id);",
            "DROP INDEX model_validators_user_model_idx;",
        ),
    ]
