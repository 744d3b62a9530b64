"""Running an import job and undoing it.

A job reads its file in batches. Per batch: the rows are turned into the services' input (`row_data`),
the key values are looked up in bulk (`contacts.bulk.records_match`), companies named by contacts are
resolved among the companies the user sees (and created when the job says so), new rows go through
`contacts.bulk.*_bulk_create` (one transaction, history, events and search documents in bulk) and matched
rows through `contact_update` / `company_update` one by one (history old → new, events, search document),
each in its own savepoint, with the record's previous values kept as the row's before-image for undo.
The batch's report rows are written in the same transaction as its records. A bad row never stops the
others and never leaves half a record.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from contacts import bulk
from contacts import services as contact_services
from contacts.models import Company, Contact, ContactRole
from core import memory, search
from core.errors import ServiceError, ValidationError
from core.events import event_emit_bulk
from core.history import history_record, history_record_bulk, to_json_value
from core.normalize import domain_normalize
from core.visibility import restrict, role_of
from dedupe import matching
from dedupe.queries import company_duplicates_bulk, company_typed, contact_duplicates_bulk

from . import files
from .mapping import ADDRESS_COLUMNS
from .models import ImportJob, ImportRow

logger = logging.getLogger(__name__)

# Rows per batch (one transaction each). Everything an import holds is a batch's: at 2,500 a 1M-row import
# stays near 300 MB of private memory (5,000: ~400 MB, for 3 % more rows per second).
BATCH_SIZE = 2500
# From this many rows, reading the file and validating run in a forked second process, one batch ahead.
FORK_FROM_ROWS = 20_000
SUSPECT_SLICE = 1000  # contacts per duplicate check (ImportRun.suspects)
# SQLite's page cache while a job runs (core.memory.sqlite_cache): a quarter of the web's, as fast for bulk
# writes, and it keeps a 1M-row import within its memory budget.
JOB_CACHE_KIB = 16 * 1024
# SQLite's WAL while a job runs: checkpointed past 64k pages (256 MB) instead of after every batch
# (core.memory.sqlite_checkpoints).
JOB_CHECKPOINT_PAGES = 65_536
# The columns of a report row (ImportRun.write_report).
REPORT_COLUMNS = [
    "job_id",
    "row_number",
    "object_type",
    "outcome",
    "object_id",
    "errors",
    "before",
    "duplicates",
]
MODEL_OF = {"contacts": Contact, "companies": Company}
NOUN_OF = {"contacts": "contact", "companies": "company", "products": "product", "orders": "order"}
STAGES = {str(label).lower(): value for value, label in Contact.Stage.choices} | {
    v: v for v in Contact.Stage.values
}
CONTACT_SCALARS = [f for f in contact_services.CONTACT_FIELDS]
COMPANY_SCALARS = [f for f in contact_services.COMPANY_FIELDS]


# ---------------------------------------------------------------------------------------------------------
# Cells → service input


def _split_tags(text: str) -> list[str]:
    separator = ";" if ";" in text else ","
    return [t.strip() for t in text.split(separator) if t.strip()]


def row_data(kind: str, cells: dict[str, str]) -> dict:
    """The keys of contact_create / company_create from one row's mapped cells (empty cells left out)."""
    values = {k: v.strip() for k, v in cells.items() if isinstance(v, str) and v.strip()}
    data: dict = {}
    scalars = CONTACT_SCALARS if kind == "contacts" else COMPANY_SCALARS
    for name in scalars:
        if name in values:
            data[name] = values[name]
    if kind == "contacts":
        if "name" in values and not ({"first_name", "last_name"} & set(values)):
            parts = values["name"].split()
            if len(parts) == 1:
                data["first_name"] = parts[0]
            else:
                data["first_name"], data["last_name"] = " ".join(parts[:-1]), parts[-1]
        if "lifecycle_stage" in data:
            data["lifecycle_stage"] = STAGES.get(data["lifecycle_stage"].lower(), data["lifecycle_stage"])
        for name in ("email", "phone"):
            if name in values:
                data[name] = values[name]
    if "tags" in values:
        data["tags"] = _split_tags(values["tags"])
    if any(c in values for c in ADDRESS_COLUMNS):
        address = {c: values[c] for c in ADDRESS_COLUMNS if c in values}
        address["kind"] = "work"
        data["addresses"] = [address]
    return data


