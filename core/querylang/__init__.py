"""The CRM's one query language: list filters and saved views now; segments, reports and automation
conditions later. See `parser` (text/JSON forms), `fields` (what may be filtered), `binding` (types and
relative dates), `compiler` (ORM Q objects) and `predicate` (the same tree evaluated on event payloads)."""

from .binding import bind, validate
from .compiler import JSONListHas, apply_filter, compile_filter, compile_q
from .fields import TYPE_OPS, Field, FieldRegistry
from .parser import MAX_CONDITIONS, MAX_DEPTH, MAX_TEXT_LENGTH, OPS, QueryError, parse, to_text
from .predicate import matches

__all__ = [
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "MAX_TEXT_LENGTH",
    "OPS",
    "TYPE_OPS",
    "Field",
    "FieldRegistry",
    "JSONListHas",
    "QueryError",
    "apply_filter",
    "bind",
    "compile_filter",
    "compile_q",
    "matches",
    "parse",
    "to_text",
    "validate",
]
