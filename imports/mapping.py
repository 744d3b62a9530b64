"""Which fields a file's columns can fill, the suggested mapping from the headers, and the import keys.

Headers are compared case-, space-, punctuation- and accent-insensitively, against each field's name,
label and synonyms ("E-mail", "Email address", "Mobile", "Company name", "Organisation", …).
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext_lazy as _

from core.errors import ValidationError

# kind → [(field, label, synonyms)]
FIELDS: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "contacts": [
        (
            "external_id",
            _("External id"),
            ("id", "external id", "externalid", "ref", "reference", "customer id"),
        ),
        ("name", _("Full name"), ("name", "full name", "contact name", "display name", "contact")),
        ("prefix", _("Prefix"), ("salutation", "title prefix", "honorific")),
        (
            "first_name",
            _("First name"),
            ("first", "firstname", "given name", "forename", "vorname", "prenom"),
        ),
        ("middle_name", _("Middle name"), ("middle", "middlename")),
        ("last_name", _("Last name"), ("last", "lastname", "surname", "family name", "nachname", "nom")),
        ("suffix", _("Suffix"), ()),
        (
            "email",
            _("E-mail"),
            ("email", "e mail", "email address", "e mail address", "mail", "work email", "primary email"),
        ),
        (
            "phone",
            _("Phone"),
            ("phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "cell", "work phone"),
        ),
        ("job_title", _("Job title"), ("title", "position", "role", "job")),
        (
            "company",
            _("Company (name or domain)"),
            (
                "company",
                "company name",
                "organisation",
                "organization",
                "org",
                "account",
                "employer",
                "firma",
            ),
        ),
        ("birthday", _("Birthday"), ("birth date", "birthdate", "date of birth", "dob")),
        ("lifecycle_stage", _("Stage"), ("stage", "lifecycle stage", "status")),
        ("source", _("Source"), ("lead source", "origin")),
        ("tags", _("Tags"), ("tag", "labels", "categories")),
        ("street", _("Street"), ("address", "street address", "address line 1", "strasse")),
        ("city", _("City"), ("town", "locality", "ort", "ville")),
        ("region", _("Region"), ("state", "province", "county")),
        ("postal_code", _("Postal code"), ("zip", "zip code", "postcode", "plz", "postal")),
        ("country", _("Country code"), ("country", "country code")),
    ],
    "companies": [
        (
            "external_id",
            _("External id"),
            ("id", "external id", "externalid", "ref", "reference", "account id"),
        ),
        (
            "name",
            _("Name"),
            ("name", "company", "company name", "organisation", "organization", "account name", "firma"),
        ),
        ("domain", _("Domain"), ("domain", "web domain", "email domain")),
        ("industry", _("Industry"), ("sector", "branche")),
        ("size", _("Size"), ("employees", "company size", "headcount")),
        ("annual_revenue", _("Annual revenue"), ("revenue", "turnover")),
        ("currency", _("Currency"), ()),
        ("phone", _("Phone"), ("phone number", "telephone", "tel")),
        ("website", _("Website"), ("url", "web", "homepage", "web site")),
        ("description", _("Description"), ("notes", "about")),
        ("tags", _("Tags"), ("tag", "labels", "categories")),
        ("street", _("Street"), ("address", "street address", "address line 1")),
        ("city", _("City"), ("town", "locality")),
        ("region", _("Region"), ("state", "province", "county")),
        ("postal_code", _("Postal code"), ("zip", "zip code", "postcode", "plz")),
        ("country", _("Country code"), ("country", "country code")),
    ],
}

# kind → keys a row can be matched on (create-or-update); "" creates every row.
KEYS = {
    "contacts": {"email": _("E-mail"), "external_id": _("External id")},
    "companies": {"domain": _("Domain"), "external_id": _("External id"), "name": _("Name")},
}
ADDRESS_COLUMNS = ("street", "city", "region", "postal_code", "country")


def fold(text: str) -> str:
    """'E-Mail Adresse ' → 'emailadresse': accents, case, spaces and punctuation removed."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _lookup(kind: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for name, label, synonyms in FIELDS[kind]:
        for text in (name, str(label), *synonyms):
            table.setdefault(fold(text), name)
    # Exact field names win over synonyms of other fields.
    for name, _label, _syn in FIELDS[kind]:
        table[fold(name)] = name
    return table


def field_names(kind: str) -> list[str]:
    return [name for name, _l, _s in FIELDS[kind]]


def suggest(kind: str, headers: list[str]) -> dict[str, str]:
    """{header: field} for the headers that name a field; each field is suggested once (first header)."""
    table = _lookup(kind)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        name = table.get(fold(header))
        if name and name not in used and header:
            mapping[header] = name
            used.add(name)
    return mapping


def mapping_clean(kind: str, headers: list[str], mapping, key: str) -> tuple[dict[str, str], str]:
    """Check a mapping against the file's headers and the kind's fields; errors name `mapping.<header>`,
    `mapping` or `key`."""
    errors: dict[str, list[str]] = {}
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": ["Expected an object of column name → field."]})
    known = set(field_names(kind))
    cleaned: dict[str, str] = {}
    targets: dict[str, str] = {}
    for header, target in mapping.items():
        if target in (None, ""):
            continue
        if header not in headers:
            errors[f"mapping.{header}"] = ["The file has no column with this name."]
            continue
        if not isinstance(target, str) or target not in known:
            errors[f"mapping.{header}"] = [f"Unknown field; choose one of: {', '.join(sorted(known))}."]
            continue
        if target in targets:
            errors[f"mapping.{header}"] = [
                f"The column \u201c{targets[target]}\u201d already fills this field."
            ]
            continue
        targets[target] = header
        cleaned[header] = target
    key = key or ""
    if key and key not in KEYS[kind]:
        errors["key"] = [f"Choose one of: {', '.join(KEYS[kind])}, or none to create every row."]
    elif key and key not in targets:
        errors["key"] = ["Map a column to the key field to match rows on it."]
    if not errors:
        if kind == "contacts" and not ({"first_name", "last_name", "name", "email", "phone"} & set(targets)):
            errors["mapping"] = ["Map a column to a name, an e-mail address or a phone number."]
        if kind == "companies" and "name" not in targets and key not in {"domain", "external_id"}:
            errors["mapping"] = ["Map a column to the company name."]
    if errors:
        raise ValidationError(errors)
    return cleaned, key
