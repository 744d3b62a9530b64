"""Writes for contacts and companies. Every interface (API, pages, import, CLI) calls these.

Each function validates everything first and reports every bad field at once, then writes inside one
transaction: the row, its related rows, the field-level history, the search document and the outbox event.
"""

from __future__ import annotations

from collections.abc import Iterable

import phonenumbers
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core import search
from core.custom_fields import custom_fields_for, custom_values_clean
from core.errors import ValidationError
from core.events import event_emit, event_emit_bulk
from core.history import history_record, history_record_bulk
from core.normalize import domain_normalize, email_normalize, phone_normalize
from core.services import (
    model_fields_clean,
    ownership_resolve,
    raise_if,
    record_save_versioned,
    version_require,
)
from core.visibility import get_for, require_create, restrict

from .models import Address, Company, Contact, ContactEmail, ContactPhone, ContactRole, Tag

CONTACT_FIELDS = [
    "prefix",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "job_title",
    "birthday",
    "lifecycle_stage",
    "source",
    "external_id",
]
COMPANY_FIELDS = [
    "name",
    "domain",
    "industry",
    "size",
    "annual_revenue",
    "currency",
    "phone",
    "website",
    "description",
    "external_id",
]
ADDRESS_FIELDS = ["kind", "street", "city", "region", "postal_code", "country"]
MAX_LIST_ITEMS = 50
COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS) | {"AQ", "BV", "GS", "HM", "PN", "TF", "UM"}


# ---------------------------------------------------------------------------------------------------------
# Cleaning input shared by contacts and companies


def _as_list(errors, name, value) -> list:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        errors[name] = ["Expected a list."]
        return []
    if len(value) > MAX_LIST_ITEMS:
        errors[name] = [f"At most {MAX_LIST_ITEMS} entries."]
        return []
    return list(value)


def _clean_entries(errors, name: str, value, key: str, normalise, default_label: str) -> list[dict] | None:
    """E-mails and phones: [{key, label, is_primary}] (plain strings accepted), deduplicated, exactly
    one primary (the first unless one is marked)."""
    if value is None:
        return None
    result: list[dict] = []
    seen: set[str] = set()
    for index, item in enumerate(_as_list(errors, name, value)):
        if isinstance(item, str):
            item = {key: item}
        if not isinstance(item, dict):
            errors[f"{name}.{index}"] = ["Expected an object or a string."]
            continue
        raw = item.get(key)
        if not isinstance(raw, str):
            errors[f"{name}.{index}.{key}"] = ["This field is required."]
            continue
        try:
            normalised = normalise(raw)
        except ValueError as exc:
            errors[f"{name}.{index}.{key}"] = [str(exc)]
            continue
        label = item.get("label") or default_label
        if not isinstance(label, str) or len(label) > 20:
            errors[f"{name}.{index}.label"] = ["Enter a short label (at most 20 characters)."]
            continue
        if normalised in seen:
            continue
        seen.add(normalised)
        result.append(
            {key: normalised, "label": label, "is_primary": bool(item.get("is_primary")), "raw": raw.strip()}
        )
    if result and not any(e["is_primary"] for e in result):
        result[0]["is_primary"] = True
    primaries = [e for e in result if e["is_primary"]]
    for extra in primaries[1:]:
        extra["is_primary"] = False
    result.sort(key=lambda e: not e["is_primary"])
    return result


def _clean_addresses(errors, value) -> list[dict] | None:
    if value is None:
        return None
    result = []
    for index, item in enumerate(_as_list(errors, "addresses", value)):
        if not isinstance(item, dict):
            errors[f"addresses.{index}"] = ["Expected an object."]
            continue
        data = {k: item.get(k) for k in ADDRESS_FIELDS if item.get(k) is not None}
        if isinstance(data.get("country"), str):
            data["country"] = data["country"].strip().upper()
        cleaned, field_errors = model_fields_clean(Address, data, ADDRESS_FIELDS)
        if cleaned.get("country") and cleaned["country"] not in COUNTRIES:
            field_errors["country"] = ["Enter a two-letter ISO country code such as DE or US."]
        for field, messages in field_errors.items():
            errors[f"addresses.{index}.{field}"] = messages
        if not field_errors:
            cleaned.setdefault("kind", Address.Kind.WORK)
            cleaned["is_primary"] = bool(item.get("is_primary")) or (index == 0)
            result.append({k: cleaned.get(k, "") for k in [*ADDRESS_FIELDS, "is_primary"]})
    return result


