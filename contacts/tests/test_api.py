"""Contacts and companies through the REST API: CRUD, validation, concurrency, history, lists."""

from __future__ import annotations

import pytest
from django.test.utils import override_settings

from contacts.models import Company, Contact, ContactEmail, ContactPhone
from core.models import CustomField, HistoryEntry, OutboxEvent
from core.testing import assert_matches_spec

pytestmark = pytest.mark.django_db

LIST = "/api/v1/contacts"
ONE = "/api/v1/contacts/{contact_id}"


def create_contact(api, **data):
    response = api.post("contacts", {"first_name": "Ada", "last_name": "Lovelace", **data})
    assert response.status_code == 201, response.content
    return response.json()


def test_create_read_update_archive_restore(org, api_as):
    api = api_as(org.owner)
    company = api.post(
        "companies", {"name": "Analytical Engines Ltd", "domain": "https://www.Engines.example/"}
    )
    assert company.status_code == 201, company.content
    assert company.json()["domain"] == "engines.example"
    company_id = company.json()["id"]

    response = api.post(
        "contacts",
        {
            "first_name": " Ada ",
            "last_name": "Lovelace",
            "email": "Ada@Engines.Example",
            "phone": "+44 20 7946 0958",
            "company_id": company_id,
            "job_title": "Analyst",
            "tags": ["VIP", "vip", "newsletter"],
            "addresses": [{"city": "London", "country": "gb"}],
            "birthday": "1815-12-10",
        },
    )
    assert response.status_code == 201, response.content
    assert_matches_spec(response, "post", LIST)
    body = response.json()
    assert body["first_name"] == "Ada"
    assert body["email"] == "ada@engines.example"
    assert body["phone"] == "+442079460958"
    assert body["emails"] == [{"email": "ada@engines.example", "label": "work", "is_primary": True}]
    assert body["phones"] == [{"number": "+442079460958", "label": "mobile", "is_primary": True}]
    assert body["tags"] == ["VIP", "newsletter"]
    assert body["company_id"] == company_id and body["company_name"] == "Analytical Engines Ltd"
    assert body["roles"] == [
        {
            "company_id": company_id,
            "company_name": "Analytical Engines Ltd",
            "title": "Analyst",
            "is_primary": True,
        }
    ]
    assert body["addresses"][0]["country"] == "GB"
    assert (
        body["owner_id"] == org.owner.pk and body["team_id"] == org.team_a.pk
    )  # shared with the team by default
    assert body["version"] == 1 and body["url"] == f"/contacts/{body['id']}/"

    read = api.get(f"contacts/{body['id']}")
    assert read.status_code == 200
    assert_matches_spec(read, "get", ONE)
    assert read.json() == body

    patched = api.patch(
        f"contacts/{body['id']}", {"version": 1, "last_name": "King", "lifecycle_stage": "customer"}
    )
    assert patched.status_code == 200, patched.content
    assert_matches_spec(patched, "patch", ONE)
    assert patched.json()["last_name"] == "King" and patched.json()["version"] == 2
    assert patched.json()["emails"] == body["emails"]  # untouched lists stay

    archived = api.delete(f"contacts/{body['id']}")
    assert archived.status_code == 204
    assert Contact.objects.get(pk=body["id"]).archived_at is not None
    assert [c["id"] for c in api.get("contacts").json()["items"]] == []
    assert [c["id"] for c in api.get("contacts", archived="true").json()["items"]] == [body["id"]]
    restored = api.post(f"contacts/{body['id']}/restore")
    assert restored.status_code == 200 and restored.json()["archived_at"] is None

    events = list(
        OutboxEvent.objects.filter(object_id=body["id"], object_type="contacts.contact")
        .values_list("name", flat=True)
        .order_by("id")
    )
    assert events == [
        "contact.created",
        "contact.updated",
        "contact.stage_changed",
        "contact.archived",
        "contact.restored",
    ]


