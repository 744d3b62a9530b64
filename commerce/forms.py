"""Forms for products and orders. They only collect input: `to_data()` builds the dict that
commerce.services validates, and `apply_service_errors()` puts its messages beside the fields (line errors
such as `lines.2.quantity` beside that line's field)."""

from __future__ import annotations

import re

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from contacts.forms import owner_choices, team_choices
from core.views import RecordPicker, apply_errors

from .models import Order, Product

LINE_FIELDS = ["product", "description", "quantity", "unit_price", "discount"]
LINE_KEY = re.compile(r"^line-(\d+)-(product|description|quantity|unit_price|discount)$")


def _text(label, max_length=None, **kwargs) -> forms.CharField:
    field = forms.CharField(label=label, required=False, **kwargs)
    if max_length and not isinstance(field.widget, forms.Textarea):
        field.widget.attrs.setdefault("maxlength", max_length)
    return field


class ServiceErrorsMixin:
    aliases: dict[str, str] = {}

    def apply_service_errors(self, errors: dict[str, list[str]]) -> None:
        apply_errors(self, errors, self.aliases)

    @property
    def has_any_errors(self) -> bool:
        return bool(self.errors)


class ProductForm(ServiceErrorsMixin, forms.Form):
    sku = _text(_("SKU"), 64)
    name = _text(_("Name"), 200)
    category = _text(_("Category"), 100)
    price = _text(_("Price"), widget=forms.NumberInput(attrs={"step": "0.01", "min": 0}))
    currency = _text(
        _("Currency"),
        3,
        initial="USD",
        widget=forms.TextInput(attrs={"class": "input-short", "placeholder": "USD"}),
    )
    active = forms.BooleanField(label=_("Active (can be sold)"), required=False, initial=True)
    description = _text(_("Description"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, data=None, *, instance: Product | None = None):
        super().__init__(data)
        if instance is not None:
            for name in ("sku", "name", "category", "currency", "description", "active"):
                self.initial[name] = getattr(instance, name)
            self.initial["price"] = str(instance.price)

    def to_data(self) -> dict:
        data = {k: self.cleaned_data.get(k) for k in ("sku", "name", "category", "currency", "description")}
        data["price"] = self.cleaned_data.get("price") or "0"
        data["active"] = bool(self.cleaned_data.get("active"))
        return data


class OrderLineForm(forms.Form):
    product = forms.ChoiceField(label=_("Product"), required=False)
    description = _text(_("Description"), 300)
    quantity = _text(
        _("Quantity"), widget=forms.NumberInput(attrs={"step": "any", "min": 0, "class": "input-short"})
    )
    unit_price = _text(_("Unit price"), widget=forms.NumberInput(attrs={"step": "0.01", "min": 0}))
    discount = _text(
        _("Discount %"),
        widget=forms.NumberInput(attrs={"step": "any", "min": 0, "max": 100, "class": "input-short"}),
    )

    def __init__(self, *args, product_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", _("— No product —")), *product_choices]

    def is_blank(self) -> bool:
        return not any((self.cleaned_data.get(f) or "").strip() for f in LINE_FIELDS)

    def to_data(self) -> dict:
        data: dict = {}
        product = self.cleaned_data.get("product")
        if product:
            data["product_id"] = int(product)
        for name in ("description", "quantity", "unit_price", "discount"):
            value = (self.cleaned_data.get(name) or "").strip()
            if value:
                data[name] = value
        return data


def product_choices() -> list[tuple[str, str]]:
    rows = Product.objects.filter(archived_at__isnull=True, active=True).order_by("name", "id")[:500]
    return [(str(p.pk), f"{p.name} · {p.sku} · {p.price} {p.currency}") for p in rows]


class OrderForm(ServiceErrorsMixin, forms.Form):
    contact = forms.CharField(
        label=_("Contact"),
        required=False,
        widget=RecordPicker(source=reverse_lazy("commerce:contact_options")),
    )
    company = forms.CharField(
        label=_("Company"),
        required=False,
        widget=RecordPicker(source=reverse_lazy("contacts:company_options")),
    )
    number = _text(_("Order number"), 64, help_text=_("Leave empty to generate one."))
    ordered_at = _text(_("Ordered at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    status = forms.ChoiceField(label=_("Status"), choices=Order.Status.choices, initial=Order.Status.PAID)
    channel = forms.ChoiceField(label=_("Channel"), choices=Order.Channel.choices, initial=Order.Channel.WEB)
    currency = _text(_("Currency"), 3, initial="USD", widget=forms.TextInput(attrs={"class": "input-short"}))
    total = _text(
        _("Total"),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": 0}),
        help_text=_("Only for orders without lines; otherwise the sum of the lines."),
    )
    notes = _text(_("Notes"), widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    team = forms.ChoiceField(label=_("Shared with team"), required=False)

    aliases = {"contact_id": "contact", "company_id": "company", "owner_id": "owner", "team_id": "team"}

    def __init__(self, data=None, *, user, instance: Order | None = None, contact=None, company=None):
        super().__init__(data)
        self.user = user
        self.instance = instance
        self.products = product_choices()
        self.fields["owner"].choices = [("", "—"), *owner_choices(user, instance.owner if instance else None)]
        self.fields["team"].choices = team_choices(user, instance.team_id if instance else None)
        if instance is not None:
            contact, company = instance.contact, instance.company
            for name in ("number", "status", "channel", "currency", "notes"):
                self.initial[name] = getattr(instance, name)
            self.initial["ordered_at"] = instance.ordered_at.strftime("%Y-%m-%dT%H:%M")
            self.initial["total"] = str(instance.total)
            self.initial["owner"] = str(instance.owner_id or "")
            self.initial["team"] = str(instance.team_id or "")
        else:
            self.initial["owner"] = str(user.pk)
            self.initial["team"] = str(user.team_ids[0]) if user.team_ids else ""
        if contact is not None:
            self.initial["contact"] = str(contact.pk)
            self.fields["contact"].widget.label = str(contact)
        if company is not None:
            self.initial["company"] = str(company.pk)
            self.fields["company"].widget.label = company.name
        if data is not None:
            self.fields["contact"].widget.label = data.get("contact_label", "")
            self.fields["company"].widget.label = data.get("company_label", "")
        self.line_forms = self._line_forms(data, instance)

    def _line_forms(self, data, instance) -> list[OrderLineForm]:
        if data is not None:
            indexes = sorted({int(m.group(1)) for key in data if (m := LINE_KEY.match(key))})
            return [OrderLineForm(data, prefix=f"line-{i}", product_choices=self.products) for i in indexes]
        forms_ = []
        lines = list(instance.lines.all()) if instance is not None else []
        for index, line in enumerate(lines):
            forms_.append(
                OrderLineForm(
                    prefix=f"line-{index}",
                    product_choices=self.products,
                    initial={
                        "product": str(line.product_id or ""),
                        "description": line.description,
                        "quantity": format(line.quantity.normalize(), "f"),
                        "unit_price": str(line.unit_price),
                        "discount": format(line.discount.normalize(), "f") if line.discount else "",
                    },
                )
            )
        if not forms_:
            forms_.append(OrderLineForm(prefix="line-0", product_choices=self.products))
        return forms_

    def is_valid(self) -> bool:
        valid = super().is_valid()
        return all([f.is_valid() for f in self.line_forms]) and valid

    def to_data(self) -> dict:
        c = self.cleaned_data
        data = {
            "contact_id": c.get("contact") or None,
            "company_id": c.get("company") or None,
            "number": c.get("number") or "",
            "status": c.get("status"),
            "channel": c.get("channel"),
            "currency": c.get("currency") or "",
            "notes": c.get("notes") or "",
            "owner_id": c.get("owner") or None,
            "team_id": int(c["team"]) if c.get("team") else 0,
        }
        if c.get("ordered_at"):
            data["ordered_at"] = c["ordered_at"]
        lines = []
        self.line_index = {}
        for form in self.line_forms:
            if form.is_blank():
                continue
            self.line_index[len(lines)] = form
            lines.append(form.to_data())
        data["lines"] = lines
        if not lines and c.get("total"):
            data["total"] = c["total"]
        if not data["number"]:  # generated for a new order; kept as it is when editing
            data.pop("number")
        return data

    def apply_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Line errors (`lines.2.quantity`) go beside that line's field; the rest as for other forms."""
        rest = {}
        for key, messages in errors.items():
            match = re.match(r"^lines\.(\d+)(?:\.(\w+))?$", key)
            line_form = getattr(self, "line_index", {}).get(int(match.group(1))) if match else None
            if line_form is None:
                rest[key] = messages
                continue
            name = {"product_id": "product", "sku": "description", "category": "description"}.get(
                match.group(2) or "", match.group(2) or ""
            )
            for message in messages:
                line_form.add_error(name if name in line_form.fields else None, message)
        apply_errors(self, rest, self.aliases)

    @property
    def has_any_errors(self) -> bool:
        return bool(self.errors) or any(f.errors for f in self.line_forms)
