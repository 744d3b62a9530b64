"""The search vocabulary for typo-tolerant search (core.search.fuzzy), filled from existing documents."""

from django.db import migrations, models

BATCH = 5000


def fill(apps, schema_editor):
    from core.search.fuzzy import vocabulary_terms

    SearchDocument = apps.get_model("core", "SearchDocument")
    SearchTerm = apps.get_model("core", "SearchTerm")
    using = schema_editor.connection.alias
    terms: set[str] = set()
    last = 0
    while True:
        rows = list(
            SearchDocument.objects.using(using)
            .filter(id__gt=last)
            .order_by("id")
            .values_list("id", "text")[:BATCH]
        )
        if not rows:
            break
        last = rows[-1][0]
        terms |= vocabulary_terms(text for _, text in rows)
    SearchTerm.objects.using(using).bulk_create(
        [SearchTerm(term=t, head=t[0], length=len(t)) for t in sorted(terms)], batch_size=2000
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0003_search")]

    operations = [
        migrations.CreateModel(
            name="SearchTerm",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("term", models.CharField(max_length=30, unique=True)),
                ("head", models.CharField(max_length=1)),
                ("length", models.PositiveSmallIntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["head", "length"], name="core_searchterm_head_idx")],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
