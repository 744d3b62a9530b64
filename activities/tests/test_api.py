"""Activities through the REST API: CRUD per kind, validation naming every field, 409, history,
visibility and permission rules, sanitised HTML, lists with filters, query-count guard."""

from __future__ import annotations

import datetime as dt

import pytest

from activities.models import Activity, ActivityLink
from core.models import HistoryEntry, OutboxEvent
from core.testing import assert_matches_spec

pytestmark = pytest.mark.django_db

LIST = "/api/v1/activities"
ONE = "/api/v1/activities/{activity_id}"


def create(api, expect=201, **data):
    response = api.post("activities", data)
    assert response.status_code == expect, response.content
    assert_matches_spec(response, "post", LIST)
    return response.json()


def test_note_crud_history_and_events(org, api_as, shared):
    api = api_as(org.owner)
    contact = shared["contact"]
    body = create(
        api,
        kind="note",
        body='<p>Met <strong>Grace</strong> <a href="https://x.example" onclick="evil()">site</a></p>'
        "<script>alert(1)</script><img src=x onerror=alert(1)><h1>big</h1>",
        links=[{"contact_id": contact.pk}, {"company_id": shared["company"].pk}],
    )
    assert body["kind"] == "note" and body["version"] == 1 and body["owner_id"] == org.owner.pk
    assert "<script" not in body["body"] and "onerror" not in body["body"] and "onclick" not in body["body"]
    assert "<h1>" not in body["body"] and "<strong>Grace</strong>" in body["body"]
    assert 'rel="noopener"' in body["body"] and 'href="https://x.example"' in body["body"]
    assert sorted(body["links"], key=str) == sorted(
        [
            {"contact_id": contact.pk, "company_id": None},
            {"contact_id": None, "company_id": shared["company"].pk},
        ],
        key=str,
    )
    pk = body["id"]
    assert OutboxEvent.objects.filter(name="activity.created", object_id=pk).exists()

    read = api.get(f"activities/{pk}")
    assert read.status_code == 200
    assert_matches_spec(read, "get", ONE)
    assert read.json() == body

    changed = api.patch(f"activities/{pk}", {"version": 1, "body": "<p>Updated</p>", "subject": "Lunch"})
    assert changed.status_code == 200, changed.content
    assert_matches_spec(changed, "patch", ONE)
    assert changed.json()["version"] == 2 and changed.json()["subject"] == "Lunch"

    stale = api.patch(f"activities/{pk}", {"version": 1, "subject": "Again"})
    assert stale.status_code == 409
    assert_matches_spec(stale, "patch", ONE)
    assert "version" in stale.json()["errors"]
    assert Activity.objects.get(pk=pk).subject == "Lunch"

    history = api.get(f"activities/{pk}/history")
    assert history.status_code == 200
    assert_matches_spec(history, "get", "/api/v1/activities/{activity_id}/history")
    actions = [e["action"] for e in history.json()["items"]]
    assert actions == ["updated", "created"]
    update = history.json()["items"][0]
    assert {c["field"] for c in update["changes"]} == {"body", "subject"}

    assert api.delete(f"activities/{pk}").status_code == 204
    assert api.get("activities", contact_id=contact.pk).json()["items"] == []
    archived = api.get("activities", contact_id=contact.pk, archived="true").json()["items"]
    assert [a["id"] for a in archived] == [pk]
    restored = api.post(f"activities/{pk}/restore")
    assert restored.status_code == 200 and restored.json()["archived_at"] is None
    assert [
        e.action
        for e in HistoryEntry.objects.filter(object_id=pk, content_type__model="activity").order_by("id")
    ] == [
        "created",
        "updated",
        "archived",
        "restored",
    ]


