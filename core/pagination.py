"""Keyset (cursor) pagination: page 10,000 costs what page 1 costs.

A sort is a list of (column, descending) ending with the primary key, so every position is unique. The
cursor carries the last row's values of those columns; the next page starts strictly after them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal

import orjson
from django.db.models import Q, QuerySet

from .errors import ValidationError

MAX_LIMIT = 500


def cursor_encode(values: list) -> str:
    def plain(v):
        if isinstance(v, dt.datetime | dt.date):
            return v.isoformat()
        if isinstance(v, decimal.Decimal):
            return str(v)
        return v

    return base64.urlsafe_b64encode(orjson.dumps([plain(v) for v in values])).decode().rstrip("=")


def cursor_decode(cursor: str, size: int) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError, UnicodeEncodeError):
        raise ValidationError({"cursor": ["This cursor is not valid; start again from the first page."]})
    if not isinstance(values, list) or len(values) != size:
        raise ValidationError({"cursor": ["This cursor does not fit this sort order."]})
    if not all(v is None or isinstance(v, str | int | float) for v in values):
        raise ValidationError({"cursor": ["This cursor is not valid; start again from the first page."]})
    return values


def limit_clean(limit, default: int = 50) -> int:
    if limit in (None, ""):
        return default
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        raise ValidationError({"limit": ["Enter a whole number."]})
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError({"limit": [f"Enter a number from 1 to {MAX_LIMIT}."]})
    return limit


def keyset_after(order: list[tuple[str, bool]], values: list) -> Q:
    """Rows strictly after `values` in `order`: (a > va) or (a = va and b > vb) or ..."""
    condition = Q(pk__in=[])
    for index in range(len(order) - 1, -1, -1):
        column, descending = order[index]
        step = Q(**{f"{column}__{'lt' if descending else 'gt'}": values[index]})
        if index < len(order) - 1:
            step = step | (Q(**{column: values[index]}) & condition)
        condition = step
    return condition


def keyset_page(queryset: QuerySet, order: list[tuple[str, bool]], cursor: str | None, limit: int):
    """Return (rows, next_cursor). `queryset` may be a values() queryset or model instances; the order
    columns must be present on the rows (annotate them first)."""
    if cursor:
        queryset = queryset.filter(keyset_after(order, cursor_decode(cursor, len(order))))
    queryset = queryset.order_by(*[f"-{c}" if d else c for c, d in order])
    rows = list(queryset[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        get = last.get if isinstance(last, dict) else (lambda c: getattr(last, c))
        next_cursor = cursor_encode([get(c) for c, _ in order])
    return rows, next_cursor


def id_order(order: list[tuple[str, bool]]) -> bool:
    """Whether `order` sorts by the primary key alone (the default list order): the case
    `keyset_page_prepared` serves."""
    return len(order) == 1 and order[0][0] in ("id", "pk")


def keyset_page_prepared(
    key, build, order: list[tuple[str, bool]], cursor: str | None, limit: int, values: dict
):
    """`keyset_page` for the hot case — a list in id order whose base queryset depends only on bound
    values (visibility, no filter text) — compiled once per process and shape (core.sqlcache).

    `build(slots)` returns the base `values()` queryset; `values` binds its slots. `key` must name
    everything else that shapes the SQL (the visibility shape, the columns, archived or not)."""
    from .sqlcache import prepared

    if not id_order(order):
        raise ValueError("keyset_page_prepared serves the id order only")
    after = id_cursor_decode(cursor)
    column, descending = order[0]

    def full(slots):
        queryset = build(slots)
        if after is not None:
            queryset = queryset.filter(**{f"{column}__{'lt' if descending else 'gt'}": slots.int("after")})
        return queryset.order_by(f"-{column}" if descending else column)[: limit + 1]

    statement = prepared(("keyset", key, column, descending, after is not None, limit), full)
    return id_page(statement.run({**values, "after": after}), column, limit)


def id_cursor_decode(cursor: str | None) -> int | None:
    """The id an id-order cursor holds (None for the first page); 400 naming `cursor` when it holds none."""
    if not cursor:
        return None
    value = cursor_decode(cursor, 1)[0]
    if not (isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63):
        raise ValidationError({"cursor": ["This cursor is not valid; start again from the first page."]})
    return value


def id_page(rows: list[dict], column: str, limit: int) -> tuple[list[dict], str | None]:
    """(rows, next_cursor) from up to `limit + 1` rows read in id order after the cursor."""
    rows = list(rows)
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, cursor_encode([rows[-1][column]])
