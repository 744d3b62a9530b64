"""Reads for activities, the timeline and notifications. Every read starts from the visibility rules.

Visibility of an activity (docs/activities.md):
- admins see every activity;
- anyone else sees an activity when they may see at least one contact or company it is linked to
  (core.visibility.restrict on the linked records, inside EXISTS), or they own it, or it is a task
  assigned to them, or (managers) its owner is in a team they manage.
Changing or archiving an activity: its owner, managers of the owner's team, admins; completing or
reopening a task also its assignee. Read-only users change nothing. A record the user may not see is 404
before any other check; a visible one they may not change is 403.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from contacts.models import Company, Contact
from core.errors import NotFoundError, PermissionDeniedError, ValidationError
from core.models import HistoryEntry
from core.pagination import cursor_decode, cursor_encode
from core.querylang import Field, FieldRegistry, apply_filter
from core.visibility import restrict, role_of

from .models import Activity, ActivityLink, Notification

# ---------------------------------------------------------------------------------------------------------
# The query language's fields for activities

activity_fields = FieldRegistry("activities.activity", model=Activity)
for _name, _type, _path, _label in [
    ("id", "number", "id", "ID"),
    ("subject", "text", "subject", "Subject"),
    ("occurred", "datetime", "occurred_at", "When"),
    ("due", "datetime", "due_at", "Due"),
    ("meeting_start", "datetime", "starts_at", "Meeting start"),
    ("location", "text", "location", "Location"),
    ("duration", "number", "duration_seconds", "Duration (s)"),
    ("sender", "text", "from_address", "From"),
    ("thread_id", "text", "thread_id", "Thread"),
    ("created", "datetime", "created_at", "Created"),
    ("updated", "datetime", "updated_at", "Updated"),
]:
    activity_fields.add(Field(_name, _type, path=_path, label=_label))
activity_fields.add(Field("kind", "choice", path="kind", choices=Activity.Kind.choices, label="Kind"))
activity_fields.add(
    Field("direction", "choice", path="direction", choices=Activity.Direction.choices, label="Direction")
)
activity_fields.add(
    Field("outcome", "choice", path="outcome", choices=Activity.Outcome.choices, label="Outcome")
)
activity_fields.add(
    Field("priority", "choice", path="priority", choices=Activity.Priority.choices, label="Priority")
)
activity_fields.add(Field("done", "boolean", path="done_at", presence=True, label="Done"))
activity_fields.add(Field("owner", "user", path="owner", label="Owner"))
activity_fields.add(Field("assignee", "user", path="assignee", label="Assignee"))
activity_fields.add(Field("contact_id", "number", path="links__contact_id", many=True, label="Contact ID"))
activity_fields.add(Field("company_id", "number", path="links__company_id", many=True, label="Company ID"))

KINDS = [k for k, _ in Activity.Kind.choices]
EVENT = "event"  # the timeline's system events (from the record's history)


# ---------------------------------------------------------------------------------------------------------
# Visibility


def activity_visibility_q(user) -> Q | None:
    """A Q selecting the activities `user` may see; None means every activity."""
    role = role_of(user)
    if role is None:
        return Q(pk__in=[])
    if role == "admin":
        return None
    contacts = restrict(Contact.objects.all(), user, "view").values("pk")
    companies = restrict(Company.objects.all(), user, "view").values("pk")
    q = (
        Q(owner_id=user.pk)
        | Q(assignee_id=user.pk)
        | Exists(ActivityLink.objects.filter(activity_id=OuterRef("pk"), contact_id__in=contacts))
        | Exists(ActivityLink.objects.filter(activity_id=OuterRef("pk"), company_id__in=companies))
    )
    if role == "manager" and user.managed_user_ids:
        q |= Q(owner_id__in=user.managed_user_ids)
    return q


def activity_restrict(queryset: QuerySet, user) -> QuerySet:
    q = activity_visibility_q(user)
    return queryset if q is None else queryset.filter(q)


def can_change_activity(user, activity: Activity) -> bool:
    """Owner, managers of the owner's team, admins (no query beyond the user's cached team ids)."""
    role = role_of(user)
    if role in (None, "readonly"):
        return False
    if role == "admin" or activity.owner_id == user.pk:
        return True
    return role == "manager" and activity.owner_id in user.managed_user_ids


def can_complete_task(user, activity: Activity) -> bool:
    if role_of(user) in (None, "readonly"):
        return False
    return activity.assignee_id == user.pk or can_change_activity(user, activity)


def activity_get(user, activity_id, action: str = "view") -> Activity:
    """404 when not visible (before anything else), 403 when visible but `action` is not allowed.
    `action`: "view", "change" (edit, archive, restore) or "complete" (tasks)."""
    try:
        activity = activity_restrict(Activity.objects.all(), user).get(pk=activity_id)
    except (Activity.DoesNotExist, ValueError, TypeError):
        raise NotFoundError()
    if action == "change" and not can_change_activity(user, activity):
        raise PermissionDeniedError()
    if action == "complete":
        if activity.kind != Activity.Kind.TASK:
            raise NotFoundError()
        if not can_complete_task(user, activity):
            raise PermissionDeniedError()
    return activity


def activity_list(
    user,
    *,
    filter: str | dict | None = None,
    kind: str | None = None,
    contact_id: int | None = None,
    company_id: int | None = None,
    archived: bool = False,
) -> QuerySet:
    queryset = activity_restrict(Activity.objects.all(), user).filter(archived_at__isnull=not archived)
    if kind:
        kinds = kinds_clean(kind, allow_event=False)
        queryset = queryset.filter(kind__in=kinds)
    if contact_id is not None:
        queryset = queryset.filter(
            Exists(ActivityLink.objects.filter(activity_id=OuterRef("pk"), contact_id=contact_id))
        )
    if company_id is not None:
        queryset = queryset.filter(
            Exists(ActivityLink.objects.filter(activity_id=OuterRef("pk"), company_id=company_id))
        )
    if filter:
        queryset = apply_filter(queryset, activity_fields, filter, user=user)
    return queryset


def kinds_clean(value, *, allow_event: bool = True) -> list[str]:
    """`note,call` or a list → the kinds; unknown names are a 400 naming `kind`."""
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    allowed = [*KINDS, EVENT] if allow_event else KINDS
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise ValidationError({"kind": [f"Choose from: {', '.join(allowed)}."]})
    return list(dict.fromkeys(value))


# ---------------------------------------------------------------------------------------------------------
# My tasks

DUE_GROUPS = ("overdue", "today", "upcoming")


def task_list(user, *, assignee_id: int | None = None, due: str | None = None, now=None) -> QuerySet:
    """Open tasks assigned to the user (managers and admins may pick another assignee they can see),
    by due date. `due`: overdue (before today), today, upcoming (after today, or no due date)."""
    target = user.pk
    if assignee_id not in (None, "", user.pk):
        role = role_of(user)
        if role == "admin" or (role == "manager" and int(assignee_id) in user.managed_user_ids):
            target = int(assignee_id)
        else:
            raise ValidationError({"assignee_id": ["You may see only your own tasks or your team's."]})
    queryset = Activity.objects.filter(
        kind=Activity.Kind.TASK, done_at__isnull=True, archived_at__isnull=True, assignee_id=target
    )
    if due:
        start, end = day_bounds(now)
        if due == "overdue":
            queryset = queryset.filter(due_at__lt=start)
        elif due == "today":
            queryset = queryset.filter(due_at__gte=start, due_at__lt=end)
        elif due == "upcoming":
            queryset = queryset.filter(Q(due_at__gte=end) | Q(due_at__isnull=True))
        else:
            raise ValidationError({"due": ["Choose overdue, today or upcoming."]})
    return queryset


def day_bounds(now=None) -> tuple[dt.datetime, dt.datetime]:
    now = timezone.localtime(now or timezone.now())
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=1)


def due_group(due_at, now=None) -> str:
    start, end = day_bounds(now)
    if due_at is None or due_at >= end:
        return "upcoming"
    return "overdue" if due_at < start else "today"


# ---------------------------------------------------------------------------------------------------------
# The timeline: a record's activities and its system events, newest first, one keyset for both

# Which history entries are timeline events: created, archived, restored, merged, and updates that
# changed the owner or the stage.
EVENT_Q = Q(action__in=["created", "archived", "restored", "merged"]) | (
    Q(action="updated") & (Q(changes__has_key="owner_id") | Q(changes__has_key="lifecycle_stage"))
)
ACTIVITY_RANK, EVENT_RANK = 1, 0  # at the same instant, activities come before events (newest first)


def _link_field(record) -> str:
    if isinstance(record, Contact):
        return "contact_id"
    if isinstance(record, Company):
        return "company_id"
    raise TypeError(f"no timeline for {type(record).__name__}")


def _after(time_column: str, id_column: str, rank: int, cursor) -> Q | None:
    """Rows of one source (with `rank`) strictly after the cursor (time, rank, id) in descending order."""
    if cursor is None:
        return None
    time, cursor_rank, cursor_id = cursor
    if rank < cursor_rank:  # this source sorts after the cursor's at equal times
        return Q(**{f"{time_column}__lte": time})
    if rank > cursor_rank:
        return Q(**{f"{time_column}__lt": time})
    return Q(**{f"{time_column}__lt": time}) | Q(**{time_column: time, f"{id_column}__lt": cursor_id})


def timeline_cursor_decode(cursor: str | None):
    if not cursor:
        return None
    time_text, rank, pk = cursor_decode(cursor, 3)
    time = parse_datetime(time_text) if isinstance(time_text, str) else None
    if time is None or rank not in (ACTIVITY_RANK, EVENT_RANK) or not isinstance(pk, int):
        raise ValidationError({"cursor": ["This cursor is not valid; start again from the first page."]})
    return time, rank, pk


def timeline(
    user, record, *, kinds=None, cursor: str | None = None, limit: int = 20, columns: list[str] | None = None
) -> dict:
    """One page of `record`'s timeline (the caller has checked the user may see `record`: every activity
    linked to a record the user sees is visible to them). Returns {"entries": [...], "next_cursor"}; each
    entry is {"type": "activity", "time", "activity": Activity} or {"type": "event", "time", "event":
    HistoryEntry}. With `columns` (the API's lean path) activities are `values(*columns)` dicts and events
    dicts with the actor's username. Cost is independent of depth: each source is an index range scan of
    limit+1 rows."""
    kinds = kinds_clean(kinds) if kinds else [*KINDS, EVENT]
    position = timeline_cursor_decode(cursor)
    entries: list[tuple] = []
    activity_kinds = [k for k in kinds if k != EVENT]
    if activity_kinds:
        links = ActivityLink.objects.filter(
            **{_link_field(record): record.pk}, activity__archived_at__isnull=True
        )
        if len(activity_kinds) < len(KINDS):
            links = links.filter(kind__in=activity_kinds)
        after = _after("occurred_at", "activity_id", ACTIVITY_RANK, position)
        if after is not None:
            links = links.filter(after)
        rows = list(
            links.order_by("-occurred_at", "-activity_id").values_list("occurred_at", "activity_id")[
                : limit + 1
            ]
        )
        entries += [(t, ACTIVITY_RANK, pk) for t, pk in rows]
    if EVENT in kinds:
        from django.contrib.contenttypes.models import ContentType

        history = HistoryEntry.objects.filter(
            EVENT_Q,
            content_type=ContentType.objects.get_for_model(record, for_concrete_model=True),
            object_id=record.pk,
        )
        after = _after("created_at", "id", EVENT_RANK, position)
        if after is not None:
            history = history.filter(after)
        rows = list(history.order_by("-created_at", "-id").values_list("created_at", "id")[: limit + 1])
        entries += [(t, EVENT_RANK, pk) for t, pk in rows]
    entries.sort(key=lambda e: (e[0], e[1], e[2]), reverse=True)
    next_cursor = None
    if len(entries) > limit:
        entries = entries[:limit]
        last = entries[-1]
        next_cursor = cursor_encode([last[0], last[1], last[2]])
    activity_ids = [pk for _, rank, pk in entries if rank == ACTIVITY_RANK]
    event_ids = [pk for _, rank, pk in entries if rank == EVENT_RANK]
    activities: dict = {}
    events: dict = {}
    if activity_ids and columns:
        activities = {a["id"]: a for a in Activity.objects.filter(pk__in=activity_ids).values(*columns)}
    elif activity_ids:
        activities = {
            a.pk: a for a in Activity.objects.filter(pk__in=activity_ids).select_related("owner", "assignee")
        }
    if event_ids and columns:
        events = {
            e["id"]: e
            for e in HistoryEntry.objects.filter(pk__in=event_ids).values(
                "id", "action", "actor_id", "actor__username", "changes"
            )
        }
    elif event_ids:
        events = {e.pk: e for e in HistoryEntry.objects.filter(pk__in=event_ids).select_related("actor")}
    result = []
    for time, rank, pk in entries:
        if rank == ACTIVITY_RANK and pk in activities:
            result.append({"type": "activity", "time": time, "activity": activities[pk]})
        elif rank == EVENT_RANK and pk in events:
            result.append({"type": "event", "time": time, "event": events[pk]})
    return {"entries": result, "next_cursor": next_cursor}


def open_tasks_for(user, record, limit: int = 5) -> list[Activity]:
    """The open tasks on a record's timeline (the side panel)."""
    ids = ActivityLink.objects.filter(**{_link_field(record): record.pk}, kind=Activity.Kind.TASK).values(
        "activity_id"
    )
    return list(
        Activity.objects.filter(pk__in=ids, done_at__isnull=True, archived_at__isnull=True)
        .select_related("assignee")
        .order_by("due_at", "id")[:limit]
    )


# ---------------------------------------------------------------------------------------------------------
# Notifications


def notification_list(user, *, unread: bool = False) -> QuerySet:
    queryset = Notification.objects.filter(user_id=user.pk)
    if unread:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user_id=user.pk, read_at__isnull=True).count()
