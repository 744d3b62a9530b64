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

from collections.abc import Callable, Iterable

import orjson
from django.db.models import Aggregate, F, OuterRef, QuerySet, Subquery, TextField
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


# ---------------------------------------------------------------------------------------------------------
# The related lists of a page of records, in one prepared statement


def primary_first(items: list[dict]) -> list[dict]:
    """Primary entry first, then in id order: the order the models declare (`-is_primary`, `id`)."""
    return sorted(items, key=lambda item: not item.get("is_primary"))


_BUCKETS = (1, 10, 25, 50, 100, 200, 500)


def related_lists(
    key: str, model, ids: list[int], builders: dict[str, Callable[[OuterRef], Subquery]], names: Iterable[str]
) -> dict[int, dict[str, str | None]]:
    """id → {name: JSON text} for the related lists `names` of the records `ids` (already visible).

    A list page used to send one query per related list (five for a contact); this sends one statement
    that builds every list as a JSON array (`json_list`), compiled once per process (core.sqlcache) for
    each set of lists and each id-count bucket (the ids are padded with -1 to the bucket's size, so the
    SQL's shape depends on the bucket alone). `builders[name](OuterRef("pk"))` makes the subquery.
    """
    from .sqlcache import prepared

    wanted = tuple(sorted(set(names)))
    if not ids or not wanted:
        return {}
    found: dict[int, dict[str, str | None]] = {}
    for start in range(0, len(ids), _BUCKETS[-1]):
        chunk = ids[start : start + _BUCKETS[-1]]
        size = next(b for b in _BUCKETS if b >= len(chunk))

        def build(slots, size=size):
            ref = OuterRef("pk")
            return model._base_manager.filter(pk__in=slots.ints("ids", size)).values(
                "id", **{f"{name}_json": builders[name](ref) for name in wanted}
            )

        statement = prepared(("related-lists", key, wanted, size), build)
        padded = [*chunk, *([-1] * (size - len(chunk)))]
        for row in statement.run({"ids": padded}):
            found[row.pop("id")] = {name: row[f"{name}_json"] for name in wanted}
    return found
