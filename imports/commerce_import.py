"""Products and orders from a file: the engine's runs for the commerce kinds, and their undo.

**Products** (one row per product): new rows go through `commerce.services.products_bulk_create` (one
transaction per batch: products, `created` history, `product.created` events, search documents); with the
key `sku`, a row whose SKU exists updates that product through `product_update` in its own savepoint
(history old → new, `product.updated`, search document), the overwritten values kept as the row's
before-image for undo. Empty cells never clear a value; an update that changes nothing is `skipped`.

**Orders** (one row per order line): rows with the same order number make one order, wherever they are
in the file. The file is read twice: first the order numbers only (how many rows each order has), then
the rows, an order being handed on as soon as its last row is read (a file sorted by number keeps one
order in memory; an unsorted one keeps the unfinished orders). Per batch of whole orders: the existing
numbers are looked up (such an order is `skipped`, never updated), the customers are resolved among the
contacts and companies the user sees, the SKUs among the products, and the orders go through
`commerce.services.orders_bulk_create` with `refresh_summaries=False`; the customers' purchase summaries
are refreshed once at the end of the import. An order is written whole or not at all: an error on any
of its rows refuses the order, and every row of it says so in the report. The counts of the job are
orders (the progress stays in rows).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower

from commerce import queries as commerce_queries
from commerce import services as commerce_services
from commerce.models import Order, OrderLine, Product
from contacts.models import Company, Contact, ContactEmail
from core import memory, search
from core.errors import PermissionDeniedError, ServiceError
from core.events import event_emit_bulk
from core.history import history_record, history_record_bulk, to_json_value
from core.normalize import domain_normalize
from core.visibility import can, restrict

from . import engine, files
from .engine import ImportRun, Row

CHUNK = 5000
OUTCOMES = ("created", "updated", "skipped", "error")


def catalogue_writer_require(actor) -> None:
    if not commerce_queries.can_change_products(actor):
        raise PermissionDeniedError("Only administrators and managers may change the catalogue.")


# ---------------------------------------------------------------------------------------------------------
# Cells → values


_SYMBOLS = "$€£¥₹"
_GROUPS_OF_THREE = re.compile(r"\d{1,3}(,\d{3})+")


def amount_text(text: str) -> str:
    """'1,234.50' → '1234.50', '1.234,50' and '9,90' → decimal points, '€ 9.90' → '9.90'. A comma followed
    by exactly three digits (and no point) is a thousands separator. Anything else is returned as is and
    the service names it ("Enter a number.")."""
    value = text.strip().replace("\u00a0", "").replace(" ", "").replace("'", "").strip(_SYMBOLS)
    if "," in value and "." in value:
        if value.rfind(",") > value.rfind("."):
            value = value.replace(".", "").replace(",", ".")
        else:
            value = value.replace(",", "")
    elif "," in value:
        digits = value.lstrip("+-")
        if _GROUPS_OF_THREE.fullmatch(digits):
            value = value.replace(",", "")
        elif value.count(",") == 1:
            value = value.replace(",", ".")
    return value


YES = {"1", "yes", "y", "true", "t", "on", "x", "active", "ja", "oui", "si"}
NO = {"0", "no", "n", "false", "f", "off", "inactive", "draft", "archived", "nein", "non"}


_MOMENT = forms.DateTimeField()  # no state of its own: one for every row


def moment_text(text: str) -> str | None:
    """An order date: ISO date or date-time, or any of Django's input formats; None when unreadable."""
    try:
        moment = _MOMENT.clean(text.strip())
    except DjangoValidationError:
        return None
    return moment.isoformat()


def _choices(model_choices, extra: dict[str, str]) -> dict[str, str]:
    table = {value: value for value, _label in model_choices}
    table.update({str(label).lower(): value for value, label in model_choices})
    table.update(extra)
    return table


STATUSES = _choices(
    Order.Status.choices,
    {"canceled": "cancelled", "shipped": "fulfilled", "delivered": "fulfilled", "completed": "fulfilled"},
)
CHANNELS = _choices(Order.Channel.choices, {"online": "web", "webshop": "web", "shop": "web"})
STATUS_VALUES, CHANNEL_VALUES = tuple(Order.Status.values), tuple(Order.Channel.values)


def _choice(values: dict, errors: dict, name: str, table: dict[str, str], allowed) -> None:
    if name in values:
        found = table.get(values[name].lower())
        if found is None:
            errors[name] = [f"Choose one of: {', '.join(allowed)}."]
        else:
            values[name] = found


