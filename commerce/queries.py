"""Reads for products, orders and purchase summaries. Every read starts from the visibility rules.

Who sees what (docs/commerce.md):
- products: every signed-in user; admins and managers change them;
- an order: when the user may see its contact or its company (core.visibility.restrict on the customer,
  as a semi-join), or owns the order; changing it requires `change` on its customer.
"""

from __future__ import annotations

import operator
from decimal import Decimal
from functools import reduce

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from contacts.models import Company, Contact
from contacts.queries import sort_resolve  # noqa: F401  (re-exported for the API and pages)
from core import search
from core.errors import NotFoundError, PermissionDeniedError, ValidationError
from core.querylang import Field, FieldRegistry, apply_filter
from core.visibility import can, role_of, visibility_q

from .models import (
    CompanyPurchaseCategory,
    CompanyPurchaseSummary,
    ContactPurchaseCategory,
    ContactPurchaseSummary,
    Order,
    Product,
)

# ---------------------------------------------------------------------------------------------------------
# Query-language fields

product_fields = FieldRegistry("commerce.product", model=Product, custom=False)
for _name, _type, _path, _label in [
    ("id", "number", "id", "ID"),
    ("sku", "text", "sku", "SKU"),
    ("name", "text", "name", "Name"),
    ("category", "text", "category", "Category"),
    ("price", "number", "price", "Price"),
    ("currency", "text", "currency", "Currency"),
    ("active", "boolean", "active", "Active"),
    ("created", "datetime", "created_at", "Created"),
    ("updated", "datetime", "updated_at", "Updated"),
]:
    product_fields.add(Field(_name, _type, path=_path, label=_label))

order_fields = FieldRegistry("commerce.order", model=Order, custom=False)
for _name, _type, _path, _label in [
    ("id", "number", "id", "ID"),
    ("number", "text", "number", "Number"),
    ("ordered", "datetime", "ordered_at", "Ordered"),
    ("total", "number", "total", "Total"),
    ("currency", "text", "currency", "Currency"),
    ("contact_id", "number", "contact_id", "Contact ID"),
    ("company_id", "number", "company_id", "Company ID"),
    ("company", "text", "company__name", "Company"),
    ("created", "datetime", "created_at", "Created"),
    ("updated", "datetime", "updated_at", "Updated"),
]:
    order_fields.add(Field(_name, _type, path=_path, label=_label))
order_fields.add(Field("status", "choice", path="status", choices=Order.Status.choices, label="Status"))
order_fields.add(Field("channel", "choice", path="channel", choices=Order.Channel.choices, label="Channel"))
order_fields.add(Field("sku", "text", path="lines__sku", many=True, label="SKU"))
order_fields.add(Field("category", "text", path="lines__category", many=True, label="Category"))
order_fields.add(Field("owner", "user", path="owner", label="Owner"))

