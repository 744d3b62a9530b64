"""The visibility matrix for the REST API: every operation × every kind of user.

The record under test is owned by `owner` (a member of Team A) and shared with Team A. Expected:
- see it: owner, teammate, manager of A, read-only of A, admin; not: member or manager of Team B (404);
- change it: as "see" but read-only (403);
- archive/restore it: owner, manager of A, admin; teammate and read-only 403; Team B 404;
- anonymous: 401 everywhere except the public operations.
A refused call must leave the database exactly as it was. `test_every_operation_is_in_the_matrix` fails
when an operation is added to the API without a row here.
"""

from __future__ import annotations

import pytest

from contacts.models import Company, Contact
from core.models import CustomField, HistoryEntry, OutboxEvent
from core.testing import openapi_spec
from tests.matrix import MODULES
from tests.matrix.rules import (
    ACTORS,
    ARCHIVES,
    CHANGES,
    SEES,
    WRITERS,
    admins,
    everyone,
    public,
    record_rule,
    writers,
)
from users.models import ApiToken, Team, User

pytestmark = pytest.mark.django_db

__all__ = ["ARCHIVES", "CHANGES", "SEES", "WRITERS", "database_state"]


def contact_body(ctx):
    return {"first_name": "New", "email": "new@example.com"}


# (method, path) → (expected status per actor, path parameters, body, check of the visible result)
MATRIX = {
    ("get", "/api/v1/health"): (public(200), None),
    ("post", "/api/v1/auth/token"): (public(401), lambda ctx: {"username": "owner", "password": "wrong-one"}),
    ("get", "/api/v1/me"): (everyone(200), None),
    ("get", "/api/v1/users"): (everyone(200), None),
    ("post", "/api/v1/users"): (admins(201), lambda ctx: {"username": "newbie", "password": "a-long-pass-1"}),
    ("get", "/api/v1/users/{user_id}"): (everyone(200), None),
    ("patch", "/api/v1/users/{user_id}"): (admins(200), lambda ctx: {"first_name": "Renamed"}),
    ("get", "/api/v1/teams"): (everyone(200), None),
    ("post", "/api/v1/teams"): (admins(201), lambda ctx: {"name": "Team C"}),
    ("get", "/api/v1/tokens"): (everyone(200), None),
    ("post", "/api/v1/tokens"): (everyone(201), lambda ctx: {"name": "mine"}),
    ("delete", "/api/v1/tokens/{token_id}"): (
        lambda a: {"anonymous": 401, "admin": 204, "owner": 204}.get(a, 404),
        None,
    ),
    ("get", "/api/v1/custom-fields"): (everyone(200), None),
    ("post", "/api/v1/custom-fields"): (
        admins(201),
        lambda ctx: {"object_type": "contacts.contact", "label": "Tier", "field_type": "text"},
    ),
    ("delete", "/api/v1/custom-fields/{field_id}"): (admins(204), None),
    ("get", "/api/v1/contacts"): (everyone(200), None),
    ("post", "/api/v1/contacts"): (writers(201), contact_body),
    ("post", "/api/v1/contacts/bulk"): (
        writers(200),
        lambda ctx: {"ids": [ctx["contact"]], "action": "add_tag", "tag": "matrix"},
    ),
    ("get", "/api/v1/contacts/{contact_id}"): (record_rule(SEES, 200), None),
    ("patch", "/api/v1/contacts/{contact_id}"): (
        record_rule(CHANGES, 200),
        lambda ctx: {"version": 1, "first_name": "Changed"},
    ),
    ("delete", "/api/v1/contacts/{contact_id}"): (record_rule(ARCHIVES, 204), None),
    ("post", "/api/v1/contacts/{contact_id}/restore"): (record_rule(ARCHIVES, 200), None),
    ("get", "/api/v1/contacts/{contact_id}/history"): (record_rule(SEES, 200), None),
    ("get", "/api/v1/companies"): (everyone(200), None),
    ("post", "/api/v1/companies"): (writers(201), lambda ctx: {"name": "New Co"}),
    ("post", "/api/v1/companies/bulk"): (
        writers(200),
        lambda ctx: {"ids": [ctx["company"]], "action": "archive"},
    ),
    ("get", "/api/v1/companies/{company_id}"): (record_rule(SEES, 200), None),
    ("patch", "/api/v1/companies/{company_id}"): (
        record_rule(CHANGES, 200),
        lambda ctx: {"version": 1, "name": "Changed"},
    ),
    ("delete", "/api/v1/companies/{company_id}"): (record_rule(ARCHIVES, 204), None),
    ("post", "/api/v1/companies/{company_id}/restore"): (record_rule(ARCHIVES, 200), None),
    ("get", "/api/v1/companies/{company_id}/history"): (record_rule(SEES, 200), None),
}
for _module in MODULES:
    assert not set(_module.API) & set(MATRIX), _module.__name__
    MATRIX.update(_module.API)


