"""Visibility-matrix rows for the activities app (see tests/matrix/__init__.py).

The world adds a task owned by `owner`, assigned to `owner`, on the shared contact's and company's
timelines. It is seen by everyone who sees the contact; changed, archived and completed only by its owner,
the manager of the owner's team and admins (a teammate sees it but may not change it: 403).
"""

from __future__ import annotations

from tests.matrix.rules import (
    ARCHIVES,
    CHANGES,
    SEES,
    everyone,
    record,
    record_rule,
    signed_in,
)


def _create_expect(actor: str) -> int:
    """Logging on the shared contact needs `change` on it: Team B cannot see it, so the link is a bad
    field (400); read-only users create nothing (403)."""
    return {"anonymous": 401, "readonly": 403, "other": 400, "other_manager": 400}.get(actor, 201)


def _note(ctx):
    return {"kind": "note", "body": "<p>Matrix note</p>", "links": [{"contact_id": ctx["contact"]}]}


def _note_form(ctx):
    return {"kind": "note", "body": "Matrix note from the page"}


API: dict = {
    ("get", "/api/v1/activities"): (everyone(200), None),
    ("post", "/api/v1/activities"): (_create_expect, _note),
    ("get", "/api/v1/activities/{activity_id}"): (record_rule(SEES, 200), None),
    ("patch", "/api/v1/activities/{activity_id}"): (
        record_rule(ARCHIVES, 200),
        lambda ctx: {"version": 1, "subject": "Changed"},
    ),
    ("delete", "/api/v1/activities/{activity_id}"): (record_rule(ARCHIVES, 204), None),
    ("post", "/api/v1/activities/{activity_id}/restore"): (record_rule(ARCHIVES, 200), None),
    ("get", "/api/v1/activities/{activity_id}/history"): (record_rule(SEES, 200), None),
    ("get", "/api/v1/activities/{activity_id}/ics"): (record_rule(SEES, 200), None),
    ("get", "/api/v1/contacts/{contact_id}/timeline"): (record_rule(SEES, 200), None),
    ("get", "/api/v1/companies/{company_id}/timeline"): (record_rule(SEES, 200), None),
    ("get", "/api/v1/tasks"): (everyone(200), None),
    ("get", "/api/v1/tasks.ics"): (everyone(200), None),
    ("post", "/api/v1/tasks/{activity_id}/complete"): (record_rule(ARCHIVES, 200), None),
    ("post", "/api/v1/tasks/{activity_id}/reopen"): (record_rule(ARCHIVES, 200), None),
    ("get", "/api/v1/notifications"): (everyone(200), None),
    ("post", "/api/v1/notifications/read"): (everyone(200), lambda ctx: {}),
}

PAGES: dict = {
    "activities:task_list": [("get", signed_in(200), None)],
    "activities:task_complete": [("post", record(ARCHIVES, 302), None)],
    "activities:task_reopen": [("post", record(ARCHIVES, 302), None)],
    "activities:activity_archive": [("post", record(ARCHIVES, 302), None)],
    "activities:notifications": [("get", signed_in(200), None)],
    "activities:notifications_read": [("post", signed_in(302), None)],
    "activities:contact_timeline": [("get", record(SEES, 200), None)],
    "activities:company_timeline": [("get", record(SEES, 200), None)],
    "activities:contact_compose": [
        ("get", record(CHANGES, 200), None),
        ("post", record(CHANGES, 302), _note_form),
    ],
    "activities:company_compose": [
        ("get", record(CHANGES, 200), None),
        ("post", record(CHANGES, 302), _note_form),
    ],
}
PAGE_ARGS: dict = {
    "activities:task_complete": lambda ctx: [ctx["activity"]],
    "activities:task_reopen": lambda ctx: [ctx["activity"]],
    "activities:activity_archive": lambda ctx: [ctx["activity"]],
    "activities:contact_timeline": lambda ctx: [ctx["contact"]],
    "activities:company_timeline": lambda ctx: [ctx["company"]],
    "activities:contact_compose": lambda ctx: [ctx["contact"]],
    "activities:company_compose": lambda ctx: [ctx["company"]],
}


def world(ctx: dict) -> None:
    """A task owned by and assigned to `owner`, on the shared contact's and company's timelines."""
    from activities.services import activity_create

    task = activity_create(
        actor=ctx["org"].owner,
        data={
            "kind": "task",
            "subject": "Call back about the renewal",
            "links": [{"contact_id": ctx["contact"]}, {"company_id": ctx["company"]}],
        },
    )
    ctx["activity"] = task.pk
    ctx["ids"]["activity_id"] = task.pk


def state() -> tuple:
    """Everything a refused call on this app's rows could have changed."""
    from activities.models import Activity, ActivityAttendee, ActivityLink, Notification

    return (
        list(Activity.objects.order_by("id").values()),
        list(ActivityLink.objects.order_by("id").values()),
        ActivityAttendee.objects.count(),
        list(Notification.objects.order_by("id").values("id", "read_at")),
    )