def test_each_kind_round_trips(org, api_as, shared):
    api = api_as(org.owner)
    link = [{"contact_id": shared["contact"].pk}]
    call = create(api, kind="call", direction="out", duration_seconds=300, outcome="voicemail", links=link)
    assert (call["direction"], call["duration_seconds"], call["outcome"]) == ("out", 300, "voicemail")
    start = dt.datetime(2030, 5, 1, 9, 0, tzinfo=dt.UTC)
    meeting = create(
        api,
        kind="meeting",
        subject="Kick-off",
        starts_at=start.isoformat(),
        ends_at=(start + dt.timedelta(hours=1)).isoformat(),
        location="Room 1",
        attendees=[{"contact_id": shared["contact"].pk}, {"email": "Guest@Example.com"}, "other@example.com"],
        links=link,
    )
    assert meeting["occurred_at"].startswith("2030-05-01T09:00")
    assert meeting["attendees"] == [
        {"contact_id": shared["contact"].pk, "email": ""},
        {"contact_id": None, "email": "guest@example.com"},
        {"contact_id": None, "email": "other@example.com"},
    ]
    first = create(
        api,
        kind="email",
        subject="Offer",
        direction="out",
        from_address="Owner@Example.com",
        to=["grace@example.com"],
        cc=["boss@example.com"],
        message_id="<abc@mail.example>",
        body="<p>Hello</p>",
        links=link,
    )
    assert first["message_id"] == "abc@mail.example" and first["thread_id"] == "abc@mail.example"
    assert first["from_address"] == "owner@example.com" and first["email_status"] == "logged"
    reply = create(
        api,
        kind="email",
        subject="Re: Offer",
        direction="in",
        message_id="<def@mail.example>",
        in_reply_to="<abc@mail.example>",
        links=link,
    )
    assert reply["thread_id"] == "abc@mail.example"
    task = create(api, kind="task", subject="Send contract", priority="high", links=link)
    assert task["assignee_id"] == org.owner.pk and task["priority"] == "high" and task["done_at"] is None
    done = api.post(f"tasks/{task['id']}/complete")
    assert done.status_code == 200 and done.json()["done_at"] is not None
    assert_matches_spec(done, "post", "/api/v1/tasks/{activity_id}/complete")
    assert OutboxEvent.objects.filter(name="task.completed", object_id=task["id"]).count() == 1
    again = api.post(f"tasks/{task['id']}/complete")  # idempotent: no second event
    assert again.status_code == 200
    assert OutboxEvent.objects.filter(name="task.completed", object_id=task["id"]).count() == 1
    reopened = api.post(f"tasks/{task['id']}/reopen")
    assert reopened.status_code == 200 and reopened.json()["done_at"] is None
    assert api.post(f"tasks/{call['id']}/complete").status_code == 404  # not a task


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"kind": "chat"}, {"kind"}),
        ({"kind": "note", "body": "  <p> </p> "}, {"body"}),
        (
            {"kind": "note", "body": "x", "duration_seconds": 5, "due_at": "2030-01-01T00:00:00Z"},
            {"duration_seconds", "due_at"},
        ),
        (
            {"kind": "call", "direction": "sideways", "outcome": "maybe", "duration_seconds": -1},
            {"direction", "outcome", "duration_seconds"},
        ),
        ({"kind": "call"}, {"direction"}),
        (
            {"kind": "meeting", "starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-01T09:00:00Z"},
            {"ends_at"},
        ),
        (
            {"kind": "meeting", "attendees": [{"email": "nope"}, {"contact_id": 999999}]},
            {"starts_at", "attendees.0.email", "attendees.1.contact_id"},
        ),
        (
            {
                "kind": "email",
                "direction": "out",
                "subject": "S",
                "to": ["ok@example.com", "bad"],
                "from_address": "x",
            },
            {"to.1", "from_address"},
        ),
        ({"kind": "email"}, {"direction", "subject"}),
        (
            {"kind": "task", "priority": "urgent", "assignee_id": 999999},
            {"subject", "priority", "assignee_id"},
        ),
        (
            {"kind": "note", "body": "x", "links": [{"contact_id": 999999}, {}]},
            {"links.0.contact_id", "links.1"},
        ),
        ({"kind": "note", "body": "x", "subject": "s" * 201}, {"subject"}),
        ({"kind": "note", "body": "x", "owner_id": 999999}, {"owner_id"}),
    ],
)
def test_bad_input_names_every_field(org, api_as, shared, data, fields):
    before = (Activity.objects.count(), ActivityLink.objects.count(), HistoryEntry.objects.count())
    response = api_as(org.owner).post("activities", data)
    assert response.status_code == 400, response.content
    assert_matches_spec(response, "post", LIST)
    assert set(response.json()["errors"]) == fields, response.json()
    assert (Activity.objects.count(), ActivityLink.objects.count(), HistoryEntry.objects.count()) == before


