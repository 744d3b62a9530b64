"""Reads of the dedupe app. Every one takes the user and starts from core.visibility."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower, Substr

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
    candidates |= _block_ids(ContactEmail, "contact_id", "email", variants)
    # A phone or a name at the same company alone reaches the threshold only with a similar enough name
    # (or none to compare): candidates found through them are kept only then, before anything more is
    # fetched about them. Without this, a batch whose people share common first names with thousands of
    # existing contacts at their companies loaded every one of those contacts with all its e-mails.
    by_phone: dict[str, list[matching.ContactFacts]] = defaultdict(list)
    for facts in typed:
        for number in facts.phones:
            by_phone[number].append(facts)
    for pk, number, first, last in _phone_block_rows(phones):
        if _may_match(by_phone[number], matching.contact_facts(pk, first, last, None)):
            candidates.add(pk)
    if companies and names:
        # Same company and the same first or last name: the IN lists cross every company of the batch
        # with every name, so keep only the (company, name) pairs some person actually has.
        wanted: dict[str, list[matching.ContactFacts]] = defaultdict(list)
        for f in typed:
            if f.company_id is not None:
                wanted[f"cl:{f.company_id}:{f.last}"].append(f)
                wanted[f"cf:{f.company_id}:{f.first}"].append(f)
        # Only the (company, name) pairs some person has, as row values, so that the database — not
        # Python — drops the other contacts of the batch's companies; streamed, each block capped (_Blocks).
        pairs: dict[int, set[tuple[str, str]]] = defaultdict(set)  # company -> {(column, spelling)}
        for p in people:
            if p.get("company_id"):
                for column, part in (("last_name", p.get("last_name")), ("first_name", p.get("first_name"))):
                    for spelling in _case_variants(part or ""):
                        pairs[p["company_id"]].add((column, spelling))
        blocks = _Blocks()
        for pk, company_id, first, last in _contacts_at_companies_named(pairs):
            for key in (f"cl:{company_id}:{matching.fold(last)}", f"cf:{company_id}:{matching.fold(first)}"):
                if key in wanted:
                    blocks.add(key, (pk, first, last))
        for key, members in blocks.by_key.items():
            candidates.update(
                pk
                for pk, first, last in members
                if _may_match(wanted[key], matching.contact_facts(pk, first, last, None))
            )
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


def company_duplicates_bulk(user, companies: list[dict], *, limit: int = 3) -> list[list[Suspect]]:
    """`company_duplicates` for many companies at once (an import batch): for each {"name", "domain"
    (or "website"), "phone"} as typed, the visible existing companies scoring at least
    matching.THRESHOLD, best first, at most `limit`.

    Candidates come from three set-based queries per call: the same normalised domain, the same phone,
    and the same first four letters of the lower-cased name (one pass over the companies table, whatever
    the batch's size; "ACME Industries" meets "Acme Inc."). Blocks larger than matching.MAX_BLOCK are
    skipped as in the duplicate job; only candidates are checked against the user's visibility."""
    typed = [company_typed(data) for data in companies]
    # SQLite's lower() folds ASCII letters only: ask for both spellings of a prefix such as "ärzt".
    prefixes = sorted(
        {
            variant
            for data in companies
            if (prefix := _company_prefix(_text(data, "name")))
            for variant in (prefix, _ascii_lower(_text(data, "name").strip())[:PREFIX_LETTERS])
        }
    )
    domains = sorted({f.domain for f in typed if f.domain})
    phones = sorted({f.phone for f in typed if f.phone})
    candidates: set[int] = set()
    candidates |= _block_ids(Company, "id", "domain", domains)
    candidates |= _block_ids(Company, "id", "phone", phones)
    blocks = _Blocks()
    for chunk in _chunks(prefixes):
        found = (
            Company.objects.annotate(prefix=Substr(Lower("name"), 1, PREFIX_LETTERS))
            .filter(prefix__in=chunk)
            .values_list("pk", "name")
        )
        for pk, name in found.iterator(chunk_size=2000):
            blocks.add(_company_prefix(name), pk)
    candidates |= blocks.ids()
    if not candidates:
        return [[] for _ in companies]
    facts_of: dict[int, matching.CompanyFacts] = {}
    display: dict[int, str] = {}
    by_key: dict[str, set[int]] = defaultdict(set)
    for chunk in _chunks(sorted(candidates)):
        visible = restrict(Company.objects.filter(pk__in=chunk, archived_at__isnull=True), user, "view")
        for pk, name, domain, phone in visible.values_list("pk", "name", "domain", "phone"):
            facts_of[pk] = matching.company_facts(pk, name, domain, phone)
            display[pk] = name
            for key in _company_block_keys(facts_of[pk].domain, facts_of[pk].phone, name):
                by_key[key].add(pk)
    result: list[list[Suspect]] = []
    for data, facts in zip(companies, typed, strict=True):
        blocks = [
            by_key.get(k, ()) for k in _company_block_keys(facts.domain, facts.phone, _text(data, "name"))
        ]
        found = []
        for pk in sorted({pk for block in blocks if len(block) <= matching.MAX_BLOCK for pk in block}):
            score, reasons = matching.company_score(facts, facts_of[pk])
            if score >= matching.THRESHOLD:
                found.append(Suspect(pk, display[pk], score, reasons))
        found.sort(key=lambda s: (-s.score, s.id))
        result.append(found[:limit])
    return result


def company_typed(data: dict) -> matching.CompanyFacts:
    """The scoring facts of a company as typed (a form, an import row): domain and phone normalised,
    left empty when they cannot be."""
    try:
        domain = domain_normalize(_text(data, "domain") or _text(data, "website"))
    except ValueError:
        domain = ""
    try:
        phone = phone_normalize(_text(data, "phone")) if _text(data, "phone") else ""
    except ValueError:
        phone = ""
    return matching.company_facts(None, _text(data, "name"), domain, phone)


PREFIX_LETTERS = 4


def _company_prefix(name: str) -> str:
    """The block of a company name: its first letters, lower-cased as the database lower-cases them."""
    return name.strip().lower()[:PREFIX_LETTERS] if len(name.strip()) >= 3 else ""


def _ascii_lower(text: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in text)


def _company_block_keys(domain: str, phone: str, name: str) -> list[str]:
    keys = [f"d:{domain}"] if domain else []
    if phone:
        keys.append(f"p:{phone}")
    if prefix := _company_prefix(name):
        keys.append(f"n:{prefix}")
    return keys


class _Blocks:
    """Record ids grouped by a blocking key, dropping every key shared by more than matching.MAX_BLOCK
    records (a switchboard number, a common first name at a big company): such a key says nothing about
    identity, as in the duplicate job. Memory stays bounded by keys x MAX_BLOCK, whatever the data."""

    def __init__(self) -> None:
        self.by_key: dict[str, list] = defaultdict(list)
        self.oversized: set[str] = set()

    def add(self, key: str, member) -> None:
        if key in self.oversized:
            return
        ids = self.by_key[key]
        ids.append(member)
        if len(ids) > matching.MAX_BLOCK:
            self.oversized.add(key)
            del self.by_key[key]

    def ids(self) -> set[int]:
        return {pk for ids in self.by_key.values() for pk in ids}


# Below this name similarity, a contact sharing only a phone or a company and a name part with a person
# cannot reach matching.THRESHOLD (see matching.contact_score; a shared e-mail is found on its own).
NAME_FLOOR = 80.0


def _may_match(people: list[matching.ContactFacts], candidate: matching.ContactFacts) -> bool:
    for person in people:
        similarity = matching.person_similarity(person, candidate)
        if similarity is None or similarity >= NAME_FLOOR:
            return True
    return False


def _contacts_at_companies_named(pairs: dict[int, set[tuple[str, str]]]):
    """(id, company id, first name, last name) of the contacts whose (company, last name) or (company,
    first name) is one of `pairs` ({company: {("last_name" | "first_name", spelling)}}), streamed; at most
    PAIRS_PER_QUERY pairs per statement. Column names are constants; every value is a bound parameter."""
    table = Contact._meta.db_table
    chunks: list[tuple[list[int], list[tuple[int, str]], list[tuple[int, str]]]] = [([], [], [])]
    for company_id in sorted(pairs):
        companies, by_last, by_first = chunks[-1]
        if len(by_last) + len(by_first) >= PAIRS_PER_QUERY:
            chunks.append(([], [], []))
            companies, by_last, by_first = chunks[-1]
        companies.append(company_id)
        for column, spelling in sorted(pairs[company_id]):
            (by_last if column == "last_name" else by_first).append((company_id, spelling))
    with connection.cursor() as cursor:
        for companies, by_last, by_first in chunks:
            if not companies:
                continue
            conditions, params = [], list(companies)
            for column, values in (("last_name", by_last), ("first_name", by_first)):
                if values:
                    rows = ", ".join(["(%s, %s)"] * len(values))
                    conditions.append(f"(company_id, {column}) IN (VALUES {rows})")
                    params.extend(v for pair in values for v in pair)
            cursor.execute(
                f"SELECT id, company_id, first_name, last_name FROM {table} "  # noqa: S608
                f"WHERE company_id IN ({', '.join(['%s'] * len(companies))}) AND ({' OR '.join(conditions)})",
                params,
            )
            yield from cursor


PAIRS_PER_QUERY = 2000


def _phone_block_rows(numbers: list[str]) -> list[tuple]:
    """(contact id, number, first name, last name) of the contacts with one of `numbers`, leaving out
    numbers shared by more than matching.MAX_BLOCK contacts (counted in the database)."""
    if not numbers:
        return []
    phones, contacts = ContactPhone._meta.db_table, Contact._meta.db_table
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        for chunk in _chunks(numbers):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT p.contact_id, p.number, c.first_name, c.last_name FROM {phones} p "  # noqa: S608
                f"JOIN {contacts} c ON c.id = p.contact_id WHERE p.number IN ("
                f"SELECT number FROM {phones} WHERE number IN ({marks}) "
                f"GROUP BY number HAVING COUNT(*) <= %s)",
                [*chunk, matching.MAX_BLOCK],
            )
            rows.extend(cursor.fetchall())
    return rows


