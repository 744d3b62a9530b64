"""REST API of the activities app: one router, mounted in crm/api.py at "" (so paths are declared in full)."""

from __future__ import annotations

from collections import defaultdict

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from contacts import queries as contact_queries
from contacts.models import Contact
from core.api import ERRORS, READ_ERRORS, bool_param, json_response
from core.errors import NotFoundError
from core.history import history_for
from core.pagination import keyset_page, limit_clean
from core.visibility import restrict

from . import ics, queries, services
from .models import Activity, ActivityAttendee, ActivityLink
from .schemas import (
    ActivityIn,
    ActivityListOut,
    ActivityOut,
    ActivityPatch,
    HistoryListOut,
    NotificationListOut,
    NotificationsReadIn,
    NotificationsReadOut,
    TimelineOut,
)

router = Router(tags=["activities"])

COLUMNS = [
    "id",
    "kind",
    "subject",
    "body",
    "occurred_at",
    "direction",
    "duration_seconds",
    "outcome",
    "starts_at",
    "ends_at",
    "location",
    "email_status",
    "from_address",
    "to_addresses",
    "cc_addresses",
    "message_id",
    "in_reply_to",
    "thread_id",
    "due_at",
    "priority",
    "assignee_id",
    "done_at",
    "remind_at",
    "owner_id",
    "team_id",
    "custom",
    "version",
    "created_at",
    "updated_at",
    "archived_at",
]
ORDER = [("occurred_at", True), ("id", True)]
TASK_ORDER = [("occurred_at", False), ("id", False)]
CALENDAR = "text/calendar; charset=utf-8"
ICS_RESPONSES = {200: None, **READ_ERRORS}
ICS_OPENAPI = {
    "responses": {
        "200": {"description": "iCalendar", "content": {"text/calendar": {"schema": {"type": "string"}}}}
    }
}


class ListParams(Schema):
    filter: str | None = None
    kind: str | None = None
    contact_id: int | None = None
    company_id: int | None = None
    cursor: str | None = None
    limit: int | None = None
    archived: str | None = None


# ---------------------------------------------------------------------------------------------------------
# Serialising: plain dicts; links and attendees cost one query each per page


def activity_dicts(rows: list) -> list[dict]:
    """`rows`: values() dicts or Activity instances, in page order."""
    ids = [r["id"] if isinstance(r, dict) else r.pk for r in rows]
    links: dict[int, list] = defaultdict(list)
    attendees: dict[int, list] = defaultdict(list)
    if ids:
        for activity_id, contact_id, company_id in ActivityLink.objects.filter(
            activity_id__in=ids
        ).values_list("activity_id", "contact_id", "company_id"):
            links[activity_id].append({"contact_id": contact_id, "company_id": company_id})
        meeting_ids = [
            pk
            for pk, r in zip(ids, rows, strict=True)
            if (r["kind"] if isinstance(r, dict) else r.kind) == "meeting"
        ]
        if meeting_ids:
            for activity_id, contact_id, email in ActivityAttendee.objects.filter(
                activity_id__in=meeting_ids
            ).values_list("activity_id", "contact_id", "email"):
                attendees[activity_id].append({"contact_id": contact_id, "email": email})
    result = []
    for row in rows:
        get = row.get if isinstance(row, dict) else (lambda c, row=row: getattr(row, c))
        pk = get("id")
        record = {c: get(c) for c in COLUMNS if c not in ("to_addresses", "cc_addresses")}
        record["to"] = get("to_addresses") or []
        record["cc"] = get("cc_addresses") or []
        record["links"] = links.get(pk, [])
        record["attendees"] = attendees.get(pk, [])
        result.append(record)
    return result


def _one(pk: int) -> dict:
    return activity_dicts(list(Activity.objects.filter(pk=pk).values(*COLUMNS)))[0]


def _payload(schema_obj) -> dict:
    data = schema_obj.model_dump(exclude_unset=True, mode="python")
    for key in ("links", "attendees"):
        if isinstance(data.get(key), list):
            data[key] = [
                {k: v for k, v in item.items() if v is not None} if isinstance(item, dict) else item
                for item in data[key]
            ]
    return data


def _timeline_response(request, record, kind, cursor, limit) -> HttpResponse:
    page = queries.timeline(
        request.auth, record, kinds=kind, cursor=cursor, limit=limit_clean(limit, 20), columns=COLUMNS
    )
    activities = activity_dicts([e["activity"] for e in page["entries"] if e["type"] == "activity"])
    by_id = {a["id"]: a for a in activities}
    items = []
    for entry in page["entries"]:
        if entry["type"] == "activity":
            activity = by_id[entry["activity"]["id"]]
            items.append({"type": "activity", "time": entry["time"], "activity": activity, "event": None})
        else:
            event = entry["event"]
            items.append(
                {
                    "type": "event",
                    "time": entry["time"],
                    "activity": None,
                    "event": {
                        "id": event["id"],
                        "action": event["action"],
                        "actor_id": event["actor_id"],
                        "actor": event["actor__username"],
                        "changes": event["changes"] or {},
                    },
                }
            )
    return json_response({"items": items, "next_cursor": page["next_cursor"]})