def test_history_lists_field_changes_newest_first(org, api_as):
    api = api_as(org.owner)
    contact = create_contact(api, email="ada@example.com")
    api.patch(f"contacts/{contact['id']}", {"version": 1, "first_name": "Augusta", "tags": ["vip"]})
    response = api.get(f"contacts/{contact['id']}/history")
    assert response.status_code == 200
    assert_matches_spec(response, "get", ONE + "/history")
    items = response.json()["items"]
    assert [i["action"] for i in items] == ["updated", "created"]
    assert items[0]["actor"] == "owner"
    changes = {c["field"]: (c["old"], c["new"]) for c in items[0]["changes"]}
    assert changes == {"first_name": ("Ada", "Augusta"), "tags": ([], ["vip"])}
    created = {c["field"]: c["new"] for c in items[1]["changes"]}
    assert created["first_name"] == "Ada" and created["emails"] == ["ada@example.com"]


def test_stale_version_is_409_and_changes_nothing(org, api_as):
    api = api_as(org.owner)
    contact = create_contact(api)
    assert api.patch(f"contacts/{contact['id']}", {"version": 1, "first_name": "One"}).status_code == 200
    stale = api.patch(f"contacts/{contact['id']}", {"version": 1, "first_name": "Two"})
    assert stale.status_code == 409
    assert_matches_spec(stale, "patch", ONE)
    assert stale.json()["errors"] == {"version": ["Stale version; the current version is 2."]}
    assert Contact.objects.get(pk=contact["id"]).first_name == "One"
    assert HistoryEntry.objects.filter(object_id=contact["id"], action="updated").count() == 1


def test_patch_without_version_is_400(org, api_as):
    api = api_as(org.owner)
    contact = create_contact(api)
    response = api.patch(f"contacts/{contact['id']}", {"first_name": "X"})
    assert response.status_code == 400
    assert "version" in response.json()["errors"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"phone": "+1 555"}, "phone"),
        ({"emails": [{"email": "ok@example.com"}, {"email": "broken@"}]}, "emails.1.email"),
        ({"phones": [{"number": "abc"}]}, "phones.0.number"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"birthday": "1815-13-10"}, "birthday"),
        ({"birthday": 12}, "birthday"),
        ({"lifecycle_stage": "royalty"}, "lifecycle_stage"),
        ({"company_id": 999999}, "company_id"),
        ({"owner_id": 999999}, "owner_id"),
        ({"team_id": 999999}, "team_id"),
        ({"tags": ["ok", ""]}, "tags.1"),
        ({"tags": "vip"}, "tags"),
        ({"addresses": [{"country": "Germany"}]}, "addresses.0.country"),
        ({"custom": {"nope": 1}}, "custom.nope"),
        ({"unknown_field": 1}, "unknown_field"),
        ({"first_name": 12}, "first_name"),
        ({"first_name": "a\x00b"}, "first_name"),
    ],
)
def test_every_bad_field_is_a_400_naming_it(org, api_as, payload, field):
    api = api_as(org.owner)
    before = Contact.objects.count()
    response = api.post("contacts", {"first_name": "Ada", **payload})
    assert response.status_code == 400, response.content
    assert_matches_spec(response, "post", LIST)
    assert field in response.json()["errors"], response.json()
    assert Contact.objects.count() == before


def test_bad_json_body_is_400(org, api_as):
    api = api_as(org.owner)
    response = api.client.post(LIST, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "errors"}


def test_contact_needs_a_name_or_a_way_to_reach_them(org, api_as):
    response = api_as(org.owner).post("contacts", {"job_title": "Ghost"})
    assert response.status_code == 400
    assert "first_name" in response.json()["errors"]


