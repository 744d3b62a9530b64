"""The single-column indexes of foreign keys that a composite index or a unique constraint already leads
with: they served no query the other does not, and cost every insert and update (see
core.migration_ops)."""

from django.conf import settings
from django.db import migrations

from core.migration_ops import DropForeignKeyIndexes


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0001_initial"),
        ("users", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        DropForeignKeyIndexes(
            fields=[
                ("activity", "owner"),
                ("activity", "team"),
            ]
        ),
    ]
