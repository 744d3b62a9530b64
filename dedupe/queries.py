"""Reads of the dedupe app. Every one takes the user and starts from core.visibility."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from contacts.models import Company, Contact, ContactEmail, ContactPhone
from core.errors import NotFoundError, PermissionDeniedError, ValidationError
from core.normalize import domain_normalize, email_normalize, phone_normalize
from core.visibility import can, restrict, role_of

from . import matching
from .models import DuplicateGroup, DuplicateMember, Kind, Merge, MergedRecord

MAX_CANDIDATES = 10
MODELS = {Kind.CONTACT: Contact, Kind.COMPANY: Company}


@dataclass
class Candidate:
    record: object  # a Contact or a Company the user may see
    score: int
    reasons: list[str]


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def _list_of(data: dict, name: str, key: str) -> list[str]:
    value = data.get(name)
    if not isinstance(value, list):
        return []
    return [
        item if isinstance(item, str) else item.get(key, "")
        for item in value
        if isinstance(item, str) or (isinstance(item, dict) and isinstance(item.get(key), str))
    ]


def _int_or_none(value) -> int | None:
    if value in (None, "") or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------------------
# Warnings on create: what the entered data matches among the records the user may see


def contact_duplicates(user, data: dict, *, exclude_id: int | None = None) -> list[Candidate]:
    """Likely duplicates of the contact described by `data` (the keys of `contact_create`), best first:
    `contact_duplicates_bulk` for one person, with the records for display.

    Unparseable e-mails or phones are ignored here (the create itself reports them)."""
    if not isinstance(data, dict):
        raise ValidationError({"__all__": ["Expected an object."]})
    emails = set()
    for raw in [_text(data, "email"), *_list_of(data, "emails", "email")]:
        with contextlib.suppress(ValueError):
            emails.add(email_normalize(raw))
    phones = set()
    for raw in [_text(data, "phone"), *_list_of(data, "phones", "number")]:
        with contextlib.suppress(ValueError):
            phones.add(phone_normalize(raw))
    person = {
        "first_name": _text(data, "first_name"),
        "last_name": _text(data, "last_name"),
        "company_id": _int_or_none(data.get("company_id")),
        "emails": sorted(emails),
        "phones": sorted(phones),
    }
    exclude = {exclude_id} if exclude_id is not None else set()
    (suspects,) = contact_duplicates_bulk(user, [person], limit=MAX_CANDIDATES, exclude_ids=exclude)
    records = Contact.objects.select_related("company").in_bulk([s.id for s in suspects])
    return [Candidate(records[s.id], s.score, s.reasons) for s in suspects if s.id in records]


@dataclass
class Suspect:
    """A visible existing contact that an imported row probably duplicates."""

    id: int
    name: str
    score: int
    reasons: list[str]


BULK_CHUNK = 2000  # values per IN (...) list (SQLite allows 32,766 parameters)


def _chunks(values: list, size: int = BULK_CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def contact_duplicates_bulk(
    user, people: list[dict], *, limit: int = 3, exclude_ids: set[int] | frozenset = frozenset()
) -> list[list[Suspect]]:
    """`contact_duplicates` for many people at once (an import batch): for each, the visible existing
    contacts scoring at least matching.THRESHOLD, best first, at most `limit`.

    A person is {"first_name", "last_name", "company_id", "emails", "phones"} with e-mails and phones
    already normalised (a bulk create plan). A few set-based queries per call whatever its size:
    candidates by e-mail (and its +tag/dot variants), by phone, and by first or last name at the same
    company; then only the candidates are checked against the user's visibility and scored."""
    typed = [
        matching.contact_facts(
            None,
            p.get("first_name") or "",
            p.get("last_name") or "",
            p.get("company_id"),
            p.get("emails") or (),
            p.get("phones") or (),
        )
        for p in people
    ]
    variants = sorted({v for facts in typed for e in facts.emails for v in matching.email_variants(e)})
    phones = sorted({n for facts in typed for n in facts.phones})
    companies = sorted({f.company_id for f in typed if f.company_id is not None and (f.first or f.last)})
    names = sorted(
        {
            v
            for p in people
            if p.get("company_id")
            for part in (p.get("first_name"), p.get("last_name"))
            if part
            for v in _case_variants(part)
        }
    )
    # Plain SQL with bound parameters for the IN lists: the ORM spends ~10 us preparing each value, which
    # at thousands of values per import batch cost more than the queries.
    candidates: set[int] = set()
    candidates |= _ids_where_in(ContactEmail, "contact_id", "email", variants)
    candidates |= _ids_where_in(ContactPhone, "contact_id", "number", phones)
    if companies and names:
        # Same company and the same first or last name: the IN lists cross every company of the batch
        # with every name, so keep only the (company, name) pairs some person actually has before
        # fetching anything more about them.
        wanted = {
            key
            for f in typed
            if f.company_id is not None
            for key in (f"cl:{f.company_id}:{f.last}", f"cf:{f.company_id}:{f.first}")
        }
        table = Contact._meta.db_table
        with connection.cursor() as cursor:
            for company_chunk in _chunks(companies):
                for name_chunk in _chunks(names):
                    marks = ", ".join(["%s"] * len(name_chunk))
                    in_companies = ", ".join(["%s"] * len(company_chunk))
                    cursor.execute(
                        f"SELECT id, company_id, first_name, last_name FROM {table} "  # noqa: S608
                        f"WHERE company_id IN ({in_companies}) "
                        f"AND (last_name IN ({marks}) OR first_name IN ({marks}))",
                        [*company_chunk, *name_chunk, *name_chunk],
                    )
                    for pk, company_id, first, last in cursor.fetchall():
                        if (
                            f"cl:{company_id}:{matching.fold(last)}" in wanted
                            or f"cf:{company_id}:{matching.fold(first)}" in wanted
                        ):
                            candidates.add(pk)
    if not candidates:
        return [[] for _ in people]
    facts_of: dict[int, matching.ContactFacts] = {}
    display: dict[int, str] = {}
    emails_of: dict[int, list[str]] = defaultdict(list)
    phones_of: dict[int, list[str]] = defaultdict(list)
    ids = sorted(candidates - set(exclude_ids))
    for chunk in _chunks(ids):
        visible = restrict(Contact.objects.filter(pk__in=chunk, archived_at__isnull=True), user, "view")
        for pk, first, last, company_id in visible.values_list("pk", "first_name", "last_name", "company_id"):
            facts_of[pk] = matching.contact_facts(pk, first, last, company_id)
            display[pk] = " ".join(x for x in (first, last) if x)
    shown = sorted(facts_of)
    for contact_id, email in _rows_where_in(ContactEmail, "contact_id, email", "contact_id", shown):
        emails_of[contact_id].append(email)
    for contact_id, number in _rows_where_in(ContactPhone, "contact_id, number", "contact_id", shown):
        phones_of[contact_id].append(number)
    # Index the candidates by the keys each person could share with them.
    by_key: dict[str, set[int]] = defaultdict(set)
    for pk, facts in facts_of.items():
        facts.emails = {e.lower() for e in emails_of[pk]}
        facts.phones = set(phones_of[pk])
        for email in facts.emails:
            by_key["e:" + matching.email_canonical(email)].add(pk)
        for number in facts.phones:
            by_key["p:" + number].add(pk)
        if facts.company_id is not None:
            if facts.last:
                by_key[f"cl:{facts.company_id}:{facts.last}"].add(pk)
            if facts.first:
                by_key[f"cf:{facts.company_id}:{facts.first}"].add(pk)
    result: list[list[Suspect]] = []
    for person in typed:
        keys = [f"e:{matching.email_canonical(e)}" for e in person.emails] + [f"p:{n}" for n in person.phones]
        if person.company_id is not None:
            if person.last:
                keys.append(f"cl:{person.company_id}:{person.last}")
            if person.first:
                keys.append(f"cf:{person.company_id}:{person.first}")
        found = []
        # As in the duplicate job: a key shared by more records than MAX_BLOCK (a switchboard number, a
        # common first name at a big company) says nothing about identity.
        blocks = [by_key.get(key, ()) for key in keys]
        for pk in sorted({pk for block in blocks if len(block) <= matching.MAX_BLOCK for pk in block}):
            score, reasons = matching.contact_score(person, facts_of[pk])
            if score >= matching.THRESHOLD:
                found.append(Suspect(pk, display[pk], score, reasons))
        found.sort(key=lambda s: (-s.score, s.id))
        result.append(found[:limit])
    return result