def test_email_and_phone_shortcuts_update_the_primary_entries(org, api_as):
    api = api_as(org.owner)
    contact = create_contact(api, emails=["a@example.com", "b@example.com"])
    response = api.patch(
        f"contacts/{contact['id']}", {"version": 1, "email": "c@example.com", "phone": "+1 212 555 0100"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["email"] == "c@example.com"
    assert [e["email"] for e in body["emails"]] == ["c@example.com", "a@example.com", "b@example.com"]
    assert body["phone"] == "+12125550100"
    assert ContactEmail.objects.filter(contact_id=contact["id"], is_primary=True).count() == 1
    assert ContactPhone.objects.filter(contact_id=contact["id"]).count() == 1


def test_custom_fields_are_validated_filterable_and_returned(org, api_as):
    admin = api_as(org.admin)
    for data in [
        {
            "object_type": "contacts.contact",
            "label": "Tier",
            "field_type": "choice",
            "choices": ["gold", "silver"],
        },
        {"object_type": "contacts.contact", "label": "Seats", "field_type": "number"},
        {"object_type": "contacts.contact", "label": "Renewal", "field_type": "date"},
    ]:
        assert admin.post("custom-fields", data).status_code == 201
    api = api_as(org.owner)
    bad = api.post(
        "contacts", {"first_name": "A", "custom": {"tier": "bronze", "seats": "many", "renewal": "soon"}}
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"custom.tier", "custom.seats", "custom.renewal"}
    gold = create_contact(api, custom={"tier": "GOLD", "seats": "12", "renewal": "2027-01-31"})
    assert gold["custom"] == {"tier": "gold", "seats": 12, "renewal": "2027-01-31"}
    create_contact(api, custom={"tier": "silver", "seats": 3})
    found = api.get("contacts", filter="tier = gold and seats >= 10 and renewal < 2027-02-01").json()["items"]
    assert [c["id"] for c in found] == [gold["id"]]
    assert (
        admin.post(
            "custom-fields", {"object_type": "contacts.contact", "label": "Tier", "field_type": "text"}
        ).status_code
        == 400
    )
    member_try = api.post(
        "custom-fields", {"object_type": "contacts.contact", "label": "X", "field_type": "text"}
    )
    assert member_try.status_code == 403
    assert CustomField.objects.count() == 3


def test_list_filter_search_sort_fields_and_cursor(org, api_as):
    api = api_as(org.owner)
    names = ["Zoë Adams", "Yann Baker", "Xavier Clark", "Wendy Davis", "Victor Evans"]
    ids = [
        create_contact(
            api,
            first_name=n.split()[0],
            last_name=n.split()[1],
            lifecycle_stage="customer" if i % 2 else "lead",
        )["id"]
        for i, n in enumerate(names)
    ]
    page1 = api.get("contacts", limit=2)
    assert page1.status_code == 200
    assert_matches_spec(page1, "get", LIST)
    assert [c["id"] for c in page1.json()["items"]] == ids[::-1][:2]  # newest first by default
    page2 = api.get("contacts", limit=2, cursor=page1.json()["next_cursor"])
    page3 = api.get("contacts", limit=2, cursor=page2.json()["next_cursor"])
    assert [c["id"] for c in page2.json()["items"]] == ids[::-1][2:4]
    assert [c["id"] for c in page3.json()["items"]] == ids[::-1][4:]
    assert page3.json()["next_cursor"] is None

    by_name = api.get("contacts", sort="name", limit=3)
    assert [c["last_name"] for c in by_name.json()["items"]] == ["Adams", "Baker", "Clark"]
    rest = api.get("contacts", sort="name", limit=3, cursor=by_name.json()["next_cursor"])
    assert [c["last_name"] for c in rest.json()["items"]] == ["Davis", "Evans"]
    assert [c["last_name"] for c in api.get("contacts", sort="-name").json()["items"]][0] == "Evans"

    customers = api.get("contacts", filter="stage = customer").json()["items"]
    assert sorted(c["id"] for c in customers) == sorted([ids[1], ids[3]])
    json_filter = api.get("contacts", filter='{"field": "stage", "op": "eq", "value": "lead"}').json()[
        "items"
    ]
    assert sorted(c["id"] for c in json_filter) == sorted([ids[0], ids[2], ids[4]])

    assert [c["id"] for c in api.get("contacts", q="zoe").json()["items"]] == [ids[0]]
    assert [c["id"] for c in api.get("contacts", q="wen dav").json()["items"]] == [ids[3]]

    slim = api.get("contacts", fields="first_name,tags", limit=1).json()["items"][0]
    assert set(slim) == {"id", "first_name", "tags"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"filter": "nonsense = 1"}, "filter"),
        ({"filter": "stage = "}, "filter"),
        ({"filter": "birthday > yesterdayish"}, "filter"),
        ({"sort": "shoe_size"}, "sort"),
        ({"cursor": "!!!"}, "cursor"),
        ({"cursor": "WzFd"}, "cursor"),  # a valid cursor of the wrong shape for sort=name
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"fields": "id,password"}, "fields"),
        ({"archived": "maybe"}, "archived"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_list_parameters_are_400_naming_them(org, api_as, params, field):
    api = api_as(org.owner)
    create_contact(api)
    if "cursor" in params:
        params = {**params, "sort": "name"}
    response = api.get("contacts", **params)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()


def test_search_by_email_and_phone_in_any_format(org, api_as):
    api = api_as(org.owner)
    ada = create_contact(api, email="ada@engines.example", phone="+49 151 23456789")
    create_contact(api, first_name="Bob", email="bob@engines.example", phone="+49 151 98765432")
    assert [c["id"] for c in api.get("contacts", q="ADA@engines.example").json()["items"]] == [ada["id"]]
    assert [c["id"] for c in api.get("contacts", q="+49 (151) 234-567-89").json()["items"]] == [ada["id"]]
    with override_settings(CRM_DEFAULT_PHONE_REGION="DE"):
        assert [c["id"] for c in api.get("contacts", q="0151 2345 6789").json()["items"]] == [ada["id"]]


def test_list_query_count_does_not_grow_with_rows(org, api_as, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = api_as(org.owner)
    company = api.post("companies", {"name": "Acme"}).json()

    def add(n):
        for i in range(n):
            create_contact(
                api,
                first_name=f"P{i}",
                company_id=company["id"],
                tags=["a", "b"],
                emails=[f"p{i}@x.example", f"q{i}@x.example"],
                addresses=[{"city": "Paris"}],
            )

    add(3)
    with CaptureQueriesContext(connection) as few:
        assert len(api.get("contacts", limit=50).json()["items"]) == 3
    add(30)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("contacts", limit=50).json()["items"]) == 33
    assert len(many) == len(few)
    assert len(many) <= 3  # the token, the page, its related lists


def test_bulk_actions(org, api_as):
    api = api_as(org.owner)
    a, b = create_contact(api)["id"], create_contact(api, first_name="Bo")["id"]
    other = create_contact(api_as(org.other), first_name="Hidden")["id"]
    response = api.post("contacts/bulk", {"ids": [a, b, other], "action": "add_tag", "tag": "trade-show"})
    assert response.status_code == 200 and response.json() == {"changed": 2}
    assert set(Contact.objects.get(pk=other).tags.values_list("name", flat=True)) == set()
    response = api.post(
        "contacts/bulk", {"ids": [a, b], "action": "assign_owner", "owner_id": org.teammate.pk}
    )
    assert response.json() == {"changed": 2}
    assert set(Contact.objects.filter(pk__in=[a, b]).values_list("owner_id", flat=True)) == {org.teammate.pk}
    assert (
        HistoryEntry.objects.filter(
            object_id__in=[a, b], action="updated", changes__has_key="owner_id"
        ).count()
        == 2
    )
    bad = api.post("contacts/bulk", {"ids": [a], "action": "explode"})
    assert bad.status_code == 400 and "action" in bad.json()["errors"]
    bad_owner = api.post("contacts/bulk", {"ids": [a], "action": "assign_owner", "owner_id": org.other.pk})
    assert bad_owner.status_code == 400 and "owner_id" in bad_owner.json()["errors"]


def test_company_crud_validation_and_parent_cycle(org, api_as):
    api = api_as(org.owner)
    parent = api.post("companies", {"name": "Parent", "annual_revenue": "1000000.50", "currency": "eur"})
    assert parent.status_code == 201, parent.content
    assert_matches_spec(parent, "post", "/api/v1/companies")
    assert parent.json()["annual_revenue"] == "1000000.50" and parent.json()["currency"] == "EUR"
    child = api.post("companies", {"name": "Child", "parent_id": parent.json()["id"]}).json()
    cycle = api.patch(f"companies/{parent.json()['id']}", {"version": 1, "parent_id": child["id"]})
    assert cycle.status_code == 400 and "parent_id" in cycle.json()["errors"]
    for payload, field in [
        ({"name": ""}, "name"),
        ({"name": "X", "domain": "not a domain"}, "domain"),
        ({"name": "X", "currency": "EURO"}, "currency"),
        ({"name": "X", "annual_revenue": "-5"}, "annual_revenue"),
        ({"name": "X", "size": "huge"}, "size"),
        ({"name": "X", "website": "javascript:alert(1)"}, "website"),
        ({"name": "X", "phone": "12"}, "phone"),
    ]:
        response = api.post("companies", payload)
        assert response.status_code == 400, (payload, response.content)
        assert field in response.json()["errors"], (payload, response.json())
    assert Company.objects.count() == 2
    listed = api.get("companies", sort="name")
    assert_matches_spec(listed, "get", "/api/v1/companies")
    assert [c["name"] for c in listed.json()["items"]] == ["Child", "Parent"]
    history = api.get(f"companies/{child['id']}/history")
    assert history.json()["items"][0]["action"] == "created"


def test_unauthenticated_is_401_in_the_error_shape(db, api_as):
    response = api_as(None).get("contacts")
    assert response.status_code == 401
    assert_matches_spec(response, "get", LIST)
    assert response.json()["detail"].startswith("Authentication required")
    bad_token = api_as(None)
    bad_token.client.defaults["HTTP_AUTHORIZATION"] = "Bearer crm_wrong"
    assert bad_token.get("contacts").status_code == 401


def test_revoked_token_and_deactivated_user_stop_at_once(org, api_as):
    from users.models import ApiToken, User

    api = api_as(org.owner)
    assert api.get("contacts").status_code == 200
    ApiToken.objects.filter(user=org.owner).update(revoked_at="2020-01-01T00:00:00Z")
    assert api.get("contacts").status_code == 401
    api = api_as(org.teammate)
    User.objects.filter(pk=org.teammate.pk).update(is_active=False)
    assert api.get("contacts").status_code == 401


def test_session_auth_needs_csrf_for_writes(org):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(org.owner)
    assert client.get(LIST).status_code == 200
    response = client.post(LIST, {"first_name": "X"}, content_type="application/json")
    assert response.status_code == 403
    assert Contact.objects.count() == 0


def test_throttling_answers_429(org, api_as):
    from django.core.cache import cache

    from crm.api import api as ninja_api

    cache.clear()
    throttle = ninja_api.throttle[0]
    old = (throttle.num_requests, throttle.duration)
    throttle.num_requests, throttle.duration = 3, 60
    try:
        api = api_as(org.owner)
        statuses = [api.get("contacts").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = api.get("contacts")
        assert set(refused.json()) == {"detail", "errors"}
        assert 1 <= int(refused["Retry-After"]) <= 120
    finally:
        throttle.num_requests, throttle.duration = old
        cache.clear()


def test_openapi_and_docs_are_published(db, client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert "/api/v1/contacts" in paths and "/api/v1/contacts/{contact_id}/history" in paths
    assert client.get("/api/v1/docs").status_code == 200
    public = {p for p, ops in paths.items() for op in ops.values() if "security" not in op}
    assert public == {"/api/v1/health", "/api/v1/auth/token"}
    for ops in paths.values():
        for op in ops.values():
            assert "422" not in op["responses"]


@override_settings(CRM_LOGIN_FAILURE_LIMIT=2)
def test_token_sign_in_is_throttled(org, client):
    url = "/api/v1/auth/token"
    bad = {"username": "owner", "password": "wrong"}
    assert client.post(url, bad, content_type="application/json").status_code == 401
    assert client.post(url, bad, content_type="application/json").status_code == 401
    good = {"username": "owner", "password": "pw-ownerowner"}
    assert client.post(url, good, content_type="application/json").status_code == 429


def test_read_is_one_statement_and_matches_the_list(org, api_as):
    """GET of one contact: the token check and one statement with every related list; same record as
    the list returns, archived or not, and 404 for a record the caller may not see."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = api_as(org.owner)
    company = api.post("companies", {"name": "Acme"}).json()
    contact = create_contact(
        api,
        company_id=company["id"],
        tags=["b-tag", "a-tag"],
        emails=[{"email": "p@x.example", "is_primary": True}, "q@x.example"],
        phones=["+49 151 23456789"],
        addresses=[{"city": "Paris", "country": "FR"}],
        roles=[{"company_id": company["id"], "title": "CTO", "is_primary": True}],
    )
    api.get(f"contacts/{contact['id']}")  # the token's last-used time is written on first use
    with CaptureQueriesContext(connection) as queries:
        one = api.get(f"contacts/{contact['id']}")
    assert one.status_code == 200
    assert len(queries) == 2, "\n".join(q["sql"][:150] for q in queries)
    listed = api.get("contacts", filter=f"id = {contact['id']}").json()["items"][0]
    body = one.json()
    assert body == listed
    assert body["tags"] == ["a-tag", "b-tag"]
    assert body["emails"][0] == {"email": "p@x.example", "label": "work", "is_primary": True}
    assert body["roles"] == [
        {"company_id": company["id"], "company_name": "Acme", "title": "CTO", "is_primary": True}
    ]
    assert_matches_spec(one, "get", "/api/v1/contacts/{contact_id}")
    assert api_as(org.other).get(f"contacts/{contact['id']}").status_code == 404
    api.delete(f"contacts/{contact['id']}")
    archived = api.get(f"contacts/{contact['id']}")
    assert archived.status_code == 200 and archived.json()["archived_at"] is not None


def test_default_list_pages_match_the_visibility_rules_for_every_role(org, api_as):
    """The default list (id order, no filter) runs a statement compiled once per visibility shape: each
    role pages through exactly what core.visibility lets it see, and a second user of the same shape gets
    their own rows, not the first one's."""
    from contacts.models import Contact
    from core.visibility import restrict

    for index, user in enumerate([org.owner, org.teammate, org.other, org.manager, org.admin] * 2):
        Contact.objects.create(first_name=f"C{index}", owner=user, team=user.teams.first())
    for user in (org.owner, org.teammate, org.other, org.manager, org.other_manager, org.readonly, org.admin):
        api = api_as(user)
        expected = list(
            restrict(Contact.objects.filter(archived_at__isnull=True), user, "view")
            .order_by("-id")
            .values_list("id", flat=True)
        )
        seen, cursor = [], None
        while True:
            params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            body = api.get("contacts", **params).json()
            seen += [c["id"] for c in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == expected, user.username
        ascending = [c["id"] for c in api.get("contacts", sort="id", limit=500).json()["items"]]
        assert ascending == expected[::-1], user.username


@pytest.mark.parametrize("cursor", ["WyJ4Il0", "WzEwMDAwMDAwMDAwMDAwMDAwMDAwMDBd", "WzEsMl0", "W3RydWVd"])
def test_bad_cursor_on_the_default_list_is_400(org, api_as, cursor):
    # ["x"], a number beyond 64 bits, [1, 2] and [true]: none is an id cursor
    api = api_as(org.owner)
    create_contact(api)
    for path in ("contacts", "companies"):
        response = api.get(path, cursor=cursor)
        assert response.status_code == 400, response.content
        assert "cursor" in response.json()["errors"]


def test_related_lists_put_the_primary_entry_first_in_list_and_read(org, api_as):
    api = api_as(org.owner)
    contact = create_contact(
        api,
        emails=[{"email": "old@x.example"}, {"email": "main@x.example", "is_primary": True}],
        phones=[{"number": "+44 20 7946 0001"}, {"number": "+44 20 7946 0002", "is_primary": True}],
    )
    for record in (
        api.get(f"contacts/{contact['id']}").json(),
        api.get("contacts").json()["items"][0],
        api.get("contacts", filter="stage = subscriber or stage != subscriber").json()["items"][0],
    ):
        assert [e["email"] for e in record["emails"]] == ["main@x.example", "old@x.example"]
        assert [p["number"] for p in record["phones"]] == ["+442079460002", "+442079460001"]
        assert record["email"] == "main@x.example"


def test_a_long_page_spans_id_buckets(org, api_as):
    from contacts.models import Contact, ContactEmail

    for index in range(120):
        contact = Contact.objects.create(first_name=f"P{index}", owner=org.owner, email=f"p{index}@x.example")
        ContactEmail.objects.create(contact=contact, email=f"p{index}@x.example", is_primary=True)
    items = api_as(org.owner).get("contacts", limit=120).json()["items"]
    assert len(items) == 120
    assert all(
        item["emails"] == [{"email": item["email"], "label": "work", "is_primary": True}] for item in items
    )


def test_searched_list_pages_in_id_order_from_the_index(org, api_as):
    """`q=` with the default (id) order is served by the search index in id order, a cursor bounding the
    index walk: pages must hold exactly the visible matches, newest first (or oldest with sort=id)."""
    from contacts.models import Contact
    from contacts.services import contact_create
    from core.visibility import restrict

    made = []
    for index in range(14):
        owner = org.owner if index % 3 else org.other
        name = "Marlene" if index % 2 else "Marek"
        made.append(
            contact_create(
                actor=owner,
                data={"first_name": name, "last_name": f"Schulz{index}", "email": f"m{index}@x.example"},
            )
        )
    contact_create(actor=org.owner, data={"first_name": "Otto", "email": "otto@x.example"})
    for user in (org.owner, org.other, org.manager, org.admin):
        api = api_as(user)
        visible = set(restrict(Contact.objects.all(), user, "view").values_list("id", flat=True))
        expected = sorted((c.pk for c in made if c.pk in visible), reverse=True)
        for sort, wanted in ((None, expected), ("id", expected[::-1])):
            seen, cursor = [], None
            while True:
                params = {"q": "mar sch", "limit": 4, **({"sort": sort} if sort else {})}
                body = api.get("contacts", **params, **({"cursor": cursor} if cursor else {})).json()
                seen += [c["id"] for c in body["items"]]
                cursor = body["next_cursor"]
                if cursor is None:
                    break
            assert seen == wanted, (user.username, sort)
    api = api_as(org.admin)
    first = api.get("contacts", q="m3@x.example").json()["items"]
    assert [c["id"] for c in first] == [made[3].pk]
    assert api.get("contacts", q="m3@x.example", cursor="WzBd").json()["items"] == []  # ids below 0
    response = api.get("contacts", q="mar", cursor="WyJ4Il0")
    assert response.status_code == 400 and "cursor" in response.json()["errors"]


def test_searched_company_list_pages_in_id_order(org, api_as):
    from contacts.services import company_create

    ids = [company_create(actor=org.owner, data={"name": f"Nordwind {i}"}).pk for i in range(7)]
    company_create(actor=org.owner, data={"name": "Südwind"})
    api = api_as(org.owner)
    page1 = api.get("companies", q="nord", limit=5).json()
    page2 = api.get("companies", q="nord", limit=5, cursor=page1["next_cursor"]).json()
    assert [c["id"] for c in page1["items"] + page2["items"]] == ids[::-1]
    assert page2["next_cursor"] is None
