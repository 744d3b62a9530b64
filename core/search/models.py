"""The search index table. Imported by core.models so Django registers it in the `core` app."""

from __future__ import annotations

from django.db import models


class SearchDocument(models.Model):
    """One searchable object: its folded tokens, keyed by kind and object id.

    `id` is not a counter: it is `(kind code << 40) | object_id` (see core.search.document_id), set by
    `core.search.index()`. That makes it the FTS5 rowid on SQLite, so a match yields the object id and its
    kind by arithmetic, without a lookup per matching row (measured: that lookup dominated broad prefix
    searches). It stays a BigAutoField only because on SQLite that is the column type that aliases the rowid.
    Being derived from (kind, object_id) it is also their uniqueness constraint; no separate index is needed.

    `text` holds normalised tokens separated by single spaces (core.search.text.document_text), not the
    original text. On PostgreSQL migration 0003 adds a generated `tsv` column with a GIN index; on SQLite it
    adds the `core_search_fts` FTS5 table and the triggers that keep it in step with this one.
    Write through core.search.index()/remove(), not the ORM.

    `owner_id` and `team_id` copy the record's own columns for the kinds whose visibility is the owner/team
    rule of core.visibility (core.search.SCOPED_KINDS; NULL for the others). They are plain integers, not
    foreign keys: a copy the search backend can match next to the text. On PostgreSQL the tsvector holds
    them as "~o<id>"/"~t<id>" lexemes (migration 0006), so one GIN scan answers "these words, and owned by
    me or shared with my team" instead of probing the document of every record a restricted user may
    see. Only a narrowing: the caller's queryset keeps its own visibility filter, so a
    stale copy could hide a record from a search, never show one.
    """

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=20)
    object_id = models.BigIntegerField()
    text = models.TextField(blank=True)
    owner_id = models.BigIntegerField(null=True, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        app_label = "core"

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"


class SearchTerm(models.Model):
    """The vocabulary of words in the search documents, for typo-tolerant search (core.search.fuzzy).

    Only alphabetic words of 3 to 30 letters (names, company words; not e-mail addresses or numbers), added
    by `core.search.index()` in the writer's transaction. Terms are never removed when documents change:
    a stale term only yields a correction that matches nothing. `head` (first letter) and `length` bound
    the candidates compared for one typed word to a few thousand, whatever the database size.
    """

    term = models.CharField(max_length=30, unique=True)
    head = models.CharField(max_length=1)
    length = models.PositiveSmallIntegerField()

    class Meta:
        app_label = "core"
        indexes = [models.Index(fields=["head", "length"], name="core_searchterm_head_idx")]

    def __str__(self) -> str:
        return self.term
