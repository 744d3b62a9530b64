"""The columns of the product and order lists (and of their CSV exports)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.tables import Column, Table

from .models import Order


def _customer(order: Order):
    return order.contact if order.contact_id else order.company


product_table = Table(
    columns=[
        Column("name", _("Name"), path="name", kind="title", sort="name", fixed=True, subtitle="sku"),
        Column("sku", _("SKU"), sort="sku", default=False),
        Column("category", _("Category"), sort="category"),
        Column("price", _("Price"), kind="money", sort="price"),
        Column("currency", _("Currency")),
        Column("active", _("Active"), kind="bool"),
        Column("created_at", _("Created"), kind="datetime", default=False),
        Column("updated_at", _("Updated"), kind="datetime", default=False),
        Column("id", _("ID"), kind="number", sort="id", default=False),
    ]
)

order_table = Table(
    columns=[
        Column(
            "number",
            _("Order"),
            value=lambda o: f"#{o.number}",
            kind="title",
            sort="number",
            fixed=True,
            export=lambda o: o.number,
            avatar=False,
        ),
        Column("ordered_at", _("Ordered"), kind="datetime", sort="ordered_at"),
        Column("customer", _("Customer"), value=_customer, kind="link"),
        Column("company", _("Company"), path="company", kind="link", default=False),
        Column("status", _("Status"), kind="badge", choices=dict(Order.Status.choices)),
        Column("channel", _("Channel"), kind="badge", choices=dict(Order.Channel.choices), default=False),
        Column("total", _("Total"), kind="money", sort="total"),
        Column("currency", _("Currency")),
        Column("owner", _("Owner"), path="owner", kind="user", default=False),
        Column("created_at", _("Created"), kind="datetime", default=False),
        Column("id", _("ID"), kind="number", sort="id", default=False),
    ]
)
