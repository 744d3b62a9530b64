"""The commerce API: products, orders with lines, purchase summaries and their query-language fields."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commerce.models import ContactPurchaseSummary, Order, OrderLine
from commerce.services import line_total, order_create, orders_bulk_create, product_create
from contacts.services import company_create, contact_create
from core.errors import PermissionDeniedError
from core.models import HistoryEntry, OutboxEvent
from core.testing import assert_matches_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(org):
    books = product_create(
        actor=org.admin,
        data={"sku": "BK-1", "name": "Novel", "category": "Books", "price": "20.00", "currency": "EUR"},
    )
    mug = product_create(
        actor=org.admin, data={"sku": "MUG-1", "name": "Mug", "category": "Kitchen", "price": "8.50"}
    )
    company = company_create(actor=org.owner, data={"name": "Acme"})
    alice = contact_create(actor=org.owner, data={"first_name": "Alice", "company_id": company.pk})
    bob = contact_create(actor=org.owner, data={"first_name": "Bob"})
    return {"books": books, "mug": mug, "company": company, "alice": alice, "bob": bob}


def test_product_crud_history_and_conflict(org, api_as):
    admin = api_as(org.admin)
    response = admin.post(
        "/api/v1/products", {"sku": " SKU-9 ", "name": "Lamp", "price": "49.9", "currency": "eur"}
    )
    assert response.status_code == 201, response.content
    assert_matches_spec(response, "post", "/api/v1/products")
    product = response.json()
    assert (product["sku"], product["price"], product["currency"]) == ("SKU-9", "49.90", "EUR")
    response = admin.patch(f"/api/v1/products/{product['id']}", {"version": 1, "category": "Lights"})
    assert response.status_code == 200 and response.json()["version"] == 2
    stale = admin.patch(f"/api/v1/products/{product['id']}", {"version": 1, "category": "Other"})
    assert stale.status_code == 409
    assert_matches_spec(stale, "patch", "/api/v1/products/{product_id}")
    history = admin.get(f"/api/v1/products/{product['id']}/history").json()["items"]
    assert [h["action"] for h in history] == ["updated", "created"]
    assert history[0]["changes"] == [{"field": "category", "old": "", "new": "Lights"}]
    assert admin.delete(f"/api/v1/products/{product['id']}").status_code == 204
    assert [p["id"] for p in admin.get("/api/v1/products").json()["items"]] == []
    assert admin.get("/api/v1/products", archived="true").json()["items"][0]["id"] == product["id"]
    # Members see the catalogue but may not change it.
    member = api_as(org.owner)
    assert member.get(f"/api/v1/products/{product['id']}").status_code == 200
    assert member.post("/api/v1/products", {"sku": "X", "name": "X"}).status_code == 403


def test_product_bad_fields_are_named(org, api_as):
    admin = api_as(org.admin)
    product_create(actor=org.admin, data={"sku": "TAKEN", "name": "A"})
    response = admin.post("/api/v1/products", {"sku": "taken", "name": "", "price": "-1", "currency": "EURO"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"sku", "name", "price", "currency"}
    assert_matches_spec(response, "post", "/api/v1/products")


def test_product_list_filter_search_sort(org, api_as, shop):
    client = api_as(org.teammate)
    items = client.get("/api/v1/products", filter='category = "Books"').json()["items"]
    assert [p["sku"] for p in items] == ["BK-1"]
    assert [p["sku"] for p in client.get("/api/v1/products", q="mug").json()["items"]] == ["MUG-1"]
    assert [p["sku"] for p in client.get("/api/v1/products", sort="-price").json()["items"]] == [
        "BK-1",
        "MUG-1",
    ]
    assert client.get("/api/v1/products", sort="colour").json()["errors"] == {
        "sort": ["Sort by one of: category, id, name, price, sku (prefix - to reverse)."]
    }


def test_line_totals_with_percent_discounts(org, api_as, shop):
    assert line_total(Decimal("3"), Decimal("9.99"), Decimal("10")) == Decimal("26.97")
    assert line_total(Decimal("0.5"), Decimal("0.05"), Decimal("0")) == Decimal("0.03")  # half up
    client = api_as(org.owner)
    response = client.post(
        "/api/v1/orders",
        {
            "contact_id": shop["alice"].pk,
            "number": "WEB-1",
            "lines": [
                {"product_id": shop["books"].pk, "quantity": "2", "discount": "25"},
                {"description": "Gift wrap", "quantity": 1, "unit_price": "3.10"},
            ],
        },
    )
    assert response.status_code == 201, response.content
    assert_matches_spec(response, "post", "/api/v1/orders")
    order = response.json()
    assert order["total"] == "33.10"  # 2 × 20.00 − 25 % = 30.00, + 3.10
    assert order["currency"] == "EUR"  # from the first product
    assert [(line["sku"], line["category"], line["line_total"]) for line in order["lines"]] == [
        ("BK-1", "Books", "30.00"),
        ("", "", "3.10"),
    ]
    assert order["contact_name"] == "Alice"
    assert OutboxEvent.objects.filter(name="order.created", object_id=order["id"]).count() == 1
    # A given total must match the lines.
    response = client.post(
        "/api/v1/orders",
        {"contact_id": shop["alice"].pk, "total": "5", "lines": [{"description": "x", "unit_price": "1"}]},
    )
    assert response.status_code == 400 and set(response.json()["errors"]) == {"total"}


def test_every_bad_order_field_is_named_and_nothing_is_written(org, api_as, shop):
    client = api_as(org.owner)
    before = (Order.objects.count(), OrderLine.objects.count(), HistoryEntry.objects.count())
    response = client.post(
        "/api/v1/orders",
        {
            "status": "shipped",
            "channel": "fax",
            "currency": "EU",
            "ordered_at": "2024-13-45",
            "lines": [
                {"description": "ok", "unit_price": "1"},
                {"product_id": 999999},
                {"description": "x", "quantity": "0", "unit_price": "-2", "discount": "150"},
                {"description": "y", "quantity": "abc"},
            ],
        },
    )
    assert response.status_code == 400
    assert_matches_spec(response, "post", "/api/v1/orders")
    assert set(response.json()["errors"]) == {
        "contact_id",
        "status",
        "channel",
        "currency",
        "ordered_at",
        "lines.1.product_id",
        "lines.2.quantity",
        "lines.2.unit_price",
        "lines.2.discount",
        "lines.3.quantity",
        "lines.3.unit_price",
    }
    assert (Order.objects.count(), OrderLine.objects.count(), HistoryEntry.objects.count()) == before
    # A contact the user cannot see is "no such contact"; unknown fields are refused by the schema.
    other = api_as(org.other)
    response = other.post("/api/v1/orders", {"contact_id": shop["alice"].pk, "total": "1"})
    assert response.status_code == 400 and set(response.json()["errors"]) == {"contact_id"}
    response = client.post("/api/v1/orders", {"contact_id": shop["alice"].pk, "colour": "red"})
    assert response.status_code == 400 and "colour" in response.json()["errors"]


def test_order_update_conflict_history_and_visibility(org, api_as, shop):
    client = api_as(org.owner)
    order = client.post("/api/v1/orders", {"contact_id": shop["alice"].pk, "total": "10.00"}).json()
    response = client.patch(
        f"/api/v1/orders/{order['id']}", {"version": 1, "status": "fulfilled", "total": "12"}
    )
    assert response.status_code == 200, response.content
    assert_matches_spec(response, "patch", "/api/v1/orders/{order_id}")
    assert response.json()["total"] == "12.00"
    assert client.patch(f"/api/v1/orders/{order['id']}", {"version": 1, "notes": "x"}).status_code == 409
    history = client.get(f"/api/v1/orders/{order['id']}/history").json()["items"]
    assert {c["field"] for c in history[0]["changes"]} == {"status", "total"}
    assert OutboxEvent.objects.filter(name="order.status_changed").count() == 1
    # Replacing the lines recomputes the total; the total of an order with lines cannot be set alone.
    response = client.patch(
        f"/api/v1/orders/{order['id']}",
        {"version": 2, "lines": [{"product_id": shop["mug"].pk, "quantity": 3}]},
    )
    assert response.json()["total"] == "25.50"
    response = client.patch(f"/api/v1/orders/{order['id']}", {"version": 3, "total": "1"})
    assert response.status_code == 400 and set(response.json()["errors"]) == {"total"}
    # Team B sees neither the order nor (in lists) anything of it.
    assert api_as(org.other).get(f"/api/v1/orders/{order['id']}").status_code == 404
    assert api_as(org.other).get("/api/v1/orders").json()["items"] == []


def test_an_order_owner_sees_it_even_without_the_customer(org, api_as, shop):
    private = contact_create(actor=org.manager, data={"first_name": "Hidden", "team_id": 0})
    order = order_create(
        actor=org.manager, data={"contact_id": private.pk, "total": "5", "owner_id": org.owner.pk}
    )
    client = api_as(org.owner)
    assert client.get(f"/api/v1/contacts/{private.pk}").status_code == 404
    assert client.get(f"/api/v1/orders/{order.pk}").status_code == 200
    assert [o["id"] for o in client.get("/api/v1/orders").json()["items"]] == [order.pk]
    # …but changing it needs `change` on the customer.
    assert client.patch(f"/api/v1/orders/{order.pk}", {"version": 1, "notes": "x"}).status_code == 403


def test_summaries_follow_create_update_cancel_and_archive(org, api_as, shop):
    client = api_as(org.owner)
    alice, company = shop["alice"], shop["company"]
    old = (timezone.now() - dt.timedelta(days=200)).isoformat()
    first = client.post(
        "/api/v1/orders",
        {
            "contact_id": alice.pk,
            "company_id": company.pk,
            "ordered_at": old,
            "lines": [{"product_id": shop["books"].pk, "quantity": 1}],
        },
    ).json()
    second = client.post(
        "/api/v1/orders",
        {"contact_id": alice.pk, "lines": [{"product_id": shop["mug"].pk, "quantity": 2}]},
    ).json()
    purchases = client.get(f"/api/v1/contacts/{alice.pk}/purchases")
    assert_matches_spec(purchases, "get", "/api/v1/contacts/{contact_id}/purchases")
    summary = purchases.json()["summary"]
    assert (summary["order_count"], summary["total_spent"], summary["average_order"]) == (2, "37.00", "18.50")
    assert summary["favourite_categories"] == ["Books", "Kitchen"]
    assert [o["id"] for o in purchases.json()["recent_orders"]] == [second["id"], first["id"]]
    company_summary = client.get(f"/api/v1/companies/{company.pk}/purchases").json()["summary"]
    assert (company_summary["order_count"], company_summary["total_spent"]) == (1, "20.00")
    # Cancelling takes the order out of the figures.
    client.patch(f"/api/v1/orders/{second['id']}", {"version": 1, "status": "cancelled"})
    summary = client.get(f"/api/v1/contacts/{alice.pk}/purchases").json()["summary"]
    assert (summary["order_count"], summary["total_spent"], summary["favourite_categories"]) == (
        1,
        "20.00",
        ["Books"],
    )
    # Archiving the last counting order removes the summary; restoring brings it back.
    assert client.delete(f"/api/v1/orders/{first['id']}").status_code == 204
    assert not ContactPurchaseSummary.objects.filter(contact=alice).exists()
    summary = client.get(f"/api/v1/contacts/{alice.pk}/purchases").json()["summary"]
    assert (summary["order_count"], summary["total_spent"], summary["last_order_at"]) == (0, "0.00", None)
    assert client.post(f"/api/v1/orders/{first['id']}/restore").status_code == 200
    assert ContactPurchaseSummary.objects.get(contact=alice).order_count == 1
    # Moving an order to another contact refreshes both.
    client.patch(f"/api/v1/orders/{first['id']}", {"version": 3, "contact_id": shop["bob"].pk})
    assert not ContactPurchaseSummary.objects.filter(contact=alice).exists()
    assert ContactPurchaseSummary.objects.get(contact=shop["bob"]).order_count == 1


def _ids(client, path, text):
    response = client.get(path, filter=text)
    assert response.status_code == 200, response.content
    return sorted(item["id"] for item in response.json()["items"])


def test_query_language_on_contacts_and_companies(org, api_as, shop):
    alice, bob, company = shop["alice"], shop["bob"], shop["company"]
    carol = contact_create(actor=org.owner, data={"first_name": "Carol"})
    long_ago = timezone.now() - dt.timedelta(days=120)
    for days in (400, 300, 120):
        order_create(
            actor=org.owner,
            data={
                "contact_id": alice.pk,
                "company_id": company.pk,
                "ordered_at": timezone.now() - dt.timedelta(days=days),
                "lines": [{"product_id": shop["books"].pk, "quantity": 10}],
            },
        )
    order_create(actor=org.owner, data={"contact_id": bob.pk, "lines": [{"product_id": shop["mug"].pk}]})
    order_create(actor=org.owner, data={"contact_id": bob.pk, "status": "refunded", "total": "999"})
    client = api_as(org.teammate)
    path = "/api/v1/contacts"
    assert _ids(client, path, "orders.count >= 3 and orders.last_date < 90d") == [alice.pk]
    assert _ids(client, path, "orders.count >= 3 and orders.last_date > 90d") == []
    assert _ids(client, path, "orders.count < 1") == [carol.pk]  # no orders counts as 0
    assert _ids(client, path, "orders.count = 1") == [bob.pk]  # the refunded order does not count
    assert _ids(client, path, "orders.total > 500") == [alice.pk]
    assert _ids(client, path, "orders.avg = 8.5") == [bob.pk]
    assert _ids(client, path, f"orders.first_date < {long_ago.date().isoformat()}") == [alice.pk]
    assert _ids(client, path, "orders.last_date is empty") == [carol.pk]
    assert _ids(client, path, 'orders.category = "books"') == [alice.pk]
    assert _ids(client, path, 'orders.category != "Books"') == sorted([bob.pk, carol.pk])
    assert _ids(client, path, 'orders.category in ("Books", "Kitchen")') == sorted([alice.pk, bob.pk])
    assert _ids(client, path, "not orders.count >= 1") == [carol.pk]
    assert _ids(client, "/api/v1/companies", "orders.count = 3 and orders.total >= 600") == [company.pk]
    response = client.get(path, filter="orders.count >= many")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"filter"}
    # The figures never reveal contacts the user may not see.
    assert _ids(api_as(org.other), path, "orders.count >= 0") == []


def test_order_list_filter_sort_fields_and_cursor(org, api_as, shop):
    for index in range(5):
        order_create(
            actor=org.owner,
            data={"contact_id": shop["alice"].pk, "number": f"N-{index}", "total": str(10 * index)},
        )
    client = api_as(org.teammate)
    response = client.get("/api/v1/orders", limit=2, sort="-total")
    assert_matches_spec(response, "get", "/api/v1/orders")
    page = response.json()
    assert [o["number"] for o in page["items"]] == ["N-4", "N-3"]
    page2 = client.get("/api/v1/orders", limit=2, sort="-total", cursor=page["next_cursor"]).json()
    assert [o["number"] for o in page2["items"]] == ["N-2", "N-1"]
    assert [o["number"] for o in client.get("/api/v1/orders", filter="total >= 30").json()["items"]] == [
        "N-4",
        "N-3",
    ]
    assert [o["number"] for o in client.get("/api/v1/orders", q="N-2").json()["items"]] == ["N-2"]
    assert [o["number"] for o in client.get("/api/v1/orders", q="alice").json()["items"]] == [
        "N-4",
        "N-3",
        "N-2",
        "N-1",
        "N-0",
    ]
    slim = client.get("/api/v1/orders", fields="number,total").json()["items"][0]
    assert set(slim) == {"id", "number", "total"}


def _queries(client, path, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path, **params).status_code == 200
    return len(captured)


@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/products"])
def test_list_query_count_is_constant(org, api_as, shop, path):
    client = api_as(org.teammate)

    def add(count, start):
        for index in range(start, start + count):
            if path.endswith("orders"):
                order_create(
                    actor=org.owner,
                    data={"contact_id": shop["alice"].pk, "lines": [{"product_id": shop["mug"].pk}] * 2},
                )
            else:
                product_create(actor=org.admin, data={"sku": f"S-{index}", "name": f"P {index}"})

    add(3, 0)
    client.get(path)  # the token's first use of the day is recorded once
    few = _queries(client, path)
    add(27, 3)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(path).json()["items"]) >= 30
    assert len(many) == few, "\n".join(q["sql"][:200] for q in many)


def test_bulk_create_reports_bad_rows_and_writes_the_rest(org, shop):
    rows = [
        {
            "contact_id": shop["alice"].pk,
            "number": "B-1",
            "lines": [{"product_id": shop["books"].pk, "quantity": "2"}],
        },
        {"contact_id": shop["alice"].pk, "number": "B-1", "total": "5"},  # repeated number
        {"contact_id": 999999, "total": "5"},
        {"company_id": shop["company"].pk, "total": "7.5", "status": "paid", "ordered_at": "2024-02-01"},
        {"contact_id": shop["bob"].pk, "lines": [{"description": "x", "quantity": "-1", "unit_price": "1"}]},
    ]
    result = orders_bulk_create(actor=org.owner, rows=rows, batch_size=2)
    assert set(result["errors"]) == {1, 2, 4}
    assert result["errors"][1] == {"number": ["Another order has this number."]}
    assert set(result["errors"][4]) == {"lines.0.quantity"}
    created = [pk for pk in result["created"] if pk]
    assert len(created) == 2 and Order.objects.count() == 2
    assert Order.objects.get(number="B-1").total == Decimal("40.00")
    order_type = ContentType.objects.get_for_model(Order)
    assert (
        HistoryEntry.objects.filter(content_type=order_type, object_id__in=created, action="created").count()
        == 2
    )
    assert OutboxEvent.objects.filter(name="order.created").count() == 2
    assert ContactPurchaseSummary.objects.get(contact=shop["alice"]).total_spent == Decimal("40.00")
    # Read-only users write nothing.
    with pytest.raises(PermissionDeniedError):
        orders_bulk_create(actor=org.readonly, rows=rows[:1])