def test_every_operation_is_in_the_matrix():
    operations = {(m, p) for p, ops in openapi_spec()["paths"].items() for m in ops}
    assert operations == set(MATRIX), {
        "missing from the matrix": operations - set(MATRIX),
        "no longer in the API": set(MATRIX) - operations,
    }


def database_state() -> tuple:
    """Everything a refused call could have touched."""
    return (
        list(Contact.objects.order_by("id").values()),
        list(Company.objects.order_by("id").values()),
        list(Contact.tags.through.objects.order_by("id").values()),
        HistoryEntry.objects.count(),
        OutboxEvent.objects.count(),
        list(User.objects.order_by("id").values("id", "first_name", "role", "is_active")),
        Team.objects.count(),
        list(ApiToken.objects.order_by("id").values("id", "revoked_at")),
        CustomField.objects.count(),
        *(module.state() for module in MODULES),
    )


@pytest.fixture
def world(org, api_as):
    from contacts.services import company_create, contact_create
    from users.services import custom_field_create, token_create

    company = company_create(actor=org.owner, data={"name": "Shared Co"})
    contact = contact_create(actor=org.owner, data={"first_name": "Shared", "company_id": company.pk})
    token, _ = token_create(actor=None, user=org.owner, name="owner's")
    field = custom_field_create(
        actor=org.admin, data={"object_type": "contacts.company", "label": "Region", "field_type": "text"}
    )
    clients = {name: api_as(getattr(org, name)) for name in ACTORS if name != "anonymous"}
    clients["anonymous"] = api_as(None)
    ctx = {
        "org": org,
        "clients": clients,
        "contact": contact.pk,
        "company": company.pk,
        "ids": {
            "contact_id": contact.pk,
            "company_id": company.pk,
            "user_id": org.teammate.pk,
            "token_id": token.pk,
            "field_id": field.pk,
        },
    }
    for module in MODULES:
        module.world(ctx)
    return ctx


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("operation", sorted(MATRIX), ids=lambda op: f"{op[0]} {op[1]}")
def test_matrix(world, actor, operation):
    method, template = operation
    expect, body = MATRIX[operation]
    expected = expect(actor)
    path = template.format(**world["ids"])
    client = world["clients"][actor]
    before = database_state()
    if method in ("get", "delete"):
        response = getattr(client, method)(path)
    else:
        response = getattr(client, method)(path, body(world) if body else {})
    assert response.status_code == expected, (actor, method, path, response.content[:300])
    if expected >= 400:
        assert set(response.json()) >= {"detail", "errors"}
        assert database_state() == before, f"{actor} was refused {method} {path} but something changed"


@pytest.mark.parametrize("actor", ACTORS)
def test_lists_and_search_show_only_visible_records(world, actor):
    client = world["clients"][actor]
    for path, record, q in [
        ("/api/v1/contacts", world["contact"], "shared"),
        ("/api/v1/companies", world["company"], "shared"),
    ]:
        for params in ({}, {"q": q}, {"filter": "id > 0"}):
            response = client.get(path, **params)
            if actor == "anonymous":
                assert response.status_code == 401
                continue
            ids = [item["id"] for item in response.json()["items"]]
            assert ids == ([record] if actor in SEES else []), (actor, path, params)


def test_bulk_by_an_outsider_changes_nothing(world):
    before = database_state()
    response = world["clients"]["other"].post(
        "/api/v1/contacts/bulk", {"ids": [world["contact"]], "action": "archive"}
    )
    assert response.status_code == 200 and response.json() == {"changed": 0}
    assert database_state() == before


def test_private_record_is_hidden_from_teammates(org, api_as):
    from contacts.services import contact_create

    private = contact_create(actor=org.owner, data={"first_name": "Private", "team_id": 0})
    assert private.team_id is None
    assert api_as(org.teammate).get(f"/api/v1/contacts/{private.pk}").status_code == 404
    assert api_as(org.readonly).get(f"/api/v1/contacts/{private.pk}").status_code == 404
    assert api_as(org.manager).get(f"/api/v1/contacts/{private.pk}").status_code == 200
    assert api_as(org.owner).get(f"/api/v1/contacts/{private.pk}").status_code == 200


def test_stale_version_on_an_invisible_record_is_404_not_409(world):
    response = world["clients"]["other"].patch(
        f"/api/v1/contacts/{world['contact']}", {"version": 99, "first_name": "X"}
    )
    assert response.status_code == 404