def _clean_tags(errors, value) -> list[str] | None:
    if value is None:
        return None
    names: list[str] = []
    for index, item in enumerate(_as_list(errors, "tags", value)):
        if not isinstance(item, str) or not item.strip():
            errors[f"tags.{index}"] = ["Enter a tag name."]
            continue
        name = " ".join(item.split())
        if len(name) > 50:
            errors[f"tags.{index}"] = ["At most 50 characters."]
            continue
        if name.lower() not in {n.lower() for n in names}:
            names.append(name)
    return names


def _tags_resolve(names: list[str]) -> list[Tag]:
    existing = {t.name.lower(): t for t in Tag.objects.filter(name__in=names)}
    missing = [n for n in names if n.lower() not in existing]
    if missing:
        # Case-insensitive lookup for names stored with other case; create the rest (race-safe).
        for tag in Tag.objects.filter(Q.create([("name__iexact", n) for n in missing], connector=Q.OR)):
            existing[tag.name.lower()] = tag
        for name in missing:
            if name.lower() not in existing:
                tag, _ = Tag.objects.get_or_create(name=name)
                existing[name.lower()] = tag
    return [existing[n.lower()] for n in names]


def _company_visible(actor, company_id, errors, field: str) -> Company | None:
    if company_id in (None, ""):
        return None
    try:
        company_id = int(company_id)
    except (TypeError, ValueError):
        errors[field] = ["Enter a company id."]
        return None
    company = restrict(Company.objects.all(), actor, "view").filter(pk=company_id).first()
    if company is None:
        errors[field] = ["No company with this id."]
    return company


def _ownership(actor, data, errors, *, instance=None):
    owner_id, team_id, own_errors = ownership_resolve(
        actor=actor,
        owner_id=data.get("owner_id"),
        team_id=data.get("team_id"),
        current_owner_id=getattr(instance, "owner_id", None),
        current_team_id=getattr(instance, "team_id", None),
        creating=instance is None,
    )
    errors.update(own_errors)
    return owner_id, team_id


