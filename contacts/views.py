"""Pages for contacts and companies: lists, details with inline editing, forms, archive/restore, history.

Every read goes through contacts.queries (visibility rules), every write through contacts.services.
"""

from __future__ import annotations

from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import extensions
from core.errors import ConflictError, ValidationError
from core.history import history_for
from core.pagination import keyset_page
from core.search_providers import register as register_search
from core.tables import Column, avatar_html
from core.views import (
    BulkAction,
    InlineEditView,
    InlineField,
    ListView,
    crm_view,
    custom_form_field,
    custom_initial,
    custom_value,
    history_rows,
    is_htmx,
    picker_options,
    require_writer,
)
from core.visibility import can, can_create, restrict
from users.models import Team, User

from . import services
from .forms import CompanyForm, ContactForm, owner_choices
from .models import Company, Contact, ContactRole
from .queries import (
    COMPANY_SORTS,
    CONTACT_SORTS,
    company_fields,
    company_get,
    company_list,
    contact_fields,
    contact_get,
    contact_list,
    search_box_companies,
    search_box_contacts,
    sort_annotate,
    sort_resolve,
)
from .tables import company_table, contact_table

HISTORY_PAGE = 50
RELATED_PAGE = 20

# ---------------------------------------------------------------------------------------------------------
# Lists


def bulk_actions_for(model) -> list[BulkAction]:
    return [
        BulkAction(
            "assign_owner",
            gettext_lazy("Assign owner"),
            run=lambda user, ids, value: services.records_bulk_assign_owner(
                actor=user, model=model, ids=ids, owner_id=value
            ),
            input="choice",
            choices=lambda user: owner_choices(user),
            done=gettext_lazy("Assigned an owner to %(count)s records."),
        ),
        BulkAction(
            "add_tag",
            gettext_lazy("Add tag"),
            run=lambda user, ids, value: services.records_bulk_add_tag(
                actor=user, model=model, ids=ids, tag=value
            ),
            input="text",
            placeholder=gettext_lazy("Tag name"),
            done=gettext_lazy("Tagged %(count)s records."),
        ),
        BulkAction(
            "archive",
            gettext_lazy("Archive"),
            run=lambda user, ids, value: services.records_bulk_archive(actor=user, model=model, ids=ids),
            confirm=gettext_lazy("Archive the selected records? You can restore them later."),
            done=gettext_lazy("Archived %(count)s records."),
            danger=True,
        ),
    ]


class RecordList(ListView):
    """Shared by the contact and company lists: their sorts come from contacts.queries."""

    def resolve_sort(self, sort):
        return sort_resolve(self.sorts, sort, self.default_sort)

    def annotate_sort(self, queryset, order):
        return sort_annotate(queryset, order)


class ContactList(RecordList):
    object_type = Contact.object_type()
    title = gettext_lazy("Contacts")
    noun_plural = gettext_lazy("contacts")
    table = contact_table
    registry = contact_fields
    sorts = CONTACT_SORTS
    default_sort = "name"
    url_name = "contacts:contact_list"
    export_url_name = "contacts:contact_export"
    bulk_url_name = "contacts:contact_bulk"
    create_url_name = "contacts:contact_create"
    create_label = gettext_lazy("New contact")
    bulk_actions = bulk_actions_for(Contact)
    search_placeholder = gettext_lazy("Search contacts by name, e-mail or phone…")
    filter_placeholder = gettext_lazy('e.g. stage = customer and tags = "vip"')
    empty_title = gettext_lazy("No contacts yet")
    empty_text = gettext_lazy(
        "Contacts are the people you sell to and support. Add the first one to get started."
    )
    export_filename = "contacts"

    search_in_index_order = True

    def get_queryset(self, *, filter, q, archived, id_order=None, after=None):
        return contact_list(
            self.request.user,
            filter=filter or None,
            q=q or None,
            archived=archived,
            id_order=id_order if q else None,
            after=after,
        )

    def optimize(self, queryset):
        return queryset.select_related("owner", "company", "team").prefetch_related("tags")


