"""PostgreSQL: the tsvector also holds the record's owner and team as lexemes ("~o<id>", "~t<id>").

A restricted user's search then ANDs its text match with `('~o<me>' | '~t<my team>')` inside one GIN scan,
and GIN's fast scan walks the short posting list of the owner instead of the long one of a common prefix:
a member's "mar" at 1M documents reads ~4,000 entries instead of ~135,000 (measured 2.4 ms against 37 ms
for a bitmap AND with separate owner/team indexes). "~" never occurs in a token (core.search.text), so
no typed word can match these lexemes. SQLite is unchanged: FTS5 drives there and probes records by id.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    # Keep 8 in step with core.search.backends.PG_PREFIX_LEXEME_LENGTH and "~o"/"~t" with SCOPE_OWNER/TEAM.
    """
    CREATE OR REPLACE FUNCTION core_search_tsvector(doc text, owner bigint, team bigint) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    DECLARE
        tokens text[] := array_remove(string_to_array(coalesce(doc, ''), ' '), '');
        lexemes text[] := tokens;
        token text;
        k int;
    BEGIN
        FOREACH token IN ARRAY tokens LOOP
            FOR k IN 1..least(8, length(token)) LOOP
                lexemes := lexemes || ('^' || left(token, k));
            END LOOP;
        END LOOP;
        IF owner IS NOT NULL THEN
            lexemes := lexemes || ('~o' || owner::text);
        END IF;
        IF team IS NOT NULL THEN
            lexemes := lexemes || ('~t' || team::text);
        END IF;
        RETURN array_to_tsvector(lexemes);
    END
    $$
    """,
    "ALTER TABLE core_searchdocument DROP COLUMN tsv",
    """
    ALTER TABLE core_searchdocument
    ADD COLUMN tsv tsvector GENERATED ALWAYS AS (core_search_tsvector(text, owner_id, team_id)) STORED
    """,
    "ALTER TABLE core_searchdocument ALTER COLUMN tsv SET STATISTICS 1000",
    "SET LOCAL maintenance_work_mem = '256MB'",
    "CREATE INDEX core_searchdocument_tsv_idx ON core_searchdocument USING gin (tsv)",
    "DROP FUNCTION IF EXISTS core_search_tsvector(text)",
    "ANALYZE core_searchdocument",
]
POSTGRES_BACKWARD = [
    """
    CREATE OR REPLACE FUNCTION core_search_tsvector(doc text) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
    DECLARE
        tokens text[] := array_remove(string_to_array(doc, ' '), '');
        lexemes text[] := tokens;
        token text;
        k int;
    BEGIN
        FOREACH token IN ARRAY tokens LOOP
            FOR k IN 1..least(8, length(token)) LOOP
                lexemes := lexemes || ('^' || left(token, k));
            END LOOP;
        END LOOP;
        RETURN array_to_tsvector(lexemes);
    END
    $$
    """,
    "DROP INDEX IF EXISTS core_searchdocument_tsv_idx",
    "ALTER TABLE core_searchdocument DROP COLUMN tsv",
    """
    ALTER TABLE core_searchdocument
    ADD COLUMN tsv tsvector GENERATED ALWAYS AS (core_search_tsvector(text)) STORED
    """,
    "ALTER TABLE core_searchdocument ALTER COLUMN tsv SET STATISTICS 1000",
    "DROP FUNCTION IF EXISTS core_search_tsvector(text, bigint, bigint)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_search_scope"),
    ]

    operations = [
        migrations.RunPython(_run(POSTGRES_FORWARD), _run(POSTGRES_BACKWARD), elidable=False),
    ]