def _id_or_error(errors, name, value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors[name] = ["Enter an id."]
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        errors[name] = ["Enter an id."]
        return None


# ---------------------------------------------------------------------------------------------------------
# Search documents


def contact_search_text(
    contact: Contact, emails: Iterable[str], phones: Iterable[str], company_name: str
) -> str:
    return " ".join(
        p
        for p in (
            contact.first_name,
            contact.middle_name,
            contact.last_name,
            *emails,
            *phones,
            company_name,
        )
        if p
    )


def company_search_text(company: Company) -> str:
    return " ".join(p for p in (company.name, company.domain, company.industry) if p)


def _contact_reindex(contact: Contact) -> None:
    emails = list(contact.emails.values_list("email", flat=True))
    phones = list(contact.phones.values_list("number", flat=True))
    company_name = contact.company.name if contact.company_id else ""
    text = contact_search_text(contact, emails, phones, company_name)
    search.index("contact", [(contact.pk, text, contact.owner_id, contact.team_id)])


# ---------------------------------------------------------------------------------------------------------
# Contacts


def _contact_related_snapshot(contact: Contact) -> dict:
    return {
        "emails": [e.email for e in contact.emails.all()],
        "phones": [p.number for p in contact.phones.all()],
        "tags": sorted(t.name for t in contact.tags.all()),
        "addresses": [str(a) for a in contact.addresses.all()],
        "roles": [[r.company_id, r.title] for r in contact.roles.all()],
    }


def contact_snapshot(contact: Contact) -> dict:
    """The event payload: flat field values, as the query language names them."""
    return {
        "id": contact.pk,
        **{name: getattr(contact, name) for name in CONTACT_FIELDS},
        "stage": contact.lifecycle_stage,
        "email": contact.email,
        "phone": contact.phone,
        "company_id": contact.company_id,
        "owner_id": contact.owner_id,
        "team_id": contact.team_id,
        "custom": contact.custom,
    }


def _contact_clean(*, actor, data: dict, instance: Contact | None) -> tuple[dict, dict]:
    """Return (plan, errors). The plan holds only what `data` mentions (a partial update)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        raise ValidationError({"__all__": ["Expected an object."]})
    scalars, field_errors = model_fields_clean(Contact, data, CONTACT_FIELDS)
    errors.update(field_errors)
    plan: dict = {"scalars": scalars}

    emails = _clean_entries(errors, "emails", data.get("emails"), "email", email_normalize, "work")
    if emails is None and data.get("email") is not None:
        emails = _clean_entries(
            errors, "email", [data["email"]] if data["email"] else [], "email", email_normalize, "work"
        )
        if emails and instance is not None:
            others = [
                {"email": e.email, "label": e.label, "is_primary": False, "raw": e.email}
                for e in instance.emails.all()
                if e.email != emails[0]["email"]
            ]
            emails = emails + others
        elif emails == [] and instance is not None:
            emails = [
                {"email": e.email, "label": e.label, "is_primary": False, "raw": e.email}
                for e in instance.emails.all()
                if not e.is_primary
            ]
            if emails:
                emails[0]["is_primary"] = True
    for key in [k for k in errors if k.startswith("email.0")]:
        errors["email"] = errors.pop(key)
    plan["emails"] = emails

    phones = _clean_entries(errors, "phones", data.get("phones"), "number", phone_normalize, "mobile")
    if phones is None and data.get("phone") is not None:
        phones = _clean_entries(
            errors, "phone", [data["phone"]] if data["phone"] else [], "number", phone_normalize, "mobile"
        )
        if phones and instance is not None:
            phones = phones + [
                {"number": p.number, "label": p.label, "is_primary": False, "raw": p.raw}
                for p in instance.phones.all()
                if p.number != phones[0]["number"]
            ]
    for key in [k for k in errors if k.startswith("phone.0")]:
        errors["phone"] = errors.pop(key)
    plan["phones"] = phones

    plan["addresses"] = _clean_addresses(errors, data.get("addresses"))
    plan["tags"] = _clean_tags(errors, data.get("tags"))

    roles = None
    if data.get("roles") is not None:
        roles = []
        for index, item in enumerate(_as_list(errors, "roles", data.get("roles"))):
            if not isinstance(item, dict):
                errors[f"roles.{index}"] = ["Expected an object."]
                continue
            company = _company_visible(actor, item.get("company_id"), errors, f"roles.{index}.company_id")
            title = item.get("title") or ""
            if not isinstance(title, str) or len(title) > 150:
                errors[f"roles.{index}.title"] = ["Enter a title of at most 150 characters."]
                continue
            if company is not None and company.pk not in {r["company"].pk for r in roles}:
                roles.append(
                    {"company": company, "title": title.strip(), "is_primary": bool(item.get("is_primary"))}
                )
        if roles and not any(r["is_primary"] for r in roles):
            roles[0]["is_primary"] = True
    if "company_id" in data:
        company = _company_visible(actor, data.get("company_id"), errors, "company_id")
        if roles is None:
            current = list(instance.roles.select_related("company")) if instance is not None else []
            roles = [
                {"company": r.company, "title": r.title, "is_primary": False}
                for r in current
                if company is None or r.company_id != company.pk
            ]
            if company is not None:
                title = scalars.get("job_title", getattr(instance, "job_title", "")) or ""
                roles.insert(0, {"company": company, "title": title, "is_primary": True})
    plan["roles"] = roles

    object_type = Contact.object_type()
    if "custom" in data or instance is None:
        custom, custom_errors = custom_values_clean(
            object_type, data.get("custom"), current=instance.custom if instance is not None else None
        )
        errors.update(custom_errors)
        plan["custom"] = custom

    for name in ("owner_id", "team_id"):
        if name in data:
            data[name] = _id_or_error(errors, name, data[name])
            if data[name] is None and name == "owner_id":
                data.pop(name)
    plan["owner_id"], plan["team_id"] = _ownership(actor, data, errors, instance=instance)

    if instance is None:
        names = [scalars.get(n) for n in ("first_name", "last_name")]
        reach_errors = any(k.startswith(("email", "phone")) for k in errors)
        if not any(names) and not emails and not phones and not reach_errors:
            errors.setdefault("first_name", ["Give the contact a name, an e-mail address or a phone number."])
    return plan, errors


def _contact_write_related(contact: Contact, plan: dict) -> None:
    if plan.get("emails") is not None:
        contact.emails.all().delete()
        ContactEmail.objects.bulk_create(
            ContactEmail(contact=contact, email=e["email"], label=e["label"], is_primary=e["is_primary"])
            for e in plan["emails"]
        )
    if plan.get("phones") is not None:
        contact.phones.all().delete()
        ContactPhone.objects.bulk_create(
            ContactPhone(
                contact=contact,
                number=p["number"],
                raw=p["raw"],
                label=p["label"],
                is_primary=p["is_primary"],
            )
            for p in plan["phones"]
        )
    if plan.get("addresses") is not None:
        contact.addresses.all().delete()
        Address.objects.bulk_create(Address(contact=contact, **a) for a in plan["addresses"])
    if plan.get("roles") is not None:
        contact.roles.all().delete()
        ContactRole.objects.bulk_create(
            ContactRole(contact=contact, company=r["company"], title=r["title"], is_primary=r["is_primary"])
            for r in plan["roles"]
        )
    if plan.get("tags") is not None:
        contact.tags.set(_tags_resolve(plan["tags"]))


def _mirrors(plan: dict, instance: Contact | None) -> dict:
    """The denormalised primary e-mail, phone and company kept on the contact row."""
    fields = {}
    if plan.get("emails") is not None:
        fields["email"] = plan["emails"][0]["email"] if plan["emails"] else ""
    if plan.get("phones") is not None:
        fields["phone"] = plan["phones"][0]["number"] if plan["phones"] else ""
    if plan.get("roles") is not None:
        primary = next((r["company"] for r in plan["roles"] if r["is_primary"]), None)
        fields["company_id"] = primary.pk if primary else None
    return fields


def contact_create(*, actor, data: dict) -> Contact:
    require_create(actor)
    plan, errors = _contact_clean(actor=actor, data=dict(data), instance=None)
    raise_if(errors)
    with transaction.atomic():
        contact = Contact(
            **plan["scalars"],
            **_mirrors(plan, None),
            owner_id=plan["owner_id"],
            team_id=plan["team_id"],
            custom=plan.get("custom") or {},
        )
        contact.save()
        _contact_write_related(contact, plan)
        snapshot = contact_snapshot(contact)
        history_record(
            instance=contact,
            actor=actor,
            action="created",
            changes={
                k: (None, v)
                for k, v in {**snapshot, **_contact_related_snapshot(contact)}.items()
                if v not in (None, "", [], {}) and k not in {"id", "stage", "email", "phone"}
            },
        )
        event_emit("contact.created", instance=contact, actor=actor, payload=snapshot)
        _contact_reindex(contact)
    return contact


def contact_update(*, actor, contact_id: int, data: dict) -> Contact:
    """Partial update; `data["version"]` must be the version the client read (409 when stale)."""
    contact = get_for(actor, Contact.objects.select_related("company"), contact_id, "change")
    data = dict(data)
    expected = version_require(data.pop("version", None))
    plan, errors = _contact_clean(actor=actor, data=data, instance=contact)
    raise_if(errors)
    with transaction.atomic():
        before = _contact_related_snapshot(contact)
        fields = {**plan["scalars"], **_mirrors(plan, contact)}
        if "custom" in plan:
            fields["custom"] = plan["custom"]
        fields["owner_id"], fields["team_id"] = plan["owner_id"], plan["team_id"]
        changes = {k: (getattr(contact, k), v) for k, v in fields.items() if getattr(contact, k) != v}
        old_stage, old_owner = contact.lifecycle_stage, contact.owner_id
        record_save_versioned(contact, expected_version=expected, fields=fields)
        _contact_write_related(contact, plan)
        after = _contact_related_snapshot(contact)
        changes.update({k: (before[k], after[k]) for k in after if before[k] != after[k]})
        for mirror, full in (("email", "emails"), ("phone", "phones")):
            if full in changes:
                changes.pop(mirror, None)
        if changes:
            history_record(instance=contact, actor=actor, action="updated", changes=changes)
            payload = {**contact_snapshot(contact), "changed": sorted(changes)}
            event_emit("contact.updated", instance=contact, actor=actor, payload=payload)
            if contact.lifecycle_stage != old_stage:
                event_emit(
                    "contact.stage_changed",
                    instance=contact,
                    actor=actor,
                    payload={**payload, "old_stage": old_stage},
                )
            if contact.owner_id != old_owner:
                event_emit(
                    "contact.owner_changed",
                    instance=contact,
                    actor=actor,
                    payload={**payload, "old_owner_id": old_owner},
                )
        if contact.company_id and "company_id" in fields:
            contact.company = Company.objects.get(pk=contact.company_id)
        _contact_reindex(contact)
    return contact


def contact_archive(*, actor, contact_id: int) -> Contact:
    contact = get_for(actor, Contact.objects.all(), contact_id, "delete")
    if contact.archived_at is not None:
        return contact
    with transaction.atomic():
        record_save_versioned(
            contact, expected_version=contact.version, fields={"archived_at": timezone.now()}
        )
        history_record(instance=contact, actor=actor, action="archived", changes={"archived": (False, True)})
        event_emit("contact.archived", instance=contact, actor=actor, payload=contact_snapshot(contact))
    return contact


def contact_restore(*, actor, contact_id: int) -> Contact:
    contact = get_for(actor, Contact.objects.all(), contact_id, "delete")
    if contact.archived_at is None:
        return contact
    with transaction.atomic():
        record_save_versioned(contact, expected_version=contact.version, fields={"archived_at": None})
        history_record(instance=contact, actor=actor, action="restored", changes={"archived": (True, False)})
        event_emit("contact.restored", instance=contact, actor=actor, payload=contact_snapshot(contact))
    return contact


# ---------------------------------------------------------------------------------------------------------
# Companies


def company_snapshot(company: Company) -> dict:
    return {
        "id": company.pk,
        **{name: getattr(company, name) for name in COMPANY_FIELDS},
        "parent_id": company.parent_id,
        "owner_id": company.owner_id,
        "team_id": company.team_id,
        "custom": company.custom,
    }


def _company_clean(*, actor, data: dict, instance: Company | None) -> tuple[dict, dict]:
    errors: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        raise ValidationError({"__all__": ["Expected an object."]})
    data = dict(data)
    if isinstance(data.get("domain"), str):
        try:
            data["domain"] = domain_normalize(data["domain"])
        except ValueError as exc:
            errors["domain"] = [str(exc)]
            data.pop("domain")
    if isinstance(data.get("currency"), str):
        data["currency"] = data["currency"].strip().upper()
    if isinstance(data.get("phone"), str) and data["phone"].strip():
        try:
            data["phone"] = phone_normalize(data["phone"])
        except ValueError as exc:
            errors["phone"] = [str(exc)]
            data.pop("phone")
    scalars, field_errors = model_fields_clean(Company, data, COMPANY_FIELDS)
    errors.update(field_errors)
    if "currency" in scalars and (len(scalars["currency"]) != 3 or not scalars["currency"].isalpha()):
        errors["currency"] = ["Enter a three-letter currency code such as EUR."]
    if scalars.get("annual_revenue") is not None and scalars["annual_revenue"] < 0:
        errors["annual_revenue"] = ["Annual revenue cannot be negative."]
    if instance is None and not scalars.get("name"):
        errors.setdefault("name", ["This field is required."])
    plan: dict = {"scalars": scalars}
    if "parent_id" in data:
        parent = _company_visible(actor, data.get("parent_id"), errors, "parent_id")
        if parent is not None and instance is not None:
            node, seen = parent, set()
            while node is not None and node.pk not in seen:
                if node.pk == instance.pk:
                    errors["parent_id"] = ["A company cannot be its own parent or ancestor."]
                    break
                seen.add(node.pk)
                node = node.parent
        plan["scalars"]["parent_id"] = parent.pk if parent else None
    plan["addresses"] = _clean_addresses(errors, data.get("addresses"))
    plan["tags"] = _clean_tags(errors, data.get("tags"))
    if "custom" in data or instance is None:
        custom, custom_errors = custom_values_clean(
            Company.object_type(),
            data.get("custom"),
            current=instance.custom if instance is not None else None,
        )
        errors.update(custom_errors)
        plan["custom"] = custom
    for name in ("owner_id", "team_id"):
        if name in data:
            data[name] = _id_or_error(errors, name, data[name])
            if data[name] is None and name == "owner_id":
                data.pop(name)
    plan["owner_id"], plan["team_id"] = _ownership(actor, data, errors, instance=instance)
    return plan, errors


def _company_write_related(company: Company, plan: dict) -> None:
    if plan.get("addresses") is not None:
        company.addresses.all().delete()
        Address.objects.bulk_create(Address(company=company, **a) for a in plan["addresses"])
    if plan.get("tags") is not None:
        company.tags.set(_tags_resolve(plan["tags"]))


def _company_related_snapshot(company: Company) -> dict:
    return {
        "tags": sorted(t.name for t in company.tags.all()),
        "addresses": [str(a) for a in company.addresses.all()],
    }


def company_create(*, actor, data: dict) -> Company:
    require_create(actor)
    plan, errors = _company_clean(actor=actor, data=data, instance=None)
    raise_if(errors)
    with transaction.atomic():
        company = Company(
            **plan["scalars"],
            owner_id=plan["owner_id"],
            team_id=plan["team_id"],
            custom=plan.get("custom") or {},
        )
        company.save()
        _company_write_related(company, plan)
        snapshot = company_snapshot(company)
        history_record(
            instance=company,
            actor=actor,
            action="created",
            changes={
                k: (None, v)
                for k, v in {**snapshot, **_company_related_snapshot(company)}.items()
                if v not in (None, "", [], {}) and k != "id"
            },
        )
        event_emit("company.created", instance=company, actor=actor, payload=snapshot)
        search.index(
            "company", [(company.pk, company_search_text(company), company.owner_id, company.team_id)]
        )
    return company


def company_update(*, actor, company_id: int, data: dict) -> Company:
    company = get_for(actor, Company.objects.all(), company_id, "change")
    data = dict(data)
    expected = version_require(data.pop("version", None))
    plan, errors = _company_clean(actor=actor, data=data, instance=company)
    raise_if(errors)
    with transaction.atomic():
        before = _company_related_snapshot(company)
        fields = dict(plan["scalars"])
        if "custom" in plan:
            fields["custom"] = plan["custom"]
        fields["owner_id"], fields["team_id"] = plan["owner_id"], plan["team_id"]
        changes = {k: (getattr(company, k), v) for k, v in fields.items() if getattr(company, k) != v}
        name_changed = "name" in changes
        record_save_versioned(company, expected_version=expected, fields=fields)
        _company_write_related(company, plan)
        after = _company_related_snapshot(company)
        changes.update({k: (before[k], after[k]) for k in after if before[k] != after[k]})
        if changes:
            history_record(instance=company, actor=actor, action="updated", changes=changes)
            event_emit(
                "company.updated",
                instance=company,
                actor=actor,
                payload={**company_snapshot(company), "changed": sorted(changes)},
            )
        search.index(
            "company", [(company.pk, company_search_text(company), company.owner_id, company.team_id)]
        )
        if name_changed:
            for contact in Contact.objects.filter(company=company).select_related("company")[:10000]:
                _contact_reindex(contact)
    return company


def company_archive(*, actor, company_id: int) -> Company:
    company = get_for(actor, Company.objects.all(), company_id, "delete")
    if company.archived_at is not None:
        return company
    with transaction.atomic():
        record_save_versioned(
            company, expected_version=company.version, fields={"archived_at": timezone.now()}
        )
        history_record(instance=company, actor=actor, action="archived", changes={"archived": (False, True)})
        event_emit("company.archived", instance=company, actor=actor, payload=company_snapshot(company))
    return company


def company_restore(*, actor, company_id: int) -> Company:
    company = get_for(actor, Company.objects.all(), company_id, "delete")
    if company.archived_at is None:
        return company
    with transaction.atomic():
        record_save_versioned(company, expected_version=company.version, fields={"archived_at": None})
        history_record(instance=company, actor=actor, action="restored", changes={"archived": (True, False)})
        event_emit("company.restored", instance=company, actor=actor, payload=company_snapshot(company))
    return company


# ---------------------------------------------------------------------------------------------------------
# Bulk actions (list pages and the API): one statement per action, history and events in bulk


MAX_BULK = 10000


def _bulk_targets(model, actor, ids, action) -> list[int]:
    require_create(actor)  # read-only users change nothing, in bulk neither
    if not isinstance(ids, list | tuple) or not ids:
        raise ValidationError({"ids": ["Select at least one record."]})
    if len(ids) > MAX_BULK:
        raise ValidationError({"ids": [f"At most {MAX_BULK:,} records at a time."]})
    try:
        ids = [int(i) for i in ids]
    except (TypeError, ValueError):
        raise ValidationError({"ids": ["Expected a list of ids."]})
    return list(restrict(model.objects.filter(pk__in=ids), actor, action).values_list("pk", flat=True))


def records_bulk_assign_owner(*, actor, model, ids: list[int], owner_id) -> int:
    """Assign an owner to every record in `ids` the actor may change; returns how many changed."""
    errors: dict[str, list[str]] = {}
    owner_id = _id_or_error(errors, "owner_id", owner_id)
    if owner_id is None:
        errors.setdefault("owner_id", ["Choose an owner."])
    raise_if(errors)
    new_owner, _, own_errors = ownership_resolve(actor=actor, owner_id=owner_id, creating=False)
    raise_if(own_errors)
    targets = _bulk_targets(model, actor, ids, "change")
    with transaction.atomic():
        rows = list(
            model.objects.filter(pk__in=targets).exclude(owner_id=new_owner).values_list("pk", "owner_id")
        )
        changed = [pk for pk, _ in rows]
        model.objects.filter(pk__in=changed).update(
            owner_id=new_owner, version=F("version") + 1, updated_at=timezone.now()
        )
        history_record_bulk(
            model=model,
            actor=actor,
            action="updated",
            rows=[(pk, {"owner_id": (old, new_owner)}) for pk, old in rows],
        )
        noun = model._meta.model_name
        if noun in search.SCOPED_KINDS:
            search.set_owner(noun, changed, new_owner)
        event_emit_bulk(
            f"{noun}.owner_changed",
            model=model,
            actor=actor,
            rows=[(pk, {"id": pk, "owner_id": new_owner, "old_owner_id": old}) for pk, old in rows],
        )
    return len(changed)


def records_bulk_add_tag(*, actor, model, ids: list[int], tag: str) -> int:
    errors: dict[str, list[str]] = {}
    names = _clean_tags(errors, [tag] if isinstance(tag, str) else tag)
    if not names and "tags.0" not in errors:
        errors["tag"] = ["Enter a tag name."]
    if "tags.0" in errors:
        errors["tag"] = errors.pop("tags.0")
    raise_if(errors)
    targets = _bulk_targets(model, actor, ids, "change")
    with transaction.atomic():
        (tag_obj,) = _tags_resolve(names[:1])
        through = model.tags.through
        fk = f"{model._meta.model_name}_id"
        already = set(
            through.objects.filter(tag=tag_obj, **{f"{fk}__in": targets}).values_list(fk, flat=True)
        )
        new = [pk for pk in targets if pk not in already]
        through.objects.bulk_create([through(tag=tag_obj, **{fk: pk}) for pk in new], batch_size=2000)
        model.objects.filter(pk__in=new).update(version=F("version") + 1, updated_at=timezone.now())
        history_record_bulk(
            model=model,
            actor=actor,
            action="updated",
            rows=[(pk, {"tags_added": (None, tag_obj.name)}) for pk in new],
        )
        event_emit_bulk(
            f"{model._meta.model_name}.updated",
            model=model,
            actor=actor,
            rows=[(pk, {"id": pk, "changed": ["tags"], "tag_added": tag_obj.name}) for pk in new],
        )
    return len(new)


def records_bulk_archive(*, actor, model, ids: list[int]) -> int:
    targets = _bulk_targets(model, actor, ids, "delete")
    with transaction.atomic():
        changed = list(
            model.objects.filter(pk__in=targets, archived_at__isnull=True).values_list("pk", flat=True)
        )
        model.objects.filter(pk__in=changed).update(
            archived_at=timezone.now(), version=F("version") + 1, updated_at=timezone.now()
        )
        history_record_bulk(
            model=model,
            actor=actor,
            action="archived",
            rows=[(pk, {"archived": (False, True)}) for pk in changed],
        )
        event_emit_bulk(
            f"{model._meta.model_name}.archived",
            model=model,
            actor=actor,
            rows=[(pk, {"id": pk}) for pk in changed],
        )
    return len(changed)


def custom_field_definitions(model) -> list:
    return custom_fields_for(model.object_type())