class CompanyList(RecordList):
    object_type = Company.object_type()
    title = gettext_lazy("Companies")
    noun_plural = gettext_lazy("companies")
    table = company_table
    registry = company_fields
    sorts = COMPANY_SORTS
    default_sort = "name"
    url_name = "contacts:company_list"
    export_url_name = "contacts:company_export"
    bulk_url_name = "contacts:company_bulk"
    create_url_name = "contacts:company_create"
    create_label = gettext_lazy("New company")
    bulk_actions = bulk_actions_for(Company)
    search_placeholder = gettext_lazy("Search companies by name or domain…")
    filter_placeholder = gettext_lazy('e.g. industry = "Software" and country = DE')
    empty_title = gettext_lazy("No companies yet")
    empty_text = gettext_lazy("Companies group the people you work with. Add one, then link contacts to it.")
    export_filename = "companies"

    search_in_index_order = True

    def get_queryset(self, *, filter, q, archived, id_order=None, after=None):
        return company_list(
            self.request.user,
            filter=filter or None,
            q=q or None,
            archived=archived,
            id_order=id_order if q else None,
            after=after,
        )

    def optimize(self, queryset):
        return queryset.select_related("owner", "parent", "team").prefetch_related("tags")


# ---------------------------------------------------------------------------------------------------------
# Inline editing on the detail pages


def _text_field(max_length: int, widget=None):
    return lambda: forms.CharField(max_length=max_length, required=False, widget=widget)


def _display_text(path: str):
    return lambda r: getattr(r, path) or ""


def _stage_badge(contact: Contact):
    return format_html(
        '<span class="badge badge-{}">{}</span>',
        contact.lifecycle_stage,
        contact.get_lifecycle_stage_display(),
    )


def _owner_display(record):
    if record.owner_id is None or record.owner is None:
        return ""
    name = record.owner.display_name
    return format_html('<span class="user-cell">{}<span>{}</span></span>', avatar_html(name), name)


def _owner_field(user, record) -> InlineField:
    return InlineField(
        "owner",
        _("Owner"),
        build=lambda: forms.ChoiceField(
            choices=[("", "—"), *owner_choices(user, record.owner if record.owner_id else None)],
            required=False,
        ),
        initial=lambda r: str(r.owner_id or ""),
        data=lambda v: {"owner_id": v or None},
        display=_owner_display,
        errors=("owner_id", "team_id"),
    )


def _custom_inline(definitions) -> list[InlineField]:
    fields = []
    for definition in definitions:
        fields.append(
            InlineField(
                f"custom.{definition.key}",
                definition.label,
                build=lambda d=definition: custom_form_field(d),
                initial=lambda r, d=definition: custom_initial(d, (r.custom or {}).get(d.key)),
                data=lambda v, d=definition: {"custom": {d.key: custom_value(d, v)}},
                display=lambda r, d=definition: _custom_display(d, (r.custom or {}).get(d.key)),
                errors=(f"custom.{definition.key}", "custom"),
            )
        )
    return fields


def _custom_display(definition, value):
    if value is None or value == "" or value == []:
        return ""
    column = Column(
        definition.key, definition.label, value=lambda _r: value, kind=_CUSTOM_KIND[definition.field_type]
    )
    return column.render(None)


_CUSTOM_KIND = {
    "text": "text",
    "number": "number",
    "date": "date",
    "choice": "text",
    "multi_choice": "list",
    "boolean": "bool",
    "url": "url",
    "email": "email",
}


