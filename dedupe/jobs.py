"""The whole-database duplicate job: block, score, group, store.

1. Stream the records in id order, `CHUNK` at a time (contacts with their e-mails and phones, three
   queries per chunk), and put each record's blocking keys (`matching.contact_keys`) into one index:
   key hash → record id, or the ids sharing it (at most `MAX_BLOCK`; a bigger block is dropped).
   Memory is one entry per key and the ids of real collisions, not the records.
2. Every pair inside a block is a candidate. The candidates' records are read again, in chunks, and
   each pair is scored (`matching.contact_score`).
3. Pairs at or above `THRESHOLD` are joined into groups (union-find); a group's score is its best pair's,
   its reasons the union of its pairs'. Pairs inside a group someone dismissed are left out, so a
   dismissal survives re-runs.
4. The open groups of that kind are replaced by the new ones in one transaction; merged and dismissed
   groups stay as they are.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from contacts.models import Company, Contact, ContactEmail, ContactPhone

from . import matching
from .models import DuplicateGroup, DuplicateMember, Kind

CHUNK = 5000
_OVERSIZED = -1


@dataclass
class JobResult:
    kind: str
    records: int = 0
    candidate_pairs: int = 0
    pairs: list[tuple[int, int, int]] = field(default_factory=list)  # (a, b, score) at/above threshold
    groups: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "records": self.records,
            "candidate_pairs": self.candidate_pairs,
            "duplicate_pairs": len(self.pairs),
            "groups": self.groups,
            "seconds": round(self.seconds, 2),
        }


# ---------------------------------------------------------------------------------------------------------
# Reading in chunks


def _contact_chunks(ids: list[int] | None = None) -> Iterator[list[matching.ContactFacts]]:
    """Facts of every live contact (or of `ids`), a chunk at a time, in id order."""
    base = Contact.objects.filter(archived_at__isnull=True).order_by("id")
    columns = ("id", "first_name", "last_name", "company_id")
    if ids is not None:
        ordered = sorted(set(ids))
        slices = (ordered[i : i + 1000] for i in range(0, len(ordered), 1000))
        batches = (list(base.filter(id__in=part).values_list(*columns)) for part in slices)
    else:
        batches = _keyset(base, columns)
    for rows in batches:
        if not rows:
            continue
        low, high = rows[0][0], rows[-1][0]
        id_filter = {"contact_id__gte": low, "contact_id__lte": high}
        if ids is not None:
            id_filter = {"contact_id__in": [r[0] for r in rows]}
        emails: dict[int, list[str]] = defaultdict(list)
        for contact_id, email in ContactEmail.objects.filter(**id_filter).values_list("contact_id", "email"):
            emails[contact_id].append(email)
        phones: dict[int, list[str]] = defaultdict(list)
        phone_rows = ContactPhone.objects.filter(**id_filter).values_list("contact_id", "number")
        for contact_id, number in phone_rows:
            phones[contact_id].append(number)
        yield [
            matching.contact_facts(pk, first, last, company_id, emails.get(pk, ()), phones.get(pk, ()))
            for pk, first, last, company_id in rows
        ]


def _company_chunks(ids: list[int] | None = None) -> Iterator[list[matching.CompanyFacts]]:
    base = Company.objects.filter(archived_at__isnull=True).order_by("id")
    columns = ("id", "name", "domain", "phone")
    if ids is not None:
        ordered = sorted(set(ids))
        batches = (
            list(base.filter(id__in=ordered[i : i + 1000]).values_list(*columns))
            for i in range(0, len(ordered), 1000)
        )
    else:
        batches = _keyset(base, columns)
    for rows in batches:
        yield [matching.company_facts(*row) for row in rows]


def _keyset(queryset, columns) -> Iterator[list[tuple]]:
    last = 0
    while True:
        rows = list(queryset.filter(id__gt=last).values_list(*columns)[:CHUNK])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


KINDS = {
    Kind.CONTACT: (_contact_chunks, matching.contact_keys, matching.contact_score),
    Kind.COMPANY: (_company_chunks, matching.company_keys, matching.company_score),
}


# ---------------------------------------------------------------------------------------------------------
# Blocking, scoring, grouping


def candidate_pairs(kind: str, progress: Callable[[str], None] | None = None) -> tuple[int, dict[int, None]]:
    """(records read, candidate pairs as a*2**32+b with a < b)."""
    chunks, keys_of, _ = KINDS[kind]
    index: dict[int, object] = {}
    records = 0
    for chunk in chunks():
        for facts in chunk:
            pk = facts.id
            for key in keys_of(facts):
                h = hash(key)
                seen = index.get(h)
                if seen is None:
                    index[h] = pk
                elif seen == _OVERSIZED:
                    continue
                elif isinstance(seen, list):
                    if seen[-1] == pk:
                        continue
                    if len(seen) >= matching.MAX_BLOCK:
                        index[h] = _OVERSIZED
                    else:
                        seen.append(pk)
                elif seen != pk:
                    index[h] = [seen, pk]
        records += len(chunk)
        if progress is not None and records % 100_000 < CHUNK:
            progress(f"{kind}: {records:,} records read")
    pairs: dict[int, None] = {}
    for block in index.values():
        if isinstance(block, list):
            for i, a in enumerate(block):
                for b in block[i + 1 :]:
                    pairs[(a << 32 | b) if a < b else (b << 32 | a)] = None
    return records, pairs


def score_pairs(kind: str, pairs: dict[int, None]) -> list[tuple[int, int, int, list[str]]]:
    """Score candidate pairs, reading the records involved a chunk of pairs at a time."""
    chunks, _, score = KINDS[kind]
    encoded = sorted(pairs)
    result = []
    step = 20_000
    for start in range(0, len(encoded), step):
        part = encoded[start : start + step]
        ids = {p >> 32 for p in part} | {p & 0xFFFFFFFF for p in part}
        facts = {f.id: f for chunk in chunks(list(ids)) for f in chunk}
        for p in part:
            a, b = facts.get(p >> 32), facts.get(p & 0xFFFFFFFF)
            if a is None or b is None:
                continue
            value, reasons = score(a, b)
            if value >= matching.THRESHOLD:
                result.append((a.id, b.id, value, reasons))
    return result


def group_pairs(scored, dismissed: dict[int, set[int]]) -> list[tuple[list[int], int, list[str]]]:
    """Union-find over the scored pairs → [(member ids, score, reasons)], best first."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    kept = []
    for a, b, value, reasons in scored:
        if dismissed.get(a, set()) & dismissed.get(b, set()):
            continue  # both were in a group someone dismissed: not proposed again
        kept.append((a, b, value, reasons))
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, dict] = {}
    for a, b, value, reasons in kept:
        group = groups.setdefault(find(a), {"members": set(), "score": 0, "reasons": []})
        group["members"] |= {a, b}
        group["score"] = max(group["score"], value)
        for reason in reasons:
            if reason not in group["reasons"]:
                group["reasons"].append(reason)
    ordered = sorted(groups.values(), key=lambda g: (-g["score"], min(g["members"])))
    return [(sorted(g["members"]), g["score"], g["reasons"]) for g in ordered]