def _report_field(name: str) -> str:
    """`addresses.0.country` → `country`, `tags.2` → `tags`, `company_id` → `company`, `email.0` → `email`."""
    parts = name.split(".")
    if parts[0] == "addresses" and len(parts) == 3:
        return parts[2]
    if parts[0] in {"company_id", "roles"}:
        return "company"
    if parts[0] == "emails":
        return "email"
    if parts[0] == "phones":
        return "phone"
    return parts[0]


def report_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for name, messages in errors.items():
        result.setdefault(_report_field(name), []).extend(str(m) for m in messages)
    return result


# ---------------------------------------------------------------------------------------------------------
# Before-images (what undo writes back)


def contact_image(contact: Contact, data: dict) -> dict:
    image: dict = {}
    for name in CONTACT_SCALARS:
        if name in data:
            value = getattr(contact, name)
            image[name] = to_json_value(value) if value is not None else None
    if "email" in data:
        image["emails"] = [
            {"email": e.email, "label": e.label, "is_primary": e.is_primary} for e in contact.emails.all()
        ]
    if "phone" in data:
        image["phones"] = [
            {"number": p.number, "label": p.label, "is_primary": p.is_primary} for p in contact.phones.all()
        ]
    if "tags" in data:
        image["tags"] = sorted(t.name for t in contact.tags.all())
    if "addresses" in data:
        image["addresses"] = _addresses_image(contact)
    if "company_id" in data:
        image["roles"] = [
            {"company_id": r.company_id, "title": r.title, "is_primary": r.is_primary}
            for r in contact.roles.all()
        ]
    return image


def company_image(company: Company, data: dict) -> dict:
    image: dict = {}
    for name in COMPANY_SCALARS:
        if name in data:
            image[name] = to_json_value(getattr(company, name))
    if "tags" in data:
        image["tags"] = sorted(t.name for t in company.tags.all())
    if "addresses" in data:
        image["addresses"] = _addresses_image(company)
    return image


def _addresses_image(record) -> list[dict]:
    return [
        {**{k: getattr(a, k) for k in contact_services.ADDRESS_FIELDS}, "is_primary": a.is_primary}
        for a in record.addresses.all()
    ]


def _update_data(kind: str, record, data: dict, key: str) -> dict:
    """What an update writes: the row's values, e-mails/phones added as primary (others kept), tags added,
    the row's address put first (others kept). Empty cells never clear a value."""
    update = {
        k: v for k, v in data.items() if k in (CONTACT_SCALARS if kind == "contacts" else COMPANY_SCALARS)
    }
    if kind == "contacts":
        if "email" in data and key != "email":
            update["email"] = data["email"]
        if "phone" in data:
            update["phone"] = data["phone"]
        if "company_id" in data:
            update["company_id"] = data["company_id"]
    if "tags" in data:
        current = [t.name for t in record.tags.all()]
        folded = {t.lower() for t in current}
        update["tags"] = current + [t for t in data["tags"] if t.lower() not in folded]
    if "addresses" in data:
        others = [{**a, "is_primary": False} for a in _addresses_image(record) if not a["is_primary"]]
        update["addresses"] = [{**data["addresses"][0], "is_primary": True}, *others]
    return update


# ---------------------------------------------------------------------------------------------------------
# Running a job


@dataclass
class Row:
    number: int
    data: dict
    key_value: str = ""
    company_ref: str = ""
    errors: dict = field(default_factory=dict)
    plan: dict | None = None  # contacts: the validated create plan (None when invalid)
    plan_errors: dict = field(default_factory=dict)


