"""Admin-defined typed fields: definitions in core.CustomField, values in each record's `custom` JSON."""

from __future__ import annotations

import datetime as dt
import decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from email_validator import EmailNotValidError, validate_email

from .models import CustomField

_url_validator = URLValidator(schemes=["http", "https"])


def custom_fields_for(object_type: str) -> list[CustomField]:
    return list(CustomField.objects.filter(object_type=object_type))


def _clean_value(field: CustomField, value):
    """Return the JSON value to store, or raise ValueError with a message for the user."""
    kind = field.field_type
    if value is None or value == "" or value == []:
        if field.required:
            raise ValueError("This field is required.")
        return None
    if kind == "text":
        if not isinstance(value, str | int | float):
            raise ValueError("Enter text.")
        text = str(value).strip()
        if len(text) > 2000:
            raise ValueError("Keep it under 2,000 characters.")
        return text
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError("Enter a number.")
        try:
            number = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            raise ValueError("Enter a number.")
        if not number.is_finite():
            raise ValueError("Enter a number.")
        return int(number) if number == number.to_integral_value() and abs(number) < 2**53 else float(number)
    if kind == "date":
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError("Enter a date as YYYY-MM-DD.")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "yes", "1", "on", "y"}:
            return True
        if text in {"false", "no", "0", "off", "n"}:
            return False
        raise ValueError("Enter yes or no.")
    if kind == "choice":
        options = {str(c).lower(): str(c) for c in field.choices}
        key = str(value).strip().lower()
        if key not in options:
            raise ValueError(f"Choose one of: {', '.join(map(str, field.choices))}.")
        return options[key]
    if kind == "multi_choice":
        items = value if isinstance(value, list | tuple) else [v for v in str(value).split(",")]
        options = {str(c).lower(): str(c) for c in field.choices}
        result = []
        for item in items:
            key = str(item).strip().lower()
            if not key:
                continue
            if key not in options:
                raise ValueError(f"{item!s} is not one of: {', '.join(map(str, field.choices))}.")
            if options[key] not in result:
                result.append(options[key])
        if field.required and not result:
            raise ValueError("This field is required.")
        return result or None
    if kind == "url":
        text = str(value).strip()
        try:
            _url_validator(text)
        except DjangoValidationError:
            raise ValueError("Enter a valid URL starting with http:// or https://.")
        return text
    if kind == "email":
        try:
            return validate_email(str(value).strip(), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(str(exc))
    raise ValueError("Unknown field type.")


def custom_values_clean(
    object_type: str,
    values: dict | None,
    *,
    current: dict | None = None,
    fields: list[CustomField] | None = None,
) -> tuple[dict, dict[str, list[str]]]:
    """Validate `values` (a partial update when `current` is given) and return (new custom dict, errors).
    Errors are keyed `custom.<key>`; unknown keys are errors too, so typos never vanish silently."""
    fields = custom_fields_for(object_type) if fields is None else fields
    by_key = {f.key: f for f in fields}
    result = dict(current or {})
    errors: dict[str, list[str]] = {}
    values = values or {}
    if not isinstance(values, dict):
        return result, {"custom": ["Expected an object of custom field values."]}
    for key, value in values.items():
        field = by_key.get(key)
        if field is None:
            errors[f"custom.{key}"] = ["Unknown custom field."]
            continue
        try:
            cleaned = _clean_value(field, value)
        except ValueError as exc:
            errors[f"custom.{key}"] = [str(exc)]
            continue
        if cleaned is None:
            result.pop(key, None)
        else:
            result[key] = cleaned
    if current is None:
        for field in fields:
            if field.required and field.key not in result and f"custom.{field.key}" not in errors:
                errors[f"custom.{field.key}"] = ["This field is required."]
    return result, errors
