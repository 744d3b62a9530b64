"""Compile a bound tree into Django ORM `Q` objects (plus the annotations computed fields need).

User text never reaches SQL: fields map to registered ORM paths and values travel as query parameters.

Negations are the exact complement of the positive condition (`stage != lead` also matches records with no
stage; `tags != vip` means "has no tag vip"). Django already makes negated lookups on nullable columns
two-valued; for JSON keys and annotations, which it does not, positive conditions are guarded with
"has a value" so that NOT never meets SQL NULL.
"""

from __future__ import annotations

import json
import operator
import re
from datetime import datetime
from decimal import Decimal
from functools import reduce
from typing import Any

from django.db import NotSupportedError
from django.db.models import (
    BooleanField,
    DecimalField,
    Exists,
    F,
    ForeignObjectRel,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.fields.json import compile_json_path
from django.utils.translation import gettext as _

from .binding import Bound, Cond, DayRange, bind
from .fields import Field, FieldRegistry
from .parser import error

NEGATIONS = {"ne": "eq", "not_in": "in", "not_contains": "contains", "is_not_empty": "is_empty"}


class JSONListHas(Func):
    """True when the JSON array at `column -> key` has `value` as an element; false when the key is
    missing or not an array. Django's JSONField `contains` lookup is not supported on SQLite, so SQLite
    scans the array with json_each; PostgreSQL (and others) use JSON containment (`@>`, indexable)."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: str, key: str, value: str):
        super().__init__(F(column))
        self.key, self.value = key, value

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        if connection.vendor != "postgresql":
            raise NotSupportedError(f"Filtering JSON lists is not implemented for {connection.vendor}.")
        sql = f"COALESCE(({column} -> %s) @> %s::jsonb, false)"
        return sql, (*params, self.key, json.dumps([self.value]))

    def as_sqlite(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        sql = f"EXISTS(SELECT 1 FROM json_each({column}, %s) AS e WHERE e.type = 'text' AND e.value = %s)"
        return sql, (*params, compile_json_path([self.key]), self.value)


def _lk(path: str, lookup: str, value: Any) -> Q:
    return Q(**{f"{path}__{lookup}": value})


def _any(qs: list[Q]) -> Q:
    return reduce(operator.or_, qs)


def _json_value(value: Any) -> Any:
    """JSON lookups serialise their right-hand side: no Decimal or date objects there."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _empty_q(field: Field, path: str) -> Q:
    q = _lk(path, "isnull", True)
    if field.custom:
        q |= _lk(path, "exact", None)  # a JSON null
    if field.type in ("text", "email", "url", "choice", "multi_choice"):
        q |= _lk(path, "exact", "")
    if field.type == "multi_choice" and field.custom:
        q |= _lk(path, "exact", [])
    return q


def _lookup_q(field: Field, path: str, op: str, value: Any) -> Q:
    """The positive operators (eq, lt.., contains, starts_with, in, is_empty) on one path."""
    if op == "is_empty":
        return _empty_q(field, path)
    if field.custom:
        value = [_json_value(v) for v in value] if isinstance(value, list) else _json_value(value)
    kind = field.type
    if kind in ("text", "email", "url"):
        if op == "in":
            return _any([_lk(path, "iexact", v) for v in value])
        return _lk(path, {"eq": "iexact", "contains": "icontains", "starts_with": "istartswith"}[op], value)
    if kind == "boolean":
        if field.presence:
            return _lk(path, "isnull", not value)
        true = _guarded(field, path, _lk(path, "exact", True))
        return true if value else ~true  # "= false" also matches records with no value
    if kind == "multi_choice" and field.custom:
        column, key = path.split("__", 1)
        return _any([Q(JSONListHas(column, key, v)) for v in (value if op == "in" else [value])])
    if kind == "user":
        return _any(
            [
                _lk(path, "exact", v) if isinstance(v, int) else _lk(path, "username__iexact", v)
                for v in (value if op == "in" else [value])
            ]
        )
    if isinstance(value, DayRange):
        if op == "eq":
            return _lk(path, "gte", value.start) & _lk(path, "lt", value.end)
        bound = value.end if op in ("lte", "gt") else value.start
        return _lk(path, "lt" if op in ("lt", "lte") else "gte", bound)
    if kind == "number" and not field.custom:
        # A typed parameter, so that "count < 2.5" is not truncated to "count < 2" for integer columns.
        value = [_decimal(v) for v in value] if op == "in" else _decimal(value)
    return _lk(path, {"eq": "exact", "contains": "exact"}.get(op, op), value)


def _decimal(value: int | Decimal) -> Any:
    return Value(value, output_field=DecimalField()) if isinstance(value, Decimal) else value


def _guarded(field: Field, path: str, q: Q) -> Q:
    if field.custom:
        return q & _lk(path, "isnull", False) & ~_lk(path, "exact", None)
    if field.annotation:
        return q & _lk(path, "isnull", False)
    return q


def _split_many(model: Any, path: str) -> tuple[str, Any, str, str]:
    """For a path crossing a to-many relation: (outer ref, related model, back-link, rest of the path)."""
    parts, prefix = path.split("__"), []
    for i, part in enumerate(parts):
        rel = model._meta.get_field(part)
        if rel.one_to_many or rel.many_to_many:
            back = rel.field.name if isinstance(rel, ForeignObjectRel) else rel.related_query_name()
            return "__".join([*prefix, "pk"]), rel.related_model, back, "__".join(parts[i + 1 :]) or "pk"
        if not rel.is_relation:
            break
        prefix.append(part)
        model = rel.related_model
    raise ValueError(f"Field path {path!r} does not cross a to-many relation; do not mark it many=True.")


class _Compiler:
    def __init__(self, registry: FieldRegistry):
        self.registry = registry
        self.annotations: dict[str, Any] = {}
        self.computed: list[str] = []

    def node(self, node: Bound) -> Q:
        if isinstance(node, Cond):
            return self.cond(node)
        kind, body = node
        if kind == "not":
            return ~self.node(body)
        if not body:
            return Q()
        return reduce(operator.and_ if kind == "and" else operator.or_, (self.node(n) for n in body))

    def cond(self, cond: Cond) -> Q:
        op = NEGATIONS.get(cond.op, cond.op)
        q = self.positive(cond.field, op, cond.value)
        return ~q if op != cond.op else q

    def positive(self, field: Field, op: str, value: Any) -> Q:
        if field.compile:
            return field.compile(op, value)
        path = field.path
        if field.annotation:
            path = "_ql_" + re.sub(r"\W", "_", field.name)
            self.annotations[path] = field.annotation()
            self.computed.append(field.name)
        if not field.many:
            q = _lookup_q(field, path, op, value)
            two_valued = op == "is_empty" or field.type in ("boolean", "multi_choice")
            return q if two_valued else _guarded(field, path, q)
        outer, model, back, rest = _split_many(self.registry.model, path)
        rows = model._base_manager.filter(**{back: OuterRef(outer)})
        if op == "is_empty":  # no related row with a value
            return ~Q(Exists(rows.exclude(_empty_q(field, rest))))
        return Q(Exists(rows.filter(_lookup_q(field, rest, op, value))))


def compile_filter(
    registry: FieldRegistry, tree: str | dict, *, user: Any = None, now: datetime | None = None
) -> tuple[Q, dict[str, Any]]:
    """The lower-level entry point: (Q, annotations). The annotations (alias → expression) must be added
    to the queryset with `.alias(**annotations)` before `.filter(q)`; `apply_filter` does both."""
    compiler = _Compiler(registry)
    q = compiler.node(bind(tree, registry, user=user, now=now))
    return q, compiler.annotations


def compile_q(
    registry: FieldRegistry, tree: str | dict, *, user: Any = None, now: datetime | None = None
) -> Q:
    """A plain Q, for callers that cannot add annotations. Computed fields are refused with a clear error."""
    compiler = _Compiler(registry)
    q = compiler.node(bind(tree, registry, user=user, now=now))
    if compiler.computed:
        names = ", ".join(f"“{name}”" for name in dict.fromkeys(compiler.computed))
        raise error(_("The computed field %(names)s cannot be used here."), names=names)
    return q


def apply_filter(
    queryset: QuerySet,
    registry: FieldRegistry,
    tree_or_text: str | dict,
    *,
    user: Any = None,
    now: datetime | None = None,
) -> QuerySet:
    """`queryset` narrowed by the filter, with any annotations computed fields need (added via `.alias()`,
    so they are not selected). To-many conditions use EXISTS, so rows are never duplicated."""
    q, annotations = compile_filter(registry, tree_or_text, user=user, now=now)
    new = {k: v for k, v in annotations.items() if k not in queryset.query.annotations}
    if new:
        queryset = queryset.alias(**new)
    return queryset.filter(q)
