"""One search interface, a backend per database (SQLite FTS5; PostgreSQL tsvector + GIN).

    from core import search
    search.index("contact", [(contact.pk, "Maria Müller maria.mueller@example.com +4915123456789 Acme")])
    search.filter_queryset(restrict(Contact.objects.all(), user), "contact", "mar mül")[:20]

Documents are `SearchDocument` rows whose `text` holds tokens already folded in Python (core.search.text),
so both databases match exactly the same tokens. Services call `index()`/`remove()` in the same transaction
as their write, so search sees a change as soon as that transaction commits.

Matching: every term must match (AND), each as a word prefix ("jo smi" finds John Smith); case and accents
are folded ("muller" and "mueller" find Müller); an e-mail address or domain typed whole matches as one
term; phone numbers are indexed as digits. User text never becomes SQL or FTS syntax: terms are built
from letters, digits and a few joiners only, quoted, and passed as bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import router, transaction
from django.db.models import QuerySet

from . import fuzzy
from .backends import KIND_SHIFT, backend_for
from .models import SearchDocument
from .text import document_text, normalise_terms, normalise_text

__all__ = [
    "KINDS",
    "RANK_LIMIT",
    "TIER_LIMIT",
    "document_id",
    "filter_queryset",
    "SCOPED_KINDS",
    "index",
    "normalise_terms",
    "normalise_text",
    "remove",
    "set_owner",
]

# Every searchable kind and its code. The code is part of each stored document id, so never renumber or
# reuse one; add new kinds at the end.
KINDS: dict[str, int] = {
    "contact": 1,
    "company": 2,
    "lead": 3,
    "deal": 4,
    "case": 5,
    "product": 6,
    "order": 7,
}
# The kinds whose visibility is core.visibility's owner/team rule: their documents carry the record's owner
# and team (written by index(), kept current by set_owner()), and a search over a queryset narrowed by
# core.visibility.restrict() repeats that narrowing on the documents, where PostgreSQL can combine it with
# the text match in one bitmap. A kind with another rule (orders follow their customer) is not listed.
SCOPED_KINDS = frozenset({"contact", "company"})
_MAX_OBJECT_ID = (1 << KIND_SHIFT) - 1
# Override the backends' measured match-count thresholds (see filter_queryset); None keeps their defaults
# (300 and 2,000 on both: SQLite counts exactly, PostgreSQL uses the planner's estimate).
RANK_LIMIT: int | None = None
TIER_LIMIT: int | None = None


def _code(kind: str) -> int:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown search kind {kind!r}; add it to core.search.KINDS")


def document_id(kind: str, object_id: int) -> int:
    """The SearchDocument id of one object: `(kind code << 40) | object_id`."""
    object_id = int(object_id)
    if not 0 < object_id <= _MAX_OBJECT_ID:
        raise ValueError(f"object id {object_id} outside 1..{_MAX_OBJECT_ID}")
    return (_code(kind) << KIND_SHIFT) | object_id


def index(kind: str, rows: Iterable[tuple]) -> None:
    """Upsert the documents of one kind, in the caller's transaction.

    A row is (object_id, text) or, for SCOPED_KINDS (where it is required), (object_id, text, owner_id,
    team_id) with the record's own owner and team. Bulk-friendly: multi-row INSERT ... ON CONFLICT
    statements of 500 rows; 5,000 rows take one call. When an object id appears more than once the last
    row wins. Documents whose text, owner and team are unchanged are not rewritten.
    """
    index_tokenised(kind, ((row[0], document_text(row[1] or ""), *row[2:]) for row in rows))


def index_tokenised(kind: str, rows: Iterable[tuple]) -> None:
    """`index` for texts already through `document_text` (or `document_text_merge`): bulk writers
    tokenise ahead, off the writing process."""
    code = _code(kind)
    scoped = kind in SCOPED_KINDS
    documents: dict[int, tuple[int, str, int, str, int | None, int | None]] = {}
    for row in rows:
        if scoped and len(row) != 4:
            raise ValueError(f"{kind!r} documents are indexed as (object_id, text, owner_id, team_id)")
        if not scoped and len(row) != 2:
            raise ValueError(f"{kind!r} documents are indexed as (object_id, text)")
        doc_id = document_id(kind, row[0])
        owner_id, team_id = (row[2], row[3]) if scoped else (None, None)
        documents[doc_id] = (doc_id, kind, doc_id - (code << KIND_SHIFT), row[1], owner_id, team_id)
    if not documents:
        return
    using = router.db_for_write(SearchDocument)
    backend, connection = backend_for(using)
    with transaction.atomic(using=using, savepoint=False):
        backend.upsert(connection, [documents[i] for i in sorted(documents)])
        fuzzy.vocabulary_add(connection, (d[3] for d in documents.values()))


def set_owner(kind: str, object_ids: Iterable[int], owner_id: int | None) -> None:
    """Copy a new owner onto the documents of these records (bulk reassignment), in the caller's
    transaction. Writers that re-index the record through index() need not call it."""
    if kind not in SCOPED_KINDS:
        raise ValueError(f"{kind!r} documents carry no owner")
    ids = sorted({document_id(kind, object_id) for object_id in object_ids})
    if not ids:
        return
    using = router.db_for_write(SearchDocument)
    backend, connection = backend_for(using)
    with transaction.atomic(using=using, savepoint=False):
        backend.set_owner(connection, ids, owner_id)


def remove(kind: str, object_ids: Iterable[int]) -> None:
    """Delete the documents of these objects (missing ones are ignored), in the caller's transaction."""
    ids = sorted({document_id(kind, object_id) for object_id in object_ids})
    if not ids:
        return
    using = router.db_for_write(SearchDocument)
    backend, connection = backend_for(using)
    with transaction.atomic(using=using, savepoint=False):
        backend.delete(connection, ids)