def test_duplicate_message_id_is_a_field_error(org, api_as, shared):
    api = api_as(org.owner)
    create(api, kind="email", subject="A", direction="in", message_id="same@x")
    response = api.post(
        "activities", {"kind": "email", "subject": "B", "direction": "in", "message_id": "<same@x>"}
    )
    assert response.status_code == 400 and set(response.json()["errors"]) == {"message_id"}
    other = api.patch(
        f"activities/{create(api, kind='email', subject='C', direction='in')['id']}",
        {"version": 1, "message_id": "same@x"},
    )
    assert other.status_code == 400 and set(other.json()["errors"]) == {"message_id"}


def test_kind_cannot_change_and_bad_patch_changes_nothing(org, api_as, shared):
    api = api_as(org.owner)
    note = create(api, kind="note", body="x")
    response = api.patch(
        f"activities/{note['id']}", {"version": 1, "duration_seconds": 3, "subject": "s" * 300}
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"duration_seconds", "subject"}
    assert Activity.objects.get(pk=note["id"]).version == 1


def test_visibility_follows_linked_records(org, api_as, shared):
    """Seen by whoever sees a linked record, the owner and the assignee; changed by the owner, the
    manager of the owner's team and admins; a task's assignee may complete it but not edit it."""
    from contacts.services import contact_create

    private = contact_create(actor=org.other, data={"first_name": "Private"})  # Team B
    task = create(
        api_as(org.other),
        kind="task",
        subject="Team B task",
        assignee_id=org.other.pk,
        links=[{"contact_id": private.pk}],
    )
    assert api_as(org.owner).get(f"activities/{task['id']}").status_code == 404
    assert api_as(org.other_manager).get(f"activities/{task['id']}").status_code == 200
    assert api_as(org.admin).get(f"activities/{task['id']}").status_code == 200

    note = create(api_as(org.owner), kind="note", body="x", links=[{"contact_id": shared["contact"].pk}])
    for name, status in [("teammate", 200), ("readonly", 200), ("manager", 200), ("other", 404)]:
        assert api_as(getattr(org, name)).get(f"activities/{note['id']}").status_code == status, name
    assert (
        api_as(org.teammate).patch(f"activities/{note['id']}", {"version": 1, "subject": "x"}).status_code
        == 403
    )
    assert (
        api_as(org.manager).patch(f"activities/{note['id']}", {"version": 1, "subject": "m"}).status_code
        == 200
    )

    assigned = create(
        api_as(org.owner), kind="task", subject="For teammate", assignee_id=org.teammate.pk
    )  # no links: visible to owner and assignee
    assert api_as(org.teammate).get(f"activities/{assigned['id']}").status_code == 200
    assert api_as(org.readonly).get(f"activities/{assigned['id']}").status_code == 404
    assert (
        api_as(org.teammate).patch(f"activities/{assigned['id']}", {"version": 1, "subject": "x"}).status_code
        == 403
    )
    assert api_as(org.teammate).post(f"tasks/{assigned['id']}/complete").status_code == 200

    ids = {a["id"] for a in api_as(org.owner).get("activities").json()["items"]}
    assert ids == {note["id"], assigned["id"]}
    ids = {a["id"] for a in api_as(org.other).get("activities").json()["items"]}
    assert ids == {task["id"]}