class ImportRun:
    def __init__(self, job: ImportJob, progress: Callable[[int, int], None] | None = None):
        self.job = job
        self.actor = job.created_by
        self.kind = job.kind
        self.noun = NOUN_OF[job.kind]
        self.key = job.key
        self.dry_run = job.dry_run
        self.progress = progress
        self.email = bulk.EmailNormalizer()
        self.companies: dict[str, int | None] = {}  # company reference (folded) → id, for contacts
        self.seen_keys: set[str] = set()  # dry run: keys that earlier rows would have created
        self.processed = 0
        self.company_names: dict[int, str] = {}
        self.context = bulk.contact_plan_context(self.actor) if self.kind == "contacts" else None
        self.workers = 2 if job.total_rows >= FORK_FROM_ROWS else 1

    # Reading ---------------------------------------------------------------------------------------

    def key_of(self, data: dict) -> str:
        value = data.get(self.key, "")
        if not value:
            return ""
        try:
            if self.key == "email":
                return self.email(value)
            if self.key == "domain":
                return domain_normalize(value)
        except ValueError:
            return ""
        return value.strip().lower() if self.key == "name" else value.strip()

    def rows(self) -> Iterator[Row]:
        job = self.job
        if job.file_format == "vcf":
            from .vcard import vcard_read

            for number, data in enumerate(vcard_read(job.stored_path), start=1):
                company = data.pop("company", "")
                if data.get("emails"):
                    data["email"] = data["emails"][0]["email"]
                if data.get("phones"):
                    data["phone"] = data["phones"][0]["number"]
                row = Row(number=number, data=data, company_ref=company)
                if self.key:
                    row.key_value = self.key_of(data)
                yield row
            return
        columns = [(index, job.mapping[h]) for index, h in enumerate(job.headers) if job.mapping.get(h)]
        for number, cells in files.data_rows(job.stored_path, job.file_format, job.encoding):
            mapped = {target: cells[index] for index, target in columns}
            data = row_data(self.kind, mapped)
            row = Row(number=number, data=data)
            if self.kind == "contacts" and mapped.get("company", "").strip():
                row.company_ref = mapped["company"].strip()
            if self.key:
                row.key_value = self.key_of(data)
            yield row

    def batches(self) -> Iterator[list[Row]]:
        """Batches of rows; a key seen again in the same batch starts a new batch, so the second row
        updates what the first created."""
        batch: list[Row] = []
        keys: set[str] = set()
        for row in self.rows():
            if row.key_value and row.key_value in keys or len(batch) >= BATCH_SIZE:
                yield batch
                batch, keys = [], set()
            if row.key_value:
                keys.add(row.key_value)
            batch.append(row)
        if batch:
            yield batch

    # Running ---------------------------------------------------------------------------------------

    def prepared(self) -> Iterator[list[Row]]:
        """Batches with each contact row validated for creation (no database access here: with two
        workers this runs in the forked process)."""
        for batch in self.batches():
            if self.context is not None:
                for row in batch:
                    if not row.errors:
                        row.plan, row.plan_errors = bulk.contact_plan(row.data, self.context)
            yield batch

    def execute(self) -> None:
        source = self.prepared()
        if self.workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            source = bulk.forked(self.prepared)
        for batch in source:
            with transaction.atomic():
                report = self.process(batch)
                self.write_report(report)
            memory.free_heap()
            self.processed += len(batch)
            if self.progress is not None:
                self.progress(self.processed, self.job.total_rows)

    def process(self, batch: list[Row]) -> list[tuple]:
        report: list[tuple] = []  # (row number, object type, outcome, object id, errors, before)
        matches: dict[str, list[int]] = {}
        changeable: set[int] = set()
        if self.key:
            matches = bulk.records_match(self.noun, self.key, [r.key_value for r in batch])
            matched_ids = {i for ids in matches.values() for i in ids}
            if matched_ids:
                model = MODEL_OF[self.kind]
                changeable = set(
                    restrict(model.objects.filter(pk__in=matched_ids), self.actor, "change").values_list(
                        "pk", flat=True
                    )
                )
        if self.kind == "contacts":
            report.extend(self.resolve_companies(batch))
        creates: list[Row] = []
        updates: list[tuple[Row, int]] = []
        for row in batch:
            if row.errors:
                report.append((row.number, self.noun, "error", None, row.errors, None))
                continue
            ids = matches.get(row.key_value, []) if row.key_value else []
            if len(ids) > 1:
                message = f"{len(ids)} existing records hold this value: the row cannot tell which to update."
                report.append((row.number, self.noun, "error", None, {self.key: [message]}, None))
            elif ids and ids[0] not in changeable:
                message = "A record with this value exists that you may not change."
                report.append((row.number, self.noun, "error", None, {self.key: [message]}, None))
            elif ids:
                updates.append((row, ids[0]))
            elif self.dry_run and row.key_value and row.key_value in self.seen_keys:
                report.append((row.number, self.noun, "updated", None, {}, None))
            else:
                creates.append(row)
        report.extend(self.create(creates))
        for row, object_id in updates:
            report.append(self.update(row, object_id))
        report.sort(key=lambda r: r[0])
        return report

    def resolve_companies(self, batch: list[Row]) -> list[tuple]:
        """Turn each contact's company reference (a name or a domain) into `company_id` among the
        companies the user sees; create the missing ones when the job says so."""
        report: list[tuple] = []
        wanted: dict[str, str] = {}
        for row in batch:
            if row.company_ref:
                folded = _company_ref_key(row.company_ref)
                if folded not in self.companies:
                    wanted[folded] = row.company_ref
        if wanted:
            domains = [k[7:] for k in wanted if k.startswith("domain:")]
            names = [k[5:] for k in wanted if k.startswith("name:")]
            visible = restrict(Company.objects.filter(archived_at__isnull=True), self.actor, "view")
            found: dict[str, int] = {}
            for start in range(0, len(domains), 5000):
                for domain, pk in (
                    visible.filter(domain__in=domains[start : start + 5000])
                    .values_list("domain", "pk")
                    .order_by("pk")
                ):
                    found.setdefault("domain:" + domain, pk)
            # LOWER() folds only ASCII on SQLite: match the exact text too and fold in Python.
            originals = [wanted["name:" + n] for n in names]
            for start in range(0, len(names), 5000):
                matching = Q(folded__in=names[start : start + 5000]) | Q(
                    name__in=originals[start : start + 5000]
                )
                for name, pk in (
                    visible.annotate(folded=Lower("name"))
                    .filter(matching)
                    .values_list("name", "pk")
                    .order_by("pk")
                ):
                    found.setdefault("name:" + name.lower(), pk)
            missing = [k for k in wanted if k not in found]
            if missing and self.job.create_companies:
                rows = []
                for k in missing:
                    text = wanted[k]
                    rows.append(
                        {"name": text, "domain": k[7:]} if k.startswith("domain:") else {"name": text}
                    )
                errors: bulk.RowErrors = []
                ids: list[int] = []
                bulk.companies_bulk_create(
                    actor=self.actor, rows=rows, errors=errors, ids=ids, validate_only=self.dry_run
                )
                bad = {index for index, _ in errors}
                good = [k for index, k in enumerate(missing) if index not in bad]
                for k, pk in zip(good, ids, strict=True):
                    found[k] = pk or -1  # -1: would be created (dry run)
                    if pk:
                        self.company_names[pk] = wanted[k][:200]
                    report.append((0, "company", "created", pk or None, {}, None))
            for k in wanted:
                self.companies[k] = found.get(k)
            if len(self.companies) > 200_000:
                self.companies.clear()
                self.company_names.clear()
        for row in batch:
            if not row.company_ref:
                continue
            company_id = self.companies.get(_company_ref_key(row.company_ref))
            if company_id is None:
                row.errors.setdefault("company", []).append(
                    f"No company \u201c{row.company_ref}\u201d that you can see."
                )
            elif company_id > 0:
                row.data["company_id"] = company_id
        return report

    def create(self, rows: list[Row]) -> list[tuple]:
        if not rows:
            return []
        if self.context is not None:
            return self.create_contacts(rows)
        errors: bulk.RowErrors = []
        ids: list[int] = []
        create = bulk.contacts_bulk_create if self.kind == "contacts" else bulk.companies_bulk_create
        # Before the write, as for contacts: afterwards every row would find itself.
        companies = self.kind == "companies"
        suspects = (
            company_duplicates_bulk(self.actor, [r.data for r in rows]) if companies else [[] for _ in rows]
        )
        within = (
            matching.pairs_within(
                [company_typed(r.data) for r in rows], matching.company_keys, matching.company_score
            )
            if companies
            else [[] for _ in rows]
        )
        create(
            actor=self.actor,
            rows=[r.data for r in rows],
            errors=errors,
            ids=ids,
            batch_size=max(len(rows), 1),
            validate_only=self.dry_run,
        )
        report = []
        bad: dict[int, dict] = {}
        for index, row_errors in errors:
            bad.setdefault(index, {}).update(row_errors)
        created = iter(ids)
        id_of: dict[int, int | None] = {}
        for index, row in enumerate(rows):
            if index in bad:
                report.append((row.number, self.noun, "error", None, report_errors(bad[index]), None))
            else:
                object_id = id_of[index] = next(created) or None
                earlier = [m for m in within[index] if m[0] not in bad]  # a bad row created nothing
                duplicates = _duplicates_of(
                    suspects[index],
                    earlier,
                    lambda j: (rows[j].number, id_of.get(j), str(rows[j].data.get("name") or "")),
                )
                report.append((row.number, self.noun, "created", object_id, {}, None, duplicates))
                if self.dry_run and row.key_value:
                    self.seen_keys.add(row.key_value)
        return report

    def create_contacts(self, rows: list[Row]) -> list[tuple]:
        """Write the plans validated ahead, linked to the companies resolved in this batch."""
        report: list[tuple] = []
        good: list[tuple[Row, dict]] = []
        for row in rows:
            if row.plan is None:
                report.append((row.number, self.noun, "error", None, report_errors(row.plan_errors), None))
                continue
            company_id = row.data.get("company_id")
            if company_id:
                bulk.contact_plan_link_company(row.plan, company_id)
            good.append((row, row.plan))
        people = [_person_of(plan) for _, plan in good]
        # Before the write: afterwards every row would find itself.
        suspects = self.suspects(people)
        if self.dry_run:
            ids = [0] * len(good)
        else:
            linked = {p["company_check"] for _, p in good if p.get("company_check")}
            names = {pk: self.company_names.get(pk, "") for pk in linked}
            missing = [pk for pk, name in names.items() if not name]
            if missing:
                names.update(Company.objects.filter(pk__in=missing).values_list("pk", "name"))
            with transaction.atomic():
                ids = bulk.contacts_plans_write(
                    actor=self.actor, plans=[p for _, p in good], company_names=names
                )
        within = matching.pairs_within(
            [
                matching.contact_facts(
                    None, p["first_name"], p["last_name"], p["company_id"], p["emails"], p["phones"]
                )
                for p in people
            ],
            matching.contact_keys,
            matching.contact_score,
        )
        for index, ((row, _plan), object_id, found) in enumerate(zip(good, ids, suspects, strict=True)):
            duplicates = _duplicates_of(
                found,
                within[index],
                lambda j: (
                    good[j][0].number,
                    ids[j],
                    " ".join(filter(None, (people[j]["first_name"], people[j]["last_name"]))),
                ),
            )
            report.append((row.number, self.noun, "created", object_id or None, {}, None, duplicates))
            if self.dry_run and row.key_value:
                self.seen_keys.add(row.key_value)
        return report

    def suspects(self, people: list[dict]) -> list[list]:
        """For each contact about to be created (`_person_of` its plan), the existing contacts it probably
        duplicates (same e-mail or phone, or the same last name at the same company, scored like the
        duplicate job)."""
        # In slices: what the check holds in memory grows with the candidates of the people it checks.
        found: list[list] = []
        for start in range(0, len(people), SUSPECT_SLICE):
            found.extend(contact_duplicates_bulk(self.actor, people[start : start + SUSPECT_SLICE]))
        return found

    def update(self, row: Row, object_id: int) -> tuple:
        model = MODEL_OF[self.kind]
        related = ["tags", "addresses"] + (["emails", "phones", "roles"] if self.kind == "contacts" else [])
        record = model.objects.prefetch_related(*related).get(pk=object_id)
        data = _update_data(self.kind, record, row.data, self.key)
        if not data:
            return (row.number, self.noun, "skipped", object_id, {"__all__": ["Nothing to change."]}, None)
        image = contact_image if self.kind == "contacts" else company_image
        before = image(record, data)
        try:
            if self.dry_run:
                clean = (
                    contact_services._contact_clean
                    if self.kind == "contacts"
                    else contact_services._company_clean
                )
                _plan, errors = clean(actor=self.actor, data=dict(data), instance=record)
                if errors:
                    raise ValidationError(errors)
                return (row.number, self.noun, "updated", object_id, {}, None)
            with transaction.atomic():
                if self.kind == "contacts":
                    contact_services.contact_update(
                        actor=self.actor, contact_id=object_id, data={**data, "version": record.version}
                    )
                else:
                    contact_services.company_update(
                        actor=self.actor, company_id=object_id, data={**data, "version": record.version}
                    )
        except ServiceError as exc:
            return (
                row.number,
                self.noun,
                "error",
                object_id,
                report_errors(exc.errors or {"__all__": [exc.detail]}),
                None,
            )
        after = image(model.objects.prefetch_related(*related).get(pk=object_id), data)
        if after == before:
            return (row.number, self.noun, "skipped", object_id, {"__all__": ["No changes."]}, None)
        return (row.number, self.noun, "updated", object_id, {}, before)

    def write_report(self, report: list[tuple], counts: dict[str, int] | None = None) -> None:
        """Insert the batch's report rows and add to the job's counters: by default one count per file row;
        `counts` (orders: one per order) replaces the outcome counts, the processed rows stay file rows."""
        writer = bulk.Writer()
        writer.insert(
            ImportRow,
            REPORT_COLUMNS,
            [
                (
                    self.job.pk,
                    n,
                    t,
                    o,
                    i,
                    writer.json(e or {}),
                    writer.json(b) if b is not None else None,
                    writer.json(d[0] if d else []),
                )
                for n, t, o, i, e, b, *d in report
            ],
        )
        tally = {"created": 0, "updated": 0, "skipped": 0, "error": 0}
        rows = duplicates = 0
        for number, _t, outcome, *rest in report:
            if number:
                tally[outcome] += 1
                rows += 1
                duplicates += bool(rest[3:] and rest[3])
        counts = {**tally, **counts} if counts is not None else tally
        ImportJob.objects.filter(pk=self.job.pk).update(
            processed_rows=F("processed_rows") + rows,
            created_count=F("created_count") + counts["created"],
            updated_count=F("updated_count") + counts["updated"],
            skipped_count=F("skipped_count") + counts["skipped"],
            error_count=F("error_count") + counts["error"],
            duplicate_count=F("duplicate_count") + duplicates,
        )


