"""The bulk services the importer uses: `products_bulk_create` (writes what `product_create` writes, for many
rows at once) and `orders_bulk_create(validate_only=True)` (the dry run)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from commerce.models import ContactPurchaseSummary, Order, OrderLine, Product
from commerce.services import orders_bulk_create, product_create, products_bulk_create
from contacts.services import contact_create
from core.errors import PermissionDeniedError
from core.models import HistoryEntry, OutboxEvent
from core.search import document_id
from core.search.models import SearchDocument
from core.search.text import document_text

pytestmark = pytest.mark.django_db


def _history(product_id: int) -> list:
    content_type = ContentType.objects.get_for_model(Product)
    return list(
        HistoryEntry.objects.filter(content_type=content_type, object_id=product_id).values_list(
            "action", "actor_id", "changes"
        )
    )


def _event(product_id: int) -> tuple:
    event = OutboxEvent.objects.get(object_type="commerce.product", object_id=product_id)
    payload = {k: v for k, v in event.payload.items() if k != "id"}
    return event.name, event.actor_id, payload


def _document(product_id: int) -> str:
    return SearchDocument.objects.get(id=document_id("product", product_id)).text


def test_products_bulk_create_writes_what_product_create_writes(org):
    data = {
        "name": "Novel",
        "category": "Books",
        "price": "20.5",
        "currency": "eur",
        "active": False,
        "description": "A long one",
    }
    single = product_create(actor=org.manager, data={**data, "sku": "ONE-1"})
    result = products_bulk_create(
        actor=org.manager, rows=[{**data, "sku": "TWO-1"}, {"sku": "TWO-2", "name": "B"}]
    )
    assert result["errors"] == {}
    first, second = result["created"]
    bulk = Product.objects.get(pk=first)
    assert (bulk.currency, bulk.price, bulk.active) == ("EUR", Decimal("20.50"), False)

    def without_sku(entries):
        return [(a, u, {k: v for k, v in c.items() if k != "sku"}) for a, u, c in entries]

    assert without_sku(_history(first)) == without_sku(_history(single.pk))
    name, actor, payload = _event(single.pk)
    assert _event(first) == (name, actor, {**payload, "sku": "TWO-1"})
    assert _document(first) == document_text("Novel TWO-1 Books")
    assert _document(single.pk) == document_text("Novel ONE-1 Books")
    assert Product.objects.get(pk=second).price == Decimal("0")


def test_products_bulk_create_names_bad_rows_and_writes_the_rest(org):
    product_create(actor=org.admin, data={"sku": "Taken-1", "name": "Old"})
    rows = [
        {"sku": "NEW-1", "name": "Fine", "price": "3.10"},
        {"sku": "taken-1", "name": "Case-insensitive clash"},
        {"sku": "NEW-2", "name": "Bad", "price": "abc"},
        {"sku": "NEW-3", "name": "Negative", "price": "-1"},
        {"sku": "new-1", "name": "Repeated within the rows"},
        {"name": "No SKU", "currency": "EURO"},
        "not an object",
    ]
    result = products_bulk_create(actor=org.admin, rows=rows)
    errors = result["errors"]
    assert set(errors) == {1, 2, 3, 4, 5, 6}
    assert errors[1] == {"sku": ["Another product has this SKU."]}
    assert set(errors[2]) == {"price"} and errors[3] == {"price": ["The price cannot be negative."]}
    assert errors[4] == {"sku": ["Another product has this SKU."]}
    assert set(errors[5]) == {"sku", "currency"}
    assert result["created"][0] and result["created"][1:] == [None] * 6
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["NEW-1", "Taken-1"]


def test_products_bulk_create_rights_and_validate_only(org):
    with pytest.raises(PermissionDeniedError):
        products_bulk_create(actor=org.owner, rows=[{"sku": "X-1", "name": "X"}])
    before = (Product.objects.count(), HistoryEntry.objects.count(), OutboxEvent.objects.count())
    result = products_bulk_create(
        actor=org.manager, rows=[{"sku": "X-1", "name": "X"}, {"sku": "x-1", "name": "Y"}], validate_only=True
    )
    assert result == {"created": [0, None], "errors": {1: {"sku": ["Another product has this SKU."]}}}
    assert (Product.objects.count(), HistoryEntry.objects.count(), OutboxEvent.objects.count()) == before


def test_orders_bulk_create_validate_only_checks_everything_and_writes_nothing(org):
    alice = contact_create(actor=org.owner, data={"first_name": "Alice"})
    rows = [
        {"contact_id": alice.pk, "number": "V-1", "lines": [{"description": "x", "unit_price": "2"}]},
        {"contact_id": alice.pk, "number": "V-1", "total": "1"},
        {"contact_id": alice.pk, "lines": [{"description": "y", "quantity": "0", "unit_price": "1"}]},
    ]
    before = (HistoryEntry.objects.count(), OutboxEvent.objects.count())
    result = orders_bulk_create(actor=org.owner, rows=rows, validate_only=True)
    assert result["created"] == [0, None, None]
    assert set(result["errors"]) == {1, 2} and set(result["errors"][2]) == {"lines.0.quantity"}
    assert Order.objects.count() == 0 and OrderLine.objects.count() == 0
    assert not ContactPurchaseSummary.objects.exists()
    assert (HistoryEntry.objects.count(), OutboxEvent.objects.count()) == before


def test_orders_bulk_create_writes_what_order_create_writes(org):
    """Raw inserts (core.bulkwrite): the order, its lines, the history entry, the event and the search
    document are those of `order_create`, down to the JSON of dates and decimals."""
    from commerce.models import CompanyPurchaseSummary
    from commerce.services import order_create
    from contacts.services import company_create

    alice = contact_create(actor=org.owner, data={"first_name": "Alice", "last_name": "Smith"})
    acme = company_create(actor=org.owner, data={"name": "Acme"})
    book = product_create(
        actor=org.manager, data={"sku": "BK-1", "name": "Book", "category": "Books", "price": "9.90"}
    )
    data = {
        "contact_id": alice.pk,
        "company_id": acme.pk,
        "ordered_at": "2024-05-31T14:30:15.250000+02:00",
        "status": "fulfilled",
        "channel": "phone",
        "currency": "eur",
        "notes": "Call first",
        "lines": [
            {"product_id": book.pk, "quantity": "2", "discount": "12.5"},
            {"description": "Gift wrap", "quantity": "1.5", "unit_price": "1.99", "category": "Extras"},
        ],
    }
    single = order_create(actor=org.owner, data={**data, "number": "ONE"})
    result = orders_bulk_create(actor=org.owner, rows=[{**data, "number": "TWO"}, {"contact_id": alice.pk}])
    assert result["errors"] == {}
    first, second = result["created"]
    order, bare = Order.objects.get(pk=first), Order.objects.get(pk=second)

    def columns(o):
        return {
            f.attname: getattr(o, f.attname)
            for f in Order._meta.concrete_fields
            if f.attname not in {"id", "number", "created_at", "updated_at"}
        }

    assert columns(order) == columns(single)
    assert order.created_at == order.updated_at and order.version == 1 and order.custom == {}
    assert bare.total == Decimal("0.00") and bare.status == "paid" and bare.currency == "USD"

    def lines(o):
        return list(o.lines.values_list(*[f.attname for f in OrderLine._meta.concrete_fields][2:]))

    assert lines(order) == lines(single) and len(lines(order)) == 2
    content_type = ContentType.objects.get_for_model(Order)

    def history(pk):
        entries = list(
            HistoryEntry.objects.filter(content_type=content_type, object_id=pk).values_list(
                "action", "actor_id", "changes"
            )
        )
        return [(a, u, {k: v for k, v in c.items() if k != "number"}) for a, u, c in entries]

    assert history(first) == history(single.pk) and history(first)[0][2]["ordered_at"][1].startswith(
        "2024-05-31T"
    )

    def event(pk):
        found = OutboxEvent.objects.get(object_type="commerce.order", object_id=pk)
        return (
            found.name,
            found.actor_id,
            {k: v for k, v in found.payload.items() if k not in {"id", "number"}},
        )

    assert event(first) == event(single.pk)
    assert SearchDocument.objects.get(id=document_id("order", first)).text == document_text(
        "TWO Alice Smith Acme"
    )
    summary = ContactPurchaseSummary.objects.get(contact=alice)
    assert summary.order_count == 3 and summary.total_spent == 2 * single.total
    assert CompanyPurchaseSummary.objects.get(company=acme).order_count == 2
