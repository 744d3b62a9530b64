"""vCard 3.0 (RFC 2426) and 4.0 (RFC 6350) for contacts.

Writing is a small serializer of its own (vobject 0.9.9 writes 3.0 only): values escaped (\\ , ; and
new lines), lines folded at 75 octets without splitting a UTF-8 character, CRLF line ends. Reading goes
through vobject, which parses both versions' line syntax; the 4.0 differences that matter here (TEL as a
`tel:` URI, PREF=1 instead of TYPE=pref) are handled below.

Round trip: names (N and FN), e-mails and phones with their types, addresses, organisation and title,
birthday, categories ↔ tags, and the external id (X-CRM-EXTERNAL-ID). A contact's note is not a field of
the contact (notes are activities), so NOTE is not read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from core.errors import ValidationError

TYPE_TO_LABEL = {"cell": "mobile", "mobile": "mobile", "work": "work", "home": "home", "fax": "fax"}
LABEL_TO_TYPE = {"mobile": "cell"}
_SKIP_TYPES = {"pref", "internet", "voice", "x400"}


# ---------------------------------------------------------------------------------------------------------
# Writing


def _escape(value: str) -> str:
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\r\n", "\n")
        .replace("\n", "\\n")
        .replace(",", "\\,")
        .replace(";", "\\;")
    )


def _fold(line: str) -> str:
    """Fold at 75 octets (RFC 6350 §3.2): continuation lines start with one space."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts: list[str] = []
    current = ""
    size = 0
    limit = 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, 74  # the leading space counts
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _line(name: str, value: str, params: Iterable[str] = ()) -> str:
    head = ";".join([name, *params])
    return _fold(f"{head}:{value}") + "\r\n"


def contact_vcard(contact, version: str = "4.0") -> str:
    """One contact as a vCard. `contact` needs its emails, phones, addresses, tags and company loaded."""
    if version not in {"3.0", "4.0"}:
        raise ValidationError({"version": ["Choose vCard version 3.0 or 4.0."]})
    v4 = version == "4.0"
    out = ["BEGIN:VCARD\r\n", _line("VERSION", version)]
    full = contact.full_name or contact.email or f"Contact {contact.pk}"
    out.append(_line("FN", _escape(full)))
    n = [contact.last_name, contact.first_name, contact.middle_name, contact.prefix, contact.suffix]
    out.append(_line("N", ";".join(_escape(p) for p in n)))
    for email in contact.emails.all():
        params = [f"TYPE={email.label}"] if email.label else []
        if email.is_primary:
            params = (
                [*params, "PREF=1"] if v4 else [f"TYPE={email.label},pref" if email.label else "TYPE=pref"]
            )
        if not v4:
            params = ["TYPE=INTERNET", *params]
        out.append(_line("EMAIL", _escape(email.email), params))
    for phone in contact.phones.all():
        kind = LABEL_TO_TYPE.get(phone.label, phone.label)
        params = [f"TYPE={kind}"] if kind else []
        if phone.is_primary:
            params = [*params, "PREF=1"] if v4 else [f"TYPE={kind},pref" if kind else "TYPE=pref"]
        if v4:
            out.append(_line("TEL", f"tel:{phone.number}", ["VALUE=uri", *params]))
        else:
            out.append(_line("TEL", _escape(phone.number), params))
    for address in contact.addresses.all():
        parts = ["", "", address.street, address.city, address.region, address.postal_code, address.country]
        params = [f"TYPE={address.kind}"]
        if address.is_primary:
            params = [*params, "PREF=1"] if v4 else [f"TYPE={address.kind},pref"]
        out.append(_line("ADR", ";".join(_escape(p) for p in parts), params))
    company = contact.company if contact.company_id else None
    if company is not None:
        out.append(_line("ORG", _escape(company.name)))
    if contact.job_title:
        out.append(_line("TITLE", _escape(contact.job_title)))
    if contact.birthday:
        out.append(_line("BDAY", contact.birthday.strftime("%Y%m%d") if v4 else contact.birthday.isoformat()))
    tags = [t.name for t in contact.tags.all()]
    if tags:
        out.append(_line("CATEGORIES", ",".join(_escape(t) for t in tags)))
    if contact.external_id:
        out.append(_line("X-CRM-EXTERNAL-ID", _escape(contact.external_id)))
    out.append(_line("UID", f"urn:crm:contact:{contact.pk}"))
    stamp = contact.updated_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out.append(_line("REV", stamp))
    out.append("END:VCARD\r\n")
    return "".join(out)


# ---------------------------------------------------------------------------------------------------------
# Reading