def _company_key(text: str) -> str:
    """As the contacts import reads a company cell: a domain when it looks like one, else a name."""
    text = text.strip()
    if "." in text and " " not in text and "@" not in text:
        try:
            return "domain:" + domain_normalize(text)
        except ValueError:
            pass
    return "name:" + text.lower()


def _mapped_rows(job) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, {field: stripped non-empty cell})."""
    columns = [(index, job.mapping[h]) for index, h in enumerate(job.headers) if job.mapping.get(h)]
    for number, cells in files.data_rows(job.stored_path, job.file_format, job.encoding):
        yield number, {target: cells[index].strip() for index, target in columns if cells[index].strip()}


def _report_errors(errors: dict) -> dict[str, list[str]]:
    return {name: [str(m) for m in messages] for name, messages in errors.items()}


# ---------------------------------------------------------------------------------------------------------
# Products


PRODUCT_TEXT = ("sku", "name", "category", "currency", "description")


def product_data(values: dict[str, str]) -> tuple[dict, dict[str, list[str]]]:
    """`product_create`'s keys from one row's non-empty cells, and the cells that cannot be read."""
    data: dict = {name: values[name] for name in PRODUCT_TEXT if name in values}
    errors: dict[str, list[str]] = {}
    if "price" in values:
        data["price"] = amount_text(values["price"])
    if "active" in values:
        text = values["active"].lower()
        if text in YES:
            data["active"] = True
        elif text in NO:
            data["active"] = False
        else:
            errors["active"] = ["Enter yes or no (true/false, 1/0, active/inactive)."]
    return data, errors


class ProductRun(ImportRun):
    """Products: create, or with the key `sku` create-or-update."""

    def __init__(self, job, progress=None):
        super().__init__(job, progress)
        self.workers = 1
        self.seen_skus: set[str] = set()  # dry run: SKUs that earlier rows would have created

    def rows(self) -> Iterator[Row]:
        for number, values in _mapped_rows(self.job):
            data, errors = product_data(values)
            row = Row(number=number, data=data, errors=errors)
            if self.key == "sku":
                row.key_value = data.get("sku", "").lower()
            yield row

    def match(self, skus: list[str]) -> dict[str, list[tuple[int, str, bool]]]:
        """SKU (lower case) → [(id, sku, archived)] among all products (case-insensitively)."""
        found: dict[str, list[tuple[int, str, bool]]] = {}
        ordered = sorted(set(skus))
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start : start + CHUNK]
            matching = Q(folded__in=[s.lower() for s in chunk]) | Q(sku__in=chunk)
            for pk, sku, archived_at in (
                Product.objects.annotate(folded=Lower("sku"))
                .filter(matching)
                .values_list("pk", "sku", "archived_at")
                .order_by("pk")
            ):
                entries = found.setdefault(sku.lower(), [])
                if all(e[0] != pk for e in entries):
                    entries.append((pk, sku, archived_at is not None))
        return found

    def process(self, batch: list[Row]) -> list[tuple]:
        report: list[tuple] = []
        matches = self.match([r.data["sku"] for r in batch if r.key_value]) if self.key else {}
        creates: list[Row] = []
        updates: list[tuple[Row, int]] = []
        for row in batch:
            if row.errors:
                report.append((row.number, "product", "error", None, row.errors, None))
                continue
            candidates = matches.get(row.key_value, []) if row.key_value else []
            exact = [c for c in candidates if c[1] == row.data["sku"]]
            chosen = candidates if len(candidates) <= 1 else exact
            if len(chosen) > 1 or (candidates and not chosen):
                message = (
                    f"{len(candidates)} products hold this SKU in different cases: the row cannot tell which."
                )
                report.append((row.number, "product", "error", None, {"sku": [message]}, None))
            elif chosen and chosen[0][2]:
                message = "The product with this SKU is archived: restore it to update it from a file."
                report.append((row.number, "product", "error", chosen[0][0], {"sku": [message]}, None))
            elif chosen:
                updates.append((row, chosen[0][0]))
            elif self.dry_run and row.data.get("sku", "").lower() in self.seen_skus:
                if row.key_value:
                    report.append((row.number, "product", "updated", None, {}, None))
                else:
                    message = "Another product has this SKU."
                    report.append((row.number, "product", "error", None, {"sku": [message]}, None))
            else:
                creates.append(row)
        report.extend(self.create(creates))
        products = Product.objects.in_bulk([product_id for _row, product_id in updates])
        for row, product_id in updates:
            report.append(self.update(row, products[product_id]))
        report.sort(key=lambda r: r[0])
        return report

    def create(self, rows: list[Row]) -> list[tuple]:
        if not rows:
            return []
        result = commerce_services.products_bulk_create(
            actor=self.actor, rows=[r.data for r in rows], validate_only=self.dry_run
        )
        report = []
        for index, row in enumerate(rows):
            if index in result["errors"]:
                errors = _report_errors(result["errors"][index])
                report.append((row.number, "product", "error", None, errors, None))
            else:
                report.append((row.number, "product", "created", result["created"][index] or None, {}, None))
                if self.dry_run:
                    self.seen_skus.add(row.data["sku"].lower())
        return report

    def update(self, row: Row, product: Product) -> tuple:
        """Only the row's non-empty cells are written; the SKU is the key and keeps its spelling."""
        product_id = product.pk
        update = {k: v for k, v in row.data.items() if k != "sku"}
        if not update:
            return (row.number, "product", "skipped", product_id, {"__all__": ["Nothing to change."]}, None)
        scalars, errors = commerce_services._product_clean(dict(update), product)
        if errors:
            return (row.number, "product", "error", product_id, _report_errors(errors), None)
        changed = [name for name, value in scalars.items() if getattr(product, name) != value]
        if not changed:
            return (row.number, "product", "skipped", product_id, {"__all__": ["No changes."]}, None)
        before = {name: to_json_value(getattr(product, name)) for name in changed}
        if self.dry_run:
            return (row.number, "product", "updated", product_id, {}, None)
        try:
            with transaction.atomic():
                commerce_services.product_update(
                    actor=self.actor,
                    product_id=product_id,
                    data={**{name: update[name] for name in changed}, "version": product.version},
                )
        except ServiceError as exc:
            errors = _report_errors(exc.errors or {"__all__": [exc.detail]})
            return (row.number, "product", "error", product_id, errors, None)
        return (row.number, "product", "updated", product_id, {}, before)


