"""import-orders: rows per second of a products import and of an orders import, end to end from CSV files.

On the standard benchmark database with the commerce seed (bench/orders.py: the demo catalogue and about
two orders per contact, added once and reused), the benchmark writes two reproducible CSV files and
imports them as the benchmark administrator, exactly as the API's upload does — the upload is stored and
read once to check it, then the job runs (imports/commerce_import.py):

1. products: max(100, scale / 100) new products (SKU unique to the run, name, category, price, currency,
   active), key `sku`: one SKU lookup and one `products_bulk_create` transaction per batch (products,
   `created` history, `product.created` events, search documents, the per-row report);
2. orders: `scale` order-line rows making about scale / 2.5 orders (1-4 lines each; order number unique
   to the run, a date within the last two years, status, channel, currency, the customer as the e-mail
   address of an existing contact — a fixed random sample of the database's contacts —, the SKUs of the
   products just imported, quantity, unit price and discount), grouped by order number: per batch the
   existing numbers, the customers by e-mail and the SKUs are looked up, then `orders_bulk_create`
   writes the orders, lines, history, events, search documents and the report; the customers' purchase
   summaries are refreshed once at the end.

Figures:

- `products_rows_per_s` and `order_rows_per_s`: rows of the file per second from the upload to the
  finished job (for orders, rows are order lines; the summaries' refresh included). The floor of each is
  what the database alone does with the same rows in this run: the file read with `csv.reader` and its
  rows written into temporary tables of the same columns — the products; the orders (one row per order,
  numbered as the file's rows are read) and their lines — with one raw `executemany` (SQLite) or COPY
  (PostgreSQL) per table and 5,000-row batch, no validation, lookups, history, events, search or
  summaries.
- `peak_rss_mb` (in every line): the peak resident memory of the process, which on SQLite includes the
  database file's pages mapped by `mmap_size` (up to 256 MB, shared with the kernel's cache);
  `peak_private_mb`: the peak private memory of that import, sampled while it runs.

The benchmark then checks that every product and every order was created, and removes what it imported
(orders with their lines, history, outbox events and search documents; the products likewise; the jobs
and their stored files), refreshing the purchase summaries of the customers it touched, so the benchmark
database stays as the seed made it. Leftovers of an interrupted earlier run are removed first.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import tempfile
import time
from array import array

from bench.common import PrivateMemory, Reporter, bench_users, csv_floor, log

# Prefixes of this benchmark's SKUs and order numbers (two letters: too short to enter the search
# vocabulary, like the run token with its digits), also how leftovers without their job are found.
SKU_PREFIX = "BP-"
NUMBER_PREFIX = "BO-"
PRODUCT_HEADERS = ["SKU", "Name", "Category", "Price", "Currency", "Active"]
ORDER_HEADERS = [
    "Order number",
    "Order date",
    "Status",
    "Channel",
    "Currency",
    "Customer e-mail",
    "SKU",
    "Quantity",
    "Unit price",
    "Discount",
]
PRICES = ["4.90", "9.90", "14.50", "19.90", "29.00", "49.00", "89.00", "149.00", "1,299.00"]
CHUNK = 5000


def product_count(scale: int) -> int:
    return max(100, scale // 100)


# ---------------------------------------------------------------------------------------------------------
# The files


def write_products(path: str, scale: int, count: int, token: str) -> list[tuple[str, str]]:
    """`count` products; returns their (SKU, price as written)."""
    from commerce.seed import CATALOGUE

    rng = random.Random(f"products:{scale}")
    categories = list(CATALOGUE)
    products = []
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(PRODUCT_HEADERS)
        for i in range(count):
            category = rng.choice(categories)
            sku = f"{SKU_PREFIX}{token}-{i:05d}"
            price = rng.choice(PRICES)
            writer.writerow(
                [
                    sku,
                    f"{rng.choice(CATALOGUE[category])} {i + 1}",
                    category,
                    price,
                    "USD",
                    "no" if rng.random() < 0.1 else "yes",
                ]
            )
            products.append((sku, price))
    return products


def customers_pick(rng: random.Random, wanted: int) -> list[str]:
    """E-mail addresses of `wanted` contacts of the benchmark database (a reproducible sample of the ones
    not archived whose primary address no other contact has, so each names one customer)."""
    from django.db.models import Count

    from contacts.models import Contact, ContactEmail

    ids = array(
        "q",
        Contact.objects.filter(archived_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
        .iterator(chunk_size=10_000),
    )
    order = rng.sample(range(len(ids)), min(len(ids), wanted + wanted // 10 + 100))
    emails: list[str] = []
    for start in range(0, len(order), CHUNK):
        chunk = sorted(ids[i] for i in order[start : start + CHUNK])
        found = dict(
            ContactEmail.objects.filter(contact_id__in=chunk, is_primary=True).values_list(
                "contact_id", "email"
            )
        )
        shared = set(
            ContactEmail.objects.filter(email__in=set(found.values()))
            .values("email")
            .annotate(n=Count("contact_id", distinct=True))
            .filter(n__gt=1)
            .values_list("email", flat=True)
        )
        emails.extend(found[c] for c in chunk if c in found and found[c] not in shared)
        if len(emails) >= wanted:
            break
    if not emails:
        raise RuntimeError("the benchmark database has no contact with an e-mail address to order")
    return emails[:wanted]


def write_orders(
    path: str, scale: int, token: str, products: list[tuple[str, str]], emails: list[str], rng: random.Random
) -> int:
    """`scale` order-line rows, sorted by order number as shops export them; returns the number of orders."""
    from django.utils import timezone

    from commerce.seed import CHANNEL_WEIGHTS, STATUS_WEIGHTS

    statuses, status_weights = zip(*STATUS_WEIGHTS, strict=True)
    channels, channel_weights = zip(*CHANNEL_WEIGHTS, strict=True)
    now = timezone.localtime().replace(
        tzinfo=None, microsecond=0
    )  # the dates as the server's zone reads them
    rows = orders = 0
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(ORDER_HEADERS)
        while rows < scale:
            lines = min(rng.randint(1, 4), scale - rows)
            number = f"{NUMBER_PREFIX}{token}-{orders:07d}"
            moment = now - dt.timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
            status = rng.choices(statuses, status_weights)[0]
            channel = rng.choices(channels, channel_weights)[0]
            email = rng.choice(emails)
            for sku, price in rng.sample(products, lines):
                writer.writerow(
                    [
                        number,
                        f"{moment:%Y-%m-%d %H:%M:%S}",
                        status,
                        channel,
                        "USD",
                        email,
                        sku,
                        rng.choice([1, 1, 1, 2, 3]),
                        price,
                        rng.choice([0, 0, 0, 0, 10, 15, 25]),
                    ]
                )
            rows += lines
            orders += 1
    return orders


# ---------------------------------------------------------------------------------------------------------
# The run


def run(*, scale: int, db_url: str, **_) -> None:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from bench.orders import orders_ensure
    from imports.models import ImportJob

    orders_ensure(scale)
    admin = bench_users().admin
    reporter = Reporter("import-orders", connection.vendor, scale)
    # The benchmark database holds no product or order imports of its own: any here is an earlier run's,
    # stopped before its clean-up. Remove what it wrote first (orders before the products they name), and
    # then any of this benchmark's orders and products left without their job.
    for kind in ("orders", "products"):
        for leftover in ImportJob.objects.filter(kind=kind).order_by("id"):
            log(f"removing what an interrupted earlier run imported ({kind} job {leftover.pk}) …")
            _cleanup(leftover)
        _sweep(kind)
    token = f"b{int(time.time())}"
    rng = random.Random(f"orders:{scale}")
    count = product_count(scale)
    expected_orders = scale * 2 // 5
    with tempfile.TemporaryDirectory() as directory:
        products_path = os.path.join(directory, "products.csv")
        orders_path = os.path.join(directory, "orders.csv")
        log(f"writing {count:,} products to a CSV file …")
        products = write_products(products_path, scale, count, token)
        log("choosing the customers …")
        emails = customers_pick(rng, max(1, expected_orders // 2))
        log(
            f"writing {scale:,} order lines (about {expected_orders:,} orders of {len(emails):,} customers) …"
        )
        orders = write_orders(orders_path, scale, token, products, emails, rng)
        size = os.path.getsize(orders_path)
        # 1M rows make a ~100 MB file: above the default upload limit (CRM_IMPORT_MAX_BYTES, 50 MB), which
        # an installation importing such files raises the same way.
        settings.CRM_IMPORT_MAX_BYTES = max(settings.CRM_IMPORT_MAX_BYTES, size + 1)

        log(f"importing {count:,} products …")
        since = timezone.now()
        product_job, product_seconds, product_memory = _import(admin, "products", products_path, "sku")
        _check(product_job, count, "products")
        log(f"importing {scale:,} order lines ({size / 1e6:,.1f} MB, {orders:,} orders) …")
        order_job, order_seconds, order_memory = _import(admin, "orders", orders_path, "number")
        _check(order_job, orders, "orders")
        # After the imports, so that their memory figures start from a process that has not held the
        # floor's temporary tables (SQLite keeps them in memory: temp_store=MEMORY).
        log("measuring the floors …")
        product_floor = csv_floor(products_path, connection.vendor, _products_tables(), _products_write)
        order_floor = csv_floor(orders_path, connection.vendor, _orders_tables(), _orders_write)

    lines = _lines_count(order_job)
    if lines != scale:
        raise RuntimeError(f"the orders import wrote {lines:,} order lines, not {scale:,}")
    product_rate = count / product_seconds
    order_rate = scale / order_seconds
    log(
        f"products: {count:,} created in {product_seconds:,.2f} s: {product_rate:,.0f} rows/s "
        f"(floor {product_floor:,.0f} rows/s); peak private memory {product_memory:,.0f} MB"
    )
    log(
        f"orders: {order_job.created_count:,} orders with {lines:,} lines created in {order_seconds:,.1f} s: "
        f"{order_rate:,.0f} rows/s, {order_job.created_count / order_seconds:,.0f} orders/s "
        f"(floor {order_floor:,.0f} rows/s); peak private memory {order_memory:,.0f} MB"
    )
    reporter.emit(
        "products_rows_per_s", product_rate, product_floor, rate=True, peak_private_mb=product_memory
    )
    reporter.emit("order_rows_per_s", order_rate, order_floor, rate=True, peak_private_mb=order_memory)
    log("removing the imported orders and products …")
    _cleanup(order_job)
    _cleanup(product_job)
    _tasks_remove(since)


def _import(admin, kind: str, path: str, key: str):
    """Upload, check and run one import as the API does; (job, seconds, peak private MB)."""
    from imports import engine, services
    from imports.models import ImportJob

    started = time.perf_counter()
    with PrivateMemory() as memory:
        with open(path, "rb") as upload:
            job = services.import_create(
                actor=admin, kind=kind, upload=upload, file_name=os.path.basename(path), key=key, start=False
            )
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.PENDING)
        job = engine.job_run(job.pk)
    return job, time.perf_counter() - started, memory.peak_mb


def _check(job, expected: int, what: str) -> None:
    """Every product (order) of the file created; the job's counts are products (orders)."""
    from imports.models import ImportJob

    if job.status == ImportJob.Status.DONE and job.created_count == expected and not job.error_count:
        log(
            f"{what}: {job.created_count:,} created, {job.skipped_count:,} skipped, "
            f"{job.error_count:,} errors ({job.processed_rows:,} rows)"
        )
        return
    sample = list(job.rows.filter(outcome="error").order_by("id").values_list("row_number", "errors")[:5])
    raise RuntimeError(
        f"the {what} import did not create every {what[:-1]}: {job.status} {job.message!r}, created "
        f"{job.created_count:,} of {expected:,}, skipped {job.skipped_count:,}, errors {job.error_count:,}: "
        f"{sample} (the next run removes what it wrote)"
    )


