"""Text and JSON forms of the query language: tokenizer, recursive-descent parser, normaliser, printer.

The tree is deliberately untyped: values stay JSON scalars ("2024-01-31", "90d", "me", 3, 2.5, true) and only
get their meaning when bound to a field (see `binding.py`). That keeps `parse` independent of any registry,
so saved filters survive field changes and the JSON form stays plain JSON.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from core.errors import ValidationError

MAX_DEPTH = 20
MAX_CONDITIONS = 100
MAX_TEXT_LENGTH = 10_000
MAX_LIST_LENGTH = 1_000

# Operator name → text form; the JSON form uses the names.
OP_TEXT = {
    "eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">=", "contains": "contains",
    "not_contains": "not contains", "starts_with": "starts with", "in": "in", "not_in": "not in",
    "is_empty": "is empty", "is_not_empty": "is not empty",
}  # fmt: skip
OPS = tuple(OP_TEXT)
NO_VALUE_OPS = frozenset({"is_empty", "is_not_empty"})
LIST_OPS = frozenset({"in", "not_in"})
_SYMBOL_OPS = {"=": "eq", "!=": "ne", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
# Words that cannot be field names or bare values (quote them to use them as values).
RESERVED = frozenset({"and", "or", "not", "in", "is", "empty", "contains", "starts", "with", "true", "false"})

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
   |(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
   |(?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)(?![\w.:-])
   |(?P<date>\d{4}-\d{2}-\d{2})(?![\w.:-])
   |(?P<dur>\d+[hdwmy])(?![\w.])
   |(?P<num>-?\d+(?:\.\d+)?)(?![\w.])
   |(?P<word>[^\W\d][\w.@-]*)
   |(?P<op>!=|<=|>=|=|<|>|\(|\)|,)
    """,
    re.VERBOSE | re.IGNORECASE | re.DOTALL,
)
WORD_RE = re.compile(r"[^\W\d][\w.@-]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


class QueryError(ValidationError):
    """A filter the language rejects. `position` is the 0-based offset in the text, when there is one."""

    def __init__(self, message: str, position: int | None = None):
        super().__init__({"filter": [message]}, detail=_("Invalid filter."))
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return self.message


def error(message: str, position: int | None = None, **params: Any) -> QueryError:
    """A QueryError from a translated message with %(name)s placeholders."""
    return QueryError(message % params if params else message, position)


def too_deep(position: int | None = None) -> QueryError:
    return error(_("The filter is nested too deeply (at most %(n)d levels)."), position, n=MAX_DEPTH)


def _syntax(position: int, problem: str) -> QueryError:
    # Positions are shown 1-based, as editors count columns.
    msg = _("Syntax error at character %(pos)d: %(problem)s") % {"pos": position + 1, "problem": problem}
    return QueryError(msg, position)


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body, flags=re.DOTALL)


def tokenize(text: str) -> list[tuple[str, Any, int]]:
    """(kind, value, position) triples; kinds: str, dt, date, dur, num, word, op."""
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            if text[pos] in "\"'":
                raise _syntax(pos, _("unterminated string"))
            snippet = re.match(r"\S+", text[pos:]).group(0)[:20]
            raise _syntax(pos, _("unexpected “%(text)s”") % {"text": snippet})
        kind, raw = m.lastgroup, m.group()
        if kind == "str":
            tokens.append(("str", _unescape(raw[1:-1]), pos))
        elif kind == "num":
            tokens.append(("num", float(raw) if "." in raw else int(raw), pos))
        elif kind != "ws":
            value = {"dt": raw.upper(), "dur": raw.lower()}.get(kind, raw)
            tokens.append((kind, value, pos))
        pos = m.end()
    return tokens