# ---------------------------------------------------------------------------------------------------------
# Orders

ORDER_FIELDS = (
    "number",
    "customer_email",
    "customer_external_id",
    "company",
    "ordered_at",
    "status",
    "channel",
    "currency",
    "total",
    "notes",
)
LINE_FIELDS = ("sku", "description", "category", "quantity", "unit_price", "discount")
# Service error keys → the file's fields.
SERVICE_FIELDS = {"company_id": "company", "product_id": "sku", "__all__": "__all__"}


@dataclass
class OrderGroup:
    number: str
    rows: list[Row] = field(default_factory=list)
    values: dict = field(default_factory=dict)  # the order's fields (each from the first row giving it)
    sources: dict = field(default_factory=dict)  # field → the row number that gave it
    contact_id: int | None = None
    company_id: int | None = None
    lines: list[tuple[int, dict]] = field(default_factory=list)  # (row number, line for the service)

    @property
    def lead(self) -> int:
        return self.rows[0].number

    @property
    def failed(self) -> bool:
        return any(r.errors for r in self.rows)

    def error(self, name: str, message: str, row_number: int | None = None) -> None:
        number = row_number or self.sources.get(name) or self.lead
        row = next(r for r in self.rows if r.number == number)
        row.errors.setdefault(name, []).append(message)


