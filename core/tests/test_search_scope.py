"""Search documents carry their record's owner and team, and restricted searches repeat the visibility on
them (core.search.SCOPED_KINDS). Run on SQLite and on PostgreSQL; only PostgreSQL's backend uses the copies
in its SQL, but both must keep them current and both must answer exactly the visible matches."""

from __future__ import annotations

import pytest
from django.db import connection

from contacts import bulk, services
from contacts.models import Company, Contact
from core import search
from core.search.models import SearchDocument
from core.visibility import restrict, visibility_q, visibility_scope
from dedupe.services import contacts_merge
from users.models import Team, User

pytestmark = pytest.mark.django_db


def document(kind: str, object_id: int) -> SearchDocument:
    return SearchDocument.objects.get(kind=kind, object_id=object_id)


@pytest.fixture
def people():
    team_a, team_b = Team.objects.create(name="A"), Team.objects.create(name="B")
    users = {
        "admin": User.objects.create(username="admin", role="admin"),
        "manager": User.objects.create(username="manager", role="manager"),
        "member": User.objects.create(username="member", role="member"),
        "mate": User.objects.create(username="mate", role="member"),
        "other": User.objects.create(username="other", role="member"),
        "loner": User.objects.create(username="loner", role="member"),
        "readonly": User.objects.create(username="readonly", role="readonly"),
    }
    for name in ("manager", "member", "mate", "readonly"):
        users[name].teams.add(team_a)
    users["other"].teams.add(team_b)
    return users, team_a, team_b


def test_scope_selects_exactly_what_the_visibility_filter_selects(people):
    users, team_a, team_b = people
    owners = [None, *users.values()]
    for i, owner in enumerate(owners):
        for team in (None, team_a, team_b):
            Contact.objects.create(first_name=f"P{i}", owner=owner, team=team)
    for user in [*users.values(), None]:
        for action in ("view", "change", "delete"):
            fresh = User.objects.get(pk=user.pk) if user else None  # no cached team ids
            q = visibility_q(fresh, action)
            expected = set(Contact.objects.filter(q).values_list("pk", flat=True)) if q is not None else None
            scope = visibility_scope(fresh, action)
            if scope is None:
                assert expected is None
                continue
            by_scope = {
                pk
                for pk, owner_id, team_id in Contact.objects.values_list("pk", "owner_id", "team_id")
                if owner_id in scope.owner_ids or team_id in scope.team_ids
            }
            assert by_scope == expected, (user and user.username, action)


def test_restrict_tags_the_query_with_its_scope(people):
    users, team_a, _ = people
    member = users["member"]
    queryset = restrict(Contact.objects.all(), member).filter(first_name="x")
    assert queryset.query.visibility_scope.owner_ids == (member.pk,)
    assert queryset.query.visibility_scope.team_ids == (team_a.pk,)
    assert not hasattr(restrict(Contact.objects.all(), users["admin"]).query, "visibility_scope")


def test_documents_follow_owner_and_team_through_the_services(people):
    users, team_a, team_b = people
    admin, member, mate = users["admin"], users["member"], users["mate"]
    contact = services.contact_create(actor=member, data={"first_name": "Maria", "last_name": "Schober"})
    doc = document("contact", contact.pk)
    assert (doc.owner_id, doc.team_id) == (member.pk, contact.team_id) == (member.pk, team_a.pk)

    contact = services.contact_update(
        actor=admin, contact_id=contact.pk, data={"version": contact.version, "team_id": team_b.pk}
    )
    assert document("contact", contact.pk).team_id == team_b.pk

    services.records_bulk_assign_owner(actor=admin, model=Contact, ids=[contact.pk], owner_id=mate.pk)
    assert document("contact", contact.pk).owner_id == mate.pk

    company = services.company_create(actor=admin, data={"name": "Schober AG", "owner_id": member.pk})
    doc = document("company", company.pk)
    assert (doc.owner_id, doc.team_id) == (member.pk, company.team_id)
    services.company_update(
        actor=admin, company_id=company.pk, data={"version": company.version, "team_id": team_b.pk}
    )
    assert document("company", company.pk).team_id == team_b.pk
    services.records_bulk_assign_owner(actor=admin, model=Company, ids=[company.pk], owner_id=mate.pk)
    assert document("company", company.pk).owner_id == mate.pk


def test_bulk_created_documents_carry_owner_and_team(people):
    users, team_a, _ = people
    member = users["member"]
    ids: list[int] = []
    created = bulk.contacts_bulk_create(
        actor=member,
        rows=[{"first_name": "Bulk", "last_name": f"Person{i}", "team_id": team_a.pk} for i in range(3)],
        ids=ids,
    )
    assert created == 3
    assert {
        (d.owner_id, d.team_id) for d in SearchDocument.objects.filter(kind="contact", object_id__in=ids)
    } == {(member.pk, team_a.pk)}
    company_ids: list[int] = []
    bulk.companies_bulk_create(actor=member, rows=[{"name": "Bulk Co"}], ids=company_ids)
    assert document("company", company_ids[0]).owner_id == member.pk


