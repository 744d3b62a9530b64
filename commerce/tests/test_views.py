"""Commerce pages: lists, details, the order form with its lines, and the Purchases tab and panel."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commerce.models import Order
from commerce.services import order_create, product_create
from contacts.services import company_create, contact_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(org):
    product = product_create(
        actor=org.admin, data={"sku": "BK-1", "name": "Novel", "category": "Books", "price": "20.00"}
    )
    company = company_create(actor=org.owner, data={"name": "Acme"})
    contact = contact_create(actor=org.owner, data={"first_name": "Alice", "company_id": company.pk})
    return {"product": product, "company": company, "contact": contact}


def test_order_form_creates_an_order_with_lines(org, page_as, shop):
    client = page_as(org.teammate)
    assert client.get(f"/orders/new/?contact={shop['contact'].pk}").status_code == 200
    response = client.post(
        "/orders/new/",
        {
            "contact": str(shop["contact"].pk),
            "status": "paid",
            "channel": "store",
            "currency": "USD",
            "line-0-product": str(shop["product"].pk),
            "line-0-quantity": "2",
            "line-0-discount": "50",
            "line-3-description": "Bookmark",
            "line-3-unit_price": "1.50",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    order = Order.objects.get()
    assert str(order.total) == "21.50" and order.lines.count() == 2
    page = page_as(org.readonly).get(order.get_absolute_url())
    assert page.status_code == 200 and b"Bookmark" in page.content and b"21.50" in page.content


def test_order_form_shows_line_errors_beside_the_fields(org, page_as, shop):
    client = page_as(org.owner)
    response = client.post(
        "/orders/new/",
        {
            "contact": str(shop["contact"].pk),
            "status": "paid",
            "channel": "web",
            "currency": "USD",
            "line-0-description": "Thing",
            "line-0-quantity": "0",
            "line-0-unit_price": "3",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_line-0-quantity_errors"' in html and "greater than 0" in html
    assert Order.objects.count() == 0


def test_add_line_fragment(org, page_as, shop):
    response = page_as(org.owner).get("/orders/line/?index=4", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b'name="line-4-quantity"' in response.content


def test_purchases_tab_and_panel_on_contact_and_company(org, page_as, shop):
    for index in range(25):
        order_create(
            actor=org.owner,
            data={
                "contact_id": shop["contact"].pk,
                "company_id": shop["company"].pk,
                "number": f"N-{index:02d}",
                "lines": [{"product_id": shop["product"].pk}],
            },
        )
    client = page_as(org.teammate)
    overview = client.get(f"/contacts/{shop['contact'].pk}/").content.decode()
    assert "Purchases" in overview and "500.00" in overview and "Books" in overview
    tab = client.get(f"/contacts/{shop['contact'].pk}/?tab=purchases").content.decode()
    assert "#N-24" in tab and "#N-05" in tab and "#N-04" not in tab and "orders_cursor=" in tab
    company_tab = client.get(f"/companies/{shop['company'].pk}/?tab=purchases").content.decode()
    assert "#N-24" in company_tab
    assert page_as(org.other).get(f"/contacts/{shop['contact'].pk}/?tab=purchases").status_code == 404


@pytest.mark.parametrize("url", ["/orders/", "/products/"])
def test_list_pages_query_count_is_constant(org, page_as, shop, url):
    client = page_as(org.teammate)

    def add(count, start):
        for index in range(start, start + count):
            if url == "/orders/":
                order_create(actor=org.owner, data={"contact_id": shop["contact"].pk, "total": "1"})
            else:
                product_create(actor=org.admin, data={"sku": f"S-{index}", "name": f"P {index}"})

    add(3, 0)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add(27, 3)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def test_lists_show_only_visible_orders_and_export(org, page_as, shop):
    order_create(actor=org.owner, data={"contact_id": shop["contact"].pk, "number": "SEEN-1", "total": "3"})
    for actor, visible in (("teammate", True), ("other", False)):
        client = page_as(getattr(org, actor))
        assert (b"SEEN-1" in client.get("/orders/").content) is visible
        export = client.get("/orders/export.csv")
        assert (b"SEEN-1" in b"".join(export.streaming_content)) is visible
    assert b"New product" not in page_as(org.owner).get("/products/").content
    assert b"New product" in page_as(org.manager).get("/products/").content