def _person_of(plan: dict) -> dict:
    """A contact create plan as the duplicate check reads it."""
    return {
        "first_name": plan["scalars"].get("first_name") or "",
        "last_name": plan["scalars"].get("last_name") or "",
        "company_id": plan.get("company_check"),
        "emails": [e["email"] for e in plan["emails"]],
        "phones": [p["number"] for p in plan["phones"]],
    }


def _duplicates_of(existing: list, earlier_rows: list, describe, limit: int = 3) -> list[dict]:
    """A created row's possible duplicates for its report line: existing records (dedupe Suspects) and
    earlier rows of the same batch ((index, score, reasons) from matching.pairs_within, `describe(index)`
    giving that row's number, created id and name), best first, at most `limit`."""
    found = [{"id": s.id, "name": s.name, "score": s.score, "reasons": s.reasons} for s in existing]
    for index, score, reasons in earlier_rows:
        number, object_id, name = describe(index)
        found.append(
            {"id": object_id or None, "name": name, "score": score, "reasons": reasons, "row": number}
        )
    found.sort(key=lambda d: -d["score"])
    return found[:limit]


def _company_ref_key(text: str) -> str:
    text = text.strip()
    if "." in text and " " not in text and "@" not in text:
        try:
            return "domain:" + domain_normalize(text)
        except ValueError:
            pass
    return "name:" + text.lower()