def test_linking_needs_change_on_the_record(org, api_as, shared):
    response = api_as(org.readonly).post("activities", {"kind": "note", "body": "x"})
    assert response.status_code == 403
    response = api_as(org.other).post(
        "activities", {"kind": "note", "body": "x", "links": [{"company_id": shared["company"].pk}]}
    )
    assert response.status_code == 400 and set(response.json()["errors"]) == {"links.0.company_id"}
    assert Activity.objects.count() == 0
    # a member may assign tasks only inside their teams
    response = api_as(org.owner).post(
        "activities", {"kind": "task", "subject": "x", "assignee_id": org.other.pk}
    )
    assert response.status_code == 400 and set(response.json()["errors"]) == {"assignee_id"}


def test_list_filters_and_query_language(org, api_as, shared):
    api = api_as(org.owner)
    link = [{"contact_id": shared["contact"].pk}]
    create(api, kind="note", body="x", links=link)
    call = create(api, kind="call", direction="in", outcome="no_answer", links=link)
    create(api, kind="task", subject="t", links=[{"company_id": shared["company"].pk}])
    by_kind = api.get("activities", kind="call")
    assert_matches_spec(by_kind, "get", LIST)
    assert [a["id"] for a in by_kind.json()["items"]] == [call["id"]]
    assert len(api.get("activities", contact_id=shared["contact"].pk).json()["items"]) == 2
    assert len(api.get("activities", company_id=shared["company"].pk).json()["items"]) == 1
    assert [a["id"] for a in api.get("activities", filter="outcome = no_answer").json()["items"]] == [
        call["id"]
    ]
    assert len(api.get("activities", filter="kind = task and assignee = me").json()["items"]) == 1
    bad = api.get("activities", filter="nonsense = 1")
    assert bad.status_code == 400 and "filter" in bad.json()["errors"]
    assert api.get("activities", kind="chat").status_code == 400
    page = api.get("activities", limit=2).json()
    rest = api.get("activities", limit=2, cursor=page["next_cursor"]).json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None


@pytest.mark.parametrize("count", [3, 30])
def test_list_queries_do_not_grow_with_rows(org, api_as, shared, count, django_assert_max_num_queries):
    from activities.services import activity_create

    for index in range(count):
        activity_create(
            actor=org.owner,
            data={
                "kind": "meeting",
                "subject": f"m{index}",
                "starts_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=index),
                "attendees": [{"email": f"a{index}@example.com"}],
                "links": [{"contact_id": shared["contact"].pk}],
            },
        )
    api = api_as(org.teammate)
    with django_assert_max_num_queries(6):
        response = api.get("activities", limit=50)
    assert len(response.json()["items"]) == count
    assert all(len(a["attendees"]) == 1 and len(a["links"]) == 1 for a in response.json()["items"])


def test_tasks_endpoint_groups_by_due(org, api_as):
    from django.utils import timezone

    api = api_as(org.owner)
    now = timezone.now()
    overdue = create(api, kind="task", subject="late", due_at=(now - dt.timedelta(days=2)).isoformat())
    later = create(api, kind="task", subject="later", due_at=(now + dt.timedelta(days=3)).isoformat())
    undated = create(api, kind="task", subject="someday")
    done = create(api, kind="task", subject="done")
    api.post(f"tasks/{done['id']}/complete")
    response = api.get("tasks")
    assert_matches_spec(response, "get", "/api/v1/tasks")
    assert {t["id"] for t in response.json()["items"]} == {overdue["id"], later["id"], undated["id"]}
    assert [t["id"] for t in api.get("tasks", due="overdue").json()["items"]] == [overdue["id"]]
    assert {t["id"] for t in api.get("tasks", due="upcoming").json()["items"]} == {later["id"], undated["id"]}
    assert api.get("tasks", due="someday").status_code == 400
    assert api_as(org.teammate).get("tasks").json()["items"] == []
    assert api_as(org.teammate).get("tasks", assignee_id=org.owner.pk).status_code == 400
    assert len(api_as(org.manager).get("tasks", assignee_id=org.owner.pk).json()["items"]) == 3