def _rows_where_in(model, select: str, column: str, values: list) -> list[tuple]:
    """SELECT `select` FROM the model's table WHERE `column` IN (values), in chunks; names are constants of
    the callers, values bound parameters."""
    rows: list[tuple] = []
    if not values:
        return rows
    with connection.cursor() as cursor:
        for chunk in _chunks(values):
            cursor.execute(
                f"SELECT {select} FROM {model._meta.db_table} "  # noqa: S608
                f"WHERE {column} IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            rows.extend(cursor.fetchall())
    return rows


def _ids_where_in(model, select: str, column: str, values: list) -> set[int]:
    return {row[0] for row in _rows_where_in(model, select, column, values)}


def _case_variants(name: str) -> set[str]:
    name = name.strip()
    return {name, name.lower(), name.title(), name.upper()} if name else set()


def company_duplicates(user, data: dict, *, exclude_id: int | None = None) -> list[Candidate]:
    """Likely duplicates of the company described by `data` (the keys of `company_create`), best first."""
    if not isinstance(data, dict):
        raise ValidationError({"__all__": ["Expected an object."]})
    name = _text(data, "name")
    try:
        domain = domain_normalize(_text(data, "domain") or _text(data, "website"))
    except ValueError:
        domain = ""
    try:
        phone = phone_normalize(_text(data, "phone")) if _text(data, "phone") else ""
    except ValueError:
        phone = ""
    typed = matching.company_facts(None, name, domain, phone)
    visible = restrict(Company.objects.filter(archived_at__isnull=True), user, "view")
    if exclude_id is not None:
        visible = visible.exclude(pk=exclude_id)
    conditions = Q(pk__in=[])
    if domain:
        conditions |= Q(domain=domain)
    if phone:
        conditions |= Q(phone=phone)
    words = [w for w in matching.fold(name).split() if w not in matching.LEGAL_FORMS and len(w) >= 3]
    if words:
        conditions |= Q(name__icontains=words[0][:4])
    rows = list(visible.filter(conditions).order_by("id")[:500])
    result = []
    for row in rows:
        score, reasons = matching.company_score(
            typed, matching.company_facts(row.pk, row.name, row.domain, row.phone)
        )
        if score >= matching.THRESHOLD:
            result.append(Candidate(row, score, reasons))
    result.sort(key=lambda c: (-c.score, c.record.pk))
    return result[:MAX_CANDIDATES]


# ---------------------------------------------------------------------------------------------------------
# Groups


def kind_clean(kind) -> str:
    if kind in (None, ""):
        return Kind.CONTACT
    if kind not in Kind.values:
        raise ValidationError({"kind": ["Choose contact or company."]})
    return kind


def group_list(user, *, kind: str = Kind.CONTACT, min_score: int = 0) -> QuerySet:
    """Open groups whose records the user may all see and change (and none archived), best first."""
    model = MODELS[kind]
    groups = DuplicateGroup.objects.filter(kind=kind, status=DuplicateGroup.Status.OPEN)
    if min_score:
        groups = groups.filter(score__gte=min_score)
    if role_of(user) is None:
        return groups.none()
    changeable = restrict(model.objects.filter(archived_at__isnull=True), user, "change").values("pk")
    outside = DuplicateMember.objects.filter(group=OuterRef("pk")).exclude(object_id__in=changeable)
    return groups.exclude(Exists(outside)).order_by("-score", "id")


def group_records(groups: list[DuplicateGroup]) -> dict[int, list]:
    """group id → its records, one query per kind for a whole page."""
    members = list(DuplicateMember.objects.filter(group__in=[g.pk for g in groups]).order_by("object_id"))
    by_kind: dict[str, set[int]] = defaultdict(set)
    for m in members:
        by_kind[m.kind].add(m.object_id)
    records = {}
    for kind, ids in by_kind.items():
        queryset = MODELS[kind].objects.filter(pk__in=ids)
        if kind == Kind.CONTACT:
            queryset = queryset.select_related("company", "owner")
        else:
            queryset = queryset.select_related("owner")
        records[kind] = {r.pk: r for r in queryset}
    result: dict[int, list] = defaultdict(list)
    for m in members:
        record = records.get(m.kind, {}).get(m.object_id)
        if record is not None:
            result[m.group_id].append(record)
    return result


def group_get(user, group_id, action: str = "view") -> tuple[DuplicateGroup, list]:
    """One group and its records: 404 unless the user may see every record, 403 when they may not
    `action` (change) one of them."""
    try:
        group = DuplicateGroup.objects.get(pk=int(group_id))
    except (DuplicateGroup.DoesNotExist, TypeError, ValueError):
        raise NotFoundError()
    records = group_records([group]).get(group.pk, [])
    if not records or not all(can(user, "view", r) for r in records):
        raise NotFoundError()
    if action != "view" and not all(can(user, action, r) for r in records):
        raise PermissionDeniedError()
    return group, records


def merge_get(user, merge_id) -> Merge:
    """A merge the user may see every record of (404 otherwise)."""
    try:
        merge = Merge.objects.get(pk=int(merge_id))
    except (Merge.DoesNotExist, TypeError, ValueError):
        raise NotFoundError()
    model = MODELS[merge.kind]
    ids = [merge.survivor_id, *merge.other_ids]
    if restrict(model.objects.filter(pk__in=ids), user, "view").count() != len(ids):
        raise NotFoundError()
    return merge


def merged_into(kind: str, object_id: int) -> MergedRecord | None:
    return MergedRecord.objects.filter(kind=kind, object_id=object_id).order_by("-id").first()


def merges_into(kind: str, survivor_id: int) -> list[Merge]:
    return list(
        Merge.objects.filter(kind=kind, survivor_id=survivor_id, undone_at__isnull=True).order_by("-id")[:5]
    )
