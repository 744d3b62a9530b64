"""Importing products and orders: through the API, the services, the pages and `crm import`."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from openpyxl import Workbook

from commerce.models import CompanyPurchaseSummary, ContactPurchaseSummary, Order, OrderLine, Product
from commerce.services import order_create, order_update, product_create, product_update
from contacts.models import Contact
from contacts.services import company_create, contact_create
from core.models import HistoryEntry, OutboxEvent
from imports import engine
from imports.commerce_import import amount_text
from imports.mapping import suggest
from imports.models import ImportJob, ImportRow
from imports.services import import_create

pytestmark = pytest.mark.django_db


def upload(client, content: bytes, name="file.csv", **fields):
    data = {"file": SimpleUploadedFile(name, content), **{k: v for k, v in fields.items() if v is not None}}
    return client.client.post("/api/v1/imports", data=data)


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def report(client, job_id) -> list[dict]:
    response = client.client.get(f"/api/v1/imports/{job_id}/report")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def run(job_id: int) -> ImportJob:
    return engine.job_run(job_id)


def history(model, object_id) -> list[HistoryEntry]:
    content_type = ContentType.objects.get_for_model(model)
    return list(HistoryEntry.objects.filter(content_type=content_type, object_id=object_id).order_by("id"))


def written() -> tuple:
    """Everything an import of products or orders writes."""
    return (
        Product.objects.count(),
        Order.objects.count(),
        OrderLine.objects.count(),
        HistoryEntry.objects.count(),
        OutboxEvent.objects.count(),
        ContactPurchaseSummary.objects.count(),
        CompanyPurchaseSummary.objects.count(),
    )


# ---------------------------------------------------------------------------------------------------------
# Mapping and cell reading


def test_mapping_is_suggested_for_products_and_orders():
    assert suggest(
        "products", ["SKU", "Product name", "Category", "Price", "Currency", "Active", "Details"]
    ) == {
        "SKU": "sku",
        "Product name": "name",
        "Category": "category",
        "Price": "price",
        "Currency": "currency",
        "Active": "active",
        "Details": "description",
    }
    headers = [
        "Order number",
        "Customer e-mail",
        "Customer ID",
        "Company",
        "Order date",
        "Status",
        "Sales channel",
        "Currency",
        "Lineitem SKU",
        "Qty",
        "Unit price",
        "Discount %",
        "Product name",
        "Notes",
    ]
    assert suggest("orders", headers) == {
        "Order number": "number",
        "Customer e-mail": "customer_email",
        "Customer ID": "customer_external_id",
        "Company": "company",
        "Order date": "ordered_at",
        "Status": "status",
        "Sales channel": "channel",
        "Currency": "currency",
        "Lineitem SKU": "sku",
        "Qty": "quantity",
        "Unit price": "unit_price",
        "Discount %": "discount",
        "Product name": "description",
        "Notes": "notes",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9.90", "9.90"),
        ("9,90", "9.90"),
        ("1,234.50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("1,234", "1234"),
        ("€ 12.00", "12.00"),
        ("$1,000,000", "1000000"),
        ("abc", "abc"),
    ],
)
def test_amounts_are_read_with_either_decimal_separator(text, expected):
    assert amount_text(text) == expected


def test_mapping_requirements_for_products_and_orders(org, api_as):
    manager = api_as(org.manager)
    response = upload(manager, b"Name,Price\nX,1\n", kind="products")
    assert response.status_code == 400 and "SKU" in response.json()["errors"]["mapping"][0]
    response = upload(manager, b"SKU,Price\nX-1,1\n", kind="products", key="")
    assert response.status_code == 400 and "name" in response.json()["errors"]["mapping"][0]
    response = upload(manager, b"Email,SKU\na@example.com,X-1\n", kind="orders")
    assert response.status_code == 400 and "order number" in response.json()["errors"]["mapping"][0]
    response = upload(manager, b"Order number,SKU\n1,X-1\n", kind="orders")
    assert response.status_code == 400 and "customer" in response.json()["errors"]["mapping"][0]
    response = upload(manager, b"Order number,Email\n1,a@example.com\n", kind="orders")
    assert response.status_code == 400 and "SKU" in response.json()["errors"]["mapping"][0]
    assert ImportJob.objects.count() == 0


# ---------------------------------------------------------------------------------------------------------
# Products


@pytest.fixture
def catalogue(org):
    return {
        "novel": product_create(
            actor=org.admin,
            data={"sku": "BK-1", "name": "Novel", "category": "Books", "price": "20.00", "currency": "EUR"},
        ),
        "mug": product_create(actor=org.admin, data={"sku": "MUG-1", "name": "Mug", "price": "8.50"}),
    }


PRODUCTS = [
    ["SKU", "Product name", "Category", "Price", "Currency", "Active", "Description"],
    ["bk-1", "Novel (2nd ed.)", "", "22,50", "", "", ""],  # updates BK-1: name and price; empty cells kept
    ["NEW-1", "Notebook", "Stationery", "3.20", "usd", "yes", "A5, dotted"],  # creates
    ["NEW-2", "Broken", "Stationery", "abc", "", "", ""],  # bad price: an error, nothing written
    ["MUG-1", "Renamed mug", "", "-1", "", "", ""],  # an update with a bad price: nothing written
    ["NEW-3", "Pen", "", "1.10", "", "maybe", ""],  # bad active
]


def test_products_create_or_update_by_sku_through_the_api(org, api_as, catalogue):
    client = api_as(org.manager)
    response = upload(client, csv_bytes(PRODUCTS), name="products.csv", kind="products")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["key"] == "sku" and body["mapping"]["Product name"] == "name"  # the default key for products
    job = run(body["id"])
    assert (job.status, job.created_count, job.updated_count, job.error_count) == ("done", 1, 1, 3)

    novel = catalogue["novel"]
    novel.refresh_from_db()
    assert (novel.sku, novel.name, novel.price, novel.category, novel.currency) == (
        "BK-1",
        "Novel (2nd ed.)",
        Decimal("22.50"),
        "Books",
        "EUR",
    )
    change = history(Product, novel.pk)[-1]
    assert change.action == "updated" and change.changes["price"] == ["20.00", "22.50"]
    assert OutboxEvent.objects.filter(name="product.updated", object_id=novel.pk).exists()

    notebook = Product.objects.get(sku="NEW-1")
    assert (notebook.name, notebook.price, notebook.currency, notebook.active) == (
        "Notebook",
        Decimal("3.20"),
        "USD",
        True,
    )
    assert [h.action for h in history(Product, notebook.pk)] == ["created"]
    assert OutboxEvent.objects.filter(name="product.created", object_id=notebook.pk).count() == 1
    assert api_as(org.owner).get("/api/v1/products", q="notebook").json()["items"][0]["id"] == notebook.pk

    assert not Product.objects.filter(sku__in=["NEW-2", "NEW-3"]).exists()
    mug = catalogue["mug"]
    mug.refresh_from_db()
    assert (mug.name, mug.price, mug.version) == ("Mug", Decimal("8.50"), 1)  # whole row refused

    lines = report(client, job.pk)
    assert [(r["row"], r["outcome"], r["record_type"], r["field"]) for r in lines] == [
        ("2", "updated", "product", ""),
        ("3", "created", "product", ""),
        ("4", "error", "product", "price"),
        ("5", "error", "product", "price"),
        ("6", "error", "product", "active"),
    ]
    assert "negative" in lines[3]["message"]


def test_products_from_xlsx_and_a_repeated_sku_updates_what_the_file_created(org, api_as):
    content = xlsx_bytes(
        [
            ["Item code", "Title", "List price", "Enabled", "Type"],
            [1001, "Lamp", 12.5, False, "Home"],
            ["X-2", "Chair", 40, True, "Home"],
            [1001, "Lamp", 13, None, None],
        ]
    )
    job = run(upload(api_as(org.admin), content, name="products.xlsx", kind="products").json()["id"])
    assert (job.created_count, job.updated_count, job.error_count) == (2, 1, 0), list(job.rows.values())
    lamp = Product.objects.get(sku="1001")
    assert (lamp.name, lamp.price, lamp.active, lamp.category) == ("Lamp", Decimal("13.00"), False, "Home")
    assert Product.objects.get(sku="X-2").price == Decimal("40.00")


def test_an_archived_product_is_not_updated_from_a_file(org, api_as, catalogue):
    from commerce.services import product_archive

    product_archive(actor=org.admin, product_id=catalogue["mug"].pk)
    client = api_as(org.admin)
    job = run(upload(client, b"SKU,Name\nMUG-1,Big mug\n", kind="products").json()["id"])
    assert (job.updated_count, job.error_count) == (0, 1)
    (line,) = report(client, job.pk)
    assert line["field"] == "sku" and "archived" in line["message"]
    catalogue["mug"].refresh_from_db()
    assert catalogue["mug"].name == "Mug"


def test_only_catalogue_writers_import_products(org, api_as, page_as):
    assert upload(api_as(org.owner), csv_bytes(PRODUCTS), kind="products").status_code == 403
    assert upload(api_as(org.readonly), csv_bytes(PRODUCTS), kind="products").status_code == 403
    page = page_as(org.owner).post(
        reverse("imports:import_new"),
        {"kind": "products", "file": SimpleUploadedFile("p.csv", csv_bytes(PRODUCTS))},
    )
    assert page.status_code == 403
    assert ImportJob.objects.count() == 0
    # A manager who started an import and lost the role before it ran: the job fails, nothing written.
    job_id = upload(api_as(org.manager), csv_bytes(PRODUCTS), kind="products").json()["id"]
    org.manager.role = "member"
    org.manager.save()
    job = run(job_id)
    assert job.status == "failed" and "catalogue" in job.message
    assert Product.objects.count() == 0


def test_products_dry_run_writes_nothing(org, api_as, catalogue):
    client = api_as(org.manager)
    before = written()
    job = run(upload(client, csv_bytes(PRODUCTS), kind="products", dry_run="true").json()["id"])
    assert (job.status, job.created_count, job.updated_count, job.error_count) == ("done", 1, 1, 3)
    assert written() == before
    catalogue["novel"].refresh_from_db()
    assert catalogue["novel"].name == "Novel"
    assert client.post(f"/api/v1/imports/{job.pk}/undo").status_code == 400


def test_products_undo_removes_created_and_restores_updated(org, api_as, catalogue):
    client = api_as(org.manager)
    rows = [
        ["SKU", "Name", "Price"],
        ["BK-1", "Novel (2nd ed.)", "22.50"],
        ["NEW-1", "Notebook", "3.20"],
        ["NEW-2", "Ruler", "1.00"],
        ["NEW-3", "Eraser", "0.50"],
    ]
    job = run(upload(client, csv_bytes(rows), kind="products").json()["id"])
    assert (job.created_count, job.updated_count) == (3, 1)
    ruler = Product.objects.get(sku="NEW-2")
    product_update(actor=org.admin, product_id=ruler.pk, data={"version": 1, "name": "Long ruler"})
    eraser = Product.objects.get(sku="NEW-3")
    alice = contact_create(actor=org.owner, data={"first_name": "Alice"})
    order_create(actor=org.owner, data={"contact_id": alice.pk, "lines": [{"product_id": eraser.pk}]})

    assert client.post(f"/api/v1/imports/{job.pk}/undo").status_code == 202
    job = engine.job_undo(job.pk, org.manager)
    assert job.status == "undone" and job.message == ""
    novel = catalogue["novel"]
    novel.refresh_from_db()
    assert (novel.name, novel.price) == ("Novel", Decimal("20.00"))
    assert history(Product, novel.pk)[-1].changes["undo_of_import"] == [None, job.pk]
    assert not Product.objects.filter(sku="NEW-1").exists()  # nobody touched it: removed
    ruler.refresh_from_db()
    eraser.refresh_from_db()
    assert ruler.archived_at is not None and eraser.archived_at is not None  # changed / sold since: archived
    assert api_as(org.owner).get("/api/v1/products", q="notebook").json()["items"] == []


# ---------------------------------------------------------------------------------------------------------
# Orders


@pytest.fixture
def shop(org, catalogue):
    ada = contact_create(
        actor=org.owner, data={"first_name": "Ada", "email": "ada@example.com", "external_id": "C-1"}
    )
    acme = company_create(actor=org.owner, data={"name": "Acme", "domain": "acme.example"})
    hidden = contact_create(actor=org.other, data={"first_name": "Hidden", "email": "hidden@example.com"})
    earlier = order_create(
        actor=org.owner,
        data={"contact_id": ada.pk, "number": "1000", "lines": [{"product_id": catalogue["mug"].pk}]},
    )
    return {"ada": ada, "acme": acme, "hidden": hidden, "earlier": earlier, **catalogue}


ORDERS = [
    [
        "Order number",
        "Email",
        "Company",
        "Order date",
        "Status",
        "Channel",
        "SKU",
        "Qty",
        "Unit price",
        "Discount",
        "Description",
    ],
    ["1001", "ada@example.com", "", "2024-05-01", "Paid", "web", "BK-1", "2", "10", "10%", ""],
    ["1001", "", "", "", "", "", "mug-1", "1", "", "", ""],
    ["1002", "", "acme.example", "05/02/2024", "shipped", "Store", "", "1", "25.00", "", "Gift wrap"],
    ["1003", "ada@example.com", "", "2024-05-03", "", "", "NOPE-1", "1", "", "", ""],  # unknown SKU
    ["1003", "ada@example.com", "", "", "", "", "BK-1", "1", "", "", ""],
    ["1004", "hidden@example.com", "", "2024-05-04", "", "", "BK-1", "1", "", "", ""],  # customer not visible
    ["1000", "ada@example.com", "", "2024-05-05", "", "", "BK-1", "1", "", "", ""],  # imported before
    ["1005", "ADA@example.com", "", "2024-05-06", "", "", "BOX-9", "1", "9.99", "", "Mystery box"],
    ["1002", "", "acme.example", "", "", "", "MUG-1", "3", "", "", ""],  # the same order, not adjacent
]


def test_orders_grouped_by_number_with_per_order_errors(org, api_as, shop):
    client = api_as(org.owner)
    response = upload(client, csv_bytes(ORDERS), name="orders.csv", kind="orders")
    assert response.status_code == 201, response.content
    assert response.json()["key"] == "number"
    job = run(response.json()["id"])
    assert (job.status, job.processed_rows, job.total_rows) == ("done", 9, 9)
    assert (job.created_count, job.updated_count, job.skipped_count, job.error_count) == (3, 0, 1, 2)

    first = Order.objects.get(number="1001")
    assert (first.contact_id, first.company_id, first.status, first.channel) == (
        shop["ada"].pk,
        None,
        "paid",
        "web",
    )
    assert first.ordered_at.date().isoformat() == "2024-05-01" and first.currency == "EUR"
    assert [
        (line.sku, line.quantity, line.unit_price, line.discount, line.line_total)
        for line in first.lines.all()
    ] == [
        ("BK-1", Decimal("2"), Decimal("10.00"), Decimal("10"), Decimal("18.00")),
        ("MUG-1", Decimal("1"), Decimal("8.50"), Decimal("0"), Decimal("8.50")),  # the product's price
    ]
    assert first.total == Decimal("26.50") and first.owner_id == org.owner.pk

    second = Order.objects.get(number="1002")
    assert (second.company_id, second.contact_id, second.status, second.channel) == (
        shop["acme"].pk,
        None,
        "fulfilled",
        "store",
    )
    assert [(line.product_id, line.description, line.line_total) for line in second.lines.all()] == [
        (None, "Gift wrap", Decimal("25.00")),
        (shop["mug"].pk, "Mug", Decimal("25.50")),
    ]
    free = Order.objects.get(number="1005").lines.get()
    assert (free.product_id, free.sku, free.description, free.unit_price) == (
        None,
        "BOX-9",
        "Mystery box",
        Decimal("9.99"),
    )
    assert not Order.objects.filter(number__in=["1003", "1004"]).exists()  # nothing of refused orders
    assert shop["earlier"].lines.count() == 1 and Order.objects.get(number="1000").version == 1

    ada = ContactPurchaseSummary.objects.get(contact=shop["ada"])
    assert (ada.order_count, ada.total_spent) == (3, Decimal("8.50") + Decimal("26.50") + Decimal("9.99"))
    assert CompanyPurchaseSummary.objects.get(company=shop["acme"]).total_spent == Decimal("50.50")
    created = history(Order, first.pk)[0]
    assert created.action == "created" and len(created.changes["lines"][1]) == 2
    assert OutboxEvent.objects.filter(name="order.created").count() == 4  # 1000 and the three imported

    lines = {(r["row"], r["field"]): r for r in report(client, job.pk)}
    assert {r["row"]: r["outcome"] for r in lines.values()} == {
        "2": "created",
        "3": "created",
        "4": "created",
        "5": "error",
        "6": "error",
        "7": "error",
        "8": "skipped",
        "9": "created",
        "10": "created",
    }
    assert lines[("2", "")]["record_id"] == lines[("3", "")]["record_id"] == str(first.pk)
    assert lines[("4", "")]["record_id"] == lines[("10", "")]["record_id"] == str(second.pk)
    assert "NOPE-1" in lines[("5", "sku")]["message"]
    assert "see row 5" in lines[("6", "")]["message"]
    assert "hidden@example.com" in lines[("7", "customer_email")]["message"]
    assert "can see" in lines[("7", "customer_email")]["message"]
    assert "skipped" in lines[("8", "number")]["message"]
    assert lines[("8", "number")]["record_id"] == str(shop["earlier"].pk)


def test_the_rows_of_an_order_must_agree_and_line_errors_name_their_row(org, api_as, shop):
    rows = [
        ["Order", "E-mail", "Customer ID", "SKU", "Quantity", "Status", "Date", "Total"],
        ["A-1", "ada@example.com", "", "BK-1", "1", "paid", "", ""],
        ["A-1", "other@example.com", "", "BK-1", "1", "", "", ""],  # another customer
        ["A-2", "", "C-1", "BK-1", "0", "", "", ""],  # bad quantity (the service's check)
        ["A-3", "ada@example.com", "", "BK-1", "1", "lost", "yesterday", ""],  # bad status and date
        ["A-4", "ada@example.com", "", "", "", "", "", "12.00"],  # an order without lines
        ["A-5", "ada@example.com", "C-1", "BK-1", "1", "", "", "3.00"],  # the total is the sum of the lines
        ["", "ada@example.com", "", "BK-1", "1", "", "", ""],  # no number
    ]
    client = api_as(org.owner)
    job = run(upload(client, csv_bytes(rows), kind="orders").json()["id"])
    assert (job.created_count, job.error_count) == (1, 5), list(job.rows.values())
    assert Order.objects.get(number="A-4").total == Decimal("12.00")
    assert set(Order.objects.values_list("number", flat=True)) == {"1000", "A-4"}
    errors = {(r["row"], r["field"]) for r in report(client, job.pk) if r["outcome"] == "error"}
    assert errors == {
        ("2", ""),
        ("3", "customer_email"),
        ("4", "quantity"),
        ("5", "status"),
        ("5", "ordered_at"),
        ("7", "total"),
        ("8", "number"),
    }


def test_orders_of_one_number_stay_together_across_batches(org, api_as, shop, monkeypatch):
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    rows = [["Order number", "Email", "SKU", "Qty"]]
    rows += [["B-1", "ada@example.com", "BK-1", "1"], ["B-2", "ada@example.com", "MUG-1", "1"]] * 3
    job = run(upload(api_as(org.owner), csv_bytes(rows), kind="orders").json()["id"])
    assert (job.created_count, job.error_count, job.processed_rows) == (2, 0, 6)
    assert Order.objects.get(number="B-1").lines.count() == 3
    assert Order.objects.get(number="B-2").total == Decimal("25.50")


def test_orders_dry_run_writes_nothing(org, api_as, shop):
    client = api_as(org.owner)
    before = written()
    job = run(upload(client, csv_bytes(ORDERS), kind="orders", dry_run="true").json()["id"])
    assert (job.status, job.created_count, job.skipped_count, job.error_count) == ("done", 3, 1, 2)
    assert written() == before
    outcomes = [r["outcome"] for r in report(client, job.pk)]
    assert outcomes.count("created") == 5 and outcomes.count("error") == 3
    assert client.post(f"/api/v1/imports/{job.pk}/undo").status_code == 400


def test_orders_undo_removes_or_archives_and_refreshes_summaries(org, api_as, shop):
    client = api_as(org.owner)
    job = run(upload(client, csv_bytes(ORDERS), kind="orders").json()["id"])
    changed = Order.objects.get(number="1005")
    order_update(actor=org.owner, order_id=changed.pk, data={"version": 1, "notes": "Called"})
    assert client.post(f"/api/v1/imports/{job.pk}/undo").status_code == 202
    job = engine.job_undo(job.pk, org.owner)
    assert job.status == "undone" and job.message == ""
    assert set(Order.objects.values_list("number", flat=True)) == {"1000", "1005"}
    changed.refresh_from_db()
    assert changed.archived_at is not None
    assert OrderLine.objects.filter(order__number__in=["1001", "1002"]).count() == 0
    summary = ContactPurchaseSummary.objects.get(contact=shop["ada"])
    assert (summary.order_count, summary.total_spent) == (1, Decimal("8.50"))
    assert not CompanyPurchaseSummary.objects.filter(company=shop["acme"]).exists()
    order_type = ContentType.objects.get_for_model(Order)
    notes = HistoryEntry.objects.filter(content_type=order_type, changes__has_key="undo_of_import")
    assert notes.count() == 3  # two removed, one archived


def test_a_failed_orders_import_refreshes_the_summaries_it_committed(org, api_as, shop, monkeypatch):
    monkeypatch.setattr(engine, "BATCH_SIZE", 1)
    real = engine.ImportRun.write_report
    calls = []

    def write_report(self, report, counts=None):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(self, report, counts)

    monkeypatch.setattr(engine.ImportRun, "write_report", write_report)
    rows = [
        ["Order number", "Email", "SKU"],
        ["C-1", "ada@example.com", "BK-1"],
        ["C-2", "ada@example.com", "BK-1"],
    ]
    job = run(upload(api_as(org.owner), csv_bytes(rows), kind="orders").json()["id"])
    assert job.status == "failed" and "disk full" in job.message
    assert set(Order.objects.values_list("number", flat=True)) == {"1000", "C-1"}  # C-2 rolled back whole
    assert ContactPurchaseSummary.objects.get(contact=shop["ada"]).order_count == 2


def test_undoing_contacts_that_have_orders_since_archives_them(org, api_as):
    client = api_as(org.owner)
    job = run(upload(client, b"First name,Email\nZed,zed@example.com\nYan,yan@example.com\n").json()["id"])
    zed = Contact.objects.get(first_name="Zed")
    order_create(actor=org.owner, data={"contact_id": zed.pk, "total": "5"})
    engine.job_undo(job.pk, org.owner)
    zed.refresh_from_db()
    assert zed.archived_at is not None and not Contact.objects.filter(first_name="Yan").exists()


# ---------------------------------------------------------------------------------------------------------
# Pages and the command line


def test_wizard_pages_for_orders(org, page_as, shop):
    client = page_as(org.owner)
    page = client.get(reverse("imports:import_new")).content.decode()
    assert 'value="products"' in page and 'value="orders"' in page
    response = client.post(
        reverse("imports:import_new"),
        {"kind": "orders", "file": SimpleUploadedFile("o.csv", csv_bytes(ORDERS))},
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    mapping_url = reverse("imports:import_mapping", args=[job.pk])
    page = client.get(mapping_url).content.decode()
    assert "Customer e-mail (a contact)" in page and "Product SKU" in page
    assert "never: create every row" not in page
    form = {f"map_{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers)}
    assert client.post(mapping_url, {**form, "key": "", "template_name": "Shop export"}).status_code == 302
    job.refresh_from_db()
    assert (job.status, job.key) == ("pending", "number")
    run(job.pk)
    detail = client.get(reverse("imports:import_detail", args=[job.pk])).content.decode()
    assert "Rows with errors" in detail and "NOPE-1" in detail
    assert client.get(reverse("imports:import_progress", args=[job.pk])).status_code == 200
    assert client.get(reverse("imports:import_report", args=[job.pk])).status_code == 200
    assert "Shop export" in client.get(reverse("imports:template_list")).content.decode()


def test_wizard_pages_for_products(org, page_as, catalogue):
    client = page_as(org.manager)
    response = client.post(
        reverse("imports:import_new"),
        {"kind": "products", "file": SimpleUploadedFile("p.csv", csv_bytes(PRODUCTS))},
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    page = client.get(reverse("imports:import_mapping", args=[job.pk])).content.decode()
    assert "Active (yes/no)" in page and "Create companies" not in page
    form = {f"map_{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers)}
    response = client.post(reverse("imports:import_mapping", args=[job.pk]), {**form, "key": "sku"})
    assert response.status_code == 302
    assert run(job.pk).updated_count == 1


def test_import_command_for_products_and_orders(org, shop, tmp_path, capsys):
    products = tmp_path / "products.csv"
    products.write_bytes(csv_bytes(PRODUCTS))
    report_path = tmp_path / "report.csv"
    call_command(
        "import", "products", str(products), "--key", "sku", "--user", "manager", "--report", str(report_path)
    )
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["created"], summary["updated"], summary["errors"]) == (1, 1, 3)
    assert [line["outcome"] for line in csv.DictReader(report_path.open())] == [
        "updated",
        "created",
        "error",
        "error",
        "error",
    ]

    orders = tmp_path / "orders.csv"
    orders.write_bytes(csv_bytes(ORDERS))
    call_command("import", "orders", str(orders), "--user", "owner", "--dry-run")
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["created"], summary["skipped"], summary["counted"], summary["dry_run"]) == (
        3,
        1,
        "orders",
        True,
    )
    assert Order.objects.count() == 1
    call_command("import", "orders", str(orders), "--user", "owner")
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["created"], summary["skipped"], summary["errors"], summary["rows"]) == (3, 1, 2, 9)
    assert Order.objects.count() == 4
    call_command("import", "orders", str(orders), "--user", "owner")  # again: every order skipped or refused
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["created"], summary["skipped"]) == (0, 4)
    assert Order.objects.count() == 4


def test_import_create_service_refuses_vcards_for_commerce_kinds(org):
    from core.errors import ValidationError

    with pytest.raises(ValidationError):
        import_create(actor=org.owner, kind="orders", upload=SimpleUploadedFile("a.vcf", b"BEGIN:VCARD\n"))
    assert ImportRow.objects.count() == 0