def _dismissed(kind: str) -> dict[int, set[int]]:
    result: dict[int, set[int]] = defaultdict(set)
    members = DuplicateMember.objects.filter(kind=kind, group__status=DuplicateGroup.Status.DISMISSED)
    for group_id, object_id in members.values_list("group_id", "object_id").iterator(chunk_size=5000):
        result[object_id].add(group_id)
    return result


def run(kind: str, *, progress: Callable[[str], None] | None = None, store: bool = True) -> JobResult:
    """Find the duplicates of one kind in the whole database and (unless `store=False`) replace the open
    groups with them."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    started = time.perf_counter()
    result = JobResult(kind=kind)
    result.records, pairs = candidate_pairs(kind, progress)
    result.candidate_pairs = len(pairs)
    if progress is not None:
        progress(f"{kind}: {result.candidate_pairs:,} candidate pairs")
    scored = score_pairs(kind, pairs)
    del pairs
    result.pairs = [(a, b, value) for a, b, value, _ in scored]
    groups = group_pairs(scored, _dismissed(kind))
    result.groups = len(groups)
    if store:
        _store(kind, groups)
    result.seconds = time.perf_counter() - started
    if progress is not None:
        progress(f"{kind}: {result.groups:,} groups in {result.seconds:,.1f} s")
    return result


def _store(kind: str, groups) -> None:
    now = timezone.now()
    with transaction.atomic():
        DuplicateGroup.objects.filter(kind=kind, status=DuplicateGroup.Status.OPEN).delete()
        for start in range(0, len(groups), 2000):
            part = groups[start : start + 2000]
            made = DuplicateGroup.objects.bulk_create(
                DuplicateGroup(kind=kind, score=score, reasons=reasons, size=len(members), created_at=now)
                for members, score, reasons in part
            )
            DuplicateMember.objects.bulk_create(
                DuplicateMember(group=group, kind=kind, object_id=pk)
                for group, (members, _, _) in zip(made, part, strict=True)
                for pk in members
            )
