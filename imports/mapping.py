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
    "products": [
        (
            "sku",
            _("SKU"),
            (
                "sku",
                "product sku",
                "variant sku",
                "item sku",
                "product code",
                "item code",
                "item number",
                "article number",
                "artikelnummer",
                "part number",
                "code",
            ),
        ),
        (
            "name",
            _("Name"),
            ("name", "product name", "product", "title", "item name", "item", "artikel", "bezeichnung"),
        ),
        (
            "category",
            _("Category"),
            ("category", "product category", "product type", "type", "group", "kategorie", "warengruppe"),
        ),
        (
            "price",
            _("Price"),
            ("price", "unit price", "list price", "retail price", "variant price", "preis"),
        ),
        ("currency", _("Currency"), ("currency", "currency code", "währung")),
        ("active", _("Active (yes/no)"), ("active", "is active", "enabled", "available", "aktiv", "status")),
        ("description", _("Description"), ("description", "details", "body", "notes", "beschreibung")),
    ],
    # One row per order line; rows with the same order number make one order.
    "orders": [
        (
            "number",
            _("Order number"),
            ("number", "order number", "order no", "order", "order id", "order ref", "bestellnummer"),
        ),
        (
            "customer_email",
            _("Customer e-mail (a contact)"),
            (
                "email",
                "e mail",
                "email address",
                "customer email",
                "contact email",
                "buyer email",
                "billing email",
                "mail",
            ),
        ),
        (
            "customer_external_id",
            _("Customer external id (a contact)"),
            (
                "customer id",
                "customer external id",
                "external customer id",
                "contact external id",
                "customer number",
                "customer no",
                "client id",
                "kundennummer",
            ),
        ),
        (
            "company",
            _("Company (name or domain)"),
            (
                "company",
                "company name",
                "organisation",
                "organization",
                "account",
                "billing company",
                "customer company",
                "firma",
            ),
        ),
        (
            "ordered_at",
            _("Order date"),
            (
                "date",
                "order date",
                "ordered",
                "ordered at",
                "ordered on",
                "purchase date",
                "created at",
                "placed at",
                "bestelldatum",
                "datum",
            ),
        ),
        ("status", _("Status"), ("status", "order status", "financial status")),
        ("channel", _("Channel"), ("channel", "sales channel", "source", "source name")),
        ("currency", _("Currency"), ("currency", "currency code", "währung")),
        (
            "sku",
            _("Product SKU"),
            ("sku", "product sku", "item sku", "lineitem sku", "product code", "item code"),
        ),
        ("quantity", _("Quantity"), ("quantity", "qty", "lineitem quantity", "units", "menge", "anzahl")),
        (
            "unit_price",
            _("Unit price"),
            ("unit price", "price", "lineitem price", "item price", "price each", "preis", "einzelpreis"),
        ),
        ("discount", _("Discount (%)"), ("discount", "discount percent", "discount pct", "rabatt")),
        (
            "description",
            _("Line description"),
            (
                "description",
                "line description",
                "product",
                "product name",
                "item",
                "item name",
                "lineitem name",
                "bezeichnung",
            ),
        ),
        ("category", _("Line category"), ("category", "product category", "product type", "kategorie")),
        ("total", _("Order total (orders without lines)"), ("total", "order total", "grand total", "summe")),
        ("notes", _("Order notes"), ("notes", "note", "comment", "comments", "order notes")),
    ],
}

# kind → keys a row can be matched on (create-or-update); "" creates every row. Orders always match on
# their number, and an order that exists already is skipped, never updated (see docs/imports.md).
KEYS = {
    "contacts": {"email": _("E-mail"), "external_id": _("External id")},
    "companies": {"domain": _("Domain"), "external_id": _("External id"), "name": _("Name")},
    "products": {"sku": _("SKU")},
    "orders": {"number": _("Order number (an existing order is skipped, not updated)")},
}
ORDER_CUSTOMER_FIELDS = ("customer_email", "customer_external_id", "company")
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
    if kind == "orders":
        key = "number"  # orders are always matched on their number
    if key and key not in KEYS[kind]:
        errors["key"] = [f"Choose one of: {', '.join(KEYS[kind])}, or none to create every row."]
    elif key and key not in targets and kind != "orders":
        errors["key"] = ["Map a column to the key field to match rows on it."]
    if not errors:
        if kind == "contacts" and not ({"first_name", "last_name", "name", "email", "phone"} & set(targets)):
            errors["mapping"] = ["Map a column to a name, an e-mail address or a phone number."]
        if kind == "companies" and "name" not in targets and key not in {"domain", "external_id"}:
            errors["mapping"] = ["Map a column to the company name."]
        if kind == "products":
            if "sku" not in targets:
                errors["mapping"] = ["Map a column to the SKU."]
            elif "name" not in targets and key != "sku":
                errors["mapping"] = ["Map a column to the product name (or match rows on the SKU to update)."]
        if kind == "orders":
            problems = []
            if "number" not in targets:
                problems.append("Map a column to the order number: rows with the same number make one order.")
            if not set(ORDER_CUSTOMER_FIELDS) & set(targets):
                problems.append(
                    "Map a column to the customer: a contact's e-mail or external id, or a company."
                )
            if not {"sku", "description", "total"} & set(targets):
                problems.append("Map a column to the product SKU, the line description or the order total.")
            if problems:
                errors["mapping"] = problems
    if errors:
        raise ValidationError(errors)
    return cleaned, key
