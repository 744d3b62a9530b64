"""import: rows per second of a contact import, end to end from the CSV file (`crm bench import`).

The benchmark writes a reproducible CSV file of `scale` new contacts (external id, names, an e-mail, a
phone number typed in national format so that it must be normalised, a job title, a city and country,
two tags, and in three rows of four a company by name — companies of the benchmark database, so the import
links them) and imports it as an administrator with create-or-update on the e-mail address, exactly as the
API's upload does: the upload is stored and read once to check it, then the job runs (key lookup per
batch, company resolution, bulk create with the e-mail/phone rows, history, outbox events and search
documents, the per-row report). Figures:

- `rows_per_s`: rows of the file per second from the upload to the finished job; the floor is what the
  database alone does with the same rows in this run: the file read with `csv.reader` and the contact,
  e-mail and phone rows written into temporary tables of the same columns with one raw `executemany`
  (SQLite) or COPY (PostgreSQL) per table and batch, no validation and no history or search.
- `write_floor` (same line): what the database alone does with the rows an import writes into the real,
  indexed tables of this database — the contact, its e-mail, phone and address, its history entry and
  outbox event, its search document (FTS5 or tsvector with their indexes) and its report row — built
  ahead in Python and written raw (executemany / COPY, and the search upsert) per batch of the import's
  size, each batch rolled back; over the first WRITE_FLOOR_ROWS rows of the file, timed without building
  or rolling back. It leaves out commits, look-ups and validation, so it bounds from above what any
  import that writes these rows can reach on this database.
- `peak_rss_mb` (in every line): the peak resident memory of the process, which on SQLite includes the
  database file's pages mapped by `mmap_size` (up to 256 MB, shared with the kernel's cache);
  `peak_private_mb`: the peak private memory of the import — its process and the forked validator —
  sampled while it runs (target: at most 400 MB at 1M rows).

The imported contacts are removed again afterwards, so the benchmark database stays as the seed made it.
"""

from __future__ import annotations

import csv
import os
import random
import tempfile
import time
import unicodedata

from bench.common import PrivateMemory, Reporter, bench_users, csv_floor, log

TITLES = ["Buyer", "CTO", "Head of Sales", "Engineer", "Office Manager", "Founder", ""]
CITIES = [("Berlin", "DE"), ("New York", "US"), ("Paris", "FR"), ("Madrid", "ES"), ("Tokyo", "JP")]
TAGS = ["newsletter", "fair-2025", "vip", "partner", "trial"]
HEADERS = [
    "External ID",
    "First name",
    "Last name",
    "E-mail",
    "Phone",
    "Company",
    "Job title",
    "City",
    "Country",
    "Tags",
]


