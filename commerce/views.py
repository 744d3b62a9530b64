"""Pages for products and orders, and the "Purchases" tab and panel on contact and company pages.

Every read goes through commerce.queries (visibility rules), every write through commerce.services.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.db.models.functions import Lower
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.models import Company, Contact
from contacts.queries import contact_list
from core.errors import ConflictError, ValidationError
from core.history import history_for
from core.pagination import keyset_page
from core.search_providers import register as register_search
from core.views import BulkAction, ListView, crm_view, history_rows, picker_options, require_writer
from core.visibility import can, can_create, restrict
from users.models import Team, User

from . import services
from .forms import OrderForm, OrderLineForm, ProductForm, product_choices
from .models import CompanyPurchaseCategory, ContactPurchaseCategory
from .queries import (
    CUSTOMER_ORDER_SORT,
    ORDER_SORTS,
    PRODUCT_SORTS,
    can_change_products,
    company_summary,
    contact_summary,
    customer_allows,
    customer_orders,
    order_fields,
    order_get,
    order_list,
    product_fields,
    product_get,
    product_list,
    sort_annotate,
    sort_resolve,
    summary_dict,
)
from .tables import order_table, product_table

PURCHASES_PAGE = 20
HISTORY_PAGE = 50

# ---------------------------------------------------------------------------------------------------------
# Lists


class ProductList(ListView):
    object_type = "commerce.product"
    title = gettext_lazy("Products")
    noun_plural = gettext_lazy("products")
    table = product_table
    registry = product_fields
    sorts = PRODUCT_SORTS
    default_sort = "name"
    url_name = "commerce:product_list"
    export_url_name = "commerce:product_export"
    bulk_url_name = "commerce:product_bulk"
    create_url_name = "commerce:product_create"
    create_label = gettext_lazy("New product")
    bulk_actions = [
        BulkAction(
            "archive",
            gettext_lazy("Archive"),
            run=lambda user, ids, value: services.products_bulk_archive(actor=user, ids=ids),
            confirm=gettext_lazy("Archive the selected products? You can restore them later."),
            done=gettext_lazy("Archived %(count)s products."),
            danger=True,
        )
    ]
    search_placeholder = gettext_lazy("Search products by name, SKU or category…")
    filter_placeholder = gettext_lazy('e.g. category = "Books" and price < 20')
    empty_title = gettext_lazy("No products yet")
    empty_text = gettext_lazy("The catalogue lists what you sell. Orders can pick their lines from it.")
    export_filename = "products"

    def resolve_sort(self, sort):
        return sort_resolve(self.sorts, sort, self.default_sort)

    def annotate_sort(self, queryset, order):
        return sort_annotate(queryset, order)

    def get_queryset(self, *, filter, q, archived):
        return product_list(self.request.user, filter=filter or None, q=q or None, archived=archived)

    def custom_fields(self):
        return []

    def extra_context(self):
        if can_change_products(self.request.user):
            return {}
        return {"create_url": "", "bulk_actions": []}


def _orders_bulk_archive(user, ids, value):
    return services.orders_bulk_archive(actor=user, ids=ids)


class OrderList(ListView):
    object_type = "commerce.order"
    title = gettext_lazy("Orders")
    noun_plural = gettext_lazy("orders")
    table = order_table
    registry = order_fields
    sorts = ORDER_SORTS
    default_sort = "-ordered_at"
    url_name = "commerce:order_list"
    export_url_name = "commerce:order_export"
    bulk_url_name = "commerce:order_bulk"
    create_url_name = "commerce:order_create"
    create_label = gettext_lazy("New order")
    bulk_actions = [
        BulkAction(
            "archive",
            gettext_lazy("Archive"),
            run=_orders_bulk_archive,
            confirm=gettext_lazy("Archive the selected orders? They stop counting in purchase summaries."),
            done=gettext_lazy("Archived %(count)s orders."),
            danger=True,
        )
    ]
    search_placeholder = gettext_lazy("Search by order number or customer…")
    filter_placeholder = gettext_lazy("e.g. status = paid and total > 100 and ordered > 30d")
    empty_title = gettext_lazy("No orders yet")
    empty_text = gettext_lazy(
        "Orders record what your customers bought. Add one or import your shop's history."
    )
    export_filename = "orders"

    def resolve_sort(self, sort):
        return sort_resolve(self.sorts, sort, self.default_sort)

    def get_queryset(self, *, filter, q, archived):
        return order_list(self.request.user, filter=filter or None, q=q or None, archived=archived)

    def custom_fields(self):
        return []

    def optimize(self, queryset):
        return queryset.select_related("contact", "company", "owner")


# ---------------------------------------------------------------------------------------------------------
# History


def _history(request, record) -> dict:
    entries = history_for(record)
    before = request.GET.get("before", "")
    if before.isdigit():
        entries = entries.filter(pk__lt=int(before))
    entries = list(entries[: HISTORY_PAGE + 1])
    more = len(entries) > HISTORY_PAGE
    entries = entries[:HISTORY_PAGE]
    labels = {
        "owner_id": _("Owner"),
        "team_id": _("Team"),
        "contact_id": _("Contact"),
        "company_id": _("Company"),
    }
    # Names rather than ids (one query each); customers the reader may not see keep their id.
    ids: dict[str, set] = {key: set() for key in labels}
    for entry in entries:
        for key in ids:
            ids[key].update(v for v in (entry.changes or {}).get(key, []) or [] if isinstance(v, int))
    names = {
        "owner_id": {u.pk: u.display_name for u in User.objects.filter(pk__in=ids["owner_id"])},
        "team_id": dict(Team.objects.filter(pk__in=ids["team_id"]).values_list("pk", "name")),
        "contact_id": {
            c.pk: str(c) for c in restrict(Contact.objects.filter(pk__in=ids["contact_id"]), request.user)
        },
        "company_id": dict(
            restrict(Company.objects.filter(pk__in=ids["company_id"]), request.user).values_list("pk", "name")
        ),
    }
    for entry in entries:
        changes = dict(entry.changes or {})
        for key, lookup in names.items():
            if isinstance(changes.get(key), list):
                changes[key] = [lookup.get(v, v) if isinstance(v, int) else v for v in changes[key]]
        entry.changes = changes
    return {
        "history": history_rows(entries, labels),
        "history_more": entries[-1].pk if more and entries else None,
    }


# ---------------------------------------------------------------------------------------------------------
# Products


@crm_view("GET")
def product_detail(request, pk):
    product = product_get(request.user, pk)
    context = {
        "record": product,
        "product": product,
        "title": product.name,
        "can_change": can_change_products(request.user),
        "can_delete": can_change_products(request.user),
        **_history(request, product),
    }
    return render(request, "commerce/product_detail.html", context)


def _product_form(request, instance):
    form = ProductForm(request.POST if request.method == "POST" else None, instance=instance)
    status, conflict = 200, False
    if request.method == "POST":
        if form.is_valid():
            data = form.to_data()
            try:
                if instance is None:
                    product = services.product_create(actor=request.user, data=data)
                else:
                    product = services.product_update(
                        actor=request.user,
                        product_id=instance.pk,
                        data={**data, "version": request.POST.get("version", "")},
                    )
            except ConflictError:
                conflict, status = True, 409
            except ValidationError as exc:
                form.apply_service_errors(exc.errors)
                status = 400
            else:
                messages.success(
                    request,
                    _("Created the product “%(name)s”.") % {"name": product}
                    if instance is None
                    else _("Saved your changes."),
                )
                return redirect(product.get_absolute_url())
        else:
            status = 400
    context = {
        "form": form,
        "record": instance,
        "conflict": conflict,
        "version": request.POST.get("version", "")
        if request.method == "POST"
        else getattr(instance, "version", ""),
        "cancel_url": instance.get_absolute_url() if instance else reverse("commerce:product_list"),
    }
    return render(request, "commerce/product_form.html", context, status=status)


@crm_view("GET", "POST")
def product_create(request):
    require_writer(request.user)
    services._require_catalogue_writer(request.user)
    return _product_form(request, None)


@crm_view("GET", "POST")
def product_edit(request, pk):
    return _product_form(request, product_get(request.user, pk, "change"))


@crm_view("POST")
def product_archive(request, pk):
    product = services.product_archive(actor=request.user, product_id=pk)
    messages.success(request, _("Archived “%(name)s”.") % {"name": product})
    return redirect(product.get_absolute_url())


@crm_view("POST")
def product_restore(request, pk):
    product = services.product_restore(actor=request.user, product_id=pk)
    messages.success(request, _("Restored “%(name)s”.") % {"name": product})
    return redirect(product.get_absolute_url())


# ---------------------------------------------------------------------------------------------------------
# Orders


@crm_view("GET")
def order_detail(request, pk):
    order = order_get(request.user, pk)
    change = customer_allows(request.user, order, "change")
    context = {
        "record": order,
        "order": order,
        "title": str(order),
        "lines": list(order.lines.all()),
        "contact_visible": order.contact_id is not None and can(request.user, "view", order.contact),
        "company_visible": order.company_id is not None and can(request.user, "view", order.company),
        "can_change": change,
        "can_delete": change and can(request.user, "delete", order),
        **_history(request, order),
    }
    return render(request, "commerce/order_detail.html", context)


def _order_form(request, instance, *, contact=None, company=None):
    user = request.user
    form = OrderForm(
        request.POST if request.method == "POST" else None,
        user=user,
        instance=instance,
        contact=contact,
        company=company,
    )
    status, conflict = 200, False
    if request.method == "POST":
        if form.is_valid():
            data = form.to_data()
            try:
                if instance is None:
                    order = services.order_create(actor=user, data=data)
                else:
                    order = services.order_update(
                        actor=user,
                        order_id=instance.pk,
                        data={**data, "version": request.POST.get("version", "")},
                    )
            except ConflictError:
                conflict, status = True, 409
            except ValidationError as exc:
                form.apply_service_errors(exc.errors)
                status = 400
            else:
                messages.success(
                    request,
                    _("Created order %(order)s.") % {"order": order}
                    if instance is None
                    else _("Saved your changes."),
                )
                return redirect(order.get_absolute_url())
        else:
            status = 400
    context = {
        "form": form,
        "record": instance,
        "conflict": conflict,
        "next_line": max((int(f.prefix.split("-")[1]) for f in form.line_forms), default=-1) + 1,
        "version": request.POST.get("version", "")
        if request.method == "POST"
        else getattr(instance, "version", ""),
        "cancel_url": instance.get_absolute_url() if instance else reverse("commerce:order_list"),
    }
    return render(request, "commerce/order_form.html", context, status=status)


@crm_view("GET", "POST")
def order_create(request):
    require_writer(request.user)
    from contacts.queries import company_get, contact_get

    contact = company = None
    if request.method == "GET":
        if request.GET.get("contact", "").isdigit():
            contact = contact_get(request.user, int(request.GET["contact"]))
        if request.GET.get("company", "").isdigit():
            company = company_get(request.user, int(request.GET["company"]))
    return _order_form(request, None, contact=contact, company=company)


@crm_view("GET", "POST")
def order_edit(request, pk):
    return _order_form(request, order_get(request.user, pk, "change"))


@crm_view("GET")
def order_line(request):
    """htmx: one more, empty line for the order form (`?index=N`)."""
    index = request.GET.get("index", "0")
    index = int(index) if index.isdigit() and int(index) < 1000 else 0
    form = OrderLineForm(prefix=f"line-{index}", product_choices=product_choices())
    return render(request, "commerce/order_line.html", {"line": form, "index": index})


@crm_view("POST")
def order_archive(request, pk):
    order = services.order_archive(actor=request.user, order_id=pk)
    messages.success(request, _("Archived order %(order)s.") % {"order": order})
    return redirect(order.get_absolute_url())


@crm_view("POST")
def order_restore(request, pk):
    order = services.order_restore(actor=request.user, order_id=pk)
    messages.success(request, _("Restored order %(order)s.") % {"order": order})
    return redirect(order.get_absolute_url())


@crm_view("GET")
def contact_options(request):
    """The contact picker of the order form: visible contacts matching `q`."""
    text = (request.GET.get("q") or request.GET.get("contact_label") or "").strip()
    try:
        contacts = contact_list(request.user, q=text or None)
    except ValidationError:
        return picker_options(request, [])
    if not text:
        contacts = contacts.order_by(Lower("last_name"), "id")
    rows = [
        (c.pk, str(c), c.email)
        for c in contacts.only(
            "id", "first_name", "last_name", "email", "prefix", "middle_name", "suffix", "phone"
        )[:10]
    ]
    return picker_options(request, rows)


# ---------------------------------------------------------------------------------------------------------
# The "Purchases" tab and side panel on contact and company pages (core.extensions)


def _purchases_tab(request, record, *, kind: str) -> str:
    """The customer's orders, newest first, keyset-paged with `?tab=purchases&orders_cursor=…`."""
    queryset = customer_orders(request.user, **{f"{kind}_id": record.pk}).select_related("company", "contact")
    cursor = request.GET.get("orders_cursor") or None
    try:
        orders, next_cursor = keyset_page(queryset, CUSTOMER_ORDER_SORT, cursor, PURCHASES_PAGE)
    except ValidationError:
        orders, next_cursor = keyset_page(queryset, CUSTOMER_ORDER_SORT, None, PURCHASES_PAGE)
        cursor = None
    new_url = ""
    if can_create(request.user) and can(request.user, "change", record):
        new_url = reverse("commerce:order_create") + f"?{kind}={record.pk}"
    return render_to_string(
        "commerce/purchases_tab.html",
        {
            "orders": orders,
            "next_cursor": next_cursor,
            "paged": bool(cursor),
            "new_url": new_url,
            "kind": kind,
            "list_url": reverse("commerce:order_list") + "?filter=" + quote(f"{kind}_id = {record.pk}"),
        },
        request=request,
    )