# From this many documents removed at once (an import undone), the remover asks for optimize().
OPTIMIZE_AFTER_REMOVED = 50_000


def optimize(using: str | None = None) -> None:
    """Compact the search index after mass deletions (SQLite: FTS5 'optimize'; PostgreSQL: nothing,
    autovacuum cleans the GIN index). Safe to run at any time; `crm search_optimize` runs it."""
    using = using or router.db_for_write(SearchDocument)
    backend, connection = backend_for(using)
    backend.optimize(connection)


def filter_queryset(
    queryset: QuerySet,
    kind: str,
    text: str,
    *,
    ranked: bool = True,
    typos: bool = False,
    id_order: str | None = None,
    after: int | None = None,
) -> QuerySet:
    """Restrict `queryset` (of the model behind `kind`; its pk is the object id) to matching documents.

    Composes into the caller's SQL as an INNER JOIN, so visibility filters already on `queryset` and any
    LIMIT apply to the same statement. Text with no searchable terms matches nothing.

    ranked=True annotates `search_rank` (higher is better; compare it only within one result set) and
    orders by it, then by pk. How depends on how many documents of the kind match -- one query run here,
    not lazily: an exact count capped at the tier limit on SQLite, the planner's estimate on PostgreSQL:
    - at most RANK_LIMIT: relevance -- bm25 on SQLite, ts_rank on PostgreSQL; a whole-word match beats a
      prefix match, a shorter document a longer one;
    - at most TIER_LIMIT: 1.0 when every term matched a whole word, else 0.0;
    - more: None, in pk order (scoring a quarter of a million prefix matches cannot fit the budget).
    ranked=False only filters and keeps the caller's ordering, with no count query: use it when the
    caller sorts anyway (list endpoints with their own sort).

    id_order="desc" or "asc" (with ranked=False) orders by the object id in a way the index can serve —
    on SQLite by the FTS rowid, so FTS5 hands matches over already in order and the LIMIT stops the scan
    (ordering by the table's id instead sorts every match: 500 ms for a common prefix at 1M) — and
    `after` keeps only ids below ("desc") or above ("asc") it, inside the index range: a keyset page.

    typos=True is the second try of a search that found nothing: each word of four letters or more also
    matches the vocabulary words a typo or two away from it (core.search.fuzzy), as whole words; results
    in pk order. When no word has a correction it matches nothing.
    """
    code = _code(kind)
    terms = normalise_terms(text or "")
    if not terms or queryset.query.is_empty():
        return queryset.none()
    backend, connection = backend_for(queryset.db)
    # The visibility core.visibility.restrict() put on the queryset, repeated on the documents (see
    # SCOPED_KINDS); the queryset keeps its own filter either way.
    scope = getattr(queryset.query, "visibility_scope", None) if kind in SCOPED_KINDS else None
    # A term that is a prefix of another is implied by it ("sa san": a word starting with "san" starts with
    # "sa"): matching it too changes nothing but the cost, and PostgreSQL's row estimate, which assumes
    # independent terms (measured 5x too low for "sa san"). Ranking still sees every term.
    required = [t for t in terms if not any(other != t and other.startswith(t) for other in terms)]
    if typos:
        groups = [[t, *fuzzy.corrections(t, using=queryset.db)] for t in required]
        if all(len(group) == 1 for group in groups):
            return queryset.none()
        return backend.filter_alternatives(queryset, kind, code, groups, scope=scope)
    if id_order is not None:
        if id_order not in ("asc", "desc") or ranked:
            raise ValueError("id_order is 'asc' or 'desc', with ranked=False")
        mode = f"id_{id_order}"
    elif not ranked:
        mode = "filter"
    matches = None
    if id_order is None and ranked:
        rank_limit = backend.rank_limit if RANK_LIMIT is None else RANK_LIMIT
        tier_limit = backend.tier_limit if TIER_LIMIT is None else TIER_LIMIT
        matches = backend.count_matches(
            connection, kind, code, required, max(rank_limit, tier_limit) + 1, scope=scope
        )
        mode = "rank" if matches <= rank_limit else "tier" if matches <= tier_limit else "pk"
    return backend.filter(
        queryset, kind, code, required, mode, rank_terms=terms, after=after, scope=scope, matches=matches
    )