def _object_ids(job, object_type: str) -> list[int]:
    from imports.models import ImportRow

    return sorted(
        set(
            ImportRow.objects.filter(job=job, object_type=object_type, object_id__isnull=False).values_list(
                "object_id", flat=True
            )
        )
    )


def _lines_count(job) -> int:
    from commerce.models import OrderLine

    ids = _object_ids(job, "order")
    return sum(
        OrderLine.objects.filter(order_id__in=ids[start : start + CHUNK]).count()
        for start in range(0, len(ids), CHUNK)
    )


# ---------------------------------------------------------------------------------------------------------
# The floors


def _products_tables() -> dict[str, str]:
    return {
        "products": "sku varchar(64), name varchar(200), category varchar(100), price numeric(14, 2), "
        "currency varchar(3), active boolean"
    }


def _products_write(batch: list, state: dict) -> dict[str, list]:
    return {"products": [(r[0], r[1], r[2], r[3].replace(",", ""), r[4], r[5] == "yes") for r in batch]}


def _orders_tables() -> dict[str, str]:
    return {
        "orders": "id bigint, number varchar(64), ordered_at timestamp with time zone, status varchar(20), "
        "channel varchar(20), currency varchar(3), customer_email varchar(254)",
        "lines": "order_id bigint, position integer, sku varchar(64), quantity numeric(12, 3), "
        "unit_price numeric(14, 2), discount numeric(5, 2)",
    }


