"""API shapes for products, orders and purchase summaries. Amounts are decimal strings ("19.90")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Schema
from pydantic import ConfigDict


class ProductBase(Schema):
    model_config = ConfigDict(extra="forbid")

    sku: str | None = None
    name: str | None = None
    category: str | None = None
    price: Decimal | str | None = None
    currency: str | None = None
    active: bool | None = None
    description: str | None = None


class ProductIn(ProductBase):
    """Create a catalogue item (admins and managers)."""

    sku: str
    name: str


class ProductPatch(ProductBase):
    """Change some fields; `version` must be the version you read (409 when someone changed it since)."""

    version: int


class ProductOut(Schema):
    id: int
    url: str
    sku: str
    name: str
    category: str
    price: str
    currency: str
    active: bool
    description: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    archived_at: dt.datetime | None


class ProductListOut(Schema):
    items: list[ProductOut]
    next_cursor: str | None


class OrderLineIn(Schema):
    """`discount` is a percentage (0–100). Give `product_id` to copy its SKU, name, category and price."""

    model_config = ConfigDict(extra="forbid")

    product_id: int | None = None
    sku: str | None = None
    description: str | None = None
    category: str | None = None
    quantity: Decimal | str | None = None
    unit_price: Decimal | str | None = None
    discount: Decimal | str | None = None


class OrderLineOut(Schema):
    id: int
    product_id: int | None
    sku: str
    description: str
    category: str
    quantity: str
    unit_price: str
    discount: str
    line_total: str


class OrderBase(Schema):
    model_config = ConfigDict(extra="forbid")

    contact_id: int | None = None
    company_id: int | None = None
    number: str | None = None
    ordered_at: str | None = None  # ISO date or date-time; checked by the service (errors name the field)
    status: str | None = None
    currency: str | None = None
    channel: str | None = None
    notes: str | None = None
    total: Decimal | str | None = None
    lines: list[OrderLineIn] | None = None
    owner_id: int | None = None
    team_id: int | None = None


class OrderIn(OrderBase):
    """Create an order for a contact and/or a company. With `lines`, `total` is computed from them."""


class OrderPatch(OrderBase):
    """Change some fields; `lines`, when given, replace all lines. `version` must be the version you read."""

    version: int


class OrderOut(Schema):
    id: int
    url: str
    number: str
    contact_id: int | None
    contact_name: str | None
    company_id: int | None
    company_name: str | None
    ordered_at: dt.datetime
    status: str
    currency: str
    total: str
    channel: str
    notes: str
    lines: list[OrderLineOut]
    owner_id: int | None
    team_id: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    archived_at: dt.datetime | None


class OrderListOut(Schema):
    items: list[OrderOut]
    next_cursor: str | None


class CategoryOut(Schema):
    category: str
    order_count: int
    spent: str


class SummaryOut(Schema):
    order_count: int
    total_spent: str
    average_order: str | None
    first_order_at: dt.datetime | None
    last_order_at: dt.datetime | None
    favourite_categories: list[str]
    categories: list[CategoryOut]


class PurchasesOut(Schema):
    """The summary (cancelled, refunded and archived orders do not count) and the newest orders."""

    summary: SummaryOut
    recent_orders: list[OrderOut]