_COMPARE = {
    "eq": operator.eq,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


def _summary_hook(summary_model, link: str, column: str, *, zero_when_missing: bool):
    """A compile hook for a summary figure: EXISTS on the customer's summary row (its primary key), so a
    filter costs one index probe per customer. Counts and totals of customers without a row are 0; dates
    and averages are empty."""

    def compile(op: str, value) -> Q:
        rows = summary_model.objects.filter(**{link: OuterRef("pk")})
        if op == "is_empty":
            if zero_when_missing:
                return Q(pk__in=[])
            return ~Exists(rows.filter(**{f"{column}__isnull": False}))
        if op == "in":
            conditions = reduce(operator.or_, [Q(**{column: v}) for v in value])
            zero_matches = zero_when_missing and any(v == 0 for v in value)
        else:
            lookup = {"eq": "exact"}.get(op, op)
            if hasattr(value, "start"):  # a whole day (DayRange) on a date-time figure
                if op == "eq":
                    conditions = Q(**{f"{column}__gte": value.start, f"{column}__lt": value.end})
                else:
                    bound = value.end if op in ("lte", "gt") else value.start
                    conditions = Q(**{f"{column}__{'lt' if op in ('lt', 'lte') else 'gte'}": bound})
            else:
                conditions = Q(**{f"{column}__{lookup}": value})
            zero_matches = zero_when_missing and _COMPARE[op](0, value)
        if zero_matches:  # customers without a summary row, or with one that satisfies the condition
            return ~Exists(rows.exclude(conditions))
        return Q(Exists(rows.filter(conditions)))

    return compile


def _category_hook(category_model, link: str):
    def compile(op: str, value) -> Q:
        rows = category_model.objects.filter(**{link: OuterRef("pk")})
        if op == "is_empty":
            return ~Exists(rows)
        if op == "in":
            return Q(Exists(rows.filter(reduce(operator.or_, [Q(category__iexact=v) for v in value]))))
        lookup = {"eq": "iexact", "contains": "icontains", "starts_with": "istartswith"}[op]
        return Q(Exists(rows.filter(**{f"category__{lookup}": value})))

    return compile


SUMMARY_FIELDS = [
    ("orders.count", "number", "order_count", True, "Orders"),
    ("orders.total", "number", "total_spent", True, "Total spent"),
    ("orders.avg", "number", "average_order", False, "Average order"),
    ("orders.first_date", "datetime", "first_order_at", False, "First purchase"),
    ("orders.last_date", "datetime", "last_order_at", False, "Last purchase"),
]


def register_customer_fields() -> None:
    """Add the purchase-summary fields to the contact and company filters (CommerceConfig.ready())."""
    from contacts.queries import company_fields, contact_fields

    for registry, summary, categories, link in (
        (contact_fields, ContactPurchaseSummary, ContactPurchaseCategory, "contact_id"),
        (company_fields, CompanyPurchaseSummary, CompanyPurchaseCategory, "company_id"),
    ):
        if "orders.count" in registry._fields:
            continue
        for name, kind, column, zero, label in SUMMARY_FIELDS:
            registry.add(
                Field(
                    name,
                    kind,
                    path=f"purchase_summary__{column}",
                    label=label,
                    compile=_summary_hook(summary, link, column, zero_when_missing=zero),
                )
            )
        registry.add(
            Field(
                "orders.category",
                "text",
                path="purchase_categories__category",
                label="Bought from category",
                compile=_category_hook(categories, link),
                ops=("eq", "ne", "contains", "not_contains", "starts_with", "in", "not_in", "is_empty"),
            )
        )


# ---------------------------------------------------------------------------------------------------------
# Sorts

PRODUCT_SORTS: dict[str, list[tuple[str, bool]]] = {
    "id": [("id", False)],
    "name": [("sort_name", False), ("id", False)],
    "sku": [("sku", False), ("id", False)],
    "price": [("price", False), ("id", False)],
    "category": [("category", False), ("id", False)],
}
ORDER_SORTS: dict[str, list[tuple[str, bool]]] = {
    "id": [("id", False)],
    "ordered_at": [("ordered_at", False), ("id", False)],
    "total": [("total", False), ("id", False)],
    "number": [("number", False), ("id", False)],
}
SORT_ANNOTATIONS = {"sort_name": Lower("name")}


def sort_annotate(queryset: QuerySet, order: list[tuple[str, bool]]) -> QuerySet:
    needed = {c: SORT_ANNOTATIONS[c] for c, _ in order if c in SORT_ANNOTATIONS}
    return queryset.annotate(**needed) if needed else queryset


# ---------------------------------------------------------------------------------------------------------
# Products


def product_list(user, *, filter=None, q: str | None = None, archived: bool = False) -> QuerySet:
    if role_of(user) is None:
        return Product.objects.none()
    queryset = Product.objects.filter(archived_at__isnull=not archived)
    if filter:
        queryset = apply_filter(queryset, product_fields, filter, user=user)
    q = (q or "").strip()
    if q:
        if len(q) > 200:
            raise ValidationError({"q": ["Search for at most 200 characters."]})
        queryset = queryset.filter(
            Q(sku__iexact=q)
            | Q(pk__in=search.filter_queryset(Product.objects.all(), "product", q, ranked=False).values("pk"))
        )
    return queryset


def can_change_products(user) -> bool:
    return role_of(user) in ("admin", "manager")


def product_get(user, product_id, action: str = "view") -> Product:
    if role_of(user) is None:
        raise NotFoundError()
    try:
        product = Product.objects.get(pk=product_id)
    except (Product.DoesNotExist, ValueError, TypeError):
        raise NotFoundError()
    if action != "view" and not can_change_products(user):
        raise PermissionDeniedError("Only administrators and managers may change the catalogue.")
    return product


# ---------------------------------------------------------------------------------------------------------
# Orders


def order_visibility_q(user) -> Q | None:
    """The orders `user` may see: those whose contact or company they may see, and those they own.
    None means every order."""
    role = role_of(user)
    if role is None:
        return Q(pk__in=[])
    if role == "admin":
        return None
    contacts = Contact.objects.filter(visibility_q(user, "view")).values("pk")
    companies = Company.objects.filter(visibility_q(user, "view")).values("pk")
    return Q(owner_id=user.pk) | Q(contact_id__in=contacts) | Q(company_id__in=companies)


def order_restrict(queryset: QuerySet, user) -> QuerySet:
    q = order_visibility_q(user)
    return queryset if q is None else queryset.filter(q)


def order_search(queryset: QuerySet, text: str) -> QuerySet:
    text = (text or "").strip()
    if not text:
        return queryset
    if len(text) > 200:
        raise ValidationError({"q": ["Search for at most 200 characters."]})
    number = text.lstrip("#")
    if " " not in number and queryset.filter(number__iexact=number).exists():
        return queryset.filter(number__iexact=number)
    return search.filter_queryset(queryset, "order", text, ranked=False)


def order_list(user, *, filter=None, q: str | None = None, archived: bool = False) -> QuerySet:
    queryset = order_restrict(Order.objects.all(), user).filter(archived_at__isnull=not archived)
    if filter:
        queryset = apply_filter(queryset, order_fields, filter, user=user)
    if q:
        queryset = order_search(queryset, q)
    return queryset


def customer_allows(user, order: Order, action: str) -> bool:
    """`action` on the order's customer: its contact, else its company."""
    customer = order.contact if order.contact_id else order.company
    return customer is not None and can(user, action, customer)


def order_get(user, order_id, action: str = "view") -> Order:
    """404 when the user may not see the order; 403 when they may not `action` it: changing needs `change`
    on its customer, archiving and restoring also `delete` on the order itself (as for other records)."""
    try:
        order = order_restrict(Order.objects.select_related("contact", "company", "owner", "team"), user).get(
            pk=order_id
        )
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFoundError()
    if action == "view":
        return order
    if not customer_allows(user, order, "change"):
        raise PermissionDeniedError()
    if action == "delete" and not can(user, "delete", order):
        raise PermissionDeniedError()
    return order


# ---------------------------------------------------------------------------------------------------------
# Purchase summaries and a customer's orders


def contact_summary(contact_id: int) -> ContactPurchaseSummary | None:
    return ContactPurchaseSummary.objects.filter(contact_id=contact_id).first()


def company_summary(company_id: int) -> CompanyPurchaseSummary | None:
    return CompanyPurchaseSummary.objects.filter(company_id=company_id).first()


def customer_orders(user, *, contact_id: int | None = None, company_id: int | None = None) -> QuerySet:
    """A visible customer's orders (the caller checked the customer is visible), archived ones left out."""
    queryset = Order.objects.filter(archived_at__isnull=True)
    if contact_id is not None:
        return queryset.filter(contact_id=contact_id)
    return queryset.filter(company_id=company_id)


def money_text(value) -> str | None:
    """An amount as the API writes it: a decimal string with two places."""
    if value is None:
        return None
    return str(Decimal(value).quantize(Decimal("0.01")))


def summary_dict(summary, category_rows) -> dict:
    categories = [
        {"category": c["category"], "order_count": c["order_count"], "spent": money_text(c["spent"])}
        for c in sorted(category_rows, key=lambda c: (-c["spent"], -c["order_count"], c["category"]))
    ]
    if summary is None:
        return {
            "order_count": 0,
            "total_spent": "0.00",
            "average_order": None,
            "first_order_at": None,
            "last_order_at": None,
            "favourite_categories": [],
            "categories": categories,
        }
    return {
        "order_count": summary.order_count,
        "total_spent": money_text(summary.total_spent),
        "average_order": money_text(summary.average_order),
        "first_order_at": summary.first_order_at,
        "last_order_at": summary.last_order_at,
        "favourite_categories": list(summary.favourite_categories or []),
        "categories": categories,
    }


CUSTOMER_ORDER_SORT = [("ordered_at", True), ("id", True)]


def global_search_products(user, text: str, limit: int):
    return product_list(user, q=text).only("id", "name", "sku", "category")[:limit]