def _orders_write(batch: list, state: dict) -> dict[str, list]:
    """One order row when a number starts (the file is sorted by number), one line row per file row."""
    orders, lines = [], []
    for r in batch:
        if r[0] != state.get("number"):
            state["number"], state["id"], state["position"] = r[0], state.get("id", 0) + 1, 0
            orders.append((state["id"], r[0], r[1], r[2], r[3], r[4], r[5]))
        lines.append((state["id"], state["position"], r[6], r[7], r[8].replace(",", ""), r[9]))
        state["position"] += 1
    return {"orders": orders, "lines": lines}


# ---------------------------------------------------------------------------------------------------------
# Clean-up


def _cleanup(job) -> None:
    """Remove what one import wrote (chunk by chunk), then the job, its report and its stored file."""
    from imports import services

    if job.kind == "orders":
        _orders_remove(_object_ids(job, "order"))
    elif job.kind == "products":
        _products_remove(_object_ids(job, "product"))
    services.import_discard(job)


def _sweep(kind: str) -> None:
    """This benchmark's orders (products) left without their job (a run stopped between removing what a
    job wrote and the job itself, or a job deleted by hand), found by their prefix."""
    from commerce.models import Order, Product

    if kind == "orders":
        ids = list(
            Order.objects.filter(number__startswith=NUMBER_PREFIX).order_by("id").values_list("id", flat=True)
        )
        remove = _orders_remove
    else:
        ids = list(
            Product.objects.filter(sku__startswith=SKU_PREFIX).order_by("id").values_list("id", flat=True)
        )
        remove = _products_remove
    if ids:
        log(f"removing {len(ids):,} {kind} of an earlier run left without their import job …")
        remove(ids)


