"""Binding: check a parsed tree against a registry and turn its JSON values into typed values.

Both the SQL compiler and the Python predicate consume the bound tree, so validation, error messages and
the meaning of "today", "90d" or "me" are defined once.

Relative values resolve against `now` in the current time zone: `h` hours, `d` days and `w` weeks are
exact spans; `m` and `y` are calendar months and years (31 March minus 1m is 28/29 February), which is
what people mean by "6m". A date without a time on a datetime field means that whole local day.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.utils import timezone
from django.utils.translation import gettext as _

from .fields import Field, FieldRegistry
from .parser import LIST_OPS, NO_VALUE_OPS, OP_TEXT, error, parse

DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", re.IGNORECASE)
_DURATION = re.compile(r"(\d{1,6})([hdwmy])", re.IGNORECASE)
MAX_NUMBER = Decimal(10) ** 18
_TEXT_TYPES = ("text", "email", "url")


class DayRange(NamedTuple):
    """[start, end) of one local day, for date values on datetime fields."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Cond:
    field: Field
    op: str
    value: Any  # typed; a list for in/not_in; None for is_empty/is_not_empty
    name: str  # as written in the filter (may be an alias such as "tier" for "custom.tier")


Bound = Cond | tuple  # ("and" | "or", [Bound, ...]) or ("not", Bound)


def shift_months(moment: datetime, months: int) -> datetime:
    """`moment` moved back by whole calendar months, clamping the day to the target month's length."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def relative_moment(text: str, now: datetime) -> datetime | None:
    """The moment a duration such as "90d" before `now` denotes, or None if `text` is not a duration."""
    m = _DURATION.fullmatch(text)
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2).lower()
    if unit == "h":
        return now - timedelta(hours=n)
    local = timezone.localtime(now)
    if unit in "dw":
        return local - timedelta(days=n * (7 if unit == "w" else 1))
    return shift_months(local, n * (12 if unit == "y" else 1))


def day_range(day: date) -> DayRange:
    start = timezone.make_aware(datetime.combine(day, time()))
    return DayRange(start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time())))


class _Binder:
    def __init__(self, registry: FieldRegistry, user: Any, now: datetime | None, check_only: bool):
        self.registry = registry
        self.fields = registry.fields()
        self.user = user
        now = now or timezone.now()
        self.now = timezone.make_aware(now) if timezone.is_naive(now) else now
        self.check_only = check_only

    def bind(self, node: dict) -> Bound:
        for kind in ("and", "or"):
            if kind in node:
                return (kind, [self.bind(child) for child in node[kind]])
        if "not" in node:
            return ("not", self.bind(node["not"]))
        name, op = node["field"], node["op"]
        field = self.registry.get(name, self.fields)
        if op not in field.ops:
            ops = ", ".join(OP_TEXT[o] for o in field.ops)
            message = _("“%(op)s” cannot be used with “%(field)s” (%(type)s field); use one of: %(ops)s.")
            raise error(message, op=OP_TEXT[op], field=name, type=field.type, ops=ops)
        if op in NO_VALUE_OPS:
            value = None
        elif op in LIST_OPS:
            value = [self.value(field, name, op, v) for v in node["value"]]
        else:
            value = self.value(field, name, op, node["value"])
        return Cond(field, op, value, name)

    def value(self, field: Field, name: str, op: str, raw: Any) -> Any:
        try:
            return getattr(self, f"v_{field.type}", self.v_text)(field, name, op, raw)
        except (ValueError, ArithmeticError, TypeError):  # bad numbers, calendar dates, huge durations
            message = _("“%(field)s” expects %(type)s, got “%(value)s”.")
            raise error(message, field=name, type=field.type_name, value=raw)

    def v_text(self, field: Field, name: str, op: str, raw: Any) -> str:
        if isinstance(raw, bool):
            return "true" if raw else "false"
        return str(raw)

    def v_number(self, field: Field, name: str, op: str, raw: Any) -> int | Decimal:
        if isinstance(raw, bool):
            raise ValueError(raw)
        if isinstance(raw, int):
            number: int | Decimal = raw
        elif not (number := Decimal(repr(raw) if isinstance(raw, float) else str(raw).strip())).is_finite():
            raise ValueError(raw)
        if abs(number) >= MAX_NUMBER:
            raise error(_("The number for “%(field)s” is too large."), field=name)
        return number

    def _moment(self, raw: Any) -> date | datetime:
        """A date (for date-only input) or an aware datetime."""
        if not isinstance(raw, str):
            raise ValueError(raw)
        text = raw.strip()
        if text.lower() == "today":
            return timezone.localdate(self.now)
        moment = relative_moment(text, self.now)
        if moment is not None:
            return moment
        if DATE_RE.fullmatch(text):
            return date.fromisoformat(text)
        if DATETIME_RE.fullmatch(text):
            moment = datetime.fromisoformat(text.upper())
            return timezone.make_aware(moment) if timezone.is_naive(moment) else moment
        raise ValueError(raw)

    def v_date(self, field: Field, name: str, op: str, raw: Any) -> date:
        moment = self._moment(raw)
        return timezone.localtime(moment).date() if isinstance(moment, datetime) else moment

    def v_datetime(self, field: Field, name: str, op: str, raw: Any) -> datetime | DayRange:
        moment = self._moment(raw)
        if not isinstance(moment, datetime):
            return day_range(moment)
        if op in ("eq", "ne") and _DURATION.fullmatch(raw.strip()):
            return day_range(timezone.localtime(moment).date())  # "created = 1d": some time yesterday
        return moment

    def v_boolean(self, field: Field, name: str, op: str, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "yes"):
            return True
        if text in ("false", "no"):
            return False
        raise ValueError(raw)

    def v_choice(self, field: Field, name: str, op: str, raw: Any) -> str:
        text = self.v_text(field, name, op, raw).strip()
        if not field.choices:
            return text
        for value, label in field.choices:
            if text.lower() in (value.lower(), str(label).lower()):
                return value
        choices = ", ".join(value for value, _label in field.choices)
        message = _("“%(value)s” is not a choice of “%(field)s”; use one of: %(choices)s.")
        raise error(message, value=raw, field=name, choices=choices)

    v_multi_choice = v_choice

    def v_user(self, field: Field, name: str, op: str, raw: Any) -> int | str:
        if isinstance(raw, bool):
            raise ValueError(raw)
        if isinstance(raw, int):
            return raw
        text = str(raw).strip()
        if text.lower() == "me":
            if self.user is not None and getattr(self.user, "pk", None) is not None:
                return self.user.pk
            if self.check_only:
                return 0
            raise error(_("“me” in “%(field)s” needs a signed-in user."), field=name)
        if text.isdigit():
            return int(text)
        if not text:
            raise ValueError(raw)
        return text


def bind(
    tree: str | dict,
    registry: FieldRegistry,
    *,
    user: Any = None,
    now: datetime | None = None,
    check_only: bool = False,
) -> Bound:
    """Parse (if needed), check every field, operator and value, and return the typed tree.
    `check_only` validates without a user (so `me` is accepted), e.g. when saving a view."""
    return _Binder(registry, user, now, check_only).bind(parse(tree))


def validate(tree: str | dict, registry: FieldRegistry) -> dict:
    """The normalised tree, after checking it against `registry`; raises QueryError otherwise."""
    tree = parse(tree)
    bind(tree, registry, check_only=True)
    return tree