class _Parser:
    """expr := and_expr ("or" and_expr)* ; and_expr := unary ("and" unary)* ;
    unary := "not" unary | "(" expr ")" | field operator [value | "(" value, ... ")"]"""

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self, offset: int = 0) -> tuple[str, Any, int] | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def next(self, expected: str) -> tuple[str, Any, int]:
        tok = self.peek()
        if tok is None:
            raise _syntax(len(self.text), _("expected %(what)s, but the filter ends") % {"what": expected})
        self.i += 1
        return tok

    def is_kw(self, word: str, offset: int = 0) -> bool:
        tok = self.peek(offset)
        return tok is not None and tok[0] == "word" and tok[1].lower() == word

    def is_op(self, symbol: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "op" and tok[1] == symbol

    def expect_op(self, symbol: str) -> None:
        tok = self.next(f"“{symbol}”")
        if tok[0] != "op" or tok[1] != symbol:
            raise _syntax(tok[2], _("expected “%(sym)s”, found “%(tok)s”") % {"sym": symbol, "tok": tok[1]})

    def enter(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise too_deep(position)

    def parse(self) -> dict:
        if not self.tokens:
            return {"and": []}
        node = self.expr()
        tok = self.peek()
        if tok is not None:
            raise _syntax(tok[2], _("unexpected “%(tok)s”") % {"tok": tok[1]})
        return node

    def expr(self) -> dict:
        return self.chain("or", self.and_expr)

    def and_expr(self) -> dict:
        return self.chain("and", self.unary)

    def chain(self, word: str, sub) -> dict:
        nodes = [sub()]
        while self.is_kw(word):
            self.i += 1
            nodes.append(sub())
        return nodes[0] if len(nodes) == 1 else {word: nodes}

    def unary(self) -> dict:
        tok = self.peek()
        if self.is_kw("not"):
            self.i += 1
            self.enter(tok[2])
            node = {"not": self.unary()}
            self.depth -= 1
            return node
        if self.is_op("("):
            self.i += 1
            self.enter(tok[2])
            node = self.expr()
            self.expect_op(")")
            self.depth -= 1
            return node
        return self.condition()

    def condition(self) -> dict:
        kind, name, pos = self.next(_("a field name"))
        if kind != "word" or name.lower() in RESERVED:
            raise _syntax(pos, _("expected a field name, found “%(tok)s”") % {"tok": name})
        op = self.operator(name)
        if op in NO_VALUE_OPS:
            return {"field": name, "op": op}
        value = self.value_list(op) if op in LIST_OPS else self.value(OP_TEXT[op])
        return {"field": name, "op": op, "value": value}

    def operator(self, field: str) -> str:
        kind, tok, pos = self.next(_("an operator after “%(field)s”") % {"field": field})
        if kind == "op" and tok in _SYMBOL_OPS:
            return _SYMBOL_OPS[tok]
        word = tok.lower() if kind == "word" else None
        if word in ("contains", "in"):
            return word
        if word == "not" and (self.is_kw("contains") or self.is_kw("in")):
            return "not_" + self.next("")[1].lower()
        if word == "starts" and self.is_kw("with"):
            self.i += 1
            return "starts_with"
        if word == "is":
            negated = self.is_kw("not")
            self.i += negated
            if self.is_kw("empty"):
                self.i += 1
                return "is_not_empty" if negated else "is_empty"
            tok = self.peek()
            raise _syntax(tok[2] if tok else len(self.text), _("expected “empty” after “is”"))
        raise _syntax(pos, _("unknown operator “%(op)s”") % {"op": tok})

    def value(self, after: str) -> Any:
        kind, value, pos = self.next(_("a value after “%(op)s”") % {"op": after})
        if kind == "word":
            low = value.lower()
            if low in ("true", "false"):
                return low == "true"
            if low in RESERVED:
                raise _syntax(
                    pos, _("expected a value, found “%(tok)s” (quote it to use it as text)") % {"tok": value}
                )
        elif kind == "op":
            raise _syntax(
                pos, _("expected a value after “%(op)s”, found “%(tok)s”") % {"op": after, "tok": value}
            )
        return value

    def value_list(self, op: str) -> list:
        word = OP_TEXT[op]
        kind, tok, pos = self.next(_("“(” after “%(op)s”") % {"op": word})
        if kind != "op" or tok != "(":
            raise _syntax(pos, _("expected “(” after “%(op)s”") % {"op": word})
        if self.is_op(")"):
            raise _syntax(pos, _("the list after “%(op)s” is empty") % {"op": word})
        values = [self.value(word)]
        while self.is_op(","):
            self.i += 1
            values.append(self.value(word))
        self.expect_op(")")
        return values


def _check_scalar(value: Any, field: str) -> Any:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    if value is None or not isinstance(value, str | int | float | bool):
        raise error(_("The value for “%(field)s” must be text, a number or true/false."), field=field)
    return value


def _normalize(node: Any, depth: int, counter: list[int], root: bool = False) -> dict:
    if not isinstance(node, dict):
        raise error(_("Every part of a filter must be an object, got %(value)s."), value=repr(node)[:40])
    keys = set(node)
    if keys in ({"and"}, {"or"}, {"not"}):
        if depth >= MAX_DEPTH:
            raise too_deep()
        (kind,) = keys
        if kind == "not":
            return {"not": _normalize(node["not"], depth + 1, counter)}
        children = node[kind]
        if not isinstance(children, list):
            raise error(_("“%(kind)s” needs a list of conditions."), kind=kind)
        flat: list[dict] = []
        for child in children:
            child = _normalize(child, depth + 1, counter, root=kind == "and")  # {"and": []} merges away
            flat.extend(child.get(kind, [child]))
        if len(flat) == 1:
            return flat[0]
        if not flat and not (root and kind == "and"):
            raise error(_("“%(kind)s” needs at least one condition."), kind=kind)
        return {kind: flat}
    if "field" not in keys or "op" not in keys or not keys <= {"field", "op", "value"}:
        message = _("Unrecognised filter part with keys %(keys)s; expected and/or/not or field/op/value.")
        raise error(message, keys=", ".join(sorted(map(str, keys))))
    field, op = node["field"], node["op"]
    if not isinstance(field, str) or not WORD_RE.fullmatch(field) or field.lower() in RESERVED:
        raise error(_("“%(field)s” is not a valid field name."), field=field)
    op = _SYMBOL_OPS.get(op, op)
    if op not in OPS:
        raise error(_("Unknown operator “%(op)s”; use one of: %(ops)s."), op=op, ops=", ".join(OPS))
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise error(_("The filter has too many conditions (at most %(n)d)."), n=MAX_CONDITIONS)
    if op in NO_VALUE_OPS:
        return {"field": field, "op": op}
    if "value" not in node:
        raise error(_("“%(field)s %(op)s” needs a value."), field=field, op=OP_TEXT[op])
    value = node["value"]
    if op in LIST_OPS:
        if not isinstance(value, list | tuple):
            raise error(_("“%(op)s” needs a list of values."), op=OP_TEXT[op])
        if not value:
            raise error(_("The list after “%(op)s” for “%(field)s” is empty."), op=OP_TEXT[op], field=field)
        if len(value) > MAX_LIST_LENGTH:
            raise error(
                _("The list for “%(field)s” is too long (at most %(n)d values)."),
                field=field,
                n=MAX_LIST_LENGTH,
            )
        value = [_check_scalar(v, field) for v in value]
    else:
        value = _check_scalar(value, field)
    return {"field": field, "op": op, "value": value}


def parse(source: str | dict) -> dict:
    """Parse filter text, a JSON string or a decoded JSON tree into the normalised tree.

    Normalising flattens nested and/or groups and collapses single-child groups, so that `to_text` output
    parses back to an identical tree. The empty filter is `{"and": []}` and matches everything."""
    if isinstance(source, str):
        if len(source) > MAX_TEXT_LENGTH:
            raise error(_("The filter is too long (at most %(n)d characters)."), n=MAX_TEXT_LENGTH)
        if source.lstrip().startswith("{"):
            try:
                source = json.loads(source)
            except json.JSONDecodeError as exc:
                raise error(
                    _("Invalid JSON at character %(pos)d: %(msg)s"), exc.pos, pos=exc.pos + 1, msg=exc.msg
                )
            except RecursionError:
                raise too_deep()
        else:
            source = _Parser(source).parse()
    return _normalize(source, 0, [0], root=True)


def _fmt_value(value: Any) -> str:
    if isinstance(value, list):
        return "(" + ", ".join(_fmt_value(v) for v in value) + ")"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        text = format(Decimal(text), "f") if "e" in text else text
        return text if "." in text else text + ".0"
    if isinstance(value, int):
        return str(value)
    try:
        tokens = tokenize(value)
    except QueryError:
        tokens = []
    # Bare only when it lexes back to the very same string (not a keyword, number, boolean...).
    kind = tokens[0][0] if len(tokens) == 1 and tokens[0][1] == value else None
    if kind in ("date", "dt", "dur") or (kind == "word" and value.lower() not in RESERVED):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    for char, letter in (("\n", "n"), ("\t", "t"), ("\r", "r")):
        escaped = escaped.replace(char, "\\" + letter)
    return f'"{escaped}"'


def to_text(tree: str | dict) -> str:
    """Canonical text for a tree: minimal parentheses, lower-case keywords, strings bare when unambiguous."""

    def fmt(node: dict, parent: int) -> str:
        for kind, prec in (("or", 1), ("and", 2)):
            if kind in node:
                text = f" {kind} ".join(fmt(child, prec) for child in node[kind])
                return f"({text})" if parent > prec else text
        if "not" in node:
            return "not " + fmt(node["not"], 3)
        text = f"{node['field']} {OP_TEXT[node['op']]}"
        return text if node["op"] in NO_VALUE_OPS else f"{text} {_fmt_value(node['value'])}"

    tree = parse(tree)
    return "" if tree == {"and": []} else fmt(tree, 0)
