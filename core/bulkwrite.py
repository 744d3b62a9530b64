"""Raw bulk writes: new ids, inserts per vendor, and the `created` history and outbox rows, for the bulk paths
(the seed generators, imports, bulk services).

Why raw SQL: measured on the 2-core CI machine, Django's `bulk_create` wrote 3,000 contacts/s and
`history_record_bulk` / `event_emit_bulk` 6,800 / 4,800 rows/s, against 25,000-50,000 rows/s for
`executemany` on SQLite and 23,000 contacts/s for COPY on PostgreSQL (7,600 for executemany). Values are
always bound parameters (or COPY rows), never formatted into the SQL; the callers name every column they
write (a raw insert applies no model default). The history and event rows are built exactly as
core.history / core.events build them (same columns, `to_json_value` for the JSON); the bulk services'
tests compare them with what their one-record service writes.

New ids are allocated before the insert: from the table's sequence on PostgreSQL (`nextval`, safe with
concurrent writers), and on SQLite from `max(id, sqlite_sequence)` inside the batch's transaction, which
holds SQLite's single write lock (the project's transactions are BEGIN IMMEDIATE).
"""

from __future__ import annotations

from decimal import Decimal

import orjson
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from core.events import _schedule_delivery
from core.history import to_json_value
from core.models import HistoryEntry, OutboxEvent

# The columns of a `created` history entry and of an outbox event (Writer.history, Writer.events).
HISTORY_COLUMNS = ["content_type_id", "object_id", "action", "actor_id", "created_at", "changes"]
EVENT_COLUMNS = [
    "name",
    "object_type",
    "object_id",
    "actor_id",
    "payload",
    "created_at",
    "attempts",
    "last_error",
]


def allocate_ids(model: type[Model], count: int) -> list[int]:
    """`count` new ids for `model`, to insert with (call inside the transaction that inserts them)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, model._meta.pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor != "sqlite":
            raise NotImplementedError(f"bulk create does not support {connection.vendor}")
        # The caller's transaction holds SQLite's write lock, so nobody can take these ids meanwhile.
        cursor.execute(
            f"SELECT COALESCE(MAX({connection.ops.quote_name(model._meta.pk.column)}), 0) "
            f"FROM {connection.ops.quote_name(table)}"
        )
        highest = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(highest, row[0] if row else 0) + 1
        return list(range(start, start + count))


class Writer:
    """Inserts rows with explicit column lists: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        self.postgres = self.vendor == "postgresql"
        self.now = timezone.now()
        self.now_db = self.now if self.postgres else connection.ops.adapt_datetimefield_value(self.now)

    def date(self, value):
        if value is None or self.postgres:
            return value
        return value.isoformat()

    def datetime(self, value):
        if value is None or self.postgres:
            return value
        return connection.ops.adapt_datetimefield_value(value)

    def decimal(self, value):
        if value is None or self.postgres:
            return value
        return str(value)

    @staticmethod
    def json(value) -> str:
        return orjson.dumps(value, default=_json_default).decode()

    def insert(self, model: type[Model], columns: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        column_sql = ", ".join(quote(c) for c in columns)
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if self.postgres:
                with raw.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                placeholders = ", ".join("?" for _ in columns)
                raw.executemany(f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders})", rows)

    def history(self, model: type[Model], actor_id, entries: list[tuple[int, dict]]) -> None:
        """One `created` entry per record, as core.history.history_record writes it."""
        content_type_id = ContentType.objects.get_for_model(model, for_concrete_model=True).pk
        now = self.now_db
        self.insert(
            HistoryEntry,
            HISTORY_COLUMNS,
            [
                (
                    content_type_id,
                    object_id,
                    HistoryEntry.Action.CREATED.value,
                    actor_id,
                    now,
                    self.json({k: [None, v] for k, v in changes.items()}),
                )
                for object_id, changes in entries
            ],
        )

    def events(self, name: str, model: type[Model], actor_id, payloads: list[tuple[int, dict]]) -> None:
        """One outbox event per record, as core.events.event_emit writes it; delivery after commit."""
        object_type = model._meta.label_lower
        now = self.now_db
        self.insert(
            OutboxEvent,
            EVENT_COLUMNS,
            [(name, object_type, object_id, actor_id, self.json(p), now, 0, "") for object_id, p in payloads],
        )
        if payloads:
            transaction.on_commit(_schedule_delivery)


def _json_default(value):
    """What orjson does not write itself, written as `core.history.to_json_value` writes it (orjson writes
    dates, datetimes and tuples as that function does, and much faster than walking every value)."""
    if isinstance(value, Decimal | Model | set | frozenset):
        return to_json_value(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")
