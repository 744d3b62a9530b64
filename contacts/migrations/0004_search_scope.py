"""Fill the owner/team copies of existing contact and company search documents (core migration 0005),
before core 0006 rebuilds PostgreSQL's tsvector and GIN index from them."""

from django.db import migrations

KINDS = (("contact", "contacts_contact"), ("company", "contacts_company"))


def fill(apps, schema_editor):
    # One set-based statement per kind; tables and kinds are constants of this migration, no user input.
    for kind, table in KINDS:
        if schema_editor.connection.vendor == "postgresql":
            sql = (
                f"UPDATE core_searchdocument d SET owner_id = r.owner_id, team_id = r.team_id "  # noqa: S608
                f"FROM {table} r WHERE d.kind = %s AND d.object_id = r.id"
            )
        else:
            sql = (
                f"UPDATE core_searchdocument SET (owner_id, team_id) = "  # noqa: S608
                f"(SELECT r.owner_id, r.team_id FROM {table} r WHERE r.id = core_searchdocument.object_id) "
                "WHERE kind = %s"
            )
        schema_editor.execute(sql, [kind])


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0003_external_id"),
        ("core", "0005_search_scope"),
    ]

    run_before = [("core", "0006_search_scope_tsvector")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=False)]
