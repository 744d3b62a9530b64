"""Forms for contacts and companies. They only collect input: `to_data()` builds the dict that
contacts.services validates, and `apply_service_errors()` puts its messages beside the fields."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.db.models import Q
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from core.views import RecordPicker, apply_errors, custom_fields_add, custom_fields_data
from core.visibility import role_of
from users.models import Team, User

from .models import Address, Company, Contact

ADDRESS_FIELDS = ["kind", "street", "city", "region", "postal_code", "country"]
ADDRESS_KEY = re.compile(r"^address-(\d+)-(kind|street|city|region|postal_code|country)$")


def _text(max_length: int, label, **kwargs) -> forms.CharField:
    """Optional text; the length is a hint for the browser, the service enforces it (errors beside the field,
    reported together with every other problem)."""
    field = forms.CharField(label=label, required=False, **kwargs)
    if not isinstance(field.widget, forms.Textarea | forms.NumberInput | forms.DateInput):
        field.widget.attrs.setdefault("maxlength", max_length)
    return field


def _lines(value: str) -> list[str]:
    return [line.strip() for line in re.split(r"[\n,;]+", value or "") if line.strip()]


def owner_choices(user, current: User | None = None) -> list[tuple[str, str]]:
    """The people `user` may assign records to (the service checks again)."""
    people = User.objects.filter(is_active=True)
    if role_of(user) != "admin":
        people = people.filter(Q(pk=user.pk) | Q(teams__in=user.team_ids)).distinct()
    choices = [(str(u.pk), u.display_name) for u in people.order_by("first_name", "last_name", "username")]
    if current is not None and str(current.pk) not in {c for c, _ in choices}:
        choices.append((str(current.pk), current.display_name))
    return choices


def team_choices(user, current_id: int | None = None) -> list[tuple[str, str]]:
    teams = Team.objects.all() if role_of(user) == "admin" else Team.objects.filter(pk__in=user.team_ids)
    if current_id:
        teams = teams | Team.objects.filter(pk=current_id)
    return [
        ("", _("Not shared with a team")),
        *[(str(t.pk), t.name) for t in teams.distinct().order_by("name")],
    ]


class AddressForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=Address.Kind.choices, required=False)
    street = _text(200, _("Street"), widget=forms.TextInput(attrs={"autocomplete": "street-address"}))
    city = _text(100, _("City"), widget=forms.TextInput(attrs={"autocomplete": "address-level2"}))
    region = _text(100, _("Region / state"), widget=forms.TextInput(attrs={"autocomplete": "address-level1"}))
    postal_code = _text(20, _("Postal code"), widget=forms.TextInput(attrs={"autocomplete": "postal-code"}))
    country = _text(
        2,
        _("Country"),
        help_text=_("Two-letter code, e.g. DE or US"),
        widget=forms.TextInput(
            attrs={"autocomplete": "country", "maxlength": 2, "placeholder": "US", "class": "input-short"}
        ),
    )

    def is_blank(self) -> bool:
        return not any((self.cleaned_data.get(f) or "").strip() for f in ADDRESS_FIELDS if f != "kind")

    def to_data(self) -> dict:
        data = {f: (self.cleaned_data.get(f) or "").strip() for f in ADDRESS_FIELDS}
        data["kind"] = data["kind"] or Address.Kind.WORK
        data["country"] = data["country"].upper()
        return data


class RecordForm(forms.Form):
    """What contacts and companies share: tags, owner, team, addresses and custom fields."""

    tags = _text(
        1000,
        _("Tags"),
        help_text=_("Separate tags with commas."),
        widget=forms.TextInput(attrs={"placeholder": _("e.g. vip, newsletter")}),
    )
    # Plain values with a select widget: the service checks who may be assigned (errors show beside them).
    owner = forms.CharField(label=_("Owner"), required=False, widget=forms.Select)
    team = forms.CharField(label=_("Shared with team"), required=False, widget=forms.Select)

    aliases: dict[str, str] = {"owner_id": "owner", "team_id": "team", "tags": "tags"}

    def __init__(self, data=None, *, user, instance=None, custom_fields=()):
        super().__init__(data)
        self.user = user
        self.instance = instance
        self.custom_definitions = list(custom_fields)
        owner = getattr(instance, "owner", None) if instance is not None else None
        self.fields["owner"].widget.choices = owner_choices(user, owner)
        self.fields["team"].widget.choices = team_choices(user, getattr(instance, "team_id", None))
        if instance is not None:
            self.initial.update(
                {
                    "tags": ", ".join(t.name for t in instance.tags.all()),
                    "owner": str(instance.owner_id or ""),
                    "team": str(instance.team_id or ""),
                }
            )
        else:
            self.initial["owner"] = str(user.pk)
            if settings.CRM_SHARE_WITH_TEAM_BY_DEFAULT and user.team_ids:
                self.initial["team"] = str(user.team_ids[0])
        custom_fields_add(self, self.custom_definitions, instance.custom if instance is not None else {})
        self.address_forms = self._address_forms(data, instance)

    # Addresses: one block per existing address (at least one); the page can add more blocks.
    def _address_forms(self, data, instance) -> list[AddressForm]:
        if data is not None:
            indexes = sorted({int(m.group(1)) for k in data if (m := ADDRESS_KEY.match(k))})
            return [AddressForm(data, prefix=f"address-{i}") for i in indexes or [0]]
        existing = list(instance.addresses.all()) if instance is not None else []
        if not existing:
            return [AddressForm(prefix="address-0", initial={"kind": Address.Kind.WORK})]
        return [
            AddressForm(prefix=f"address-{i}", initial={f: getattr(a, f) for f in ADDRESS_FIELDS})
            for i, a in enumerate(existing)
        ]

    @property
    def address_template(self) -> AddressForm:
        """An empty address block for the page to copy (`__i__` becomes the next index)."""
        return AddressForm(prefix="address-__i__", initial={"kind": Address.Kind.WORK})

    @property
    def custom_bound_fields(self):
        return [self[f"custom_{d.key}"] for d in self.custom_definitions]

    def is_valid(self) -> bool:
        valid = super().is_valid()
        return all([f.is_valid() for f in self.address_forms]) and valid

    def common_data(self) -> dict:
        cleaned = self.cleaned_data
        data: dict = {"tags": _lines(cleaned.get("tags", ""))}
        if cleaned.get("owner"):
            data["owner_id"] = cleaned["owner"]
        data["team_id"] = cleaned.get("team") or 0  # 0 clears the team; the service reads it as "none"
        self.address_map = []
        addresses = []
        for form in self.address_forms:
            if not form.is_blank():
                self.address_map.append(form)
                addresses.append(form.to_data())
        data["addresses"] = addresses
        if self.custom_definitions:
            data["custom"] = custom_fields_data(self, self.custom_definitions)
        return data

    def apply_service_errors(self, errors: dict[str, list[str]]) -> None:
        remaining = {}
        for key, messages in errors.items():
            match = re.match(r"^addresses\.(\d+)\.(\w+)$", key)
            if match and int(match.group(1)) < len(getattr(self, "address_map", [])):
                form = self.address_map[int(match.group(1))]
                name = match.group(2) if match.group(2) in form.fields else None
                for message in messages:
                    form.add_error(name, message)
                continue
            remaining[key] = messages
        apply_errors(self, self.map_keys(remaining), self.aliases)

    def map_keys(self, errors: dict[str, list[str]]) -> dict[str, list[str]]:
        return errors

    @property
    def has_any_errors(self) -> bool:
        return bool(self.errors) or any(f.errors for f in self.address_forms)


class ContactForm(RecordForm):
    name_prefix = _text(20, _("Prefix"), widget=forms.TextInput(attrs={"placeholder": _("Dr.")}))
    first_name = _text(100, _("First name"), widget=forms.TextInput(attrs={"autocomplete": "off"}))
    middle_name = _text(100, _("Middle name"))
    last_name = _text(100, _("Last name"), widget=forms.TextInput(attrs={"autocomplete": "off"}))
    suffix = _text(20, _("Suffix"))
    email = _text(254, _("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    other_emails = _text(
        5000,
        _("Other e-mail addresses"),
        help_text=_("One per line."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    phone = _text(
        40, _("Phone"), widget=forms.TextInput(attrs={"type": "tel", "placeholder": "+1 415 555 0100"})
    )
    other_phones = _text(
        5000, _("Other phone numbers"), help_text=_("One per line."), widget=forms.Textarea(attrs={"rows": 2})
    )
    job_title = _text(150, _("Job title"))
    company = forms.CharField(
        label=_("Company"),
        required=False,
        widget=RecordPicker(source=reverse_lazy("contacts:company_options")),
    )
    birthday = _text(10, _("Birthday"), widget=forms.DateInput(attrs={"type": "date"}))
    lifecycle_stage = forms.ChoiceField(label=_("Lifecycle stage"), choices=Contact.Stage.choices)
    source = _text(
        100, _("Source"), widget=forms.TextInput(attrs={"placeholder": _("e.g. Website, Referral")})
    )

    aliases = {
        **RecordForm.aliases,
        "company_id": "company",
        "roles": "company",
        "prefix": "name_prefix",
        "phone": "phone",
        "email": "email",
        "other_emails": "other_emails",
        "other_phones": "other_phones",
    }

    def __init__(self, data=None, *, user, instance=None, custom_fields=()):
        super().__init__(data, user=user, instance=instance, custom_fields=custom_fields)
        self.fields["lifecycle_stage"].initial = Contact.Stage.LEAD
        if instance is not None:
            emails = list(instance.emails.all())
            phones = list(instance.phones.all())
            self.initial.update(
                {
                    "name_prefix": instance.prefix,
                    "first_name": instance.first_name,
                    "middle_name": instance.middle_name,
                    "last_name": instance.last_name,
                    "suffix": instance.suffix,
                    "email": emails[0].email if emails else instance.email,
                    "other_emails": "\n".join(e.email for e in emails[1:]),
                    "phone": phones[0].number if phones else instance.phone,
                    "other_phones": "\n".join(p.number for p in phones[1:]),
                    "job_title": instance.job_title,
                    "company": str(instance.company_id or ""),
                    "birthday": instance.birthday.isoformat() if instance.birthday else "",
                    "lifecycle_stage": instance.lifecycle_stage,
                    "source": instance.source,
                }
            )
            self.fields["company"].widget.label = str(instance.company) if instance.company_id else ""
        elif data is None:
            self.initial["lifecycle_stage"] = Contact.Stage.LEAD
        if data is not None and data.get("company"):
            self.fields["company"].widget.label = data.get("company_label", "")

    def to_data(self) -> dict:
        cleaned = self.cleaned_data
        instance = self.instance
        data = {
            "prefix": cleaned["name_prefix"],
            "first_name": cleaned["first_name"],
            "middle_name": cleaned["middle_name"],
            "last_name": cleaned["last_name"],
            "suffix": cleaned["suffix"],
            "job_title": cleaned["job_title"],
            "birthday": cleaned["birthday"] or None,
            "lifecycle_stage": cleaned["lifecycle_stage"],
            "source": cleaned["source"],
        }
        # E-mails and phones keep the labels they had (the form shows addresses, not labels).
        old_emails = {e.email: e.label for e in instance.emails.all()} if instance is not None else {}
        old_phones = {p.number: p.label for p in instance.phones.all()} if instance is not None else {}
        emails = ([cleaned["email"]] if cleaned["email"].strip() else []) + _lines(cleaned["other_emails"])
        phones = ([cleaned["phone"]] if cleaned["phone"].strip() else []) + _lines(cleaned["other_phones"])
        self.email_offset = 0 if cleaned["email"].strip() else None
        self.phone_offset = 0 if cleaned["phone"].strip() else None
        data["emails"] = [
            {"email": e, "label": old_emails.get(e.strip().lower(), "work"), "is_primary": i == 0}
            for i, e in enumerate(emails)
        ]
        data["phones"] = [
            {"number": p, "label": old_phones.get(p.strip(), "mobile"), "is_primary": i == 0}
            for i, p in enumerate(phones)
        ]
        company = (cleaned.get("company") or "").strip()
        current = str(instance.company_id or "") if instance is not None else ""
        if instance is None or company != current:
            data["company_id"] = company or None
        data.update(self.common_data())
        return data

    def map_keys(self, errors):
        """emails.0 is the primary e-mail field when one was typed there; later entries are "other"."""
        mapped: dict[str, list[str]] = {}
        for key, messages in errors.items():
            target = key
            for plural, single, other in (
                ("emails", "email", "other_emails"),
                ("phones", "phone", "other_phones"),
            ):
                match = re.match(rf"^{plural}\.(\d+)", key)
                if match:
                    index = int(match.group(1))
                    offset = getattr(self, f"{single}_offset", None)
                    target = single if (offset == 0 and index == 0) else other
                elif key == plural:
                    target = other
            mapped.setdefault(target, []).extend(messages)
        return mapped


class CompanyForm(RecordForm):
    name = _text(200, _("Name"), widget=forms.TextInput(attrs={"aria-required": "true"}))
    domain = _text(253, _("Domain"), widget=forms.TextInput(attrs={"placeholder": "example.com"}))
    industry = _text(100, _("Industry"))
    size = forms.ChoiceField(label=_("Size"), choices=[("", "—"), *Company.Size.choices], required=False)
    annual_revenue = _text(30, _("Annual revenue"), widget=forms.NumberInput(attrs={"step": "any", "min": 0}))
    currency = _text(
        3,
        _("Currency"),
        widget=forms.TextInput(attrs={"maxlength": 3, "class": "input-short", "placeholder": "USD"}),
    )
    phone = _text(40, _("Phone"), widget=forms.TextInput(attrs={"type": "tel"}))
    website = _text(300, _("Website"), widget=forms.URLInput(attrs={"placeholder": "https://"}))
    description = _text(10000, _("Description"), widget=forms.Textarea(attrs={"rows": 3}))
    parent = forms.CharField(
        label=_("Parent company"),
        required=False,
        widget=RecordPicker(source=reverse_lazy("contacts:company_options")),
    )

    aliases = {**RecordForm.aliases, "parent_id": "parent"}

    def __init__(self, data=None, *, user, instance=None, custom_fields=()):
        super().__init__(data, user=user, instance=instance, custom_fields=custom_fields)
        if instance is not None:
            self.initial.update(
                {
                    "name": instance.name,
                    "domain": instance.domain,
                    "industry": instance.industry,
                    "size": instance.size,
                    "annual_revenue": "" if instance.annual_revenue is None else str(instance.annual_revenue),
                    "currency": instance.currency,
                    "phone": instance.phone,
                    "website": instance.website,
                    "description": instance.description,
                    "parent": str(instance.parent_id or ""),
                }
            )
            self.fields["parent"].widget.label = str(instance.parent) if instance.parent_id else ""
        else:
            self.initial["currency"] = "USD"
        if data is not None and data.get("parent"):
            self.fields["parent"].widget.label = data.get("parent_label", "")

    def to_data(self) -> dict:
        cleaned = self.cleaned_data
        data = {
            name: cleaned[name]
            for name in ("name", "domain", "industry", "size", "currency", "phone", "website", "description")
        }
        data["annual_revenue"] = cleaned["annual_revenue"] or None
        parent = (cleaned.get("parent") or "").strip()
        current = str(self.instance.parent_id or "") if self.instance is not None else ""
        if self.instance is None or parent != current:
            data["parent_id"] = parent or None
        data.update(self.common_data())
        return data
