"""Hot read paths compiled once per process: the ORM builds the SQL, later calls only bind values.

Building and compiling a queryset costs far more CPU than running it (measured on a single-contact GET
with its related lists as JSON: ~6 ms of ORM work around ~0.5 ms of database time). For the few
statements every request runs — the token check, the record read — `prepared(key, build)` builds the
queryset once with *sentinel* values in the places that vary, compiles it, and remembers the SQL, which
parameter positions hold which slot, and Django's converters for the selected columns. Each call then
binds the real values and runs the SQL on a cursor: the same statement the ORM would send, the same
Python values back (converters applied), no SQL written by hand and no user text in the SQL.

The key must determine the SQL completely: everything that changes its shape (a role, the length of a
list bound with IN) belongs in the key; only values that end up as bound parameters may vary.

    stmt = prepared(("contact-read", shape), lambda s: restrict(Contact.objects.all(), s.user(...))
                    .filter(pk=s.int("pk")).values(...))
    rows = stmt.run({"pk": 42, ...})
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.db import connections
from django.db.models import QuerySet

_cache: dict[tuple, Prepared] = {}
_counter = itertools.count(1)


class Slots:
    """Hands out sentinel values for `build` and remembers which slot each one stands for."""

    def __init__(self) -> None:
        self.by_value: dict[Any, tuple[str, int | None]] = {}

    def _sentinel_int(self) -> int:
        return -7_300_000_000_000 - next(_counter)

    def int(self, name: str) -> int:
        value = self._sentinel_int()
        self.by_value[value] = (name, None)
        return value

    def ints(self, name: str, count: int) -> list[int]:
        values = [self._sentinel_int() for _ in range(count)]
        for index, value in enumerate(values):
            self.by_value[value] = (name, index)
        return values

    def str(self, name: str) -> str:
        value = f"\x00slot-{next(_counter)}"
        self.by_value[value] = (name, None)
        return value

    def visibility_user(self, role: str, teams: int, managed: int) -> SimpleNamespace:
        """A stand-in user for core.visibility: slots `user_id`, `team_ids`, `managed_user_ids`."""
        return SimpleNamespace(
            is_authenticated=True,
            is_active=True,
            is_superuser=False,
            role=role,
            pk=self.int("user_id"),
            team_ids=self.ints("team_ids", teams),
            managed_user_ids=self.ints("managed_user_ids", managed),
        )


def visibility_shape(user) -> tuple:
    """What about `user` changes the SQL that core.visibility adds (part of a prepared key)."""
    role = "admin" if user.is_superuser else user.role
    managed = len(user.managed_user_ids) if role == "manager" else 0
    return (role, len(user.team_ids), managed)


def visibility_values(user) -> dict:
    role = "admin" if user.is_superuser else user.role
    return {
        "user_id": user.pk,
        "team_ids": list(user.team_ids),
        "managed_user_ids": list(user.managed_user_ids) if role == "manager" else [],
    }


@dataclass
class Prepared:
    using: str
    sql: str
    params: list[tuple[str, Any]]  # ("const", value) | ("slot", (name, index))
    names: list[str]
    compiler: Any
    converters: dict = field(default_factory=dict)
    qmark_sql: str | None = None  # SQLite: the SQL with `?` placeholders, converted once

    def bind(self, values: dict) -> list:
        bound = []
        for kind, item in self.params:
            if kind == "const":
                bound.append(item)
            else:
                name, index = item
                bound.append(values[name] if index is None else values[name][index])
        return bound

    def run(self, values: dict) -> list[dict]:
        """The rows as dicts (the names of `values()`), with Django's conversions applied."""
        connection = connections[self.using]
        if self.qmark_sql is not None and not connection.queries_logged and not connection.execute_wrappers:
            rows = _sqlite_fetchall(connection, self.qmark_sql, self.bind(values))
        else:
            with _cursor(connection) as cursor:
                cursor.execute(self.sql, self.bind(values))
                rows = cursor.fetchall()
        if self.converters and rows:
            rows = list(self.compiler.apply_converters(rows, self.converters))
        return [dict(zip(self.names, row, strict=True)) for row in rows]


def _sqlite_fetchall(connection, sql: str, params: list) -> list:
    """Run on the raw sqlite3 connection, skipping Django's per-call rewrite of `%s` into `?` (a regular
    expression over the whole statement: ~50 µs for a contact read, a tenth of the request). Taken only
    when nobody watches the connection's statements (no query logging, no execute wrappers); the same
    checks as Django's cursor, the same errors (wrapped as Django's)."""
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection.connection.execute(sql, params).fetchall()


def _cursor(connection):
    """A cursor for a prepared statement. On PostgreSQL it binds parameters on the server, so that psycopg
    prepares the statement on the connection after a few runs and the server neither parses nor plans it
    again: a contact read with five JSON subqueries drops from ~1.1 ms to ~0.25 ms a run. (Django keeps
    client-side binding, which never prepares, for everything else, and leaves psycopg's threshold unset,
    which disables preparing; this sets psycopg's default threshold on the connection.) Wrapped like
    Django's own cursors, so query logging and execute wrappers still see the statement.

    Not for a pooler in transaction mode (PgBouncer before 1.21), which cannot keep prepared statements."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = PREPARE_THRESHOLD
    return connection._prepare_cursor(ServerBindingCursor(raw))


PREPARE_THRESHOLD = 5


def prepared(key: Hashable, build: Callable[[Slots], QuerySet], *, using: str = "default") -> Prepared:
    """The compiled statement for `key`, building it with `build(slots)` the first time in this process.

    `build` must return a `values()` queryset."""
    cache_key = (using, key)
    found = _cache.get(cache_key)
    if found is not None:
        return found
    slots = Slots()
    queryset = build(slots).using(using)
    query = queryset.query
    if not query.values_select and not query.annotation_select:
        raise ValueError("prepared() needs a values() queryset")
    compiler = query.get_compiler(using=using)
    sql, params = compiler.as_sql()
    bound = []
    for value in params:
        if isinstance(value, int | str) and value in slots.by_value:
            bound.append(("slot", slots.by_value[value]))
        else:
            bound.append(("const", value))
    for kind, value in bound:  # a sentinel transformed on its way into the SQL: refuse rather than misbind
        if kind == "const" and (
            (isinstance(value, int) and value <= -7_300_000_000_000)
            or (isinstance(value, str) and "\x00slot-" in value)
        ):
            raise ValueError(f"prepared({key!r}): a slot did not reach the SQL as a parameter")
    names = [*query.extra_select, *query.values_select, *query.annotation_select]
    fields = [s[0] for s in compiler.select[: compiler.col_count]]
    qmark_sql = None
    if connections[using].vendor == "sqlite":
        from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX

        qmark_sql = FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
    statement = Prepared(using, sql, bound, names, compiler, compiler.get_converters(fields), qmark_sql)
    _cache[cache_key] = statement
    return statement


def clear() -> None:
    _cache.clear()