class OrderRun(ImportRun):
    """Orders: one row per line, grouped by order number; an existing number is skipped."""

    def __init__(self, job, progress=None):
        super().__init__(job, progress)
        self.workers = 1
        self.key = "number"
        self.contact_ids: set[int] = set()  # customers whose summaries the import changed
        self.company_ids: set[int] = set()

    # Reading ---------------------------------------------------------------------------------------

    def parse(self, number: int, values: dict[str, str]) -> Row:
        errors: dict[str, list[str]] = {}
        order = {name: values[name] for name in ORDER_FIELDS if name in values}
        line = {name: values[name] for name in LINE_FIELDS if name in values}
        if "number" not in order:
            errors["number"] = ["Give the order number: the rows of an order are grouped by it."]
        if "customer_email" in order:
            try:
                order["customer_email"] = self.email(order["customer_email"])
            except ValueError:
                errors["customer_email"] = ["Enter a valid e-mail address."]
        if "ordered_at" in order:
            moment = moment_text(order["ordered_at"])
            if moment is None:
                errors["ordered_at"] = ["Enter a date or date-time such as 2024-05-31 or 2024-05-31 14:30."]
            else:
                order["ordered_at"] = moment
        _choice(order, errors, "status", STATUSES, STATUS_VALUES)
        _choice(order, errors, "channel", CHANNELS, CHANNEL_VALUES)
        if "currency" in order:
            order["currency"] = order["currency"].upper()
        if "company" in order:
            order["company_key"] = _company_key(order["company"])
        if "total" in order:
            order["total"] = amount_text(order["total"])
        for name in ("quantity", "unit_price", "discount"):
            if name in line:
                line[name] = amount_text(line[name].rstrip("%") if name == "discount" else line[name])
        row = Row(number=number, data={"order": order, "line": line or None}, errors=errors)
        row.key_value = order.get("number", "")
        return row

    def rows(self) -> Iterator[Row]:
        for number, values in _mapped_rows(self.job):
            yield self.parse(number, values)

    def groups(self) -> Iterator[OrderGroup]:
        """Whole orders, each handed on when its last row has been read."""
        column = next(i for i, h in enumerate(self.job.headers) if self.job.mapping.get(h) == "number")
        sizes = Counter(
            cells[column].strip()
            for _n, cells in files.data_rows(self.job.stored_path, self.job.file_format, self.job.encoding)
        )
        pending: dict[str, OrderGroup] = {}
        for row in self.rows():
            if not row.key_value:
                yield OrderGroup(number="", rows=[row])
                continue
            group = pending.setdefault(row.key_value, OrderGroup(number=row.key_value))
            group.rows.append(row)
            if len(group.rows) >= sizes[row.key_value]:
                yield pending.pop(row.key_value)
        yield from pending.values()

    def order_batches(self) -> Iterator[list[OrderGroup]]:
        batch: list[OrderGroup] = []
        size = 0
        for group in self.groups():
            if batch and size + len(group.rows) > engine.BATCH_SIZE:
                yield batch
                batch, size = [], 0
            batch.append(group)
            size += len(group.rows)
        if batch:
            yield batch

    # Running ---------------------------------------------------------------------------------------

    def execute(self) -> None:
        try:
            for batch in self.order_batches():
                with transaction.atomic():
                    report, counts, customers = self.process_orders(batch)
                    self.write_report(report, counts)
                self.contact_ids.update(customers[0])
                self.company_ids.update(customers[1])
                memory.free_heap()
                self.processed += sum(len(g.rows) for g in batch)
                if self.progress is not None:
                    self.progress(self.processed, self.job.total_rows)
        finally:
            self.summaries_refresh()

    def summaries_refresh(self) -> None:
        """Once at the end (also after a failure, for the batches that were committed)."""
        contacts, companies = sorted(self.contact_ids), sorted(self.company_ids)
        for start in range(0, max(len(contacts), len(companies)), 2000):
            with transaction.atomic():
                commerce_services.summaries_refresh(
                    contact_ids=contacts[start : start + 2000], company_ids=companies[start : start + 2000]
                )
        self.contact_ids.clear()
        self.company_ids.clear()

    def merge(self, group: OrderGroup) -> None:
        """The order's fields from its rows: each from the first row that gives it; a later row giving
        another value is an error on that row (the rows of one order must agree)."""
        for row in group.rows:
            for name, value in row.data["order"].items():
                if name == "company":
                    continue
                if name not in group.values:
                    group.values[name] = value
                    group.sources[name] = row.number
                elif group.values[name] != value:
                    field_name = "company" if name == "company_key" else name
                    shown = group.values["company"] if name == "company_key" else group.values[name]
                    row.errors.setdefault(field_name, []).append(
                        f"Row {group.sources[name]} of this order says \u201c{shown}\u201d: the rows of one "
                        "order must agree."
                    )
            if "company" in row.data["order"] and "company" not in group.values:
                group.values["company"] = row.data["order"]["company"]
                group.sources["company"] = row.number

    def process_orders(self, batch: list[OrderGroup]) -> tuple[list[tuple], dict, tuple[set, set]]:
        for group in batch:
            if group.number:
                self.merge(group)
        live = [g for g in batch if not g.failed]
        existing: dict[str, int] = {}
        numbers = [g.number for g in live]
        for start in range(0, len(numbers), CHUNK):
            existing.update(
                Order.objects.filter(number__in=numbers[start : start + CHUNK]).values_list("number", "pk")
            )
        visible = set()
        if existing:
            visible = set(
                commerce_queries.order_restrict(
                    Order.objects.filter(pk__in=list(existing.values())), self.actor
                ).values_list("pk", flat=True)
            )
        fresh = [g for g in live if g.number not in existing]
        self.resolve_customers(fresh)
        self.resolve_lines(fresh)
        writable = [g for g in fresh if not g.failed]
        result = {"created": [], "errors": {}}
        if writable:
            result = commerce_services.orders_bulk_create(
                actor=self.actor,
                rows=[self.service_row(g) for g in writable],
                batch_size=len(writable),
                refresh_summaries=False,
                validate_only=self.dry_run,
            )
        created: dict[int, int] = {}
        for index, group in enumerate(writable):
            if index in result["errors"]:
                self.place_errors(group, result["errors"][index])
            else:
                created[id(group)] = result["created"][index]
        report: list[tuple] = []
        counts = dict.fromkeys(OUTCOMES, 0)
        contacts: set[int] = set()
        companies: set[int] = set()
        for group in batch:
            if group.failed:
                counts["error"] += 1
                first = next(r.number for r in group.rows if r.errors)
                label = f"Order {group.number}" if group.number else "The order"
                for row in group.rows:
                    errors = row.errors or {"__all__": [f"{label} was not imported: see row {first}."]}
                    report.append((row.number, "order", "error", None, errors, None))
            elif group.number in existing:
                counts["skipped"] += 1
                object_id = existing[group.number]
                message = "An order with this number exists already (imported before?): skipped, not updated."
                for row in group.rows:
                    shown = object_id if object_id in visible else None
                    report.append((row.number, "order", "skipped", shown, {"number": [message]}, None))
            else:
                counts["created"] += 1
                object_id = created[id(group)] or None
                for row in group.rows:
                    report.append((row.number, "order", "created", object_id, {}, None))
                if object_id:
                    if group.contact_id:
                        contacts.add(group.contact_id)
                    if group.company_id:
                        companies.add(group.company_id)
        report.sort(key=lambda r: r[0])
        return report, counts, (contacts, companies)

    def resolve_customers(self, groups: list[OrderGroup]) -> None:
        """The contact (by e-mail and/or external id) and the company (by name or domain) of each order,
        among the records the user sees that are not archived. Whether the user may change them is the
        service's check."""
        emails = sorted({g.values["customer_email"] for g in groups if "customer_email" in g.values})
        external = sorted(
            {g.values["customer_external_id"] for g in groups if "customer_external_id" in g.values}
        )
        wanted = {g.values["company_key"]: g.values["company"] for g in groups if "company_key" in g.values}
        visible_contacts = restrict(Contact.objects.filter(archived_at__isnull=True), self.actor, "view")
        by_email: dict[str, set[int]] = {}
        for start in range(0, len(emails), CHUNK):
            pairs = list(
                ContactEmail.objects.filter(email__in=emails[start : start + CHUNK]).values_list(
                    "email", "contact_id"
                )
            )
            seen = set(visible_contacts.filter(pk__in={c for _e, c in pairs}).values_list("pk", flat=True))
            for email, contact_id in pairs:
                if contact_id in seen:
                    by_email.setdefault(email, set()).add(contact_id)
        by_external: dict[str, set[int]] = {}
        for start in range(0, len(external), CHUNK):
            for value, contact_id in visible_contacts.filter(
                external_id__in=external[start : start + CHUNK]
            ).values_list("external_id", "pk"):
                by_external.setdefault(value, set()).add(contact_id)
        companies = self.companies_find(wanted)
        for group in groups:
            contact_id = None
            for name, table, what in (
                ("customer_email", by_email, "e-mail"),
                ("customer_external_id", by_external, "external id"),
            ):
                if name not in group.values:
                    continue
                value = group.values[name]
                ids = table.get(value, set())
                if not ids:
                    group.error(name, f"No contact with the {what} \u201c{value}\u201d that you can see.")
                elif len(ids) > 1:
                    group.error(
                        name, f"{len(ids)} contacts you can see have this {what}: the row cannot tell which."
                    )
                elif contact_id is not None and contact_id not in ids:
                    group.error(name, "The e-mail and the external id name different contacts.")
                else:
                    contact_id = next(iter(ids))
            group.contact_id = contact_id
            if "company_key" in group.values:
                company_id = companies.get(group.values["company_key"])
                if company_id is None:
                    group.error(
                        "company", f"No company \u201c{group.values['company']}\u201d that you can see."
                    )
                group.company_id = company_id

    def companies_find(self, wanted: dict[str, str]) -> dict[str, int]:
        """company key → id among the companies the user sees (not archived); the oldest when several."""
        found: dict[str, int] = {}
        if not wanted:
            return found
        visible = restrict(Company.objects.filter(archived_at__isnull=True), self.actor, "view")
        domains = [k[7:] for k in wanted if k.startswith("domain:")]
        names = [k[5:] for k in wanted if k.startswith("name:")]
        for start in range(0, len(domains), CHUNK):
            for domain, pk in (
                visible.filter(domain__in=domains[start : start + CHUNK])
                .values_list("domain", "pk")
                .order_by("pk")
            ):
                found.setdefault("domain:" + domain, pk)
        originals = [wanted["name:" + n] for n in names]
        for start in range(0, len(names), CHUNK):
            # LOWER() folds only ASCII on SQLite: match the exact text too and fold in Python.
            matching = Q(folded__in=names[start : start + CHUNK]) | Q(
                name__in=originals[start : start + CHUNK]
            )
            for name, pk in (
                visible.annotate(folded=Lower("name"))
                .filter(matching)
                .values_list("name", "pk")
                .order_by("pk")
            ):
                found.setdefault("name:" + name.lower(), pk)
        return found

    def resolve_lines(self, groups: list[OrderGroup]) -> None:
        """Each row with line cells becomes a line: a catalogue product by SKU (case-insensitive; archived
        and inactive products included: past orders name them), or a free-text line when the SKU is
        unknown but the row gives a description and a unit price."""
        skus = sorted(
            {
                r.data["line"]["sku"]
                for g in groups
                for r in g.rows
                if r.data["line"] and "sku" in r.data["line"]
            }
        )
        products: dict[str, list[tuple[int, str]]] = {}
        for start in range(0, len(skus), CHUNK):
            chunk = skus[start : start + CHUNK]
            matching = Q(folded__in=[s.lower() for s in chunk]) | Q(sku__in=chunk)
            for pk, sku in (
                Product.objects.annotate(folded=Lower("sku"))
                .filter(matching)
                .values_list("pk", "sku")
                .order_by("pk")
            ):
                entries = products.setdefault(sku.lower(), [])
                if all(e[0] != pk for e in entries):
                    entries.append((pk, sku))
        for group in groups:
            for row in group.rows:
                line = row.data["line"]
                if not line:
                    continue
                item = {
                    k: line[k]
                    for k in ("description", "category", "quantity", "unit_price", "discount")
                    if k in line
                }
                sku = line.get("sku")
                if sku:
                    candidates = products.get(sku.lower(), [])
                    exact = [c for c in candidates if c[1] == sku]
                    chosen = candidates if len(candidates) <= 1 else exact
                    if len(chosen) == 1:
                        item["product_id"] = chosen[0][0]
                    elif candidates:
                        group.error(
                            "sku",
                            "Several products hold this SKU in different cases: the row cannot tell which.",
                            row.number,
                        )
                    elif "description" in item and "unit_price" in item:
                        item["sku"] = sku  # a free-text line keeps the shop's SKU
                    else:
                        group.error(
                            "sku",
                            f"No product with the SKU \u201c{sku}\u201d. Give a description and a unit price "
                            "to import it as a free-text line.",
                            row.number,
                        )
                group.lines.append((row.number, item))

    def service_row(self, group: OrderGroup) -> dict:
        data: dict = {"number": group.number}
        if group.contact_id:
            data["contact_id"] = group.contact_id
        if group.company_id:
            data["company_id"] = group.company_id
        for name in ("ordered_at", "status", "channel", "currency", "total", "notes"):
            if name in group.values:
                data[name] = group.values[name]
        if group.lines:
            data["lines"] = [item for _n, item in group.lines]
        return data

    def place_errors(self, group: OrderGroup, errors: dict[str, list[str]]) -> None:
        """The service's errors on the rows they come from: `lines.2.quantity` on the third line's row."""
        contact_field = "customer_email" if "customer_email" in group.values else "customer_external_id"
        for key, messages in errors.items():
            parts = key.split(".")
            row_number = None
            if (
                parts[0] == "lines"
                and len(parts) > 1
                and parts[1].isdigit()
                and int(parts[1]) < len(group.lines)
            ):
                row_number = group.lines[int(parts[1])][0]
                name = parts[2] if len(parts) > 2 else "sku"
                name = SERVICE_FIELDS.get(name, name)
            elif parts[0] == "contact_id":
                name = contact_field
            else:
                name = SERVICE_FIELDS.get(parts[0], parts[0])
            for message in messages:
                group.error(name, str(message), row_number)


