"""REST API of the commerce app: one router, mounted in crm/api.py at "" (so paths are full)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from contacts.queries import company_get, contact_get
from contacts.schemas import HistoryListOut
from core.api import ERRORS, READ_ERRORS, bool_param, fields_parse, json_response, url_maker
from core.history import history_for
from core.pagination import keyset_page, limit_clean

from . import queries, services
from .models import CompanyPurchaseCategory, ContactPurchaseCategory, Order, OrderLine, Product
from .queries import summary_dict
from .schemas import (
    OrderIn,
    OrderListOut,
    OrderOut,
    OrderPatch,
    ProductIn,
    ProductListOut,
    ProductOut,
    ProductPatch,
    PurchasesOut,
)

router = Router(tags=["commerce"])


class ListParams(Schema):
    filter: str | None = None
    q: str | None = None
    sort: str | None = None
    cursor: str | None = None
    limit: int | None = None
    fields: str | None = None
    archived: str | None = None


def _money(value) -> str | None:
    if value is None:
        return None
    return str(Decimal(value).quantize(Decimal("0.01")))


def _qty(value) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text


def _payload(schema_obj) -> dict:
    data = schema_obj.model_dump(exclude_unset=True, mode="python")
    for key, value in list(data.items()):
        if isinstance(value, Decimal):
            data[key] = str(value)
    for line in data.get("lines") or []:
        for key, value in list(line.items()):
            if isinstance(value, Decimal):
                line[key] = str(value)
    return data


# ---------------------------------------------------------------------------------------------------------
# Rows → API records (one query per related list per page)

PRODUCT_COLUMNS = [
    "id",
    "sku",
    "name",
    "category",
    "price",
    "currency",
    "active",
    "description",
    "version",
    "created_at",
    "updated_at",
    "archived_at",
]
PRODUCT_OUT_FIELDS = list(ProductOut.model_fields)
ORDER_COLUMNS = [
    "id",
    "number",
    "contact_id",
    "company_id",
    "ordered_at",
    "status",
    "currency",
    "total",
    "channel",
    "notes",
    "owner_id",
    "team_id",
    "version",
    "created_at",
    "updated_at",
    "archived_at",
]
NAME_COLUMNS = ["contact__first_name", "contact__last_name", "contact__email", "company__name"]
ORDER_OUT_FIELDS = list(OrderOut.model_fields)
LINE_COLUMNS = [
    "id",
    "product_id",
    "sku",
    "description",
    "category",
    "quantity",
    "unit_price",
    "discount",
    "line_total",
]


def product_dicts(rows: list[dict], wanted: set[str] | None) -> list[dict]:
    url = url_maker("commerce:product_detail")
    result = []
    for row in rows:
        record = {
            **{k: row[k] for k in PRODUCT_COLUMNS},
            "price": _money(row["price"]),
            "url": url(row["id"]),
        }
        if wanted is not None:
            record = {k: v for k, v in record.items() if k in wanted}
        result.append(record)
    return result


def line_dicts(order_ids: list[int]) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = defaultdict(list)
    if not order_ids:
        return grouped
    for line in (
        OrderLine.objects.filter(order_id__in=order_ids)
        .order_by("order_id", "position", "id")
        .values("order_id", *LINE_COLUMNS)
    ):
        grouped[line.pop("order_id")].append(
            {
                **line,
                "quantity": _qty(line["quantity"]),
                "unit_price": _money(line["unit_price"]),
                "discount": _qty(line["discount"]),
                "line_total": _money(line["line_total"]),
            }
        )
    return grouped


def order_dicts(rows: list[dict], wanted: set[str] | None) -> list[dict]:
    lines = line_dicts([r["id"] for r in rows]) if wanted is None or "lines" in wanted else None
    url = url_maker("commerce:order_detail")
    result = []
    for row in rows:
        contact_name = None
        if row["contact_id"] is not None:
            contact_name = (
                " ".join(p for p in (row["contact__first_name"], row["contact__last_name"]) if p)
                or row["contact__email"]
                or f"Contact {row['contact_id']}"
            )
        record = {
            **{k: row[k] for k in ORDER_COLUMNS},
            "total": _money(row["total"]),
            "url": url(row["id"]),
            "contact_name": contact_name,
            "company_name": row["company__name"],
            "lines": lines.get(row["id"], []) if lines is not None else None,
        }
        if wanted is not None:
            record = {k: v for k, v in record.items() if k in wanted}
        result.append(record)
    return result


def _product_one(pk: int) -> dict:
    return product_dicts(list(Product.objects.filter(pk=pk).values(*PRODUCT_COLUMNS)), None)[0]


def _order_one(pk: int) -> dict:
    return order_dicts(list(Order.objects.filter(pk=pk).values(*ORDER_COLUMNS, *NAME_COLUMNS)), None)[0]


def history_page(instance, cursor: str | None, limit) -> dict:
    limit = limit_clean(limit)
    entries, next_cursor = keyset_page(
        history_for(instance).values("id", "action", "actor_id", "actor__username", "created_at", "changes"),
        [("id", True)],
        cursor,
        limit,
    )
    items = [
        {
            "id": e["id"],
            "action": e["action"],
            "actor_id": e["actor_id"],
            "actor": e["actor__username"],
            "created_at": e["created_at"],
            "changes": [{"field": k, "old": v[0], "new": v[1]} for k, v in (e["changes"] or {}).items()],
        }
        for e in entries
    ]
    return {"items": items, "next_cursor": next_cursor}


# ---------------------------------------------------------------------------------------------------------
# Products


@router.get("/products", response={200: ProductListOut, **READ_ERRORS}, summary="List products")
def product_list(request: HttpRequest, params: Query[ListParams]):
    """Every signed-in user sees the catalogue. `filter` (query language: sku, name, category, price,
    currency, active, created, updated), `q` (name, SKU or category), `sort` one of `id`, `name`, `sku`,
    `price`, `category` (prefix `-` to reverse; default `name`)."""
    wanted = fields_parse(params.fields, PRODUCT_OUT_FIELDS)
    limit = limit_clean(params.limit)
    order = queries.sort_resolve(queries.PRODUCT_SORTS, params.sort, "name")
    queryset = queries.product_list(
        request.auth, filter=params.filter, q=params.q, archived=bool_param("archived", params.archived)
    )
    queryset = queries.sort_annotate(queryset, order)
    columns = [*PRODUCT_COLUMNS, *[c for c, _ in order if c not in PRODUCT_COLUMNS]]
    rows, next_cursor = keyset_page(queryset.values(*columns), order, params.cursor, limit)
    return json_response({"items": product_dicts(rows, wanted), "next_cursor": next_cursor})


@router.post("/products", response={201: ProductOut, **ERRORS}, summary="Create a product")
def product_create(request: HttpRequest, payload: ProductIn):
    product = services.product_create(actor=request.auth, data=_payload(payload))
    return json_response(_product_one(product.pk), status=201)


@router.get("/products/{product_id}", response={200: ProductOut, **READ_ERRORS}, summary="Read a product")
def product_get(request: HttpRequest, product_id: int):
    product = queries.product_get(request.auth, product_id)
    return json_response(_product_one(product.pk))


@router.patch("/products/{product_id}", response={200: ProductOut, **ERRORS}, summary="Change a product")
def product_update(request: HttpRequest, product_id: int, payload: ProductPatch):
    product = services.product_update(actor=request.auth, product_id=product_id, data=_payload(payload))
    return json_response(_product_one(product.pk))


@router.delete("/products/{product_id}", response={204: None, **READ_ERRORS}, summary="Archive a product")
def product_archive(request: HttpRequest, product_id: int):
    services.product_archive(actor=request.auth, product_id=product_id)
    return HttpResponse(status=204)


@router.post(
    "/products/{product_id}/restore", response={200: ProductOut, **READ_ERRORS}, summary="Restore a product"
)
def product_restore(request: HttpRequest, product_id: int):
    product = services.product_restore(actor=request.auth, product_id=product_id)
    return json_response(_product_one(product.pk))


@router.get(
    "/products/{product_id}/history", response={200: HistoryListOut, **READ_ERRORS}, summary="Product history"
)
def product_history(
    request: HttpRequest, product_id: int, cursor: str | None = None, limit: int | None = None
):
    product = queries.product_get(request.auth, product_id)
    return json_response(history_page(product, cursor, limit))


# ---------------------------------------------------------------------------------------------------------
# Orders


@router.get("/orders", response={200: OrderListOut, **READ_ERRORS}, summary="List orders")
def order_list(request: HttpRequest, params: Query[ListParams]):
    """Orders whose contact or company you may see, and orders you own. `filter` (query language: number,
    ordered, status, channel, total, currency, sku, category, contact_id, company_id, owner …), `q` (an
    order number or the customer's name), `sort` one of `id`, `ordered_at`, `total`, `number` (default
    `-id`), `fields`, cursor paging."""
    wanted = fields_parse(params.fields, ORDER_OUT_FIELDS)
    limit = limit_clean(params.limit)
    order = queries.sort_resolve(queries.ORDER_SORTS, params.sort, "-id")
    queryset = queries.order_list(
        request.auth, filter=params.filter, q=params.q, archived=bool_param("archived", params.archived)
    )
    rows, next_cursor = keyset_page(
        queryset.values(*ORDER_COLUMNS, *NAME_COLUMNS), order, params.cursor, limit
    )
    return json_response({"items": order_dicts(rows, wanted), "next_cursor": next_cursor})


@router.post("/orders", response={201: OrderOut, **ERRORS}, summary="Create an order")
def order_create(request: HttpRequest, payload: OrderIn):
    """Needs `change` on the customer. `lines[].discount` is a percentage; the total is the sum of the
    line totals (quantity × unit price − discount, rounded to cents) when lines are given."""
    order = services.order_create(actor=request.auth, data=_payload(payload))
    return json_response(_order_one(order.pk), status=201)


@router.get("/orders/{order_id}", response={200: OrderOut, **READ_ERRORS}, summary="Read an order")
def order_get(request: HttpRequest, order_id: int):
    order = queries.order_get(request.auth, order_id)
    return json_response(_order_one(order.pk))


@router.patch("/orders/{order_id}", response={200: OrderOut, **ERRORS}, summary="Change an order")
def order_update(request: HttpRequest, order_id: int, payload: OrderPatch):
    order = services.order_update(actor=request.auth, order_id=order_id, data=_payload(payload))
    return json_response(_order_one(order.pk))


@router.delete("/orders/{order_id}", response={204: None, **READ_ERRORS}, summary="Archive an order")
def order_archive(request: HttpRequest, order_id: int):
    """Archived orders leave lists and stop counting in purchase summaries; `restore` brings them back."""
    services.order_archive(actor=request.auth, order_id=order_id)
    return HttpResponse(status=204)


@router.post(
    "/orders/{order_id}/restore", response={200: OrderOut, **READ_ERRORS}, summary="Restore an order"
)
def order_restore(request: HttpRequest, order_id: int):
    order = services.order_restore(actor=request.auth, order_id=order_id)
    return json_response(_order_one(order.pk))


@router.get(
    "/orders/{order_id}/history", response={200: HistoryListOut, **READ_ERRORS}, summary="Order history"
)
def order_history(request: HttpRequest, order_id: int, cursor: str | None = None, limit: int | None = None):
    order = queries.order_get(request.auth, order_id)
    return json_response(history_page(order, cursor, limit))


# ---------------------------------------------------------------------------------------------------------
# A customer's purchases

RECENT_ORDERS = 10


def _recent(queryset) -> list[dict]:
    rows = list(queryset.order_by("-ordered_at", "-id").values(*ORDER_COLUMNS, *NAME_COLUMNS)[:RECENT_ORDERS])
    return order_dicts(rows, None)


@router.get(
    "/contacts/{contact_id}/purchases",
    response={200: PurchasesOut, **READ_ERRORS},
    summary="A contact's purchase summary and recent orders",
)
def contact_purchases(request: HttpRequest, contact_id: int):
    contact = contact_get(request.auth, contact_id)
    categories = ContactPurchaseCategory.objects.filter(contact_id=contact.pk).values(
        "category", "order_count", "spent"
    )
    return json_response(
        {
            "summary": summary_dict(queries.contact_summary(contact.pk), list(categories)),
            "recent_orders": _recent(queries.customer_orders(request.auth, contact_id=contact.pk)),
        }
    )


@router.get(
    "/companies/{company_id}/purchases",
    response={200: PurchasesOut, **READ_ERRORS},
    summary="A company's purchase summary and recent orders",
)
def company_purchases(request: HttpRequest, company_id: int):
    company = company_get(request.auth, company_id)
    categories = CompanyPurchaseCategory.objects.filter(company_id=company.pk).values(
        "category", "order_count", "spent"
    )
    return json_response(
        {
            "summary": summary_dict(queries.company_summary(company.pk), list(categories)),
            "recent_orders": _recent(queries.customer_orders(request.auth, company_id=company.pk)),
        }
    )
