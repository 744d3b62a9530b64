"""iCalendar export: VEVENT for meetings (with attendees), VTODO for tasks (DUE, PRIORITY, STATUS)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from icalendar import Calendar, Event, Todo, vCalAddress, vText

from .models import Activity

# RFC 5545 PRIORITY: 1 highest … 9 lowest.
PRIORITY = {"high": 1, "normal": 5, "low": 9}


def _uid(activity: Activity) -> str:
    return f"activity-{activity.pk}@{getattr(settings, 'CRM_ICS_DOMAIN', 'crm')}"


def _component(activity: Activity, attendees: Iterable[str]):
    if activity.kind == Activity.Kind.MEETING:
        component = Event()
        component.add("dtstart", activity.starts_at)
        if activity.ends_at:
            component.add("dtend", activity.ends_at)
        if activity.location:
            component.add("location", activity.location)
        for email in attendees:
            attendee = vCalAddress(f"mailto:{email}")
            attendee.params["ROLE"] = vText("REQ-PARTICIPANT")
            component.add("attendee", attendee, encode=0)
    else:
        component = Todo()
        if activity.due_at:
            component.add("due", activity.due_at)
        component.add("priority", PRIORITY.get(activity.priority or "normal", 5))
        if activity.done_at:
            component.add("status", "COMPLETED")
            component.add("completed", activity.done_at)
        else:
            component.add("status", "NEEDS-ACTION")
    component.add("uid", _uid(activity))
    component.add("dtstamp", activity.updated_at)
    component.add("summary", activity.subject or activity.get_kind_display())
    component.add("sequence", activity.version - 1)
    return component


def calendar(activities: Iterable[Activity], attendees: dict[int, list[str]] | None = None) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//CRM//Activities//EN")
    cal.add("version", "2.0")
    for activity in activities:
        cal.add_component(_component(activity, (attendees or {}).get(activity.pk, [])))
    return cal.to_ical()