def _ascii(name: str) -> str:
    """E-mail local parts as people write them: the name without accents, lower case."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return "".join(c for c in ascii_name if c.isalnum()) or "x"


def write_csv(path: str, scale: int, token: str, company_names: list[str]) -> None:
    """Names as the demo seed draws them (its 12 countries' first and last names: ~260 of each), so the
    file has as many same-name pairs as a real one of its size; phone numbers distinct."""
    from contacts.seed import COUNTRIES

    rng = random.Random(f"import:{scale}")
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for i in range(scale):
            people = rng.choice(COUNTRIES)
            first, last = rng.choice(people.first_names), rng.choice(people.last_names)
            city, country = rng.choice(CITIES)
            company = rng.choice(company_names) if company_names and i % 4 else ""
            writer.writerow(
                [
                    f"{token}-{i}",
                    first,
                    last,
                    f"{_ascii(first)}.{_ascii(last)}.{token}.{i}@example.com",
                    f"({200 + (i // 10000) % 800}) 555-{i % 10000:04d}",
                    company,
                    rng.choice(TITLES),
                    city,
                    country,
                    ", ".join(rng.sample(TAGS, 2)),
                ]
            )


def run(*, scale: int, db_url: str, **_) -> None:
    from django.conf import settings
    from django.db import connection

    from contacts.models import Company
    from imports import engine, services
    from imports.models import ImportJob

    admin = bench_users().admin
    reporter = Reporter("import", connection.vendor, scale)
    # The benchmark database holds no imports of its own: any job here is an earlier run's, stopped before
    # its clean-up. Remove what it wrote first, so the figures are taken on the seed's data.
    for leftover in ImportJob.objects.filter(kind="contacts").order_by("id"):
        log(f"removing what an interrupted earlier run imported (job {leftover.pk}) …")
        _cleanup(leftover)
    token = f"b{int(time.time())}"
    # Every company of the benchmark database (about one per ten contacts), as a real B2B file spreads
    # over its customers' companies.
    company_names = list(
        Company.objects.filter(archived_at__isnull=True).order_by("id").values_list("name", flat=True)
    )
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "contacts.csv")
        log(f"writing {scale:,} rows to a CSV file …")
        write_csv(path, scale, token, company_names)
        del company_names  # the benchmark's, not the import's memory
        size = os.path.getsize(path)
        log(f"{size / 1e6:,.1f} MB; importing …")
        # 1M rows make a ~110 MB file: above the default upload limit (CRM_IMPORT_MAX_BYTES, 50 MB), which
        # an installation importing such files raises the same way.
        settings.CRM_IMPORT_MAX_BYTES = max(settings.CRM_IMPORT_MAX_BYTES, size + 1)
        started = time.perf_counter()
        with PrivateMemory() as memory:
            with open(path, "rb") as upload:
                job = services.import_create(
                    actor=admin,
                    kind="contacts",
                    upload=upload,
                    file_name="contacts.csv",
                    key="email",
                    start=False,
                )
            ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.PENDING)
            job = engine.job_run(job.pk)
        seconds = time.perf_counter() - started
        # After the import, so that its memory figure starts from a process that has not held the floor's
        # temporary tables (SQLite keeps them in memory: temp_store=MEMORY).
        log("measuring the floor …")
        floor = csv_floor(path, connection.vendor, FLOOR_TABLES, _floor_rows)
        log("removing the imported contacts …")
        _cleanup(job, discard=False)
        log(f"measuring the write floor over {min(scale, WRITE_FLOOR_ROWS):,} rows …")
        write_floor = _write_floor(path, job.pk, admin.pk)
        services.import_discard(job)
    if job.status != ImportJob.Status.DONE or job.created_count != scale:
        sample = list(job.rows.filter(outcome="error").values_list("row_number", "errors")[:5])
        raise RuntimeError(
            f"the import did not create every row: {job.status} {job.message!r}, "
            f"created {job.created_count:,}, errors {job.error_count:,}: {sample}"
        )
    rate = scale / seconds
    log(
        f"imported {scale:,} rows in {seconds:,.1f} s: {rate:,.0f} rows/s (floor {floor:,.0f} rows/s, "
        f"write floor into the indexed tables {write_floor:,.0f} rows/s)"
    )
    log(
        f"peak private memory (the import and its forked validator): {memory.peak_mb:,.0f} MB; "
        f"possible duplicates reported: {job.duplicate_count:,}"
    )
    reporter.emit(
        "rows_per_s", rate, floor, rate=True, peak_private_mb=memory.peak_mb, write_floor=round(write_floor)
    )
    log("target at 1M rows: at least 25,000 rows/s with at most 400 MB peak memory.")


FLOOR_TABLES = {
    "contacts": "id bigint, external_id varchar(100), first_name varchar(100), last_name varchar(100), "
    "email varchar(254), phone varchar(32), job_title varchar(150)",
    "emails": "contact_id bigint, email varchar(254)",
    "phones": "contact_id bigint, number varchar(32)",
}


def _floor_rows(batch: list, state: dict) -> dict[str, list]:
    """The contact, e-mail and phone rows of a batch of the file, numbered as read."""
    offset = state.get("offset", 0)
    state["offset"] = offset + len(batch)
    return {
        "contacts": [(offset + i, r[0], r[1], r[2], r[3], r[4], r[6]) for i, r in enumerate(batch)],
        "emails": [(offset + i, r[3]) for i, r in enumerate(batch)],
        "phones": [(offset + i, r[4]) for i, r in enumerate(batch)],
    }


WRITE_FLOOR_ROWS = 200_000


def _write_floor(path: str, job_id: int, actor_id: int) -> float:
    """Rows per second of the raw writes an import makes per row, into the real tables (see the module's
    docstring); every batch is rolled back, so the database stays as it was."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from contacts.bulk import _CONTACT_COLUMNS, _CONTACT_DEFAULTS, EMAIL_COLUMNS, PHONE_COLUMNS
    from contacts.models import Address, Contact, ContactEmail, ContactPhone
    from contacts.services import ADDRESS_FIELDS, CONTACT_FIELDS
    from core.bulkwrite import EVENT_COLUMNS, HISTORY_COLUMNS, Writer
    from core.models import HistoryEntry, OutboxEvent
    from core.search import backend_for, document_id
    from core.search.text import document_text
    from imports.engine import BATCH_SIZE, REPORT_COLUMNS
    from imports.models import ImportRow

    content_type = ContentType.objects.get_for_model(Contact).pk
    backend, search_connection = backend_for("default")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Contact._meta.db_table}")  # noqa: S608
        next_id = cursor.fetchone()[0] + 1_000_000
    writer = Writer()
    now = writer.now_db
    written, seconds = 0, 0.0
    parts: dict[str, float] = {}

    def write(batch: list[list[str]]) -> float:
        nonlocal next_id
        tables: dict = {
            m: [] for m in (Contact, ContactEmail, ContactPhone, Address, HistoryEntry, OutboxEvent)
        }
        documents, report = [], []
        for external_id, first, last, email, phone, _company, title, city, country, _tags in batch:
            pk, next_id = next_id, next_id + 1
            values = {**_CONTACT_DEFAULTS, "external_id": external_id, "first_name": first, "last_name": last}
            values["job_title"] = title
            email, phone = email.lower(), "+1" + "".join(c for c in phone if c.isdigit())
            tables[Contact].append(
                (
                    pk,
                    now,
                    now,
                    actor_id,
                    None,
                    1,
                    "{}",
                    *(values[n] for n in CONTACT_FIELDS),
                    email,
                    phone,
                    None,
                )
            )
            tables[ContactEmail].append((pk, email, "work", True))
            tables[ContactPhone].append((pk, phone, phone, "mobile", True))
            address = {**dict.fromkeys(ADDRESS_FIELDS, ""), "kind": "work", "city": city, "country": country}
            tables[Address].append((pk, *(address[k] for k in ADDRESS_FIELDS), True))
            snapshot = {**values, "email": email, "phone": phone, "owner_id": actor_id}
            changes = writer.json({k: [None, v] for k, v in snapshot.items() if v not in ("", None)})
            tables[HistoryEntry].append((content_type, pk, "created", actor_id, now, changes))
            tables[OutboxEvent].append(
                (
                    "contact.created",
                    "contacts.contact",
                    pk,
                    actor_id,
                    writer.json({"id": pk, **snapshot}),
                    now,
                    0,
                    "",
                )
            )
            doc = document_id("contact", pk)
            documents.append(
                (doc, "contact", pk, document_text(f"{first} {last} {email} {phone}"), actor_id, None)
            )
            report.append((job_id, 0, "contact", "created", pk, "{}", None, "[]"))
        columns = {
            Contact: _CONTACT_COLUMNS,
            ContactEmail: EMAIL_COLUMNS,
            ContactPhone: PHONE_COLUMNS,
            Address: ["contact_id", *ADDRESS_FIELDS, "is_primary"],
            HistoryEntry: HISTORY_COLUMNS,
            OutboxEvent: EVENT_COLUMNS,
        }
        with transaction.atomic():
            started = mark = time.perf_counter()
            for model, rows in tables.items():
                writer.insert(model, columns[model], rows)
                mark = _lap(parts, model._meta.db_table, mark)
            backend.upsert(search_connection, documents)
            mark = _lap(parts, "search", mark)
            writer.insert(ImportRow, REPORT_COLUMNS, report)
            _lap(parts, ImportRow._meta.db_table, mark)
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True)
        return elapsed

    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        batch: list = []
        for row in reader:
            if written >= WRITE_FLOOR_ROWS:
                break
            batch.append(row)
            written += 1
            if len(batch) == BATCH_SIZE:
                seconds += write(batch)
                batch = []
        if batch:
            seconds += write(batch)
    if written:
        log(
            "write floor, µs per row: " + ", ".join(f"{k} {v * 1e6 / written:,.1f}" for k, v in parts.items())
        )
    return written / seconds if seconds else 0.0