def contact_inline_fields(user, contact: Contact | None = None) -> list[InlineField]:
    contact = contact or Contact()
    fields = [
        InlineField(
            "first_name",
            _("First name"),
            _text_field(100),
            _display_text("first_name"),
            lambda v: {"first_name": v},
            _display_text("first_name"),
        ),
        InlineField(
            "last_name",
            _("Last name"),
            _text_field(100),
            _display_text("last_name"),
            lambda v: {"last_name": v},
            _display_text("last_name"),
        ),
        InlineField(
            "email",
            _("E-mail"),
            _text_field(254, forms.EmailInput()),
            _display_text("email"),
            lambda v: {"email": v},
            lambda r: Column("email", "", kind="email").render(r) if r.email else "",
            errors=("email", "emails"),
        ),
        InlineField(
            "phone",
            _("Phone"),
            _text_field(40, forms.TextInput(attrs={"type": "tel"})),
            _display_text("phone"),
            lambda v: {"phone": v},
            lambda r: Column("phone", "", kind="phone").render(r) if r.phone else "",
            errors=("phone", "phones"),
        ),
        InlineField(
            "job_title",
            _("Job title"),
            _text_field(150),
            _display_text("job_title"),
            lambda v: {"job_title": v},
            _display_text("job_title"),
        ),
        InlineField(
            "lifecycle_stage",
            _("Stage"),
            lambda: forms.ChoiceField(choices=Contact.Stage.choices),
            lambda r: r.lifecycle_stage,
            lambda v: {"lifecycle_stage": v},
            _stage_badge,
        ),
        InlineField(
            "source",
            _("Source"),
            _text_field(100),
            _display_text("source"),
            lambda v: {"source": v},
            _display_text("source"),
        ),
        InlineField(
            "birthday",
            _("Birthday"),
            _text_field(10, forms.DateInput(attrs={"type": "date"})),
            lambda r: r.birthday.isoformat() if r.birthday else "",
            lambda v: {"birthday": v or None},
            lambda r: Column("birthday", "", kind="date").render(r) if r.birthday else "",
        ),
        _owner_field(user, contact),
    ]
    return fields + _custom_inline(services.custom_field_definitions(Contact))


def _revenue_display(company: Company):
    if company.annual_revenue is None:
        return ""
    amount = Column("annual_revenue", "", kind="money").render(company)
    return format_html('{} <span class="muted">{}</span>', amount, company.currency)


def company_inline_fields(user, company: Company | None = None) -> list[InlineField]:
    company = company or Company()
    plain = [
        ("name", _("Name"), 200, None),
        ("domain", _("Domain"), 253, None),
        ("industry", _("Industry"), 100, None),
        ("currency", _("Currency"), 3, forms.TextInput(attrs={"maxlength": 3, "class": "input-short"})),
    ]
    fields = [
        InlineField(
            n, label, _text_field(size, widget), _display_text(n), lambda v, n=n: {n: v}, _display_text(n)
        )
        for n, label, size, widget in plain
    ]
    fields += [
        InlineField(
            "size",
            _("Size"),
            lambda: forms.ChoiceField(choices=[("", "—"), *Company.Size.choices], required=False),
            lambda r: r.size,
            lambda v: {"size": v},
            lambda r: r.get_size_display() if r.size else "",
        ),
        InlineField(
            "annual_revenue",
            _("Annual revenue"),
            _text_field(30, forms.NumberInput(attrs={"step": "any", "min": 0})),
            lambda r: "" if r.annual_revenue is None else str(r.annual_revenue),
            lambda v: {"annual_revenue": v or None},
            _revenue_display,
        ),
        InlineField(
            "phone",
            _("Phone"),
            _text_field(40, forms.TextInput(attrs={"type": "tel"})),
            _display_text("phone"),
            lambda v: {"phone": v},
            lambda r: Column("phone", "", kind="phone").render(r) if r.phone else "",
        ),
        InlineField(
            "website",
            _("Website"),
            _text_field(300, forms.URLInput()),
            _display_text("website"),
            lambda v: {"website": v},
            lambda r: Column("website", "", kind="url").render(r) if r.website else "",
        ),
        _owner_field(user, company),
    ]
    return fields + _custom_inline(services.custom_field_definitions(Company))


class ContactField(InlineEditView):
    url_name = "contacts:contact_field"

    def get_object(self, pk, action):
        return contact_get(self.request.user, pk, action)

    def update(self, pk, data):
        return services.contact_update(actor=self.request.user, contact_id=pk, data=data)

    def get_fields(self):
        return {f.name: f for f in contact_inline_fields(self.request.user)}


