"""iCalendar export: meetings as VEVENT with attendees, tasks as VTODO; parsed back with icalendar."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar

pytestmark = pytest.mark.django_db


def test_meeting_is_a_vevent_with_attendees(org, api_as, shared):
    api = api_as(org.owner)
    start = dt.datetime(2030, 3, 4, 14, 30, tzinfo=dt.UTC)
    meeting = api.post(
        "activities",
        {
            "kind": "meeting",
            "subject": "Quarterly review",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(minutes=45)).isoformat(),
            "location": "Berlin office",
            "attendees": [{"contact_id": shared["contact"].pk}, {"email": "guest@example.com"}],
            "links": [{"contact_id": shared["contact"].pk}],
        },
    ).json()
    response = api.get(f"activities/{meeting['id']}/ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Quarterly review"
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTEND") == start + dt.timedelta(minutes=45)
    assert str(event["LOCATION"]) == "Berlin office"
    attendees = event["ATTENDEE"]
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert sorted(str(a) for a in attendees) == ["mailto:grace@example.com", "mailto:guest@example.com"]
    assert str(event["UID"]).startswith(f"activity-{meeting['id']}@")
    # Someone who cannot see the contact does not learn its address (and not the meeting either).
    assert api_as(org.other).get(f"activities/{meeting['id']}/ics").status_code == 404


def test_task_is_a_vtodo_and_the_feed_lists_open_tasks(org, api_as):
    api = api_as(org.owner)
    due = dt.datetime(2030, 6, 1, 9, 0, tzinfo=dt.UTC)
    task = api.post(
        "activities", {"kind": "task", "subject": "Renew", "due_at": due.isoformat(), "priority": "high"}
    ).json()
    other = api.post("activities", {"kind": "task", "subject": "Low one", "priority": "low"}).json()
    done = api.post("activities", {"kind": "task", "subject": "Finished"}).json()
    api.post(f"tasks/{done['id']}/complete")

    (todo,) = Calendar.from_ical(api.get(f"activities/{task['id']}/ics").content).walk("VTODO")
    assert str(todo["SUMMARY"]) == "Renew"
    assert todo.decoded("DUE") == due
    assert int(todo["PRIORITY"]) == 1
    assert str(todo["STATUS"]) == "NEEDS-ACTION"
    (completed,) = Calendar.from_ical(api.get(f"activities/{done['id']}/ics").content).walk("VTODO")
    assert str(completed["STATUS"]) == "COMPLETED"

    feed = api.get("tasks.ics")
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    todos = Calendar.from_ical(feed.content).walk("VTODO")
    assert {str(t["SUMMARY"]): int(t["PRIORITY"]) for t in todos} == {"Renew": 1, "Low one": 9}
    assert other["id"]
    assert Calendar.from_ical(api_as(org.teammate).get("tasks.ics").content).walk("VTODO") == []


def test_notes_have_no_calendar_entry(org, api_as):
    api = api_as(org.owner)
    note = api.post("activities", {"kind": "note", "body": "x"}).json()
    response = api.get(f"activities/{note['id']}/ics")
    assert response.status_code == 404 and "detail" in response.json()
