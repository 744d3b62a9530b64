"""Typo tolerance: a vocabulary of indexed words and the corrections of a mistyped one.

`vocabulary_add()` runs inside `core.search.index()`: the alphabetic words of the documents being written
go into `SearchTerm` (INSERT … ON CONFLICT DO NOTHING), except those this process already knows were
committed — names repeat so much that after the first few thousand documents almost every batch adds
nothing, and a bulk import pays a set lookup per word.

`corrections(term)` returns the vocabulary words within a small edit distance (optimal string alignment:
a swap of two neighbouring letters counts as one edit): distance 1 for words of 4-5 letters, 2 from 6.
Candidates share the first letter and a length within the distance (the `(head, length)` index), so one
typed word compares against a few thousand words at most; rapidfuzz does the comparing. Words under four
letters are not corrected: at that length nearly every word is one edit from dozens of others. A typo in
the first letter is not corrected (the price of the bounded candidate set).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from rapidfuzz import process
from rapidfuzz.distance import OSA

from .models import SearchTerm

MIN_LENGTH = 3
MAX_LENGTH = 30
MIN_CORRECTED = 4
MAX_CORRECTIONS = 8
_BATCH = 500
_KNOWN_LIMIT = 500_000

_known: set[str] = set()


def vocabulary_terms(texts: Iterable[str]) -> set[str]:
    """The words of normalised document texts that belong in the vocabulary."""
    terms: set[str] = set()
    for text in texts:
        for token in text.split(" "):
            if MIN_LENGTH <= len(token) <= MAX_LENGTH and token.isalpha():
                terms.add(token)
    return terms


def vocabulary_add(connection, texts: Iterable[str]) -> None:
    """Add the documents' words to the vocabulary, in the caller's transaction."""
    new = sorted(vocabulary_terms(texts) - _known)
    if not new:
        return
    table = SearchTerm._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(new), _BATCH):
            batch = new[start : start + _BATCH]
            values = ", ".join(["(%s, %s, %s)"] * len(batch))
            cursor.execute(
                f"INSERT INTO {table} (term, head, length) VALUES {values} ON CONFLICT (term) DO NOTHING",
                [v for term in batch for v in (term, term[0], len(term))],
            )

    def remember() -> None:
        if len(_known) + len(new) > _KNOWN_LIMIT:
            _known.clear()
        _known.update(new)

    transaction.on_commit(remember, using=connection.alias)


def forget() -> None:
    """Drop this process's memory of committed words (tests that roll back the database call this)."""
    _known.clear()


def max_distance(term: str) -> int:
    return 1 if len(term) <= 5 else 2


def corrections(term: str, *, using: str = "default") -> list[str]:
    """Vocabulary words close to `term` (itself excluded), closest first; [] when it is not corrected."""
    if len(term) < MIN_CORRECTED or len(term) > MAX_LENGTH or not term.isalpha():
        return []
    distance = max_distance(term)
    candidates = list(
        SearchTerm.objects.using(using)
        .filter(head=term[0], length__gte=len(term) - distance, length__lte=len(term) + distance)
        .values_list("term", flat=True)
    )
    found = process.extract(
        term, candidates, scorer=OSA.distance, score_cutoff=distance, limit=MAX_CORRECTIONS + 1
    )
    return [word for word, _score, _index in sorted(found, key=lambda m: (m[1], m[0])) if word != term][
        :MAX_CORRECTIONS
    ]
