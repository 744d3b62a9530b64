"""A record and its related lists in one statement: JSON arrays built by the database.

`json_list(queryset, fields)` is a correlated subquery that turns the rows of `queryset` (already filtered
with `OuterRef`) into one JSON array of objects, e.g. a contact's e-mails. Reading a record with its four
or five related lists this way costs one round trip instead of five or six, which is most of the time of a
single-record GET on PostgreSQL (~0.3 ms per round trip). SQLite builds the array with `json_group_array`,
PostgreSQL with `json_agg`; both return text here, decoded with orjson by `json_list_decode`.

Booleans come back from SQLite as 0/1: `json_list_decode(text, booleans=(...))` turns the named keys into
`True`/`False` so both databases answer the same.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from django.db.models import Aggregate, F, QuerySet, Subquery, TextField
from django.db.models.functions import JSONObject


class _JSONArrayAgg(Aggregate):
    function = "JSON_GROUP_ARRAY"
    output_field = TextField()
    allow_distinct = False

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, function="JSON_AGG", template="%(function)s(%(expressions)s)::text"
        )


def json_list(queryset: QuerySet, fields: dict[str, str], *, group_by: str) -> Subquery:
    """A subquery returning the JSON array of `{key: row[path]}` for the rows of `queryset`.

    `queryset` must already be correlated (`filter(contact_id=OuterRef("pk"))`); `group_by` is the
    correlated column, so the aggregate yields one row. Rows are ordered by primary key on both databases.
    """
    rows = (
        queryset.order_by()
        .values(group_by)
        .annotate(_json=_JSONArrayAgg(JSONObject(**{key: F(path) for key, path in fields.items()})))
    )
    return Subquery(rows.values("_json")[:1], output_field=TextField())


def json_list_decode(text: str | None, *, booleans: Iterable[str] = ()) -> list[dict]:
    if not text:
        return []
    items = orjson.loads(text)
    keys = tuple(booleans)
    if keys:
        for item in items:
            for key in keys:
                if key in item:
                    item[key] = bool(item[key])
    return items
