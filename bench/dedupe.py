"""dedupe: the whole-database duplicate job on the benchmark database with ~2 % injected duplicates.

Before the run, 2 % of the contacts (a fixed random sample) get a duplicate each, made by
`dedupe.synthetic.duplicate_of` (typos, swapped names, case, accents, phone formats, e-mail aliases, some
of e-mail/phone/company left out) and written with `contacts.bulk` (source "dedupe-bench", removed again
at the end and before the next run, so a kept benchmark database stays as the seed made it). Then the job
runs exactly as `crm dedupe contacts` does, storing its groups.

Figures: the job's seconds and contacts per second, against the floor = the raw time to read the same
columns (contacts' id, names and company; every e-mail and phone) on the DB-API cursor in this process;
peak RSS; the groups found; and precision/recall over pairs against the injected truth. Pairs among the
seed's own records (the seed sometimes makes two people with the same name at the same company, who then
share an e-mail address) are counted apart (`base_pairs`), not as errors.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict

from bench.common import Reporter, log, placeholders, raw_cursor

SOURCE = "dedupe-bench"
SHARE = 0.02


def _cleanup() -> int:
    from django.db import transaction

    from contacts.models import Contact
    from core.search.models import SearchDocument

    ids = list(Contact.objects.filter(source=SOURCE).values_list("pk", flat=True))
    with transaction.atomic():
        for start in range(0, len(ids), 5000):
            part = ids[start : start + 5000]
            SearchDocument.objects.filter(kind="contact", object_id__in=part).delete()
            Contact.objects.filter(pk__in=part).delete()
    return len(ids)


def _inject(scale: int) -> set[tuple[int, int]]:
    from contacts.bulk import contacts_bulk_create
    from contacts.models import Contact, ContactEmail, ContactPhone
    from dedupe.synthetic import duplicate_of

    rng = random.Random(20261123)
    all_ids = list(Contact.objects.filter(archived_at__isnull=True).values_list("pk", flat=True))
    picked = sorted(rng.sample(all_ids, max(1, int(len(all_ids) * SHARE))))
    truth: set[tuple[int, int]] = set()
    for start in range(0, len(picked), 5000):
        part = picked[start : start + 5000]
        rows = {
            pk: {
                "first_name": f,
                "last_name": lst,
                "company_id": c,
                "owner_id": o,
                "emails": [],
                "phones": [],
            }
            for pk, f, lst, c, o in Contact.objects.filter(pk__in=part).values_list(
                "pk", "first_name", "last_name", "company_id", "owner_id"
            )
        }
        for contact_id, email in ContactEmail.objects.filter(contact_id__in=part).values_list(
            "contact_id", "email"
        ):
            rows[contact_id]["emails"].append(email)
        for contact_id, number in ContactPhone.objects.filter(contact_id__in=part).values_list(
            "contact_id", "number"
        ):
            rows[contact_id]["phones"].append(number)
        originals = list(rows)
        duplicates = []
        for pk in originals:
            row = rows[pk]
            if row["company_id"] is None:
                row.pop("company_id")
            duplicate = duplicate_of(rng, row)
            duplicate.update(owner_id=row["owner_id"], source=SOURCE)
            duplicates.append(duplicate)
        new_ids: list[int] = []
        errors: list = []
        contacts_bulk_create(actor=None, rows=duplicates, ids=new_ids, errors=errors)
        if errors:
            raise RuntimeError(f"injected duplicates failed validation: {errors[:3]}")
        truth |= {tuple(sorted(p)) for p in zip(originals, new_ids, strict=True)}
    return truth


def _quality(groups, truth, injected) -> tuple[float, float, int, int, int]:
    """Pairs with an injected record count: right when the other record is its original, or a record
    the seed made identical to the original (same name, company and e-mail: a pair of seed records the
    job groups too). Pairs of two seed records are only counted (`base_pairs`)."""
    original_of = {b: a for a, b in truth}  # injected records have the larger ids
    predicted, base = set(), set()
    for members in groups:
        ordered = sorted(members)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                (predicted if a in injected or b in injected else base).add((a, b))
    right = set()
    for a, b in predicted:
        duplicate, other = (a, b) if a in injected else (b, a)
        original = original_of.get(duplicate)
        if other == original or tuple(sorted((other, original))) in base:
            right.add((a, b))
    found = sum(1 for pair in truth if pair in right)
    precision = len(right) / len(predicted) if predicted else 1.0
    recall = found / len(truth) if truth else 1.0
    return precision, recall, len(predicted), found, len(base)


def _floor_seconds() -> float:
    cursor = raw_cursor()
    started = time.perf_counter()
    cursor.execute(
        placeholders(
            "SELECT id, first_name, last_name, company_id FROM contacts_contact WHERE archived_at IS NULL"
        )
    )
    cursor.fetchall()
    cursor.execute("SELECT contact_id, email FROM contacts_contactemail")
    cursor.fetchall()
    cursor.execute("SELECT contact_id, number FROM contacts_contactphone")
    cursor.fetchall()
    return time.perf_counter() - started


def run(*, scale: int, db_url: str, **_) -> None:
    from django.db import connection

    from dedupe import jobs
    from dedupe.models import DuplicateGroup, DuplicateMember

    reporter = Reporter("dedupe", connection.vendor, scale)
    removed = _cleanup()
    if removed:
        log(f"removed {removed:,} duplicates a previous run had injected")
    started = time.perf_counter()
    truth = _inject(scale)
    injected = {pair[1] for pair in truth}
    log(f"injected {len(truth):,} duplicates in {time.perf_counter() - started:,.1f} s")
    try:
        floor = min(_floor_seconds() for _ in range(2))
        result = jobs.run("contact", progress=log)
        members = defaultdict(list)
        open_groups = DuplicateGroup.objects.filter(kind="contact", status="open").values("pk")
        for group_id, object_id in DuplicateMember.objects.filter(group__in=open_groups).values_list(
            "group_id", "object_id"
        ):
            members[group_id].append(object_id)
        groups = list(members.values())
        precision, recall, predicted, found, base_pairs = _quality(groups, truth, injected)
        reporter.emit("job_s", result.seconds, floor)
        reporter.emit("contacts_per_s", result.records / result.seconds, result.records / floor, rate=True)
        reporter.emit("groups", result.groups, len(truth))
        reporter.emit("precision", precision, 0.95, rate=True)
        reporter.emit("recall", recall, 0.90, rate=True)
        log(
            f"dedupe: {result.records:,} contacts, {result.candidate_pairs:,} candidate pairs, "
            f"{result.groups:,} groups; {predicted:,} pairs touch an injected duplicate, {found:,} of "
            f"{len(truth):,} right; {base_pairs:,} pairs among the seed's own records."
        )
        log("floor = reading the same columns on the raw cursor. Target at 1,000,000 contacts: <= 600 s.")
    finally:
        _cleanup()
        DuplicateGroup.objects.filter(kind="contact", status="open").delete()
