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
