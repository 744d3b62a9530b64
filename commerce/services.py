"""Writes for products, orders and purchase summaries. Every interface (API, pages, import, seed) calls these.

Each function validates everything first and reports every bad field at once (`lines.2.quantity`), then
writes inside one transaction: the rows, the field-level history, the outbox event, the search document
and the customers' purchase summaries.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, F, Max, Min, Sum
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from contacts.models import Company, Contact
from core import search
from core.bulkwrite import Writer, allocate_ids
from core.errors import PermissionDeniedError, ValidationError
from core.events import event_emit, event_emit_bulk
from core.history import history_record, history_record_bulk
from core.services import (
    model_fields_clean,
    ownership_resolve,
    raise_if,
    record_save_versioned,
    version_require,
)
from core.visibility import can, require_create, restrict, role_of

from .models import (
    COUNTING_STATUSES,
    CompanyPurchaseCategory,
    CompanyPurchaseSummary,
    ContactPurchaseCategory,
    ContactPurchaseSummary,
    Order,
    OrderLine,
    Product,
)
from .queries import can_change_products, order_get, product_get

PRODUCT_FIELDS = ["sku", "name", "category", "price", "currency", "active", "description"]
ORDER_FIELDS = ["number", "ordered_at", "status", "currency", "channel", "notes"]
MAX_LINES = 200
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")
FAVOURITES = 3


def _currency_check(scalars: dict, errors: dict) -> None:
    if "currency" in scalars and (len(scalars["currency"]) != 3 or not scalars["currency"].isalpha()):
        errors["currency"] = ["Enter a three-letter ISO 4217 currency code such as EUR."]


def _upper_currency(data: dict) -> None:
    if isinstance(data.get("currency"), str):
        data["currency"] = data["currency"].strip().upper()


# ---------------------------------------------------------------------------------------------------------
# Products


def _require_catalogue_writer(actor) -> None:
    if not can_change_products(actor):
        raise PermissionDeniedError("Only administrators and managers may change the catalogue.")


def product_snapshot(product: Product) -> dict:
    return {"id": product.pk, **{name: getattr(product, name) for name in PRODUCT_FIELDS}}


def _product_clean(data: dict, instance: Product | None) -> tuple[dict, dict]:
    if not isinstance(data, dict):
        raise ValidationError({"__all__": ["Expected an object."]})
    data = dict(data)
    _upper_currency(data)
    if isinstance(data.get("sku"), str):
        data["sku"] = data["sku"].strip()
    scalars, errors = model_fields_clean(Product, data, PRODUCT_FIELDS)
    if instance is None:
        for name in ("sku", "name"):
            if not scalars.get(name):
                errors.setdefault(name, ["This field is required."])
    _currency_check(scalars, errors)
    if scalars.get("price") is not None and scalars["price"] < 0:
        errors["price"] = ["The price cannot be negative."]
    if scalars.get("sku"):
        taken = Product.objects.filter(sku__iexact=scalars["sku"])
        if instance is not None:
            taken = taken.exclude(pk=instance.pk)
        if taken.exists():
            errors["sku"] = ["Another product has this SKU."]
    return scalars, errors


def _product_index(products: Iterable[Product]) -> None:
    search.index("product", [(p.pk, " ".join(x for x in (p.name, p.sku, p.category) if x)) for p in products])


def product_create(*, actor, data: dict) -> Product:
    _require_catalogue_writer(actor)
    scalars, errors = _product_clean(data, None)
    raise_if(errors)
    with transaction.atomic():
        product = Product.objects.create(**scalars)
        snapshot = product_snapshot(product)
        history_record(
            instance=product,
            actor=actor,
            action="created",
            changes={k: (None, v) for k, v in snapshot.items() if v not in (None, "") and k != "id"},
        )
        event_emit("product.created", instance=product, actor=actor, payload=snapshot)
        _product_index([product])
    return product


def product_update(*, actor, product_id: int, data: dict) -> Product:
    product = product_get(actor, product_id, "change")
    data = dict(data) if isinstance(data, dict) else data
    expected = version_require(data.pop("version", None) if isinstance(data, dict) else None)
    scalars, errors = _product_clean(data, product)
    raise_if(errors)
    with transaction.atomic():
        changes = {k: (getattr(product, k), v) for k, v in scalars.items() if getattr(product, k) != v}
        record_save_versioned(product, expected_version=expected, fields=scalars)
        if changes:
            history_record(instance=product, actor=actor, action="updated", changes=changes)
            event_emit(
                "product.updated",
                instance=product,
                actor=actor,
                payload={**product_snapshot(product), "changed": sorted(changes)},
            )
        _product_index([product])
    return product


def _product_archive_set(actor, product_id: int, archived: bool) -> Product:
    product = product_get(actor, product_id, "change")
    if product.is_archived == archived:
        return product
    with transaction.atomic():
        record_save_versioned(
            product,
            expected_version=product.version,
            fields={"archived_at": timezone.now() if archived else None},
        )
        action = "archived" if archived else "restored"
        history_record(
            instance=product, actor=actor, action=action, changes={"archived": (not archived, archived)}
        )
        event_emit(f"product.{action}", instance=product, actor=actor, payload=product_snapshot(product))
    return product


def product_archive(*, actor, product_id: int) -> Product:
    return _product_archive_set(actor, product_id, True)


def product_restore(*, actor, product_id: int) -> Product:
    return _product_archive_set(actor, product_id, False)


def products_bulk_archive(*, actor, ids: list) -> int:
    _require_catalogue_writer(actor)
    if not isinstance(ids, list | tuple) or not ids:
        raise ValidationError({"ids": ["Select at least one record."]})
    try:
        ids = [int(i) for i in ids]
    except (TypeError, ValueError):
        raise ValidationError({"ids": ["Expected a list of ids."]})
    with transaction.atomic():
        changed = list(
            Product.objects.filter(pk__in=ids, archived_at__isnull=True).values_list("pk", flat=True)
        )
        now = timezone.now()
        Product.objects.filter(pk__in=changed).update(
            archived_at=now, updated_at=now, version=F("version") + 1
        )
        history_record_bulk(
            model=Product,
            actor=actor,
            action="archived",
            rows=[(pk, {"archived": (False, True)}) for pk in changed],
        )
        event_emit_bulk(
            "product.archived", model=Product, actor=actor, rows=[(pk, {"id": pk}) for pk in changed]
        )
    return len(changed)


# ---------------------------------------------------------------------------------------------------------
# Cleaning order input


def _decimal(errors: dict, key: str, value, *, default=None, minimum=None, maximum=None, strict_min=False):
    """A decimal from a number or text; errors keyed `key`. None/"" give `default`."""
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        errors[key] = ["Enter a number."]
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[key] = ["Enter a number."]
        return None
    if not number.is_finite():
        errors[key] = ["Enter a number."]
        return None
    if minimum is not None and (number <= minimum if strict_min else number < minimum):
        errors[key] = [f"Enter a number {'greater than' if strict_min else 'of at least'} {minimum}."]
        return None
    if maximum is not None and number > maximum:
        errors[key] = [f"Enter a number of at most {maximum}."]
        return None
    return number


def _datetime(errors: dict, key: str, value):
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = parse_datetime(text)
            if moment is None:
                day = parse_date(text)
                moment = dt.datetime.combine(day, dt.time()) if day else None
        except ValueError:
            moment = None
        if moment is None:
            errors[key] = ["Enter a date or date-time such as 2024-05-31 or 2024-05-31T14:30:00Z."]
            return None
    else:
        errors[key] = ["Enter a date or date-time."]
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def line_total(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    """quantity × unit price less `discount` percent, rounded half-up to cents."""
    gross = quantity * unit_price
    return (gross - gross * discount / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def _id(errors, key, value) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors[key] = ["Enter an id."]
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        errors[key] = ["Enter an id."]
        return None


def _lines_clean(errors: dict, value, products: dict[int, Product] | None = None) -> list[dict] | None:
    """[{product_id, sku, description, category, quantity, unit_price, discount}] → cleaned lines.
    `products` may hold prefetched products by id (the bulk path)."""
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        errors["lines"] = ["Expected a list of lines."]
        return None
    if len(value) > MAX_LINES:
        errors["lines"] = [f"At most {MAX_LINES} lines per order."]
        return None
    wanted = {
        int(item["product_id"])
        for item in value
        if isinstance(item, dict)
        and isinstance(item.get("product_id"), int)
        and not isinstance(item.get("product_id"), bool)
    }
    if products is None:
        products = Product.objects.in_bulk(wanted) if wanted else {}
    cleaned = []
    for index, item in enumerate(value):
        key = f"lines.{index}"
        if not isinstance(item, dict):
            errors[key] = ["Expected an object."]
            continue
        unknown = set(item) - {
            "product_id",
            "sku",
            "description",
            "category",
            "quantity",
            "unit_price",
            "discount",
        }
        for name in sorted(unknown):
            errors[f"{key}.{name}"] = ["Unknown field."]
        product = None
        product_id = _id(errors, f"{key}.product_id", item.get("product_id"))
        if product_id is not None:
            product = products.get(product_id) or Product.objects.filter(pk=product_id).first()
            if product is None:
                errors[f"{key}.product_id"] = ["No product with this id."]
        texts = {}
        for name, limit in (("sku", 64), ("description", 300), ("category", 100)):
            raw = item.get(name)
            if raw is None:
                texts[name] = ""
            elif not isinstance(raw, str):
                errors[f"{key}.{name}"] = ["Enter text."]
            elif len(raw.strip()) > limit:
                errors[f"{key}.{name}"] = [f"At most {limit} characters."]
            elif "\x00" in raw:
                errors[f"{key}.{name}"] = ["Text may not contain NUL characters."]
            else:
                texts[name] = raw.strip()
        quantity = _decimal(
            errors,
            f"{key}.quantity",
            item.get("quantity"),
            default=Decimal(1),
            minimum=0,
            strict_min=True,
            maximum=Decimal("999999999"),
        )
        if quantity is not None and quantity != quantity.quantize(Decimal("0.001")):
            errors[f"{key}.quantity"] = ["Use at most three decimal places."]
        default_price = product.price if product is not None else None
        unit_price = _decimal(
            errors,
            f"{key}.unit_price",
            item.get("unit_price"),
            default=default_price,
            minimum=0,
            maximum=MAX_AMOUNT,
        )
        if unit_price is None and f"{key}.unit_price" not in errors and f"{key}.product_id" not in errors:
            errors[f"{key}.unit_price"] = ["This field is required (or choose a product)."]
        elif unit_price is not None and unit_price != unit_price.quantize(CENT):
            errors[f"{key}.unit_price"] = ["Use at most two decimal places."]
        discount = _decimal(
            errors,
            f"{key}.discount",
            item.get("discount"),
            default=Decimal(0),
            minimum=0,
            maximum=Decimal(100),
        )
        if product is not None:
            texts["sku"] = texts.get("sku") or product.sku
            texts["description"] = texts.get("description") or product.name
            texts["category"] = texts.get("category") or product.category
        if (
            product_id is None
            and not texts.get("sku")
            and not texts.get("description")
            and not any(k.startswith(f"{key}.") for k in errors)
        ):
            errors[f"{key}.description"] = ["Choose a product or describe the item."]
        if any(k == key or k.startswith(f"{key}.") for k in errors):
            continue
        total = line_total(quantity, unit_price, discount)
        if total > MAX_AMOUNT:
            errors[f"{key}.quantity"] = ["The line total is too large."]
            continue
        cleaned.append(
            {
                "product_id": product.pk if product is not None else None,
                "sku": texts["sku"],
                "description": texts["description"],
                "category": texts["category"],
                "quantity": quantity,
                "unit_price": unit_price,
                "discount": discount,
                "line_total": total,
                "position": index,
            }
        )
    return cleaned


def _customer(actor, model, key: str, value, errors: dict):
    customer_id = _id(errors, key, value)
    if customer_id is None:
        return None
    customer = restrict(model.objects.all(), actor, "view").filter(pk=customer_id).first()
    if customer is None:
        errors[key] = [f"No {model._meta.verbose_name} with this id."]
    return customer


def new_order_number() -> str:
    """A fresh order number (used when none is given): the date and ten random hex digits."""
    return f"{timezone.localdate():%Y%m%d}-{secrets.token_hex(5).upper()}"


def _order_clean(*, actor, data: dict, instance: Order | None) -> tuple[dict, dict]:
    if not isinstance(data, dict):
        raise ValidationError({"__all__": ["Expected an object."]})
    errors: dict[str, list[str]] = {}
    data = dict(data)
    _upper_currency(data)
    ordered_at = (
        _datetime(errors, "ordered_at", data.pop("ordered_at", None)) if "ordered_at" in data else None
    )
    scalars, field_errors = model_fields_clean(Order, data, [n for n in ORDER_FIELDS if n != "ordered_at"])
    errors.update(field_errors)
    if ordered_at is not None:
        scalars["ordered_at"] = ordered_at
    elif instance is None and "ordered_at" not in errors:
        scalars["ordered_at"] = timezone.now()
    _currency_check(scalars, errors)
    if "number" in scalars:
        if not scalars["number"]:
            if instance is None:
                scalars["number"] = new_order_number()
            else:
                errors["number"] = ["This field is required."]
        else:
            taken = Order.objects.filter(number=scalars["number"])
            if instance is not None:
                taken = taken.exclude(pk=instance.pk)
            if taken.exists():
                errors["number"] = ["Another order has this number."]
    elif instance is None:
        scalars["number"] = new_order_number()
    plan: dict = {"scalars": scalars}
    # The customer: a visible contact and/or company the actor may change.
    contact = instance.contact if instance is not None and instance.contact_id else None
    company = instance.company if instance is not None and instance.company_id else None
    if "contact_id" in data:
        contact = _customer(actor, Contact, "contact_id", data["contact_id"], errors)
        scalars["contact_id"] = contact.pk if contact else None
    if "company_id" in data:
        company = _customer(actor, Company, "company_id", data["company_id"], errors)
        scalars["company_id"] = company.pk if company else None
    if contact is None and company is None and not {"contact_id", "company_id"} & set(errors):
        errors["contact_id"] = ["Choose a contact or a company (or both)."]
    for key, customer in (("contact_id", contact), ("company_id", company)):
        if customer is not None and key not in errors and not can(actor, "change", customer):
            raise PermissionDeniedError("You may not change this customer's orders.")
    # Lines and the total.
    lines = _lines_clean(errors, data.get("lines")) if "lines" in data else None
    plan["lines"] = lines
    total = (
        _decimal(errors, "total", data.get("total"), minimum=0, maximum=MAX_AMOUNT)
        if "total" in data
        else None
    )
    if total is not None and total != total.quantize(CENT):
        errors["total"] = ["Use at most two decimal places."]
    if lines:
        computed = sum((line["line_total"] for line in lines), Decimal(0)).quantize(CENT)
        if total is not None and total != computed:
            errors["total"] = [
                f"The total is the sum of the lines ({computed}); leave it out or make it match."
            ]
        scalars["total"] = computed
    elif lines is not None or instance is None:  # no lines (or all removed): the total is as given
        if "total" not in errors:
            scalars["total"] = total if total is not None else Decimal(0)
    elif total is not None and total != instance.total and instance.lines.exists():
        errors["total"] = ["This order has lines: its total is the sum of the lines."]
    elif total is not None:
        scalars["total"] = total
    if instance is None and "currency" not in data:
        first = next((line for line in lines or [] if line["product_id"]), None)
        currency = (
            Product.objects.filter(pk=first["product_id"]).values_list("currency", flat=True).first()
            if first
            else None
        )
        scalars["currency"] = currency or "USD"
    # Ownership.
    for name in ("owner_id", "team_id"):
        if name in data:
            data[name] = _id(errors, name, data[name])
            if data[name] is None and name == "owner_id":
                data.pop(name)
    owner_id, team_id, own_errors = ownership_resolve(
        actor=actor,
        owner_id=data.get("owner_id"),
        team_id=data.get("team_id"),
        current_owner_id=getattr(instance, "owner_id", None),
        current_team_id=getattr(instance, "team_id", None),
        creating=instance is None,
    )
    errors.update(own_errors)
    plan["owner_id"], plan["team_id"] = owner_id, team_id
    unknown = set(data) - {*ORDER_FIELDS, "contact_id", "company_id", "lines", "total", "owner_id", "team_id"}
    for name in sorted(unknown):
        errors[name] = ["Unknown field."]
    return plan, errors


# ---------------------------------------------------------------------------------------------------------
# Orders


def _lines_snapshot(lines: Iterable) -> list[str]:
    def text(line):
        get = line.get if isinstance(line, dict) else (lambda k: getattr(line, k))
        label = get("sku") or get("description")
        extra = f" −{get('discount').normalize():f}%" if get("discount") else ""
        return f"{get('quantity').normalize():f} × {label} @ {get('unit_price')}{extra} = {get('line_total')}"

    return [text(line) for line in lines]


def order_snapshot(order: Order) -> dict:
    return {
        "id": order.pk,
        "number": order.number,
        "contact_id": order.contact_id,
        "company_id": order.company_id,
        "ordered_at": order.ordered_at,
        "status": order.status,
        "currency": order.currency,
        "total": order.total,
        "channel": order.channel,
        "notes": order.notes,
        "owner_id": order.owner_id,
        "team_id": order.team_id,
    }


def _order_search_text(order: Order, contact_name: str = "", company_name: str = "") -> str:
    return " ".join(p for p in (order.number, contact_name, company_name) if p)


def _order_index(order: Order) -> None:
    contact_name = str(order.contact) if order.contact_id else ""
    company_name = order.company.name if order.company_id else ""
    search.index("order", [(order.pk, _order_search_text(order, contact_name, company_name))])


def _lines_write(order: Order, lines: list[dict]) -> None:
    order.lines.all().delete()
    OrderLine.objects.bulk_create(OrderLine(order=order, **line) for line in lines)


def order_create(*, actor, data: dict) -> Order:
    """Create an order with its lines. `data`: contact_id and/or company_id (at least one), number
    (generated when absent), ordered_at, status, currency, channel, notes, lines [{product_id, sku,
    description, category, quantity, unit_price, discount (percent)}], total (only without lines),
    owner_id, team_id."""
    require_create(actor)
    plan, errors = _order_clean(actor=actor, data=data, instance=None)
    raise_if(errors)
    with transaction.atomic():
        order = Order(**plan["scalars"], owner_id=plan["owner_id"], team_id=plan["team_id"])
        order.save()
        if plan["lines"]:
            _lines_write(order, plan["lines"])
        snapshot = order_snapshot(order)
        changes = {k: (None, v) for k, v in snapshot.items() if v not in (None, "") and k != "id"}
        if plan["lines"]:
            changes["lines"] = (None, _lines_snapshot(plan["lines"]))
        history_record(instance=order, actor=actor, action="created", changes=changes)
        event_emit("order.created", instance=order, actor=actor, payload=snapshot)
        _order_index(order)
        summaries_refresh(contact_ids=[order.contact_id], company_ids=[order.company_id])
    return order


def order_update(*, actor, order_id: int, data: dict) -> Order:
    order = order_get(actor, order_id, "change")
    data = dict(data) if isinstance(data, dict) else {}
    expected = version_require(data.pop("version", None))
    plan, errors = _order_clean(actor=actor, data=data, instance=order)
    raise_if(errors)
    with transaction.atomic():
        before_customers = (order.contact_id, order.company_id)
        before_lines = _lines_snapshot(order.lines.all()) if plan["lines"] is not None else None
        fields = dict(plan["scalars"])
        fields["owner_id"], fields["team_id"] = plan["owner_id"], plan["team_id"]
        changes = {k: (getattr(order, k), v) for k, v in fields.items() if getattr(order, k) != v}
        record_save_versioned(order, expected_version=expected, fields=fields)
        if plan["lines"] is not None:
            _lines_write(order, plan["lines"])
            after_lines = _lines_snapshot(plan["lines"])
            if after_lines != before_lines:
                changes["lines"] = (before_lines, after_lines)
        if changes:
            history_record(instance=order, actor=actor, action="updated", changes=changes)
            payload = {**order_snapshot(order), "changed": sorted(changes)}
            event_emit("order.updated", instance=order, actor=actor, payload=payload)
            if "status" in changes:
                event_emit(
                    "order.status_changed",
                    instance=order,
                    actor=actor,
                    payload={**payload, "old_status": changes["status"][0]},
                )
        if {"contact_id", "company_id"} & set(changes):
            order.contact = Contact.objects.filter(pk=order.contact_id).first()
            order.company = Company.objects.filter(pk=order.company_id).first()
        _order_index(order)
        summaries_refresh(
            contact_ids=[before_customers[0], order.contact_id],
            company_ids=[before_customers[1], order.company_id],
        )
    return order


def _order_archive_set(actor, order_id: int, archived: bool) -> Order:
    order = order_get(actor, order_id, "delete")
    if order.is_archived == archived:
        return order
    with transaction.atomic():
        record_save_versioned(
            order,
            expected_version=order.version,
            fields={"archived_at": timezone.now() if archived else None},
        )
        action = "archived" if archived else "restored"
        history_record(
            instance=order, actor=actor, action=action, changes={"archived": (not archived, archived)}
        )
        event_emit(f"order.{action}", instance=order, actor=actor, payload=order_snapshot(order))
        summaries_refresh(contact_ids=[order.contact_id], company_ids=[order.company_id])
    return order


def order_archive(*, actor, order_id: int) -> Order:
    """Archived orders leave lists and no longer count in purchase summaries; `order_restore` undoes it."""
    return _order_archive_set(actor, order_id, True)


def order_restore(*, actor, order_id: int) -> Order:
    return _order_archive_set(actor, order_id, False)


def orders_bulk_archive(*, actor, ids: list) -> int:
    """Archive the orders in `ids` the actor may archive (others are skipped); returns how many changed."""
    from .queries import order_restrict

    require_create(actor)
    if not isinstance(ids, list | tuple) or not ids:
        raise ValidationError({"ids": ["Select at least one record."]})
    try:
        ids = [int(i) for i in ids][:10000]
    except (TypeError, ValueError):
        raise ValidationError({"ids": ["Expected a list of ids."]})
    candidates = order_restrict(
        Order.objects.filter(pk__in=ids, archived_at__isnull=True), actor
    ).select_related("contact", "company")
    targets = [
        o
        for o in candidates
        if can(actor, "delete", o) and can(actor, "change", o.contact if o.contact_id else o.company)
    ]
    with transaction.atomic():
        now = timezone.now()
        pks = [o.pk for o in targets]
        Order.objects.filter(pk__in=pks).update(archived_at=now, updated_at=now, version=F("version") + 1)
        history_record_bulk(
            model=Order,
            actor=actor,
            action="archived",
            rows=[(pk, {"archived": (False, True)}) for pk in pks],
        )
        event_emit_bulk("order.archived", model=Order, actor=actor, rows=[(pk, {"id": pk}) for pk in pks])
        summaries_refresh(
            contact_ids=[o.contact_id for o in targets], company_ids=[o.company_id for o in targets]
        )
    return len(targets)


# ---------------------------------------------------------------------------------------------------------
# Many orders at once (imports, seed)


def orders_bulk_create(
    *,
    actor,
    rows: list[dict],
    batch_size: int = 1000,
    refresh_summaries: bool = True,
    validate_only: bool = False,
) -> dict:
    """Create many orders fast: validated per row, written in batches of `batch_size` with one transaction
    per batch (orders, lines, history, events, search documents and the touched customers' summaries).

    Each row is the dict `order_create` takes:
        {"contact_id": 12, "company_id": None,          # at least one; visible to and changeable by actor
         "number": "WEB-1001",                          # optional; generated when absent; unique
         "ordered_at": "2024-05-31T14:30:00Z",          # optional, ISO date or date-time; default now
         "status": "paid", "channel": "web",            # optional choices
         "currency": "EUR",                             # optional; default the first product's, else USD
         "lines": [{"product_id": 3, "sku": "BK-1", "description": "…", "category": "Books",
                    "quantity": "2", "unit_price": "9.90", "discount": "10"}],   # discount in percent
         "total": "19.80",                              # only without lines (else computed)
         "owner_id": 5, "team_id": 2, "notes": "…"}
    Returns {"created": [order ids, in row order, None for refused rows], "errors": {row index: {field:
    [messages]}}}. Rows with errors are skipped; the others are written. Numbers repeated within `rows` are
    errors on the later rows. `refresh_summaries=False` leaves summaries to one `summaries_refresh` call
    by the caller (e.g. after a whole import). `validate_only=True` checks every row exactly as a real call
    would and writes nothing: the rows that would be created get 0 in `created` (an import's dry run)."""
    require_create(actor)
    if not isinstance(rows, list | tuple):
        raise ValidationError({"rows": ["Expected a list of orders."]})
    created: list[int | None] = [None] * len(rows)
    errors: dict[int, dict[str, list[str]]] = {}
    for start in range(0, len(rows), batch_size):
        batch = list(enumerate(rows[start : start + batch_size], start))
        _bulk_batch(actor, batch, created, errors, refresh_summaries, validate_only)
    return {"created": created, "errors": errors}


def _bulk_batch(actor, batch, created, errors, refresh_summaries: bool, validate_only: bool = False) -> None:
    role = role_of(actor)
    contact_ids, company_ids, product_ids, numbers = set(), set(), set(), []
    for _index, row in batch:
        if not isinstance(row, dict):
            continue
        for key, bucket in (("contact_id", contact_ids), ("company_id", company_ids)):
            if isinstance(row.get(key), int) and not isinstance(row.get(key), bool):
                bucket.add(row[key])
        for line in row.get("lines") or [] if isinstance(row.get("lines"), list) else []:
            if isinstance(line, dict) and isinstance(line.get("product_id"), int):
                product_ids.add(line["product_id"])
        if isinstance(row.get("number"), str) and row["number"].strip():
            numbers.append(row["number"].strip())
    contacts = {
        c.pk: c
        for c in restrict(Contact.objects.filter(pk__in=contact_ids), actor, "view").only(
            "id", "owner_id", "team_id", "first_name", "last_name", "prefix", "middle_name", "suffix", "email"
        )
    }
    companies = {
        c.pk: c
        for c in restrict(Company.objects.filter(pk__in=company_ids), actor, "view").only(
            "id", "owner_id", "team_id", "name"
        )
    }
    products = Product.objects.in_bulk(product_ids) if product_ids else {}
    taken = (
        set(Order.objects.filter(number__in=numbers).values_list("number", flat=True)) if numbers else set()
    )
    owner_default, team_default, _ = ownership_resolve(actor=actor, creating=True)
    ownership: dict[tuple, tuple] = {}
    plans = []
    for index, row in batch:
        row_errors: dict[str, list[str]] = {}
        if not isinstance(row, dict):
            errors[index] = {"__all__": ["Expected an object."]}
            continue
        data = dict(row)
        _upper_currency(data)
        ordered_at = _datetime(row_errors, "ordered_at", data.pop("ordered_at", None))
        scalars, field_errors = model_fields_clean(
            Order, data, [n for n in ORDER_FIELDS if n != "ordered_at"]
        )
        row_errors.update(field_errors)
        scalars["ordered_at"] = ordered_at or timezone.now()
        _currency_check(scalars, row_errors)
        number = scalars.get("number") or new_order_number()
        if number in taken:
            row_errors["number"] = ["Another order has this number."]
        scalars["number"] = number
        customer = None
        for key, model, found in (("contact_id", Contact, contacts), ("company_id", Company, companies)):
            value = _id(row_errors, key, data.get(key))
            if value is None:
                scalars[key] = None
                continue
            record = found.get(value)
            if record is None:
                row_errors[key] = [f"No {model._meta.verbose_name} with this id."]
            elif not can(actor, "change", record):
                row_errors[key] = ["You may not change this customer's orders."]
            customer = customer or record
            scalars[key] = value
        if (
            scalars.get("contact_id") is None
            and scalars.get("company_id") is None
            and not ({"contact_id", "company_id"} & set(row_errors))
        ):
            row_errors["contact_id"] = ["Choose a contact or a company (or both)."]
        lines = (
            _lines_clean(row_errors, data.get("lines"), products) if data.get("lines") is not None else None
        )
        total = _decimal(row_errors, "total", data.get("total"), minimum=0, maximum=MAX_AMOUNT)
        if lines:
            computed = sum((line["line_total"] for line in lines), Decimal(0)).quantize(CENT)
            if total is not None and total != computed:
                row_errors["total"] = [f"The total is the sum of the lines ({computed})."]
            total = computed
        scalars["total"] = (total or Decimal(0)).quantize(CENT)
        if "currency" not in data:
            first = next((line for line in lines or [] if line["product_id"]), None)
            scalars["currency"] = products[first["product_id"]].currency if first else "USD"
        owner_id, team_id = owner_default, team_default
        if data.get("owner_id") is not None or data.get("team_id") is not None:
            key = (
                _id(row_errors, "owner_id", data.get("owner_id")),
                _id(row_errors, "team_id", data.get("team_id")),
            )
            if key not in ownership:  # one check per (owner, team) pair in the batch, not per row
                ownership[key] = ownership_resolve(
                    actor=actor, owner_id=key[0], team_id=key[1], creating=True
                )
            owner_id, team_id, own_errors = ownership[key]
            row_errors.update(own_errors)
        unknown = set(data) - {
            *ORDER_FIELDS,
            "contact_id",
            "company_id",
            "lines",
            "total",
            "owner_id",
            "team_id",
        }
        for name in sorted(unknown):
            row_errors[name] = ["Unknown field."]
        if row_errors:
            errors[index] = row_errors
            continue
        taken.add(number)
        plans.append((index, scalars, lines or [], owner_id, team_id))
    if validate_only:
        for plan in plans:
            created[plan[0]] = 0
        return
    if not plans or role is None:
        return
    with transaction.atomic():
        writer = Writer()
        ids = allocate_ids(Order, len(plans))
        order_rows, line_rows, history_rows, event_rows, docs = [], [], [], [], []
        for order_id, (index, scalars, lines, owner_id, team_id) in zip(ids, plans, strict=True):
            created[index] = order_id
            order = Order(**scalars, id=order_id, owner_id=owner_id, team_id=team_id)
            order_rows.append(
                (
                    order_id,
                    writer.now_db,
                    writer.now_db,
                    owner_id,
                    team_id,
                    1,
                    "{}",
                    *(_order_column(writer, order, name) for name in _ORDER_COLUMNS),
                )
            )
            line_rows.extend(
                (order_id, *(writer.decimal(line[n]) if n in _DECIMALS else line[n] for n in _LINE_COLUMNS))
                for line in lines
            )
            snapshot = order_snapshot(order)
            changes = {k: v for k, v in snapshot.items() if v not in (None, "") and k != "id"}
            if lines:
                changes["lines"] = _lines_snapshot(lines)
            history_rows.append((order_id, changes))
            event_rows.append((order_id, snapshot))
            contact = contacts.get(order.contact_id)
            company = companies.get(order.company_id)
            docs.append(
                (
                    order_id,
                    _order_search_text(
                        order, str(contact) if contact else "", company.name if company else ""
                    ),
                )
            )
        writer.insert(
            Order,
            ["id", "created_at", "updated_at", "owner_id", "team_id", "version", "custom", *_ORDER_COLUMNS],
            order_rows,
        )
        writer.insert(OrderLine, ["order_id", *_LINE_COLUMNS], line_rows)
        writer.history(Order, getattr(actor, "pk", None), history_rows)
        writer.events("order.created", Order, getattr(actor, "pk", None), event_rows)
        search.index("order", docs)
        if refresh_summaries:
            summaries_refresh(
                contact_ids=[plan[1]["contact_id"] for plan in plans if plan[1].get("contact_id")],
                company_ids=[plan[1]["company_id"] for plan in plans if plan[1].get("company_id")],
            )


# The columns of an order and of a line the bulk path writes, besides the ones every record has.
_ORDER_COLUMNS = [
    "contact_id",
    "company_id",
    "number",
    "ordered_at",
    "status",
    "currency",
    "total",
    "channel",
    "notes",
]
_LINE_COLUMNS = [
    "position",
    "product_id",
    "sku",
    "description",
    "category",
    "quantity",
    "unit_price",
    "discount",
    "line_total",
]
_DECIMALS = frozenset({"quantity", "unit_price", "discount", "line_total"})


def _order_column(writer: Writer, order: Order, name: str):
    value = getattr(order, name)
    if name == "ordered_at":
        return writer.datetime(value)
    if name == "total":
        return writer.decimal(value)
    return value


# ---------------------------------------------------------------------------------------------------------
# Many products at once (imports)


def _product_row_clean(data) -> tuple[dict, dict[str, list[str]]]:
    """What `_product_clean` checks for a new product, except the SKU's uniqueness: the bulk path checks
    the SKUs of all its rows with one query."""
    if not isinstance(data, dict):
        return {}, {"__all__": ["Expected an object."]}
    data = dict(data)
    _upper_currency(data)
    if isinstance(data.get("sku"), str):
        data["sku"] = data["sku"].strip()
    scalars, errors = model_fields_clean(Product, data, PRODUCT_FIELDS)
    for name in ("sku", "name"):
        if not scalars.get(name):
            errors.setdefault(name, ["This field is required."])
    _currency_check(scalars, errors)
    if scalars.get("price") is not None and scalars["price"] < 0:
        errors["price"] = ["The price cannot be negative."]
    return scalars, errors


def products_bulk_create(*, actor, rows: list[dict], validate_only: bool = False) -> dict:
    """Create many products in one transaction, each exactly as `product_create` writes one: the product,
    a `created` history entry with the same changes, a `product.created` event with the same payload and
    its search document. Rows take `product_create`'s keys (sku, name, category, price, currency, active,
    description). SKUs are compared case-insensitively with the catalogue (archived products included)
    and with the earlier rows, in one query per 5,000 rows.

    Returns {"created": [product ids in row order, None for refused rows], "errors": {row index: {field:
    [messages]}}}. Refused rows are skipped, the others written. `validate_only=True` writes nothing and
    gives 0 for the rows that would be created."""
    from django.db.models import Q
    from django.db.models.functions import Lower

    _require_catalogue_writer(actor)
    if not isinstance(rows, list | tuple):
        raise ValidationError({"rows": ["Expected a list of products."]})
    created: list[int | None] = [None] * len(rows)
    errors: dict[int, dict[str, list[str]]] = {}
    cleaned = [_product_row_clean(row) for row in rows]
    skus = sorted({scalars["sku"] for scalars, _e in cleaned if scalars.get("sku")})
    taken: set[str] = set()
    for start in range(0, len(skus), 5000):
        chunk = skus[start : start + 5000]
        # LOWER() folds only ASCII on SQLite: the exact spelling is matched too.
        matching = Q(folded__in=[s.lower() for s in chunk]) | Q(sku__in=chunk)
        taken.update(
            sku.lower()
            for sku in Product.objects.annotate(folded=Lower("sku"))
            .filter(matching)
            .values_list("sku", flat=True)
        )
    plans: list[tuple[int, dict]] = []
    for index, (scalars, row_errors) in enumerate(cleaned):
        if not row_errors and scalars["sku"].lower() in taken:
            row_errors = {"sku": ["Another product has this SKU."]}
        if row_errors:
            errors[index] = row_errors
            continue
        taken.add(scalars["sku"].lower())
        plans.append((index, scalars))
    if validate_only:
        for index, _scalars in plans:
            created[index] = 0
        return {"created": created, "errors": errors}
    if not plans:
        return {"created": created, "errors": errors}
    with transaction.atomic():
        products = [Product(**scalars) for _index, scalars in plans]
        Product.objects.bulk_create(products, batch_size=1000)
        if any(p.pk is None for p in products):  # backends that do not return ids
            by_sku = dict(Product.objects.filter(sku__in=[p.sku for p in products]).values_list("sku", "id"))
            for product in products:
                product.pk = product.id = by_sku[product.sku]
        history_rows, event_rows = [], []
        for product, (index, _scalars) in zip(products, plans, strict=True):
            created[index] = product.pk
            snapshot = product_snapshot(product)
            history_rows.append(
                (product.pk, {k: (None, v) for k, v in snapshot.items() if v not in (None, "") and k != "id"})
            )
            event_rows.append((product.pk, snapshot))
        history_record_bulk(model=Product, actor=actor, action="created", rows=history_rows)
        event_emit_bulk("product.created", model=Product, actor=actor, rows=event_rows)
        _product_index(products)
    return {"created": created, "errors": errors}


# ---------------------------------------------------------------------------------------------------------
# Purchase summaries


REFRESH_CHUNK = 500


def summaries_refresh(*, contact_ids: Iterable | None = None, company_ids: Iterable | None = None) -> None:
    """Rebuild the purchase summaries of these customers from their orders (call inside the writer's
    transaction). Orders count unless cancelled, refunded or archived; customers left with no counting
    order lose their summary row. Cheap per customer: one aggregate per 500 customers."""
    for ids, kind in ((contact_ids, "contact"), (company_ids, "company")):
        unique = sorted({int(i) for i in (ids or []) if i is not None})
        for start in range(0, len(unique), REFRESH_CHUNK):
            _refresh_chunk(kind, unique[start : start + REFRESH_CHUNK])


def _refresh_chunk(kind: str, ids: list[int]) -> None:
    link = f"{kind}_id"
    summary_model = ContactPurchaseSummary if kind == "contact" else CompanyPurchaseSummary
    category_model = ContactPurchaseCategory if kind == "contact" else CompanyPurchaseCategory
    counting = Order.objects.filter(
        **{f"{link}__in": ids}, archived_at__isnull=True, status__in=COUNTING_STATUSES
    )
    figures = {
        row[link]: row
        for row in counting.values(link).annotate(
            n=Count("id"), spent=Sum("total"), first=Min("ordered_at"), last=Max("ordered_at")
        )
    }
    categories: dict[int, list[tuple[str, int, Decimal]]] = defaultdict(list)
    for row in (
        OrderLine.objects.filter(
            **{f"order__{link}__in": ids},
            order__archived_at__isnull=True,
            order__status__in=COUNTING_STATUSES,
        )
        .exclude(category="")
        .values(f"order__{link}", "category")
        .annotate(n=Count("order_id", distinct=True), spent=Sum("line_total"))
    ):
        categories[row[f"order__{link}"]].append(
            (row["category"], row["n"], Decimal(str(row["spent"] or 0)).quantize(CENT))
        )
    summary_model.objects.filter(**{f"{link}__in": ids}).delete()
    category_model.objects.filter(**{f"{link}__in": ids}).delete()
    now = timezone.now()
    summaries, category_rows = [], []
    for customer_id, row in figures.items():
        spent = Decimal(str(row["spent"] or 0)).quantize(CENT)
        ranked = sorted(categories.get(customer_id, []), key=lambda c: (-c[2], -c[1], c[0]))
        summaries.append(
            summary_model(
                **{link: customer_id},
                order_count=row["n"],
                total_spent=spent,
                average_order=(spent / row["n"]).quantize(CENT, rounding=ROUND_HALF_UP),
                first_order_at=row["first"],
                last_order_at=row["last"],
                favourite_categories=[c[0] for c in ranked[:FAVOURITES]],
                updated_at=now,
            )
        )
        category_rows.extend(
            category_model(**{link: customer_id}, category=name, order_count=n, spent=amount)
            for name, n, amount in ranked
        )
    summary_model.objects.bulk_create(summaries, batch_size=1000)
    category_model.objects.bulk_create(category_rows, batch_size=2000)