def _history_page(instance, cursor, limit) -> dict:
    entries, next_cursor = keyset_page(
        history_for(instance).values("id", "action", "actor_id", "actor__username", "created_at", "changes"),
        [("id", True)],
        cursor,
        limit_clean(limit),
    )
    items = [
        {
            "id": e["id"],
            "action": e["action"],
            "actor_id": e["actor_id"],
            "actor": e["actor__username"],
            "created_at": e["created_at"],
            "changes": [{"field": k, "old": v[0], "new": v[1]} for k, v in (e["changes"] or {}).items()],
        }
        for e in entries
    ]
    return {"items": items, "next_cursor": next_cursor}


# ---------------------------------------------------------------------------------------------------------
# Activities


@router.get("/activities", response={200: ActivityListOut, **READ_ERRORS}, summary="List activities")
def activity_list(request: HttpRequest, params: Query[ListParams]):
    """Newest first, cursor-paginated. `kind` (one or several, comma-separated), `contact_id`,
    `company_id`, and `filter` in the query language (`kind = call and outcome = no_answer`,
    `due < 7d`, `assignee = me`)."""
    limit = limit_clean(params.limit)
    queryset = queries.activity_list(
        request.auth,
        filter=params.filter,
        kind=params.kind,
        contact_id=params.contact_id,
        company_id=params.company_id,
        archived=bool_param("archived", params.archived),
    )
    rows, next_cursor = keyset_page(queryset.values(*COLUMNS), ORDER, params.cursor, limit)
    return json_response({"items": activity_dicts(rows), "next_cursor": next_cursor})


@router.post("/activities", response={201: ActivityOut, **ERRORS}, summary="Log an activity or create a task")
def activity_create(request: HttpRequest, payload: ActivityIn):
    """Linking to a contact or company needs the right to change it. Notes and e-mail bodies are
    sanitised HTML (p, br, strong, em, u, s, ul, ol, li, a, blockquote, code, pre, h3, h4)."""
    activity = services.activity_create(actor=request.auth, data=_payload(payload))
    return json_response(_one(activity.pk), status=201)


@router.get(
    "/activities/{activity_id}", response={200: ActivityOut, **READ_ERRORS}, summary="Read an activity"
)
def activity_get(request: HttpRequest, activity_id: int):
    activity = queries.activity_get(request.auth, activity_id)
    return json_response(_one(activity.pk))


@router.patch(
    "/activities/{activity_id}", response={200: ActivityOut, **ERRORS}, summary="Change an activity"
)
def activity_update(request: HttpRequest, activity_id: int, payload: ActivityPatch):
    activity = services.activity_update(actor=request.auth, activity_id=activity_id, data=_payload(payload))
    return json_response(_one(activity.pk))


@router.delete(
    "/activities/{activity_id}", response={204: None, **READ_ERRORS}, summary="Archive an activity"
)
def activity_archive(request: HttpRequest, activity_id: int):
    services.activity_archive(actor=request.auth, activity_id=activity_id)
    return HttpResponse(status=204)


@router.post(
    "/activities/{activity_id}/restore",
    response={200: ActivityOut, **READ_ERRORS},
    summary="Restore an activity",
)
def activity_restore(request: HttpRequest, activity_id: int):
    activity = services.activity_restore(actor=request.auth, activity_id=activity_id)
    return json_response(_one(activity.pk))


@router.get(
    "/activities/{activity_id}/history",
    response={200: HistoryListOut, **READ_ERRORS},
    summary="Activity history",
)
def activity_history(
    request: HttpRequest, activity_id: int, cursor: str | None = None, limit: int | None = None
):
    activity = queries.activity_get(request.auth, activity_id)
    return json_response(_history_page(activity, cursor, limit))


@router.get(
    "/activities/{activity_id}/ics",
    response=ICS_RESPONSES,
    summary="A meeting or task as iCalendar",
    openapi_extra=ICS_OPENAPI,
)
def activity_ics(request: HttpRequest, activity_id: int):
    """`text/calendar`: a VEVENT for a meeting (with its attendees), a VTODO for a task."""
    activity = queries.activity_get(request.auth, activity_id)
    if activity.kind not in (Activity.Kind.MEETING, Activity.Kind.TASK):
        raise NotFoundError("Only meetings and tasks have a calendar entry.")
    attendees = _attendee_emails(request.auth, [activity])
    response = HttpResponse(ics.calendar([activity], attendees), content_type=CALENDAR)
    response["Content-Disposition"] = f'attachment; filename="activity-{activity.pk}.ics"'
    return response


