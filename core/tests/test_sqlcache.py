"""core.sqlcache: a statement compiled once answers exactly what the ORM answers, for every user shape."""

from __future__ import annotations

import pytest

from contacts.models import Contact
from contacts.services import contact_create
from core import sqlcache
from core.visibility import restrict

pytestmark = pytest.mark.django_db


def _build(shape):
    def build(slots):
        role, teams, managed = shape
        user = slots.visibility_user(role, teams=teams, managed=managed)
        return (
            restrict(Contact.objects.all(), user).filter(pk__gte=slots.int("low")).values("id", "created_at")
        )

    return build


@pytest.mark.parametrize(
    "actor", ["admin", "manager", "owner", "teammate", "other", "other_manager", "readonly"]
)
def test_prepared_matches_the_orm(org, actor):
    for owner in (org.owner, org.teammate, org.other, org.manager):
        contact_create(actor=owner, data={"first_name": f"By {owner.username}"})
    contact_create(actor=org.owner, data={"first_name": "Private", "team_id": 0})
    user = getattr(org, actor)
    shape = sqlcache.visibility_shape(user)
    statement = sqlcache.prepared(("test-visible", shape), _build(shape))
    low = Contact.objects.order_by("id").values_list("id", flat=True)[1]
    rows = statement.run({**sqlcache.visibility_values(user), "low": low})
    expected = list(restrict(Contact.objects.all(), user).filter(pk__gte=low).values("id", "created_at"))
    assert sorted(rows, key=lambda r: r["id"]) == sorted(expected, key=lambda r: r["id"])
    assert all(r["created_at"].tzinfo is not None for r in rows)  # converters applied on both databases
    again = sqlcache.prepared(("test-visible", shape), lambda slots: pytest.fail("rebuilt"))
    assert again is statement


def test_a_slot_that_does_not_reach_the_sql_is_refused():
    with pytest.raises(ValueError, match="slot"):
        sqlcache.prepared(
            "test-bad-slot",
            lambda slots: Contact.objects.filter(first_name__icontains=slots.str("n")).values("id"),
        )


def test_sqlite_runs_the_converted_statement_unless_someone_watches(org, monkeypatch):
    """On SQLite the `?` form is converted once; with query logging on (tests' query counters, DEBUG) the
    statement goes through Django's cursor so it is seen. Both answer the same rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    contact_create(actor=org.owner, data={"first_name": "Ada", "email": "ada@example.com"})
    statement = sqlcache.prepared(
        "test-fast-path",
        lambda slots: Contact.objects.filter(pk__gte=slots.int("low"), first_name=slots.str("name")).values(
            "id", "first_name", "created_at"
        ),
    )
    calls = []
    real = sqlcache._sqlite_fetchall
    monkeypatch.setattr(sqlcache, "_sqlite_fetchall", lambda *a: calls.append(a) or real(*a))
    values = {"low": 0, "name": "Ada"}
    fast = statement.run(values)
    with CaptureQueriesContext(connection) as watched:
        logged = statement.run(values)
    assert fast == logged and [r["first_name"] for r in fast] == ["Ada"]
    assert len(watched.captured_queries) == 1
    if connection.vendor == "sqlite":
        assert "%s" not in statement.qmark_sql and statement.qmark_sql.count("?") == 2
        assert len(calls) == 1  # the unwatched run only
    else:
        assert statement.qmark_sql is None and calls == []
