"""The timeline: activities merged with the record's system events, newest first, kind filter, keyset
pages that are disjoint and complete, and a constant number of queries per page."""

from __future__ import annotations

import datetime as dt

import pytest

from activities.models import Activity, ActivityLink
from core.testing import assert_matches_spec

pytestmark = pytest.mark.django_db

TIMELINE = "/api/v1/contacts/{contact_id}/timeline"


def _bulk_activities(owner, contact, count, start, kinds=("note", "call", "email", "task")):
    """Many activities quickly (bulk rows, as the services would write them)."""
    rows = []
    for index in range(count):
        kind = kinds[index % len(kinds)]
        when = start + dt.timedelta(minutes=index // 2)  # pairs share a time: the id breaks the tie
        rows.append(
            Activity(
                kind=kind,
                subject=f"{kind} {index}",
                body="<p>x</p>",
                occurred_at=when,
                direction="out" if kind in ("call", "email") else "",
                priority="normal" if kind == "task" else "",
                owner=owner,
            )
        )
    activities = Activity.objects.bulk_create(rows)
    ActivityLink.objects.bulk_create(
        ActivityLink(activity=a, contact=contact, occurred_at=a.occurred_at, kind=a.kind) for a in activities
    )
    return activities


def test_activities_and_events_merge_newest_first(org, api_as, shared):
    from activities.services import activity_create
    from contacts.services import contact_update

    contact = shared["contact"]
    api = api_as(org.owner)
    note = activity_create(
        actor=org.owner,
        data={"kind": "note", "body": "hello", "links": [{"contact_id": contact.pk}]},
    )
    contact_update(actor=org.owner, contact_id=contact.pk, data={"version": 1, "lifecycle_stage": "customer"})
    contact_update(
        actor=org.owner, contact_id=contact.pk, data={"version": 2, "job_title": "Admiral"}
    )  # not an event
    later = activity_create(
        actor=org.owner,
        data={"kind": "call", "direction": "in", "links": [{"contact_id": contact.pk}]},
    )
    response = api.get(TIMELINE.format(contact_id=contact.pk))
    assert response.status_code == 200
    assert_matches_spec(response, "get", TIMELINE)
    items = response.json()["items"]
    summary = [(i["type"], i["activity"]["id"] if i["activity"] else i["event"]["action"]) for i in items]
    assert summary == [
        ("activity", later.pk),
        ("event", "updated"),
        ("activity", note.pk),
        ("event", "created"),
    ]
    assert items[1]["event"]["changes"]["lifecycle_stage"] == ["lead", "customer"]

    only_events = api.get(TIMELINE.format(contact_id=contact.pk), kind="event").json()["items"]
    assert [i["event"]["action"] for i in only_events] == ["updated", "created"]
    only_calls = api.get(TIMELINE.format(contact_id=contact.pk), kind="call,note").json()["items"]
    assert [i["activity"]["id"] for i in only_calls] == [later.pk, note.pk]
    assert api.get(TIMELINE.format(contact_id=contact.pk), kind="chat").status_code == 400
    assert api.get(TIMELINE.format(contact_id=contact.pk), cursor="garbage!").status_code == 400


def test_archived_activities_leave_the_timeline(org, api_as, shared):
    from activities.services import activity_archive, activity_create

    note = activity_create(
        actor=org.owner, data={"kind": "note", "body": "x", "links": [{"company_id": shared["company"].pk}]}
    )
    path = f"/api/v1/companies/{shared['company'].pk}/timeline"
    assert [i["type"] for i in api_as(org.owner).get(path).json()["items"]] == ["activity", "event"]
    activity_archive(actor=org.owner, activity_id=note.pk)
    assert [i["type"] for i in api_as(org.owner).get(path).json()["items"]] == ["event"]
    assert api_as(org.other).get(path).status_code == 404


def test_hundreds_of_entries_page_disjoint_and_complete(org, api_as, shared):
    """A contact with 300 activities and a handful of events (some at the very same instant as an
    activity): walking the cursor returns every entry exactly once, in order, and the kind filter too."""
    from core.history import history_record

    contact = shared["contact"]
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    activities = _bulk_activities(org.owner, contact, 300, start)
    from core.models import HistoryEntry

    for minute in (0, 10, 75, 149):  # events sharing times with activities
        entry = history_record(
            instance=contact, actor=org.owner, action="updated", changes={"owner_id": (1, 2)}
        )
        HistoryEntry.objects.filter(pk=entry.pk).update(created_at=start + dt.timedelta(minutes=minute))
    api = api_as(org.teammate)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 25}
        if cursor:
            params["cursor"] = cursor
        body = api.get(TIMELINE.format(contact_id=contact.pk), **params).json()
        seen += [(i["type"], (i["activity"] or i["event"])["id"], i["time"]) for i in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    events = HistoryEntry.objects.filter(object_id=contact.pk, content_type__model="contact").count()
    assert len(seen) == 300 + events == len({(t, pk) for t, pk, _ in seen})
    assert {pk for t, pk, _ in seen if t == "activity"} == {a.pk for a in activities}
    times = [time for _, _, time in seen]
    assert times == sorted(times, reverse=True)
    assert pages == -(-len(seen) // 25)

    tasks, cursor = [], None
    while True:
        body = api.get(
            TIMELINE.format(contact_id=contact.pk),
            kind="task",
            limit=40,
            **({"cursor": cursor} if cursor else {}),
        ).json()
        tasks += [i["activity"]["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert tasks == [
        a.pk
        for a in sorted(
            (a for a in activities if a.kind == "task"), key=lambda a: (a.occurred_at, a.pk), reverse=True
        )
    ]


@pytest.mark.parametrize("count", [3, 30])
def test_timeline_queries_do_not_grow_with_entries(org, api_as, shared, count, django_assert_max_num_queries):
    _bulk_activities(org.owner, shared["contact"], count, dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    api = api_as(org.manager)
    with django_assert_max_num_queries(9):
        response = api.get(TIMELINE.format(contact_id=shared["contact"].pk), limit=50)
    assert len(response.json()["items"]) == count + 1  # and the "created" event