def _orders_remove(ids: list[int]) -> None:
    """The orders with their lines, history, outbox events and search documents; then the purchase
    summaries of their customers, rebuilt from the orders that remain."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from commerce.models import Order, OrderLine
    from commerce.services import summaries_refresh
    from core import search
    from core.models import EventDelivery, HistoryEntry, OutboxEvent

    content_type = ContentType.objects.get_for_model(Order)
    contact_ids: set[int] = set()
    company_ids: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with transaction.atomic():
            for contact_id, company_id in Order.objects.filter(pk__in=chunk).values_list(
                "contact_id", "company_id"
            ):
                if contact_id:
                    contact_ids.add(contact_id)
                if company_id:
                    company_ids.add(company_id)
            OrderLine.objects.filter(order_id__in=chunk)._raw_delete("default")
            HistoryEntry.objects.filter(content_type=content_type, object_id__in=chunk)._raw_delete("default")
            events = OutboxEvent.objects.filter(object_type="commerce.order", object_id__in=chunk)
            EventDelivery.objects.filter(event__in=events)._raw_delete("default")
            events._raw_delete("default")
            search.remove("order", chunk)
            Order.objects.filter(pk__in=chunk)._raw_delete("default")
    contacts, companies = sorted(contact_ids), sorted(company_ids)
    for start in range(0, max(len(contacts), len(companies)), 2000):
        with transaction.atomic():
            summaries_refresh(
                contact_ids=contacts[start : start + 2000], company_ids=companies[start : start + 2000]
            )
    if len(ids) >= search.OPTIMIZE_AFTER_REMOVED:
        # As an import's undo does: without it the next benchmarks' searches read past the removed
        # documents' entries (SQLite FTS5).
        log("compacting the search index …")
        search.optimize()


def _products_remove(ids: list[int]) -> None:
    """The products (no order names them any more) with their history, outbox events and search documents."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from commerce.models import Product
    from core import search
    from core.models import EventDelivery, HistoryEntry, OutboxEvent

    content_type = ContentType.objects.get_for_model(Product)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with transaction.atomic():
            HistoryEntry.objects.filter(content_type=content_type, object_id__in=chunk)._raw_delete("default")
            events = OutboxEvent.objects.filter(object_type="commerce.product", object_id__in=chunk)
            EventDelivery.objects.filter(event__in=events)._raw_delete("default")
            events._raw_delete("default")
            search.remove("product", chunk)
            Product.objects.filter(pk__in=chunk)._raw_delete("default")


def _tasks_remove(since) -> None:
    """The event-delivery tasks the imports' transactions queued (no worker runs on the benchmark
    database: they would find no pending event of this run anyway)."""
    from django.apps import apps

    if not apps.is_installed("django_tasks_db"):
        return
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(
        task_path="core.tasks.deliver_events", status="READY", enqueued_at__gte=since
    ).delete()
