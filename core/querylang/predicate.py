"""The same filters evaluated in Python on a flat dict of field values (event payloads, automation
conditions), with the compiler's semantics: case-insensitive text, "any element matches" for lists,
negations as exact complements, and "= false" matching a missing boolean."""

from __future__ import annotations

import operator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from .binding import DATE_RE, DATETIME_RE, Bound, Cond, DayRange, bind
from .compiler import NEGATIONS
from .fields import Field, FieldRegistry

_CMP = {"eq": operator.eq, "lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge}


class _PayloadRegistry(FieldRegistry):
    """Without a registry, field types are guessed from the payload's values (text when absent)."""

    def __init__(self, payload: dict):
        super().__init__("payload", custom=False)
        self.payload = payload

    def get(self, name: str, fields: dict[str, Field] | None = None) -> Field:
        value = self.payload.get(name)
        many = isinstance(value, list | tuple)
        sample = next((v for v in value if v is not None), None) if many else value
        if isinstance(sample, bool):
            kind = "boolean"
        elif isinstance(sample, int | float | Decimal):
            kind = "number"
        elif isinstance(sample, datetime) or (isinstance(sample, str) and DATETIME_RE.fullmatch(sample)):
            kind = "datetime"
        elif isinstance(sample, date) or (isinstance(sample, str) and DATE_RE.fullmatch(sample)):
            kind = "date"
        else:
            kind = "text"
        return Field(name, kind, many=many)


def _number(x: Any) -> Decimal | None:
    if isinstance(x, bool):
        return None
    try:
        number = Decimal(repr(x) if isinstance(x, float) else str(x).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _moment(x: Any) -> datetime | None:
    """An aware datetime for datetimes, dates (local midnight) and ISO strings of either."""
    try:
        if isinstance(x, str):
            x = date.fromisoformat(x) if DATE_RE.fullmatch(x) else datetime.fromisoformat(x.upper())
        if isinstance(x, datetime):
            return timezone.make_aware(x) if timezone.is_naive(x) else x
        if isinstance(x, date):
            return timezone.make_aware(datetime.combine(x, datetime.min.time()))
    except ValueError:
        pass
    return None


def _user_is(x: Any, ref: int | str) -> bool:
    if isinstance(x, dict):
        pk, username = x.get("id", x.get("pk")), x.get("username")
    elif hasattr(x, "pk"):
        pk, username = x.pk, getattr(x, "username", None)
    elif isinstance(x, int) or (isinstance(x, str) and x.isdigit()):
        pk, username = int(x), None
    else:
        pk, username = None, x
    if isinstance(ref, int):
        return pk is not None and int(pk) == ref
    return username is not None and str(username).lower() == ref.lower()


def _test(field: Field, op: str, value: Any, x: Any) -> bool:
    kind = field.type
    if kind in ("text", "email", "url"):
        text = ("true" if x else "false") if isinstance(x, bool) else str(x).lower()
        if op == "in":
            return text in {v.lower() for v in value}
        test = {"eq": operator.eq, "contains": operator.contains, "starts_with": str.startswith}[op]
        return test(text, value.lower())
    if kind in ("choice", "multi_choice"):
        return str(x) in value if op == "in" else str(x) == value
    if kind == "user":
        return any(_user_is(x, ref) for ref in (value if op == "in" else [value]))
    if kind == "number":
        number = _number(x)
        if number is None:
            return False
        return number in value if op == "in" else _CMP[op](number, value)
    moment = _moment(x)
    if moment is None:
        return False
    if kind == "date":
        return _CMP[op](timezone.localtime(moment).date(), value)
    if isinstance(value, DayRange):
        if op == "eq":
            return value.start <= moment < value.end
        bound = value.end if op in ("lte", "gt") else value.start
        return moment < bound if op in ("lt", "lte") else moment >= bound
    return _CMP[op](moment, value)


def _value(cond: Cond, payload: dict) -> Any:
    for key in (cond.field.name, cond.name):
        if key in payload:
            return payload[key]
    nested = payload.get("custom")
    if cond.field.custom and isinstance(nested, dict):
        return nested.get(cond.field.name.removeprefix("custom."))
    return None


def _positive(field: Field, op: str, value: Any, raw: Any) -> bool:
    if field.type == "boolean":
        if op == "is_empty":
            return raw is None or raw == ""
        if field.presence and not isinstance(raw, bool):
            return (raw not in (None, "")) == value
        truthy = raw is True or (isinstance(raw, str) and raw.strip().lower() in ("true", "yes"))
        return truthy == value
    items = list(raw) if isinstance(raw, list | tuple) else [raw]
    if op == "is_empty":
        return all(x is None or x == "" or x == [] for x in items)
    return any(_test(field, op, value, x) for x in items if x is not None)


def _eval(node: Bound, payload: dict) -> bool:
    if isinstance(node, Cond):
        op = NEGATIONS.get(node.op, node.op)
        result = _positive(node.field, op, node.value, _value(node, payload))
        return not result if op != node.op else result
    kind, body = node
    if kind == "not":
        return not _eval(body, payload)
    return (all if kind == "and" else any)(_eval(child, payload) for child in body)


def matches(
    tree: str | dict,
    payload: dict,
    *,
    registry: FieldRegistry | None = None,
    user: Any = None,
    now: datetime | None = None,
) -> bool:
    """Whether `payload` (field name → value; lists for to-many and multiple-choice fields) satisfies the
    filter. With a registry, fields are checked and typed exactly as for the database; without one,
    types are guessed from the payload. `user` resolves `me`."""
    return _eval(bind(tree, registry or _PayloadRegistry(payload), user=user, now=now), payload)