def _purchases_panel(request, record, *, kind: str) -> str:
    if kind == "contact":
        summary = contact_summary(record.pk)
        categories = ContactPurchaseCategory.objects.filter(contact_id=record.pk).values(
            "category", "order_count", "spent"
        )
    else:
        summary = company_summary(record.pk)
        categories = CompanyPurchaseCategory.objects.filter(company_id=record.pk).values(
            "category", "order_count", "spent"
        )
    figures = summary_dict(summary, list(categories)[:50])
    return render_to_string(
        "commerce/purchases_panel.html",
        {"summary": figures, "record": record, "has_orders": summary is not None},
        request=request,
    )


def contact_purchases_tab(request, record):
    return _purchases_tab(request, record, kind="contact")


def company_purchases_tab(request, record):
    return _purchases_tab(request, record, kind="company")


def contact_purchases_panel(request, record):
    return _purchases_panel(request, record, kind="contact")


def company_purchases_panel(request, record):
    return _purchases_panel(request, record, kind="company")


# ---------------------------------------------------------------------------------------------------------
# Global search


def _order_results(user, text, limit):
    try:
        orders = order_list(user, q=text).select_related("contact", "company")[:limit]
    except ValidationError:
        return _("Orders"), []
    return _("Orders"), [
        {
            "title": str(o),
            "subtitle": " · ".join(
                p
                for p in (str(o.contact) if o.contact_id else "", o.company.name if o.company_id else "")
                if p
            ),
            "url": o.get_absolute_url(),
            "avatar": o.number,
        }
        for o in orders
    ]


def _product_results(user, text, limit):
    try:
        products = product_list(user, q=text).only("id", "name", "sku", "category")[:limit]
    except ValidationError:
        return _("Products"), []
    return _("Products"), [
        {
            "title": p.name,
            "subtitle": " · ".join(x for x in (p.sku, p.category) if x),
            "url": p.get_absolute_url(),
            "avatar": p.name,
        }
        for p in products
    ]


def register() -> None:
    register_search(
        "orders",
        _order_results,
        order=40,
        more_url=lambda text: reverse("commerce:order_list") + "?q=" + quote(text),
    )
    register_search(
        "products",
        _product_results,
        order=50,
        more_url=lambda text: reverse("commerce:product_list") + "?q=" + quote(text),
    )