def _block_ids(model, id_column: str, column: str, values: list) -> set[int]:
    """The ids of the rows whose `column` is one of `values`, leaving out every value that more than
    matching.MAX_BLOCK rows share. The database counts first (GROUP BY … HAVING), so a value shared by
    thousands of rows never leaves it; names are constants of the callers, values bound parameters."""
    if not values:
        return set()
    table = model._meta.db_table
    small: list = []
    with connection.cursor() as cursor:
        for chunk in _chunks(values):
            cursor.execute(
                f"SELECT {column} FROM {table} WHERE {column} IN ({', '.join(['%s'] * len(chunk))}) "  # noqa: S608
                f"GROUP BY {column} HAVING COUNT(*) <= %s",
                [*chunk, matching.MAX_BLOCK],
            )
            small.extend(row[0] for row in cursor.fetchall())
    return {row[0] for row in _rows_where_in(model, id_column, column, small)}


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


def _case_variants(name: str) -> set[str]:
    name = name.strip()
    return {name, name.lower(), name.title(), name.upper()} if name else set()


def company_duplicates(user, data: dict, *, exclude_id: int | None = None) -> list[Candidate]:
    """Likely duplicates of the company described by `data` (the keys of `company_create`), best first."""
    if not isinstance(data, dict):
        raise ValidationError({"__all__": ["Expected an object."]})
    name = _text(data, "name")
    typed = company_typed(data)
    domain, phone = typed.domain, typed.phone
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
