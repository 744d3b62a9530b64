"""API shapes for activities, the timeline, tasks and notifications."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict


class LinkIn(Schema):
    model_config = ConfigDict(extra="forbid")

    contact_id: int | None = None
    company_id: int | None = None


class LinkOut(Schema):
    contact_id: int | None
    company_id: int | None


class AttendeeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    contact_id: int | None = None
    email: str | None = None


class AttendeeOut(Schema):
    contact_id: int | None
    email: str


class ActivityBase(Schema):
    model_config = ConfigDict(extra="forbid")

    subject: str | None = None
    body: str | None = None
    occurred_at: dt.datetime | None = None
    links: list[LinkIn] | None = None
    # calls (direction also for e-mails)
    direction: str | None = None
    duration_seconds: int | None = None
    outcome: str | None = None
    # meetings
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    location: str | None = None
    attendees: list[AttendeeIn | str] | None = None
    # e-mails
    email_status: str | None = None
    from_address: str | None = None
    to: list[str] | None = None
    cc: list[str] | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    thread_id: str | None = None
    # tasks
    due_at: dt.datetime | None = None
    priority: str | None = None
    assignee_id: int | None = None
    remind_at: dt.datetime | None = None
    owner_id: int | None = None
    team_id: int | None = None
    custom: dict[str, Any] | None = None


class ActivityIn(ActivityBase):
    """Log a note, call, meeting or e-mail, or create a task. Fields of other kinds are refused."""

    kind: Literal["note", "call", "meeting", "email", "task"]


class ActivityPatch(ActivityBase):
    """Change some fields; `version` must be the version you read (409 when someone changed it since)."""

    version: int


class ActivityOut(Schema):
    id: int
    kind: str
    subject: str
    body: str
    occurred_at: dt.datetime
    links: list[LinkOut]
    direction: str
    duration_seconds: int | None
    outcome: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    location: str
    attendees: list[AttendeeOut]
    email_status: str
    from_address: str
    to: list[str]
    cc: list[str]
    message_id: str | None
    in_reply_to: str
    thread_id: str
    due_at: dt.datetime | None
    priority: str
    assignee_id: int | None
    done_at: dt.datetime | None
    remind_at: dt.datetime | None
    owner_id: int | None
    team_id: int | None
    custom: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    archived_at: dt.datetime | None


class ActivityListOut(Schema):
    items: list[ActivityOut]
    next_cursor: str | None


class EventOut(Schema):
    id: int
    action: str
    actor_id: int | None
    actor: str | None
    changes: dict[str, Any]


class TimelineEntryOut(Schema):
    type: Literal["activity", "event"]
    time: dt.datetime
    activity: ActivityOut | None
    event: EventOut | None


class TimelineOut(Schema):
    items: list[TimelineEntryOut]
    next_cursor: str | None


class NotificationOut(Schema):
    id: int
    text: str
    url: str
    activity_id: int | None
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationListOut(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int


class NotificationsReadIn(Schema):
    model_config = ConfigDict(extra="forbid")

    ids: list[int] | None = None


class NotificationsReadOut(Schema):
    changed: int


class HistoryChangeOut(Schema):
    field: str
    old: Any
    new: Any


class HistoryOut(Schema):
    id: int
    action: str
    actor_id: int | None
    actor: str | None
    created_at: dt.datetime
    changes: list[HistoryChangeOut]


class HistoryListOut(Schema):
    items: list[HistoryOut]
    next_cursor: str | None