class CompanyField(InlineEditView):
    url_name = "contacts:company_field"

    def get_object(self, pk, action):
        return company_get(self.request.user, pk, action)

    def update(self, pk, data):
        return services.company_update(actor=self.request.user, company_id=pk, data=data)

    def get_fields(self):
        return {f.name: f for f in company_inline_fields(self.request.user)}


def _panel(fields: list[InlineField], record, url_name: str, editable: bool) -> list[dict]:
    return [
        {
            "spec": f,
            "value": f.display(record),
            "field_url": reverse(url_name, args=[record.pk, f.name]),
            "editable": editable,
            "record": record,
        }
        for f in fields
    ]


# ---------------------------------------------------------------------------------------------------------
# History


HISTORY_LABELS = {
    "lifecycle_stage": gettext_lazy("Stage"),
    "stage": gettext_lazy("Stage"),
    "owner_id": gettext_lazy("Owner"),
    "team_id": gettext_lazy("Team"),
    "company_id": gettext_lazy("Company"),
    "parent_id": gettext_lazy("Parent company"),
    "emails": gettext_lazy("E-mails"),
    "email": gettext_lazy("E-mail"),
    "phones": gettext_lazy("Phones"),
    "tags_added": gettext_lazy("Tag added"),
    "annual_revenue": gettext_lazy("Annual revenue"),
}


CHOICE_LABELS = {"lifecycle_stage": dict(Contact.Stage.choices), "size": dict(Company.Size.choices)}


def _roles_text(side, company_names: dict) -> str:
    """[[company_id, title], ...] as "Acme (CTO), Globex"; companies the reader may not see stay hidden."""
    if not isinstance(side, list):
        return side
    parts = []
    for item in side:
        if isinstance(item, list) and item:
            name = company_names.get(item[0])
            if name:
                parts.append(f"{name} ({item[1]})" if len(item) > 1 and item[1] else name)
    return ", ".join(parts)


def _history(request, record) -> dict:
    """One page of a record's history, newest first; `?before=<entry id>` pages back."""
    entries = history_for(record)
    before = request.GET.get("before", "")
    if before.isdigit():
        entries = entries.filter(pk__lt=int(before))
    entries = list(entries[: HISTORY_PAGE + 1])
    more = len(entries) > HISTORY_PAGE
    entries = entries[:HISTORY_PAGE]
    # Show names rather than ids for the owner, team and company columns (one query each).
    ids: dict[str, set] = {"owner_id": set(), "team_id": set(), "company_id": set(), "parent_id": set()}
    for entry in entries:
        for key in ids:
            for value in (entry.changes or {}).get(key, []) or []:
                if isinstance(value, int):
                    ids[key].add(value)
        for side in (entry.changes or {}).get("roles", []) or []:
            for item in side if isinstance(side, list) else []:
                if isinstance(item, list) and item and isinstance(item[0], int):
                    ids["company_id"].add(item[0])
    names: dict[str, dict] = {}
    if ids["owner_id"]:
        names["owner_id"] = {u.pk: u.display_name for u in User.objects.filter(pk__in=ids["owner_id"])}
    if ids["team_id"]:
        names["team_id"] = dict(Team.objects.filter(pk__in=ids["team_id"]).values_list("pk", "name"))
    company_ids = ids["company_id"] | ids["parent_id"]
    if company_ids:
        visible = dict(
            restrict(Company.objects.filter(pk__in=company_ids), request.user).values_list("pk", "name")
        )
        names["company_id"] = names["parent_id"] = visible
    company_names = names.get("company_id", {})
    labels = {k: str(v) for k, v in HISTORY_LABELS.items()}
    for definition in services.custom_field_definitions(type(record)):
        labels[f"custom.{definition.key}"] = definition.label
    for entry in entries:
        changes = dict(entry.changes or {})
        for key, lookup in names.items():
            pair = changes.get(key)
            if isinstance(pair, list):
                changes[key] = [lookup.get(v, v) if isinstance(v, int) else v for v in pair]
        # The denormalised mirrors repeat what the lists say; the stage appears under two names.
        for mirror, full in (("email", "emails"), ("phone", "phones"), ("stage", "lifecycle_stage")):
            if mirror in changes and full in changes:
                changes.pop(mirror)
        for key, choices in CHOICE_LABELS.items():
            if isinstance(changes.get(key), list):
                changes[key] = [str(choices.get(v, v)) if isinstance(v, str) else v for v in changes[key]]
        if isinstance(changes.get("roles"), list):
            changes["roles"] = [_roles_text(side, company_names) for side in changes["roles"]]
        if isinstance(changes.get("custom"), list):
            old, new = ([*changes.pop("custom"), None, None])[:2]
            old, new = old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {}
            for key in sorted(set(old) | set(new)):
                if old.get(key) != new.get(key):
                    changes[f"custom.{key}"] = [old.get(key), new.get(key)]
        entry.changes = changes
    rows = history_rows(entries, labels)
    return {"history": rows, "history_more": entries[-1].pk if more and entries else None}