def _types(prop) -> list[str]:
    values: list[str] = []
    for key, items in prop.params.items():
        if key.upper() == "TYPE":
            for item in items:
                values.extend(v.strip().lower() for v in str(item).split(","))
    return values


def _preferred(prop) -> bool:
    if "pref" in _types(prop):
        return True
    return any(k.upper() == "PREF" for k in prop.params)


def _label(prop, default: str) -> str:
    for kind in _types(prop):
        if kind in _SKIP_TYPES:
            continue
        return TYPE_TO_LABEL.get(kind, kind)[:20]
    return default


def _birthday(text: str) -> str | None:
    text = text.strip()
    for fmt in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text[:10] if "-" in text else text[:8], fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _text(value) -> str:
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value if v)
    return str(value or "").strip()


def card_data(card) -> dict:
    """The keys of contact_create (plus `company` by name) from one parsed vCard."""
    data: dict = {}
    contents = card.contents
    if "n" in contents:
        n = contents["n"][0].value
        for name, part in (
            ("last_name", n.family),
            ("first_name", n.given),
            ("middle_name", n.additional),
            ("prefix", n.prefix),
            ("suffix", n.suffix),
        ):
            if _text(part):
                data[name] = _text(part)
    if not (data.get("first_name") or data.get("last_name")) and "fn" in contents:
        parts = _text(contents["fn"][0].value).split()
        if parts:
            data["first_name"] = " ".join(parts[:-1]) or parts[0]
            if len(parts) > 1:
                data["last_name"] = parts[-1]
    emails = []
    for prop in contents.get("email", []):
        address = _text(prop.value)
        if address:
            emails.append({"email": address, "label": _label(prop, "work"), "is_primary": _preferred(prop)})
    if emails:
        data["emails"] = emails
    phones = []
    for prop in contents.get("tel", []):
        number = _text(prop.value)
        if number.lower().startswith("tel:"):
            number = number[4:]
        if number:
            phones.append({"number": number, "label": _label(prop, "mobile"), "is_primary": _preferred(prop)})
    if phones:
        data["phones"] = phones
    addresses = []
    for prop in contents.get("adr", []):
        a = prop.value
        address = {
            "kind": _label(prop, "work")
            if _label(prop, "work") in {"work", "home", "billing", "shipping"}
            else "other",
            "street": _text(a.street),
            "city": _text(a.city),
            "region": _text(a.region),
            "postal_code": _text(a.code),
            "country": _text(a.country).upper() if len(_text(a.country)) == 2 else "",
            "is_primary": _preferred(prop),
        }
        if any(address[k] for k in ("street", "city", "region", "postal_code", "country")):
            addresses.append(address)
    if addresses:
        if not any(a["is_primary"] for a in addresses):
            addresses[0]["is_primary"] = True
        addresses.sort(key=lambda a: not a["is_primary"])
        data["addresses"] = addresses
    if "org" in contents:
        org = contents["org"][0].value
        name = _text(org[0] if isinstance(org, list | tuple) and org else org)
        if name:
            data["company"] = name
    if "title" in contents and _text(contents["title"][0].value):
        data["job_title"] = _text(contents["title"][0].value)
    if "bday" in contents:
        birthday = _birthday(_text(contents["bday"][0].value))
        if birthday:
            data["birthday"] = birthday
    tags: list[str] = []
    for prop in contents.get("categories", []):
        value = prop.value
        for item in value if isinstance(value, list | tuple) else str(value).split(","):
            if str(item).strip():
                tags.append(str(item).strip())
    if tags:
        data["tags"] = tags
    if "x-crm-external-id" in contents:
        data["external_id"] = _text(contents["x-crm-external-id"][0].value)
    return data


def vcard_parse(text: str) -> list[dict]:
    import vobject

    cards = []
    try:
        for component in vobject.readComponents(text, ignoreUnreadable=True):
            if component.name.upper() == "VCARD":
                cards.append(card_data(component))
    except Exception as exc:  # vobject raises ParseError and friends
        raise ValidationError(
            {"file": [f"This is not a readable vCard file: {exc}"]}, detail="The file cannot be imported."
        )
    return cards


def vcard_read(path: str) -> list[dict]:
    from .files import detect_encoding, file_error

    encoding = detect_encoding(path)
    with open(path, encoding=encoding, newline="") as handle:
        text = handle.read()
    if "BEGIN:VCARD" not in text.upper():
        raise file_error("This is not a vCard file: it has no BEGIN:VCARD.")
    cards = vcard_parse(text)
    if not cards:
        raise file_error("The file holds no vCards.")
    return cards