def _attendee_emails(user, activities) -> dict[int, list[str]]:
    """Meeting attendees as addresses: free-text ones, and the primary address of contacts the user sees."""
    ids = [a.pk for a in activities if a.kind == Activity.Kind.MEETING]
    result: dict[int, list[str]] = defaultdict(list)
    if not ids:
        return result
    rows = list(
        ActivityAttendee.objects.filter(activity_id__in=ids).values_list("activity_id", "contact_id", "email")
    )
    contact_ids = [c for _, c, _ in rows if c]
    emails = dict(
        restrict(Contact.objects.filter(pk__in=contact_ids), user)
        .exclude(email="")
        .values_list("pk", "email")
    )
    for activity_id, contact_id, email in rows:
        address = email or emails.get(contact_id)
        if address:
            result[activity_id].append(address)
    return result


# ---------------------------------------------------------------------------------------------------------
# Timelines


@router.get(
    "/contacts/{contact_id}/timeline",
    response={200: TimelineOut, **READ_ERRORS},
    summary="A contact's timeline",
)
def contact_timeline(
    request: HttpRequest,
    contact_id: int,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """Activities and system events (created, owner or stage changed, archived, restored, merged), newest
    first. `kind`: comma-separated among note, call, meeting, email, task, event. Pass `next_cursor` back
    as `cursor`: every page costs the same."""
    contact = contact_queries.contact_get(request.auth, contact_id)
    return _timeline_response(request, contact, kind, cursor, limit)


@router.get(
    "/companies/{company_id}/timeline",
    response={200: TimelineOut, **READ_ERRORS},
    summary="A company's timeline",
)
def company_timeline(
    request: HttpRequest,
    company_id: int,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    company = contact_queries.company_get(request.auth, company_id)
    return _timeline_response(request, company, kind, cursor, limit)


# ---------------------------------------------------------------------------------------------------------
# Tasks


@router.get("/tasks", response={200: ActivityListOut, **READ_ERRORS}, summary="My open tasks")
def task_list(
    request: HttpRequest,
    due: str | None = None,
    assignee_id: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """The caller's open tasks by due date (tasks without one by creation). `due`: overdue, today or
    upcoming. Managers may pass `assignee_id` of someone in a team they manage; admins anyone's."""
    limit = limit_clean(limit)
    queryset = queries.task_list(request.auth, assignee_id=assignee_id, due=due)
    rows, next_cursor = keyset_page(queryset.values(*COLUMNS), TASK_ORDER, cursor, limit)
    return json_response({"items": activity_dicts(rows), "next_cursor": next_cursor})


@router.get(
    "/tasks.ics",
    response=ICS_RESPONSES,
    summary="My open tasks as an iCalendar feed",
    openapi_extra=ICS_OPENAPI,
)
def task_feed(request: HttpRequest):
    tasks = list(queries.task_list(request.auth).order_by("occurred_at", "id")[:1000])
    response = HttpResponse(ics.calendar(tasks), content_type=CALENDAR)
    response["Content-Disposition"] = 'attachment; filename="tasks.ics"'
    return response


@router.post(
    "/tasks/{activity_id}/complete", response={200: ActivityOut, **READ_ERRORS}, summary="Complete a task"
)
def task_complete(request: HttpRequest, activity_id: int):
    """The assignee, the owner, managers of the owner's team and admins may complete a task."""
    activity = services.task_complete(actor=request.auth, activity_id=activity_id)
    return json_response(_one(activity.pk))


@router.post(
    "/tasks/{activity_id}/reopen", response={200: ActivityOut, **READ_ERRORS}, summary="Reopen a task"
)
def task_reopen(request: HttpRequest, activity_id: int):
    activity = services.task_reopen(actor=request.auth, activity_id=activity_id)
    return json_response(_one(activity.pk))


# ---------------------------------------------------------------------------------------------------------
# Notifications


@router.get("/notifications", response={200: NotificationListOut, **READ_ERRORS}, summary="My notifications")
def notification_list(
    request: HttpRequest, unread: str | None = None, cursor: str | None = None, limit: int | None = None
):
    queryset = queries.notification_list(request.auth, unread=bool_param("unread", unread))
    rows, next_cursor = keyset_page(
        queryset.values("id", "text", "url", "activity_id", "created_at", "read_at"),
        [("id", True)],
        cursor,
        limit_clean(limit),
    )
    return json_response(
        {"items": rows, "next_cursor": next_cursor, "unread": queries.unread_count(request.auth)}
    )


@router.post(
    "/notifications/read", response={200: NotificationsReadOut, **ERRORS}, summary="Mark notifications read"
)
def notifications_read(request: HttpRequest, payload: NotificationsReadIn):
    """`ids` to mark some; without it every unread notification of the caller is marked read."""
    changed = services.notifications_mark_read(actor=request.auth, ids=payload.ids)
    return json_response({"changed": changed})