def _history_response(request, record, url_name, detail_name):
    if not is_htmx(request):
        return redirect(reverse(detail_name, args=[record.pk]) + "?tab=history")
    context = {
        "record": record,
        "history_url": reverse(url_name, args=[record.pk]),
        **_history(request, record),
    }
    return render(request, "components/history.html", context)


@crm_view("GET")
def contact_history(request, pk):
    contact = contact_get(request.user, pk)
    return _history_response(request, contact, "contacts:contact_history", "contacts:contact_detail")


@crm_view("GET")
def company_history(request, pk):
    company = company_get(request.user, pk)
    return _history_response(request, company, "contacts:company_history", "contacts:company_detail")


# ---------------------------------------------------------------------------------------------------------
# Detail pages


def _tab_items(object_type: str):
    """Overview, the tabs other apps register for this object (timeline, purchases, …), history."""
    return (
        [("overview", _("Overview"))]
        + [(t.key, t.label) for t in extensions.tabs(object_type)]
        + [("history", _("History"))]
    )


def _tab(request, object_type: str) -> str:
    tab = request.GET.get("tab", "overview")
    return tab if tab in {key for key, _label in _tab_items(object_type)} else "overview"


def _extension_context(request, object_type: str, record, tab: str) -> dict:
    if tab == "overview":
        return {"side_panels": extensions.panels_render(object_type, request, record)}
    return {"extension_tab": extensions.tab_render(object_type, tab, request, record)}


@crm_view("GET")
def contact_detail(request, pk):
    user = request.user
    contact = contact_get(user, pk)
    tab = _tab(request, "contacts.contact")
    company_visible = contact.company_id is not None and can(user, "view", contact.company)
    roles = list(
        ContactRole.objects.filter(contact=contact, company__in=restrict(Company.objects.all(), user))
        .select_related("company")
        .order_by("-is_primary", "id")
    )
    context = {
        "record": contact,
        "contact": contact,
        "title": str(contact),
        "tab": tab,
        "tab_items": _tab_items("contacts.contact"),
        "company_visible": company_visible,
        "emails": list(contact.emails.all()),
        "phones": list(contact.phones.all()),
        "addresses": list(contact.addresses.all()),
        "tags": list(contact.tags.all()),
        "roles": roles,
        "can_change": can(user, "change", contact),
        "can_delete": can(user, "delete", contact),
        "fields": _panel(
            contact_inline_fields(user, contact),
            contact,
            "contacts:contact_field",
            can(user, "change", contact),
        ),
        "history_url": reverse("contacts:contact_history", args=[contact.pk]),
        "list_url": reverse("contacts:contact_list"),
        "list_label": _("Contacts"),
    }
    context.update(_extension_context(request, "contacts.contact", contact, tab))
    if tab == "history":
        context.update(_history(request, contact))
    return render(request, "contacts/contact_detail.html", context)


