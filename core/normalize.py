"""Normalising the values people type: e-mail addresses and phone numbers."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from email_validator import EmailNotValidError, validate_email


def email_normalize(text: str) -> str:
    """A syntactically valid address, lower-cased (no DNS look-up). Raises ValueError with the reason."""
    text = (text or "").strip()
    if not text:
        raise ValueError("Enter an e-mail address.")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc))
    return result.normalized.lower()


def phone_normalize(text: str, region: str | None = None) -> str:
    """E.164 (`+4915123456789`). A number without a country code is read in `region` (the installation's
    default). Raises ValueError when the number cannot exist."""
    text = (text or "").strip()
    if not text:
        raise ValueError("Enter a phone number.")
    if len(text) > 40:
        raise ValueError("That is too long for a phone number.")
    try:
        number = phonenumbers.parse(text, region or settings.CRM_DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError("Enter a phone number, with its country code (+49 …) if it is not local.")
    if not phonenumbers.is_possible_number(number):
        raise ValueError("This is not a possible phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    """International format for display (`+49 151 23456789`)."""
    if not e164:
        return ""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164


def looks_like_phone(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 6 and all(ch.isdigit() or ch in " +-()./" for ch in text.strip())


def domain_normalize(text: str) -> str:
    """`https://www.Example.com/about` → `example.com`."""
    text = (text or "").strip().lower()
    for prefix in ("https://", "http://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    text = text.split("/", 1)[0].split("?", 1)[0].rstrip(".")
    if text.startswith("www."):
        text = text[4:]
    if text and ("." not in text or any(not part or len(part) > 63 for part in text.split("."))):
        raise ValueError("Enter a domain such as example.com.")
    if text and not all(ch.isalnum() or ch in "-." for ch in text):
        raise ValueError("Enter a domain such as example.com.")
    return text