# ---------------------------------------------------------------------------------------------------------
# Undo


def undo_product_update(row, actor, note: dict) -> list[str]:
    """Write a product's before-image back (history says it was an undo)."""
    try:
        with transaction.atomic():
            product = Product.objects.get(pk=row.object_id)
            data = {**(row.before or {}), "version": product.version}
            product = commerce_services.product_update(actor=actor, product_id=row.object_id, data=data)
            history_record(instance=product, actor=actor, action="updated", changes=note)
    except (ServiceError, Product.DoesNotExist) as exc:
        return [f"row {row.row_number}: {getattr(exc, 'detail', 'the product no longer exists')}"]
    return []


def _remove(model, noun: str, ids: list[int], actor, note: dict) -> None:
    """Delete records nobody changed since the import, as the contacts undo does: an `archived` history
    entry marked `deleted`, a `<noun>.archived` event, the search documents removed."""
    history_record_bulk(
        model=model,
        actor=actor,
        action="archived",
        rows=[(pk, {**note, "deleted": (False, True)}) for pk in ids],
    )
    event_emit_bulk(
        f"{noun}.archived", model=model, actor=actor, rows=[(pk, {"id": pk, "deleted": True}) for pk in ids]
    )
    model.objects.filter(pk__in=ids).delete()
    search.remove(noun, ids)


