"""Search documents carry the owner and team of their record (core.search.SCOPED_KINDS).

The apps that own scoped kinds fill the copies for existing documents in their own migrations, between
this one and 0006. On PostgreSQL 0006 then rebuilds the tsvector with the owner/team lexemes and its GIN
index; the index is dropped here so that the fill does not update it row by row (at a million documents
that is the difference between seconds and many minutes).
"""

from django.db import migrations, models


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_search_vocabulary"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchdocument",
            name="owner_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="searchdocument",
            name="team_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(
            _run(["DROP INDEX IF EXISTS core_searchdocument_tsv_idx"]),
            _run(
                [
                    "CREATE INDEX IF NOT EXISTS core_searchdocument_tsv_idx ON core_searchdocument USING gin (tsv)"
                ]
            ),
            elidable=False,
        ),
    ]