@crm_view("GET")
def company_detail(request, pk):
    user = request.user
    company = company_get(user, pk)
    tab = _tab(request, "contacts.company")
    members = contact_list(user).filter(
        Q(company=company) | Exists(ContactRole.objects.filter(contact=OuterRef("pk"), company=company))
    )
    order = sort_resolve(CONTACT_SORTS, "name")
    members = sort_annotate(members, order).select_related("owner")
    contacts, next_cursor = keyset_page(
        members, order, request.GET.get("contacts_cursor") or None, RELATED_PAGE
    )
    children = list(
        restrict(company.children.filter(archived_at__isnull=True), user).order_by(Lower("name"))[:50]
    )
    parent_visible = company.parent_id is not None and can(user, "view", company.parent)
    context = {
        "record": company,
        "company": company,
        "title": company.name,
        "tab": tab,
        "tab_items": _tab_items("contacts.company"),
        "contacts": contacts,
        "contacts_next": next_cursor,
        "contacts_paged": bool(request.GET.get("contacts_cursor")),
        "children": children,
        "parent_visible": parent_visible,
        "addresses": list(company.addresses.all()),
        "tags": list(company.tags.all()),
        "can_change": can(user, "change", company),
        "can_delete": can(user, "delete", company),
        "can_create": can_create(user),
        "fields": _panel(
            company_inline_fields(user, company),
            company,
            "contacts:company_field",
            can(user, "change", company),
        ),
        "history_url": reverse("contacts:company_history", args=[company.pk]),
        "list_url": reverse("contacts:company_list"),
        "list_label": _("Companies"),
    }
    context.update(_extension_context(request, "contacts.company", company, tab))
    if tab == "history":
        context.update(_history(request, company))
    return render(request, "contacts/company_detail.html", context)


# ---------------------------------------------------------------------------------------------------------
# Create and edit


CONFLICT_MESSAGE = gettext_lazy(
    "This record was changed by someone else while you were editing. Reload to see their changes, then "
    "make yours again."
)


def _form_page(request, *, form_class, model, instance, create, update, template, noun, prefill=None):
    user = request.user
    definitions = services.custom_field_definitions(model)
    form = form_class(
        request.POST if request.method == "POST" else None,
        user=user,
        instance=instance,
        custom_fields=definitions,
    )
    for name, (value, label) in (prefill or {}).items():
        form.initial[name] = value
        form.fields[name].widget.label = label
    status = 200
    conflict = False
    if request.method == "POST":
        if form.is_valid():
            data = form.to_data()
            try:
                if instance is None:
                    record = create(actor=user, data=data)
                else:
                    record = update(instance.pk, {**data, "version": request.POST.get("version", "")})
            except ConflictError:
                conflict = True
                form.add_error(None, str(CONFLICT_MESSAGE))
                status = 409
            except ValidationError as exc:
                form.apply_service_errors(exc.errors)
                status = 400
            else:
                if instance is None:
                    messages.success(
                        request, _("Created %(noun)s “%(name)s”.") % {"noun": noun, "name": record}
                    )
                else:
                    messages.success(request, _("Saved your changes."))
                return redirect(record.get_absolute_url())
        else:
            status = 400
    context = {
        "form": form,
        "record": instance,
        "version": request.POST.get("version", "")
        if request.method == "POST"
        else getattr(instance, "version", ""),
        "conflict": conflict,
        "noun": noun,
        "cancel_url": instance.get_absolute_url()
        if instance is not None
        else reverse("contacts:contact_list" if model is Contact else "contacts:company_list"),
    }
    return render(request, template, context, status=status)


@crm_view("GET", "POST")
def contact_create(request):
    require_writer(request.user)
    return _form_page(
        request,
        form_class=ContactForm,
        model=Contact,
        instance=None,
        create=services.contact_create,
        update=None,
        template="contacts/contact_form.html",
        noun=_("contact"),
        prefill=_company_prefill(request),
    )


def _company_prefill(request) -> dict:
    """`?company=<id>` (the "Add contact" button on a company page) starts the form at that company."""
    company_id = request.GET.get("company", "")
    if request.method != "GET" or not company_id.isdigit():
        return {}
    company = (
        restrict(Company.objects.all(), request.user).filter(pk=int(company_id)).only("id", "name").first()
    )
    return {"company": (str(company.pk), company.name)} if company else {}


