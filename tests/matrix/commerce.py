"""Visibility-matrix rows for the commerce app (see tests/matrix/__init__.py).

The product is in the shared catalogue (everyone signed in sees it; admins and managers change it). The
order is for the shared contact, owned by `owner`, shared with Team A: the usual record rules apply, with
"see" following the customer and archiving also needing `delete` on the order.
"""

from __future__ import annotations

from tests.matrix.rules import (
    ARCHIVES,
    CHANGES,
    SEES,
    everyone,
    record,
    record_rule,
    signed_in,
    writer,
)

CATALOGUE = {"admin", "manager", "other_manager"}


def catalogue(ok: int):
    return lambda actor: 401 if actor == "anonymous" else (ok if actor in CATALOGUE else 403)


def catalogue_page(ok: int):
    return lambda actor: 302 if actor == "anonymous" else (ok if actor in CATALOGUE else 403)


def order_writers(ok: int, *, anonymous: int = 401, outsider: int = 400):
    """Creating an order for the shared contact: read-only 403; Team B cannot see the contact (a 400 naming
    `contact_id`, as for any unknown id in a body)."""
    return lambda actor: {
        "anonymous": anonymous,
        "readonly": 403,
        "other": outsider,
        "other_manager": outsider,
    }.get(actor, ok)


def order_body(ctx):
    return {
        "contact_id": ctx["contact"],
        "lines": [{"description": "Matrix item", "quantity": "2", "unit_price": "5.00"}],
    }


def order_form(ctx):
    return {
        "contact": str(ctx["contact"]),
        "status": "paid",
        "channel": "web",
        "currency": "USD",
        "line-0-description": "Matrix item",
        "line-0-quantity": "1",
        "line-0-unit_price": "10",
        "version": "1",
    }


def product_form(ctx):
    return {"sku": "FORM-1", "name": "Form product", "price": "9.90", "currency": "EUR", "version": "1"}


API: dict = {
    ("get", "/api/v1/products"): (everyone(200), None),
    ("post", "/api/v1/products"): (catalogue(201), lambda ctx: {"sku": "NEW-1", "name": "New"}),
    ("get", "/api/v1/products/{product_id}"): (everyone(200), None),
    ("patch", "/api/v1/products/{product_id}"): (
        catalogue(200),
        lambda ctx: {"version": 1, "name": "Changed"},
    ),
    ("delete", "/api/v1/products/{product_id}"): (catalogue(204), None),
    ("post", "/api/v1/products/{product_id}/restore"): (catalogue(200), None),
    ("get", "/api/v1/products/{product_id}/history"): (everyone(200), None),
    ("get", "/api/v1/orders"): (everyone(200), None),
    ("post", "/api/v1/orders"): (order_writers(201), order_body),
    ("get", "/api/v1/orders/{order_id}"): (record_rule(SEES, 200), None),
    ("patch", "/api/v1/orders/{order_id}"): (
        record_rule(CHANGES, 200),
        lambda ctx: {"version": 1, "notes": "Changed"},
    ),
    ("delete", "/api/v1/orders/{order_id}"): (record_rule(ARCHIVES, 204), None),
    ("post", "/api/v1/orders/{order_id}/restore"): (record_rule(ARCHIVES, 200), None),
    ("get", "/api/v1/orders/{order_id}/history"): (record_rule(SEES, 200), None),
    ("get", "/api/v1/contacts/{contact_id}/purchases"): (record_rule(SEES, 200), None),
    ("get", "/api/v1/companies/{company_id}/purchases"): (record_rule(SEES, 200), None),
}

PAGES: dict = {
    "commerce:product_list": [("get", signed_in(200), None)],
    "commerce:product_export": [("get", signed_in(200), None)],
    "commerce:product_create": [
        ("get", catalogue_page(200), None),
        ("post", catalogue_page(302), product_form),
    ],
    "commerce:product_bulk": [
        ("post", catalogue_page(302), lambda ctx: {"action": "archive", "ids": [ctx["product"]]})
    ],
    "commerce:product_detail": [("get", signed_in(200), None)],
    "commerce:product_edit": [
        ("get", catalogue_page(200), None),
        ("post", catalogue_page(302), product_form),
    ],
    "commerce:product_archive": [("post", catalogue_page(302), None)],
    "commerce:product_restore": [("post", catalogue_page(302), None)],
    "commerce:order_list": [("get", signed_in(200), None)],
    "commerce:order_export": [("get", signed_in(200), None)],
    "commerce:order_create": [
        ("get", writer(200), None),
        ("post", order_writers(302, anonymous=302), order_form),
    ],
    "commerce:order_bulk": [("post", writer(302), lambda ctx: {"action": "archive", "ids": [ctx["order"]]})],
    "commerce:order_line": [("get", signed_in(200), None)],
    "commerce:contact_options": [("get", signed_in(200), None)],
    "commerce:order_detail": [("get", record(SEES, 200), None)],
    "commerce:order_edit": [("get", record(CHANGES, 200), None), ("post", record(CHANGES, 302), order_form)],
    "commerce:order_archive": [("post", record(ARCHIVES, 302), None)],
    "commerce:order_restore": [("post", record(ARCHIVES, 302), None)],
}

PAGE_ARGS: dict = {
    **{
        f"commerce:product_{name}": (lambda ctx: [ctx["product"]])
        for name in ("detail", "edit", "archive", "restore")
    },
    **{
        f"commerce:order_{name}": (lambda ctx: [ctx["order"]])
        for name in ("detail", "edit", "archive", "restore")
    },
}


def world(ctx: dict) -> None:
    """A product in the catalogue and an order for the shared contact, owned by `owner`."""
    from commerce.services import order_create, product_create

    org = ctx["org"]
    product = product_create(
        actor=org.admin,
        data={"sku": "MATRIX-1", "name": "Matrix product", "category": "Books", "price": "12.50"},
    )
    order = order_create(
        actor=org.owner,
        data={"contact_id": ctx["contact"], "lines": [{"product_id": product.pk, "quantity": "2"}]},
    )
    ctx["product"], ctx["order"] = product.pk, order.pk
    ctx["ids"].update({"product_id": product.pk, "order_id": order.pk})


def state() -> tuple:
    """Everything a refused call on this app's rows could have changed."""
    from commerce.models import (
        CompanyPurchaseSummary,
        ContactPurchaseCategory,
        ContactPurchaseSummary,
        Order,
        OrderLine,
        Product,
    )

    return (
        list(Product.objects.order_by("id").values()),
        list(Order.objects.order_by("id").values()),
        list(OrderLine.objects.order_by("id").values()),
        list(ContactPurchaseSummary.objects.order_by("contact_id").values()),
        list(CompanyPurchaseSummary.objects.order_by("company_id").values()),
        ContactPurchaseCategory.objects.count(),
    )