def undo_created_products(ids: list[int], actor, note: dict) -> list[str]:
    """Products the import created: removed when nobody changed them since and no order line names them,
    archived otherwise."""
    if not commerce_queries.can_change_products(actor):
        return [f"{len(ids)} products: only administrators and managers may change the catalogue."]
    present = Product.objects.filter(pk__in=ids, archived_at__isnull=True)
    untouched = set(present.filter(version=1).values_list("pk", flat=True))
    untouched -= set(
        OrderLine.objects.filter(product_id__in=untouched).values_list("product_id", flat=True).distinct()
    )
    touched = set(present.values_list("pk", flat=True)) - untouched
    if untouched:
        with transaction.atomic():
            _remove(Product, "product", sorted(untouched), actor, note)
    problems: list[str] = []
    for pk in sorted(touched):
        try:
            with transaction.atomic():
                product = commerce_services.product_archive(actor=actor, product_id=pk)
                history_record(instance=product, actor=actor, action="archived", changes=note)
        except ServiceError as exc:
            problems.append(f"product {pk}: {exc.detail}")
    return problems


def undo_created_orders(ids: list[int], actor, note: dict) -> list[str]:
    """Orders the import created: removed (with their lines) when nobody changed them since, archived
    otherwise; either way only where the user may archive them. The customers' summaries follow."""
    problems: list[str] = []
    orders = list(
        commerce_queries.order_restrict(Order.objects.filter(pk__in=ids, archived_at__isnull=True), actor)
        .select_related("contact", "company")
        .order_by("pk")
    )
    allowed = []
    for order in orders:
        if can(actor, "delete", order) and commerce_queries.customer_allows(actor, order, "change"):
            allowed.append(order)
        else:
            problems.append(f"order {order.number}: you may not archive it.")
    untouched = [o for o in allowed if o.version == 1]
    touched = [o for o in allowed if o.version != 1]
    if untouched:
        with transaction.atomic():
            _remove(Order, "order", [o.pk for o in untouched], actor, note)
            commerce_services.summaries_refresh(
                contact_ids=[o.contact_id for o in untouched], company_ids=[o.company_id for o in untouched]
            )
    for order in touched:
        try:
            with transaction.atomic():
                archived = commerce_services.order_archive(actor=actor, order_id=order.pk)
                history_record(instance=archived, actor=actor, action="archived", changes=note)
        except ServiceError as exc:
            problems.append(f"order {order.number}: {exc.detail}")
    return problems