@crm_view("GET", "POST")
def contact_edit(request, pk):
    contact = contact_get(request.user, pk, "change")
    return _form_page(
        request,
        form_class=ContactForm,
        model=Contact,
        instance=contact,
        create=None,
        update=lambda pk, data: services.contact_update(actor=request.user, contact_id=pk, data=data),
        template="contacts/contact_form.html",
        noun=_("contact"),
    )


@crm_view("GET", "POST")
def company_create(request):
    require_writer(request.user)
    return _form_page(
        request,
        form_class=CompanyForm,
        model=Company,
        instance=None,
        create=services.company_create,
        update=None,
        template="contacts/company_form.html",
        noun=_("company"),
    )


@crm_view("GET", "POST")
def company_edit(request, pk):
    company = company_get(request.user, pk, "change")
    return _form_page(
        request,
        form_class=CompanyForm,
        model=Company,
        instance=company,
        create=None,
        update=lambda pk, data: services.company_update(actor=request.user, company_id=pk, data=data),
        template="contacts/company_form.html",
        noun=_("company"),
    )


# ---------------------------------------------------------------------------------------------------------
# Archive and restore


@crm_view("POST")
def contact_archive(request, pk):
    contact = services.contact_archive(actor=request.user, contact_id=pk)
    messages.success(request, _("Archived “%(name)s”.") % {"name": contact})
    return redirect(contact.get_absolute_url())


@crm_view("POST")
def contact_restore(request, pk):
    contact = services.contact_restore(actor=request.user, contact_id=pk)
    messages.success(request, _("Restored “%(name)s”.") % {"name": contact})
    return redirect(contact.get_absolute_url())


@crm_view("POST")
def company_archive(request, pk):
    company = services.company_archive(actor=request.user, company_id=pk)
    messages.success(request, _("Archived “%(name)s”.") % {"name": company})
    return redirect(company.get_absolute_url())


@crm_view("POST")
def company_restore(request, pk):
    company = services.company_restore(actor=request.user, company_id=pk)
    messages.success(request, _("Restored “%(name)s”.") % {"name": company})
    return redirect(company.get_absolute_url())


# ---------------------------------------------------------------------------------------------------------
# The company picker (forms) and the global search box


@crm_view("GET")
def company_options(request):
    text = (
        request.GET.get("q") or request.GET.get("company_label") or request.GET.get("parent_label") or ""
    ).strip()
    try:
        companies = company_list(request.user, q=text or None)
    except ValidationError:
        companies = Company.objects.none()
    if not text:
        companies = companies.order_by(Lower("name"), "id")
    rows = [(c.pk, c.name, c.domain) for c in companies.only("id", "name", "domain")[:10]]
    return picker_options(request, rows)


def _contact_results(user, text, limit):
    contacts = search_box_contacts(user, text, limit)
    results = []
    for contact in contacts:
        company = contact.company.name if contact.company_id and can(user, "view", contact.company) else ""
        parts = [p for p in (contact.job_title, company) if p]
        results.append(
            {
                "title": str(contact),
                "subtitle": " · ".join([" at ".join(parts)] if parts else []) or contact.email,
                "url": contact.get_absolute_url(),
                "avatar": str(contact),
            }
        )
    return _("Contacts"), results


def _company_results(user, text, limit):
    companies = search_box_companies(user, text, limit)
    return _("Companies"), [
        {
            "title": c.name,
            "subtitle": " · ".join(p for p in (c.domain, c.industry) if p),
            "url": c.get_absolute_url(),
            "avatar": c.name,
        }
        for c in companies
    ]


register_search(
    "contacts",
    _contact_results,
    order=10,
    more_url=lambda text: reverse("contacts:contact_list") + "?q=" + quote(text),
)
register_search(
    "companies",
    _company_results,
    order=20,
    more_url=lambda text: reverse("contacts:company_list") + "?q=" + quote(text),
)
