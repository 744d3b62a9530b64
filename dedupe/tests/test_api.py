"""The dedupe API: warnings, merge and undo, groups, dismiss, run; responses match the OpenAPI document."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact
from contacts.services import company_create, contact_create
from core.testing import assert_matches_spec
from dedupe.models import DuplicateGroup, DuplicateMember, Merge

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(org):
    acme = company_create(actor=org.owner, data={"name": "Acme Industries GmbH", "domain": "acme.de"})
    contact = contact_create(
        actor=org.owner,
        data={
            "first_name": "Anna",
            "last_name": "Müller",
            "email": "anna.mueller@gmail.com",
            "phone": "+49 151 23456789",
            "company_id": acme.pk,
        },
    )
    return contact, acme


def test_contact_warning_by_email_alias_phone_and_name_at_company(org, api_as, anna):
    contact, acme = anna
    client = api_as(org.teammate)
    for payload, reason in [
        ({"first_name": "Anna", "email": "Anna.Mueller+crm@gmail.com"}, "Same e-mail address apart from"),
        ({"first_name": "anna", "last_name": "muller", "phone": "+49 (151) 2345-6789"}, "Same phone number"),
        ({"first_name": "Ana", "last_name": "Müller", "company_id": acme.pk}, "Same company"),
    ]:
        response = client.post("contacts/duplicates", payload)
        assert response.status_code == 200, response.content
        assert_matches_spec(response, "post", "/api/v1/contacts/duplicates")
        items = response.json()["items"]
        assert [i["id"] for i in items] == [contact.pk], payload
        assert any(r.startswith(reason) for r in items[0]["reasons"]), items[0]
        assert items[0]["url"] == contact.get_absolute_url()
    assert client.post("contacts/duplicates", {"first_name": "Anna", "last_name": "Müller"}).json() == {
        "items": []
    }  # a name alone is not a warning
    assert Contact.objects.count() == 1  # nothing was created


def test_warnings_show_only_visible_records(org, api_as, anna):
    response = api_as(org.other).post("contacts/duplicates", {"email": "anna.mueller@gmail.com"})
    assert response.status_code == 200 and response.json()["items"] == []


def test_company_warning_by_domain_and_name(org, api_as, anna):
    _, acme = anna
    client = api_as(org.owner)
    for payload in (
        {"name": "Something", "domain": "https://www.acme.de/about"},
        {"name": "ACME Industries"},
    ):
        response = client.post("companies/duplicates", payload)
        assert response.status_code == 200
        assert_matches_spec(response, "post", "/api/v1/companies/duplicates")
        assert [i["id"] for i in response.json()["items"]] == [acme.pk], payload


def test_bad_input_is_400_naming_the_field(org, api_as, anna):
    contact, _ = anna
    client = api_as(org.owner)
    response = client.post("contacts/duplicates", {"company_id": "x"})
    assert response.status_code == 400 and "company_id" in response.json()["errors"]
    response = client.post("contacts/merge", {"survivor_id": contact.pk, "other_ids": []})
    assert response.status_code == 400 and "other_ids" in response.json()["errors"]
    response = client.post("contacts/merge", {"survivor_id": contact.pk})
    assert response.status_code == 400 and "other_ids" in response.json()["errors"]
    response = client.get("duplicates", kind="people")
    assert response.status_code == 400 and "kind" in response.json()["errors"]
    response = client.post("duplicates/merge-above", {"min_score": 10})
    assert response.status_code == 400 and "min_score" in response.json()["errors"]


def test_merge_and_undo_through_the_api(org, api_as, anna):
    contact, _ = anna
    twin = contact_create(actor=org.owner, data={"first_name": "Anna", "email": "anna.mueller@gmail.com"})
    client = api_as(org.owner)
    response = client.post(
        "contacts/merge",
        {"survivor_id": contact.pk, "other_ids": [twin.pk], "field_choices": {"first_name": twin.pk}},
    )
    assert response.status_code == 200, response.content
    assert_matches_spec(response, "post", "/api/v1/contacts/merge")
    merge_id = response.json()["id"]
    assert client.get(f"contacts/{twin.pk}").json()["archived_at"] is not None
    response = client.post(f"merges/{merge_id}/undo")
    assert response.status_code == 200
    assert_matches_spec(response, "post", "/api/v1/merges/{merge_id}/undo")
    assert response.json()["undone_at"] is not None
    assert client.get(f"contacts/{twin.pk}").json()["archived_at"] is None
    response = client.post(f"merges/{merge_id}/undo")
    assert response.status_code == 409


def test_undo_after_a_change_is_409_and_changes_nothing(org, api_as, anna):
    contact, _ = anna
    twin = contact_create(actor=org.owner, data={"first_name": "Anna", "email": "anna.mueller@gmail.com"})
    client = api_as(org.owner)
    merge_id = client.post("contacts/merge", {"survivor_id": contact.pk, "other_ids": [twin.pk]}).json()["id"]
    version = client.get(f"contacts/{contact.pk}").json()["version"]
    assert client.patch(f"contacts/{contact.pk}", {"version": version, "job_title": "CEO"}).status_code == 200
    response = client.post(f"merges/{merge_id}/undo")
    assert response.status_code == 409 and response.json()["detail"]
    assert Merge.objects.get(pk=merge_id).undone_at is None


def _group(*ids, score=90):
    group = DuplicateGroup.objects.create(
        kind="contact", score=score, reasons=["Same phone number"], size=len(ids)
    )
    DuplicateMember.objects.bulk_create(
        DuplicateMember(group=group, kind="contact", object_id=i) for i in ids
    )
    return group


def test_group_list_dismiss_and_merge(org, api_as, anna):
    contact, _ = anna
    twin = contact_create(actor=org.owner, data={"first_name": "Anne", "phone": "+4915123456789"})
    mine = contact_create(actor=org.other, data={"first_name": "X", "email": "x@x.com"})
    mine2 = contact_create(actor=org.other, data={"first_name": "X", "email": "x2@x.com"})
    group = _group(contact.pk, twin.pk)
    hidden = _group(mine.pk, mine2.pk, score=99)
    owner = api_as(org.owner)
    response = owner.get("duplicates")
    assert response.status_code == 200
    assert_matches_spec(response, "get", "/api/v1/duplicates")
    assert [g["id"] for g in response.json()["items"]] == [group.pk]
    assert [g["id"] for g in api_as(org.other).get("duplicates").json()["items"]] == [hidden.pk]
    assert api_as(org.readonly).get("duplicates").json()["items"] == []  # may change none of them
    assert [g["id"] for g in api_as(org.admin).get("duplicates").json()["items"]] == [hidden.pk, group.pk]
    assert api_as(org.other).get(f"duplicates/{group.pk}").status_code == 404
    response = owner.post(f"duplicates/{group.pk}/dismiss")
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    assert owner.post(f"duplicates/{group.pk}/dismiss").status_code == 400
    response = api_as(org.other).post(f"duplicates/{hidden.pk}/merge", {"survivor_id": mine2.pk})
    assert response.status_code == 200
    assert response.json()["survivor_id"] == mine2.pk and response.json()["other_ids"] == [mine.pk]


def test_merge_above_merges_only_what_the_user_may(org, api_as, anna):
    contact, _ = anna
    twin = contact_create(actor=org.owner, data={"first_name": "Anna", "phone": "+4915123456789"})
    team_made = contact_create(actor=org.teammate, data={"first_name": "Anna", "phone": "+4915123456789"})
    _group(contact.pk, twin.pk, score=97)
    _group(contact.pk, team_made.pk, score=96)  # the owner may change it but not archive it
    _group(contact.pk, twin.pk, score=80)
    response = api_as(org.owner).post("duplicates/merge-above", {"kind": "contact", "min_score": 95})
    assert response.status_code == 200, response.content
    assert response.json() == {"merged": 1, "skipped": 1, "queued": 0}
    assert Contact.objects.get(pk=twin.pk).archived_at is not None
    assert Contact.objects.get(pk=team_made.pk).archived_at is None


def test_run_queues_the_job_for_admins_only(org, api_as, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from django_tasks import task_backends

    task_backends._settings = None  # pick up the test settings
    contact_create(actor=org.owner, data={"first_name": "Bo", "email": "bo@x.com"})
    contact_create(actor=org.owner, data={"first_name": "BO", "email": "Bo@X.com"})
    assert api_as(org.manager).post("duplicates/run", {}).status_code == 403
    response = api_as(org.admin).post("duplicates/run", {"kind": "contact"})
    assert response.status_code == 202 and response.json() == {"queued": ["contact"]}
    assert DuplicateGroup.objects.filter(kind="contact", status="open").count() == 1


def test_group_list_query_count_is_constant(org, api_as):
    client = api_as(org.owner)

    def make(n):
        for i in range(n):
            a = contact_create(actor=org.owner, data={"first_name": f"P{i}", "email": f"p{i}@x.com"})
            b = contact_create(actor=org.owner, data={"first_name": f"P{i}", "email": f"P{i}@x.com"})
            _group(a.pk, b.pk)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("duplicates", limit=50).status_code == 200
        return len(ctx.captured_queries)

    make(3)
    count()  # the first call of a token also records its use
    few = count()
    make(27)
    assert count() == few