def _lap(parts: dict[str, float], name: str, mark: float) -> float:
    now = time.perf_counter()
    parts[name] = parts.get(name, 0.0) + now - mark
    return now


def _cleanup(job, *, discard: bool = True) -> None:
    """Remove what the import wrote (contacts and everything hanging off them), chunk by chunk."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from contacts.models import Address, Contact, ContactEmail, ContactPhone, ContactRole
    from core import search
    from core.models import HistoryEntry, OutboxEvent
    from imports import services
    from imports.models import ImportRow

    ids = list(
        ImportRow.objects.filter(job=job, object_type="contact", object_id__isnull=False)
        .order_by("object_id")
        .values_list("object_id", flat=True)
    )
    content_type = ContentType.objects.get_for_model(Contact)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        with transaction.atomic():
            for model in (ContactEmail, ContactPhone, Address, ContactRole, Contact.tags.through):
                model.objects.filter(contact_id__in=chunk)._raw_delete(model.objects.db)
            HistoryEntry.objects.filter(content_type=content_type, object_id__in=chunk)._raw_delete("default")
            OutboxEvent.objects.filter(object_type="contacts.contact", object_id__in=chunk)._raw_delete(
                "default"
            )
            search.remove("contact", chunk)
            Contact.objects.filter(pk__in=chunk)._raw_delete("default")
    if discard:
        services.import_discard(job)  # the job and its stored upload
    if len(ids) >= search.OPTIMIZE_AFTER_REMOVED:
        # As an import's undo does: without it the next benchmarks' searches read past the removed
        # documents' entries (SQLite FTS5), several times slower.
        log("compacting the search index …")
        search.optimize()