def job_run(job_id: int, progress: Callable[[int, int], None] | None = None) -> ImportJob | None:
    """Run a pending job (idempotent: a job that is not pending is left alone)."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return ImportJob.objects.filter(pk=job_id).first()
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    try:
        if role_of(job.created_by) not in {"admin", "manager", "member"}:
            raise ServiceError("The user who started this import may no longer create records.")
        runner: type[ImportRun] = ImportRun
        if job.kind in {"products", "orders"}:
            from .commerce_import import OrderRun, ProductRun, catalogue_writer_require

            if job.kind == "products":
                catalogue_writer_require(job.created_by)
            runner = ProductRun if job.kind == "products" else OrderRun
        with memory.sqlite_cache(JOB_CACHE_KIB), memory.sqlite_checkpoints(JOB_CHECKPOINT_PAGES):
            runner(job, progress).execute()
    except ServiceError as exc:
        messages = [m for ms in exc.errors.values() for m in ms] if exc.errors else [exc.detail]
        _finish(job_id, ImportJob.Status.FAILED, " ".join(messages))
    except Exception as exc:
        logger.exception("import %s failed", job_id)
        _finish(job_id, ImportJob.Status.FAILED, f"The import stopped: {exc}")
    else:
        _finish(job_id, ImportJob.Status.DONE, "")
    return ImportJob.objects.get(pk=job_id)


def _finish(job_id: int, status: str, message: str) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        status=status, message=message[:2000], finished_at=timezone.now()
    )


# ---------------------------------------------------------------------------------------------------------
# Undo


def job_undo(job_id: int, actor) -> ImportJob:
    """Undo a finished import as `actor`: records it created that nobody changed since are removed (the
    others archived), records it updated get their before-image back; history says so."""
    from .commerce_import import undo_created_orders, undo_created_products, undo_product_update

    job = ImportJob.objects.get(pk=job_id)
    problems: list[str] = []
    note = {"undo_of_import": [None, job.pk]}
    # Updated records, latest first, so that a record updated twice ends with its oldest before-image.
    updated = ImportRow.objects.filter(job=job, outcome="updated", object_id__isnull=False).order_by("-id")
    for row in updated.iterator(chunk_size=500):
        if row.object_type == "product":
            problems.extend(undo_product_update(row, actor, note))
            continue
        model = Contact if row.object_type == "contact" else Company
        try:
            with transaction.atomic():
                record = model.objects.get(pk=row.object_id)
                data = {**(row.before or {}), "version": record.version}
                if model is Contact:
                    record = contact_services.contact_update(actor=actor, contact_id=row.object_id, data=data)
                else:
                    record = contact_services.company_update(actor=actor, company_id=row.object_id, data=data)
                history_record(instance=record, actor=actor, action="updated", changes=note)
        except (ServiceError, model.DoesNotExist) as exc:
            problems.append(f"row {row.row_number}: {getattr(exc, 'detail', 'the record no longer exists')}")
    # Created records: contacts first (they may link to companies the import created). Every row of an
    # order names the order: its id is taken once.
    searchable = 0
    for object_type, model in (
        ("contact", Contact),
        ("company", Company),
        ("order", None),
        ("product", None),
    ):
        ids = list(
            dict.fromkeys(
                ImportRow.objects.filter(
                    job=job, outcome="created", object_type=object_type, object_id__isnull=False
                )
                .values_list("object_id", flat=True)
                .order_by("id")
            )
        )
        searchable += len(ids) if model is not None else 0
        for start in range(0, len(ids), 2000):
            chunk = ids[start : start + 2000]
            if model is None:
                undo = undo_created_orders if object_type == "order" else undo_created_products
                problems.extend(undo(chunk, actor, note))
            else:
                problems.extend(_undo_created(model, object_type, chunk, actor, note))
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.UNDONE,
        undone_at=timezone.now(),
        message=("Some records could not be restored: " + "; ".join(problems[:20]))[:2000]
        if problems
        else "",
    )
    if searchable >= search.OPTIMIZE_AFTER_REMOVED:
        search.optimize()  # so that searches do not read past the removed documents (SQLite)
    return ImportJob.objects.get(pk=job.pk)


def _undo_created(model, noun: str, ids: list[int], actor, note: dict) -> list[str]:
    problems: list[str] = []
    present = restrict(model.objects.filter(pk__in=ids, archived_at__isnull=True), actor, "delete")
    untouched = set(present.filter(version=1).values_list("pk", flat=True))
    if model is Company and untouched:
        # A company someone linked a contact to since is kept (archived), not removed.
        linked = set(
            Contact.objects.filter(company_id__in=untouched).values_list("company_id", flat=True)
        ) | set(ContactRole.objects.filter(company_id__in=untouched).values_list("company_id", flat=True))
        untouched -= linked
    if untouched:
        # A customer of an order since (orders protect their contact and company) is archived, not removed.
        untouched -= set(
            model.objects.filter(pk__in=untouched, orders__isnull=False).values_list("pk", flat=True)
        )
    touched = set(present.values_list("pk", flat=True)) - untouched
    with transaction.atomic():
        if untouched:
            removed = sorted(untouched)
            history_record_bulk(
                model=model,
                actor=actor,
                action="archived",
                rows=[(pk, {**note, "deleted": (False, True)}) for pk in removed],
            )
            event_emit_bulk(
                f"{noun}.archived",
                model=model,
                actor=actor,
                rows=[(pk, {"id": pk, "deleted": True}) for pk in removed],
            )
            model.objects.filter(pk__in=removed).delete()
            search.remove(noun, removed)
    for pk in sorted(touched):
        try:
            with transaction.atomic():
                archive = (
                    contact_services.contact_archive if model is Contact else contact_services.company_archive
                )
                record = archive(actor=actor, **{f"{noun}_id": pk})
                history_record(instance=record, actor=actor, action="archived", changes=note)
        except ServiceError as exc:
            problems.append(f"{noun} {pk}: {exc.detail}")
    return problems