def test_merge_reindexes_the_survivor_with_its_owner(people):
    users, _, _ = people
    admin, member = users["admin"], users["member"]
    keep = services.contact_create(actor=admin, data={"first_name": "Mara", "email": "mara@example.com"})
    other = services.contact_create(actor=admin, data={"first_name": "Mara", "email": "mara@example.org"})
    services.records_bulk_assign_owner(actor=admin, model=Contact, ids=[keep.pk], owner_id=member.pk)
    contacts_merge(actor=admin, survivor_id=keep.pk, other_ids=[other.pk])
    assert document("contact", keep.pk).owner_id == member.pk


def test_scoped_kinds_must_be_indexed_with_owner_and_team():
    c = Contact.objects.create(first_name="A")
    with pytest.raises(ValueError, match="owner_id, team_id"):
        search.index("contact", [(c.id, "A")])
    with pytest.raises(ValueError):
        search.index("order", [(1, "x", None, None)])
    with pytest.raises(ValueError):
        search.set_owner("order", [1], None)


def test_restricted_search_finds_exactly_the_visible_matches(people):
    users, team_a, team_b = people
    admin = users["admin"]
    owners = [users["member"], users["mate"], users["other"], users["manager"], None]
    expected_all = set()
    for i, owner in enumerate(owners):
        for team in (None, team_a, team_b):
            contact = services.contact_create(
                actor=admin,
                data={
                    "first_name": "Marta",
                    "last_name": f"Schulz{i}",
                    "owner_id": owner.pk if owner else None,
                    "team_id": team.pk if team else None,
                },
            )
            if owner is None:  # created by the admin: the admin owns it until reassigned to nobody
                Contact.objects.filter(pk=contact.pk).update(owner=None)
                search.index("contact", [(contact.pk, "Marta Schulz", None, contact.team_id)])
            expected_all.add(contact.pk)
    services.contact_create(actor=admin, data={"first_name": "Other", "last_name": "Person"})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE core_searchdocument")
    for name in ("admin", "manager", "member", "mate", "other", "loner", "readonly"):
        user = User.objects.get(pk=users[name].pk)
        visible = set(restrict(Contact.objects.all(), user).values_list("pk", flat=True))
        expected = visible & expected_all
        base = restrict(Contact.objects.all(), user)
        for kwargs in ({}, {"ranked": False}, {"id_order": "desc", "ranked": False}):
            got = set(
                search.filter_queryset(base, "contact", "mar sch", **kwargs).values_list("pk", flat=True)
            )
            assert got == expected, (name, kwargs)
        typo = set(
            search.filter_queryset(base, "contact", "marta schulzz", typos=True).values_list("pk", flat=True)
        )
        assert typo <= expected, name


def test_a_stale_document_scope_never_shows_a_hidden_record(people):
    users, _, _ = people
    admin, member = users["admin"], users["member"]
    hidden = services.contact_create(actor=admin, data={"first_name": "Secret", "last_name": "Person"})
    # Forge the document's copy as if the member owned it: the record's own filter still hides it.
    SearchDocument.objects.filter(kind="contact", object_id=hidden.pk).update(owner_id=member.pk)
    base = restrict(Contact.objects.all(), member)
    assert not search.filter_queryset(base, "contact", "secret").exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the scope is repeated in PostgreSQL's SQL only"
)
def test_postgres_repeats_the_scope_on_the_documents(people):
    users, team_a, team_b = people
    member, admin = users["member"], users["admin"]
    for owner, team in (
        (member, None),
        (users["mate"], team_a),
        (users["other"], team_b),
        (users["other"], None),
    ):
        services.contact_create(
            actor=admin,
            data={"first_name": "Mara", "owner_id": owner.pk, "team_id": team.pk if team else 0},
        )
    base = restrict(Contact.objects.all(), member)
    assert base.count() == 2
    _sql, params = search.filter_queryset(base, "contact", "mar sch", ranked=False).query.sql_with_params()
    assert f"('^mar' & '^sch') & ('~o{member.pk}' | '~t{team_a.pk}')" in params
    _sql, admin_params = search.filter_queryset(
        Contact.objects.all(), "contact", "mar sch", ranked=False
    ).query.sql_with_params()
    assert "'^mar' & '^sch'" in admin_params and not any("~o" in str(p) for p in admin_params)
    # The lexemes are in the documents: the scope alone finds exactly the member's visible contacts.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT object_id FROM core_searchdocument WHERE kind = 'contact' AND tsv @@ %s::tsquery",
            [f"'~o{member.pk}' | '~t{team_a.pk}'"],
        )
        by_lexeme = {row[0] for row in cursor.fetchall()}
    assert by_lexeme == set(base.values_list("pk", flat=True))
