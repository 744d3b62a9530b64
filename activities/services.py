"""Writes for activities, tasks and notifications. Every interface (API, pages) calls these.

Each function validates everything first and reports every bad field at once (`starts_at`,
`links.0.contact_id`, …), then writes inside one transaction: the activity, its links and attendees,
the field-level history, the outbox event, and (tasks with `remind_at`) the reminder, enqueued after commit.
"""

from __future__ import annotations

import datetime as dt
import logging

import nh3
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from contacts.models import Company, Contact
from core.custom_fields import custom_values_clean
from core.errors import ValidationError
from core.events import event_emit
from core.history import history_record
from core.normalize import email_normalize
from core.services import (
    model_fields_clean,
    ownership_resolve,
    raise_if,
    record_save_versioned,
    version_require,
)
from core.visibility import can, require_create, restrict, role_of

from .models import Activity, ActivityAttendee, ActivityLink, Notification
from .queries import activity_get

logger = logging.getLogger(__name__)

MAX_LINKS = 50
MAX_ADDRESSES = 50
NOTE_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "u",
    "s",
    "ul",
    "ol",
    "li",
    "a",
    "blockquote",
    "code",
    "pre",
    "h3",
    "h4",
}

COMMON = ["subject", "body", "occurred_at"]
KIND_FIELDS: dict[str, list[str]] = {
    "note": [],
    "call": ["direction", "duration_seconds", "outcome"],
    "meeting": ["starts_at", "ends_at", "location", "attendees"],
    "email": [
        "direction",
        "email_status",
        "from_address",
        "to",
        "cc",
        "message_id",
        "in_reply_to",
        "thread_id",
    ],
    "task": ["due_at", "priority", "assignee_id", "remind_at"],
}
SCALARS = [
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
    "message_id",
    "in_reply_to",
    "thread_id",
    "due_at",
    "priority",
    "remind_at",
]


def sanitize_html(text: str) -> str:
    """Notes and e-mail bodies: a small safe tag set; links keep only href and get rel=noopener."""
    return nh3.clean(
        text or "",
        tags=NOTE_TAGS,
        attributes={"a": {"href"}},
        link_rel="noopener",
        url_schemes={"http", "https", "mailto", "tel"},
    ).strip()


def _aware(value):
    if isinstance(value, dt.datetime) and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _id(errors, name, value):
    if value is None or value == "" or isinstance(value, bool):
        errors[name] = ["Enter an id."]
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        errors[name] = ["Enter an id."]
        return None


def _addresses(errors, name, value) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",") if v.strip()]
    if not isinstance(value, list | tuple):
        errors[name] = ["Expected a list of e-mail addresses."]
        return []
    if len(value) > MAX_ADDRESSES:
        errors[name] = [f"At most {MAX_ADDRESSES} addresses."]
        return []
    result = []
    for index, item in enumerate(value):
        try:
            if not isinstance(item, str):
                raise ValueError("Enter an e-mail address.")
            address = email_normalize(item)
        except ValueError as exc:
            errors[f"{name}.{index}"] = [str(exc)]
            continue
        if address not in result:
            result.append(address)
    return result


def _links_clean(actor, errors, value, current: set[tuple[str, int]]) -> list[tuple[str, int]] | None:
    """[{contact_id} | {company_id}] → [("contact", id) | ("company", id)]. A new link needs `change` on
    the record (a record the actor may not see reads as "no such record")."""
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        errors["links"] = ["Expected a list."]
        return None
    if len(value) > MAX_LINKS:
        errors["links"] = [f"At most {MAX_LINKS} links."]
        return None
    wanted: list[tuple[str, int, str]] = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            errors[f"links.{index}"] = ["Expected an object with contact_id or company_id."]
            continue
        contact_id, company_id = item.get("contact_id"), item.get("company_id")
        if (contact_id is None) == (company_id is None):
            errors[f"links.{index}"] = ["Give exactly one of contact_id and company_id."]
            continue
        kind = "contact" if contact_id is not None else "company"
        pk = _id(errors, f"links.{index}.{kind}_id", contact_id if kind == "contact" else company_id)
        if pk is not None:
            wanted.append((kind, pk, f"links.{index}.{kind}_id"))
    models = {"contact": Contact, "company": Company}
    found = {}
    for kind, model in models.items():
        ids = [pk for k, pk, _ in wanted if k == kind]
        if ids:
            found[kind] = {r.pk: r for r in restrict(model.objects.filter(pk__in=ids), actor, "view")}
    result = []
    for kind, pk, name in wanted:
        record = found.get(kind, {}).get(pk)
        if record is None:
            errors[name] = [f"No {kind} with this id."]
        elif (kind, pk) not in current and not can(actor, "change", record):
            errors[name] = [f"You may not add activities to this {kind}."]
        elif (kind, pk) not in result:
            result.append((kind, pk))
    return result


def _attendees_clean(actor, errors, value) -> list[dict] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        errors["attendees"] = ["Expected a list."]
        return None
    if len(value) > MAX_ADDRESSES:
        errors["attendees"] = [f"At most {MAX_ADDRESSES} attendees."]
        return None
    result: list[dict] = []
    contact_ids: list[tuple[int, str]] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            item = {"email": item}
        if not isinstance(item, dict) or (item.get("contact_id") is None) == (not item.get("email")):
            errors[f"attendees.{index}"] = ["Give a contact_id or an e-mail address."]
            continue
        if item.get("contact_id") is not None:
            pk = _id(errors, f"attendees.{index}.contact_id", item["contact_id"])
            if pk is not None:
                contact_ids.append((pk, f"attendees.{index}.contact_id"))
                result.append({"contact_id": pk, "email": ""})
            continue
        try:
            result.append({"contact_id": None, "email": email_normalize(str(item["email"]))})
        except ValueError as exc:
            errors[f"attendees.{index}.email"] = [str(exc)]
    if contact_ids:
        visible = set(
            restrict(Contact.objects.filter(pk__in=[pk for pk, _ in contact_ids]), actor).values_list(
                "pk", flat=True
            )
        )
        for pk, name in contact_ids:
            if pk not in visible:
                errors[name] = ["No contact with this id."]
    unique = []
    for attendee in result:
        if attendee not in unique:
            unique.append(attendee)
    return unique


def _assignee_clean(actor, errors, value):
    pk = _id(errors, "assignee_id", value)
    if pk is None:
        return None
    user = get_user_model().objects.filter(pk=pk, is_active=True).first()
    role = role_of(actor)
    if user is None:
        errors["assignee_id"] = ["No active user with this id."]
    elif role == "member" and user.pk != actor.pk and not set(user.team_ids) & set(actor.team_ids):
        errors["assignee_id"] = ["You may assign tasks only to yourself or people in your teams."]
    elif role == "manager" and user.pk != actor.pk and user.pk not in actor.managed_user_ids:
        errors["assignee_id"] = ["You may assign tasks only to people in the teams you manage."]
    return pk


def _clean(*, actor, data: dict, instance: Activity | None) -> tuple[dict, dict]:
    """Return (plan, errors); on update the plan holds only what `data` mentions."""
    if not isinstance(data, dict):
        raise ValidationError({"__all__": ["Expected an object."]})
    errors: dict[str, list[str]] = {}
    if instance is None:
        kind = data.get("kind")
        if kind not in KIND_FIELDS:
            errors["kind"] = [f"Choose one of: {', '.join(KIND_FIELDS)}."]
            raise ValidationError(errors)
    else:
        kind = instance.kind
        if data.get("kind") not in (None, kind):
            errors["kind"] = ["The kind of an activity cannot change."]
    allowed = {*COMMON, *KIND_FIELDS[kind], "links", "owner_id", "team_id", "kind", "custom"}
    for name in data:
        if name not in allowed and data[name] not in (None, "", []):
            errors[name] = [f"Not used for {Activity.Kind(kind).label.lower()}s."]

    raw = {k: data[k] for k in SCALARS if k in data and k in allowed}
    for name in ("body",):
        if isinstance(raw.get(name), str) and kind in ("note", "email"):
            raw[name] = sanitize_html(raw[name])
    for name in ("message_id", "in_reply_to", "thread_id"):
        if isinstance(raw.get(name), str):
            raw[name] = raw[name].strip().strip("<>").strip() if name != "thread_id" else raw[name].strip()
    if raw.get("message_id") == "":
        raw["message_id"] = None
    if isinstance(raw.get("from_address"), str) and raw["from_address"].strip():
        try:
            raw["from_address"] = email_normalize(raw["from_address"])
        except ValueError as exc:
            errors["from_address"] = [str(exc)]
            raw.pop("from_address")
    scalars, field_errors = model_fields_clean(Activity, raw, [k for k in SCALARS if k in raw])
    for name, messages in field_errors.items():
        errors.setdefault(name, messages)
    for name, value in list(scalars.items()):
        scalars[name] = _aware(value)
    plan: dict = {"scalars": scalars}

    def current(name):
        if name in scalars:
            return scalars[name]
        if name in errors:
            return None
        return getattr(instance, name, None) if instance is not None else None

    # Kind-specific rules
    if kind == "note" and (instance is None or "body" in data):
        body = scalars.get("body", "")
        if "body" not in errors and not nh3.clean(body or "", tags=set()).strip():
            errors["body"] = ["Write something."]
    if kind == "call":
        if current("direction") in (None, "") and "direction" not in errors:
            errors["direction"] = ["Choose in or out."]
        if scalars.get("duration_seconds") is not None and scalars["duration_seconds"] > 7 * 86400:
            errors["duration_seconds"] = ["At most a week."]
    if kind == "meeting":
        starts, ends = current("starts_at"), current("ends_at")
        if starts is None and "starts_at" not in errors:
            errors["starts_at"] = ["This field is required."]
        if starts is not None and ends is not None and ends <= starts:
            errors["ends_at"] = ["The end must be after the start."]
        plan["attendees"] = _attendees_clean(actor, errors, data.get("attendees"))
    if kind == "email":
        if instance is None:
            scalars.setdefault("email_status", Activity.EmailStatus.LOGGED)
        if current("direction") in (None, "") and "direction" not in errors:
            errors["direction"] = ["Choose in or out."]
        if (current("subject") or "") == "" and "subject" not in errors:
            errors["subject"] = ["This field is required."]
        if "to" in data:
            plan["to_addresses"] = _addresses(errors, "to", data.get("to"))
        if "cc" in data:
            plan["cc_addresses"] = _addresses(errors, "cc", data.get("cc"))
        message_id = scalars.get("message_id")
        if message_id:
            clash = Activity.objects.filter(message_id=message_id)
            if instance is not None:
                clash = clash.exclude(pk=instance.pk)
            if clash.exists():
                errors["message_id"] = ["An e-mail with this message id is already logged."]
        if instance is None and not scalars.get("thread_id"):
            parent = None
            if scalars.get("in_reply_to"):
                parent = (
                    Activity.objects.filter(message_id=scalars["in_reply_to"])
                    .values_list("thread_id", flat=True)
                    .first()
                )
            scalars["thread_id"] = parent or scalars.get("message_id") or ""
    if kind == "task":
        if (current("subject") or "") == "" and "subject" not in errors:
            errors["subject"] = ["This field is required."]
        if instance is None:
            scalars.setdefault("priority", Activity.Priority.NORMAL)
        if "priority" in scalars and scalars["priority"] in (None, ""):
            scalars["priority"] = Activity.Priority.NORMAL
        if "assignee_id" in data and data["assignee_id"] not in (None, ""):
            plan["assignee_id"] = _assignee_clean(actor, errors, data["assignee_id"])
        elif instance is None:
            plan["assignee_id"] = actor.pk
        elif "assignee_id" in data:
            plan["assignee_id"] = None

    # The time on the timeline
    if kind == "meeting" and "starts_at" in scalars:
        scalars["occurred_at"] = scalars["starts_at"]
    elif kind == "task" and scalars.get("due_at") is not None and "occurred_at" not in data:
        scalars["occurred_at"] = scalars["due_at"]
    if instance is None and scalars.get("occurred_at") is None:
        scalars["occurred_at"] = timezone.now()
    if "occurred_at" in scalars and scalars["occurred_at"] is None:
        scalars.pop("occurred_at")

    current_links = set()
    if instance is not None:
        current_links = {
            ("contact", c) if c else ("company", co)
            for c, co in instance.links.values_list("contact_id", "company_id")
        }
    plan["links"] = _links_clean(actor, errors, data.get("links"), current_links)
    if instance is None and plan["links"] is None:
        plan["links"] = []

    if "custom" in data or instance is None:
        custom, custom_errors = custom_values_clean(
            Activity.object_type(),
            data.get("custom"),
            current=instance.custom if instance is not None else None,
        )
        errors.update(custom_errors)
        plan["custom"] = custom

    owner_input = {}
    for name in ("owner_id", "team_id"):
        if name in data and data[name] is not None:
            owner_input[name] = _id(errors, name, data[name]) if data[name] != 0 else 0
    owner_id, team_id, own_errors = ownership_resolve(
        actor=actor,
        owner_id=owner_input.get("owner_id"),
        team_id=owner_input.get("team_id"),
        current_owner_id=getattr(instance, "owner_id", None),
        current_team_id=getattr(instance, "team_id", None),
        creating=instance is None,
    )
    errors.update(own_errors)
    plan["owner_id"], plan["team_id"] = owner_id, team_id
    return plan, errors


def activity_snapshot(activity: Activity) -> dict:
    """The event payload: flat field values."""
    return {
        "id": activity.pk,
        "kind": activity.kind,
        **{name: getattr(activity, name) for name in SCALARS if name != "body"},
        "to": activity.to_addresses,
        "cc": activity.cc_addresses,
        "assignee_id": activity.assignee_id,
        "done_at": activity.done_at,
        "owner_id": activity.owner_id,
        "team_id": activity.team_id,
    }


def _links_write(activity: Activity, links: list[tuple[str, int]]) -> None:
    activity.links.all().delete()
    ActivityLink.objects.bulk_create(
        ActivityLink(
            activity=activity,
            contact_id=pk if kind == "contact" else None,
            company_id=pk if kind == "company" else None,
            occurred_at=activity.occurred_at,
            kind=activity.kind,
        )
        for kind, pk in links
    )


def _links_snapshot(activity: Activity) -> list[str]:
    return sorted(
        f"contact:{c}" if c else f"company:{co}"
        for c, co in activity.links.values_list("contact_id", "company_id")
    )


def _attendees_snapshot(activity: Activity) -> list:
    return [a.email or f"contact:{a.contact_id}" for a in activity.attendees.all()]


def _reminder_schedule(activity: Activity) -> None:
    """After commit: a background task due at `remind_at` (it checks again that it is still relevant)."""
    if activity.kind != Activity.Kind.TASK or activity.remind_at is None or activity.done_at is not None:
        return
    activity_id, remind_at = activity.pk, activity.remind_at.isoformat()
    run_after = activity.remind_at

    def enqueue():
        from .tasks import task_reminder

        try:
            task_reminder.using(run_after=run_after).enqueue(activity_id, remind_at)
        except Exception:  # never fail a committed write; `crm worker` users can re-save the task
            logger.exception("could not enqueue the reminder of activity %s", activity_id)

    transaction.on_commit(enqueue)


def _save_unique(func):
    try:
        with transaction.atomic():
            return func()
    except IntegrityError as exc:
        if "message_id" in str(exc).lower() or "unique" in str(exc).lower():
            raise ValidationError({"message_id": ["An e-mail with this message id is already logged."]})
        raise


def activity_create(*, actor, data: dict) -> Activity:
    require_create(actor)
    plan, errors = _clean(actor=actor, data=dict(data), instance=None)
    raise_if(errors)

    def write():
        activity = Activity(
            kind=data["kind"],
            **plan["scalars"],
            to_addresses=plan.get("to_addresses", []),
            cc_addresses=plan.get("cc_addresses", []),
            assignee_id=plan.get("assignee_id"),
            owner_id=plan["owner_id"],
            team_id=plan["team_id"],
            custom=plan.get("custom") or {},
        )
        activity.save()
        _links_write(activity, plan["links"])
        if plan.get("attendees"):
            ActivityAttendee.objects.bulk_create(
                ActivityAttendee(activity=activity, contact_id=a["contact_id"], email=a["email"])
                for a in plan["attendees"]
            )
        snapshot = activity_snapshot(activity)
        changes = {k: (None, v) for k, v in snapshot.items() if v not in (None, "", [], {}) and k != "id"}
        links = _links_snapshot(activity)
        if links:
            changes["links"] = (None, links)
        if plan.get("attendees"):
            changes["attendees"] = (None, _attendees_snapshot(activity))
        history_record(instance=activity, actor=actor, action="created", changes=changes)
        event_emit(
            "task.created" if activity.kind == "task" else "activity.created",
            instance=activity,
            actor=actor,
            payload={**snapshot, "links": links},
        )
        _reminder_schedule(activity)
        return activity

    return _save_unique(write)


def activity_update(*, actor, activity_id: int, data: dict) -> Activity:
    """Partial update; `data["version"]` must be the version the client read (409 when stale)."""
    activity = activity_get(actor, activity_id, "change")
    data = dict(data)
    expected = version_require(data.pop("version", None))
    plan, errors = _clean(actor=actor, data=data, instance=activity)
    raise_if(errors)

    def write():
        fields = dict(plan["scalars"])
        for name in ("to_addresses", "cc_addresses", "assignee_id", "custom"):
            if name in plan:
                fields[name] = plan[name]
        fields["owner_id"], fields["team_id"] = plan["owner_id"], plan["team_id"]
        changes = {k: (getattr(activity, k), v) for k, v in fields.items() if getattr(activity, k) != v}
        old_remind = activity.remind_at
        before_links, before_attendees = _links_snapshot(activity), _attendees_snapshot(activity)
        record_save_versioned(activity, expected_version=expected, fields=fields)
        if plan["links"] is not None:
            _links_write(activity, plan["links"])
        elif "occurred_at" in changes:
            activity.links.update(occurred_at=activity.occurred_at)
        if plan.get("attendees") is not None:
            activity.attendees.all().delete()
            ActivityAttendee.objects.bulk_create(
                ActivityAttendee(activity=activity, contact_id=a["contact_id"], email=a["email"])
                for a in plan["attendees"]
            )
        after_links, after_attendees = _links_snapshot(activity), _attendees_snapshot(activity)
        if after_links != before_links:
            changes["links"] = (before_links, after_links)
        if after_attendees != before_attendees:
            changes["attendees"] = (before_attendees, after_attendees)
        if changes:
            history_record(instance=activity, actor=actor, action="updated", changes=changes)
            name = "task.updated" if activity.kind == "task" else "activity.updated"
            event_emit(
                name,
                instance=activity,
                actor=actor,
                payload={**activity_snapshot(activity), "changed": sorted(changes)},
            )
        if activity.remind_at != old_remind:
            _reminder_schedule(activity)
        return activity

    return _save_unique(write)


def _set_archived(actor, activity_id: int, archived: bool) -> Activity:
    activity = activity_get(actor, activity_id, "change")
    if (activity.archived_at is not None) == archived:
        return activity
    with transaction.atomic():
        record_save_versioned(
            activity,
            expected_version=activity.version,
            fields={"archived_at": timezone.now() if archived else None},
        )
        history_record(
            instance=activity,
            actor=actor,
            action="archived" if archived else "restored",
            changes={"archived": (not archived, archived)},
        )
        event_emit(
            f"activity.{'archived' if archived else 'restored'}",
            instance=activity,
            actor=actor,
            payload=activity_snapshot(activity),
        )
    return activity


def activity_archive(*, actor, activity_id: int) -> Activity:
    return _set_archived(actor, activity_id, True)


def activity_restore(*, actor, activity_id: int) -> Activity:
    return _set_archived(actor, activity_id, False)


def _set_done(actor, activity_id: int, done: bool) -> Activity:
    activity = activity_get(actor, activity_id, "complete")
    if (activity.done_at is not None) == done:
        return activity
    with transaction.atomic():
        old = activity.done_at
        record_save_versioned(
            activity, expected_version=activity.version, fields={"done_at": timezone.now() if done else None}
        )
        history_record(
            instance=activity, actor=actor, action="updated", changes={"done_at": (old, activity.done_at)}
        )
        event_emit(
            "task.completed" if done else "task.reopened",
            instance=activity,
            actor=actor,
            payload=activity_snapshot(activity),
        )
        if not done:
            _reminder_schedule(activity)
    return activity


def task_complete(*, actor, activity_id: int) -> Activity:
    return _set_done(actor, activity_id, True)


def task_reopen(*, actor, activity_id: int) -> Activity:
    return _set_done(actor, activity_id, False)


# ---------------------------------------------------------------------------------------------------------
# Reminders and notifications


def reminder_deliver(*, activity_id: int, remind_at: str) -> Notification | None:
    """Called by the background task when a reminder is due. Idempotent: nothing happens when the task is
    gone, done, archived, its `remind_at` moved since it was scheduled, or this reminder was already
    delivered; otherwise one in-app notification and (when the user has an address) one e-mail."""
    from django.utils.dateparse import parse_datetime

    activity = Activity.objects.select_related("assignee", "owner").filter(pk=activity_id).first()
    due = parse_datetime(remind_at) if isinstance(remind_at, str) else None
    if (
        activity is None
        or due is None
        or activity.kind != Activity.Kind.TASK
        or activity.done_at is not None
        or activity.archived_at is not None
        or activity.remind_at != due
    ):
        return None
    user = activity.assignee or activity.owner
    if user is None or not user.is_active:
        return None
    from django.urls import reverse

    key = f"reminder:{activity.pk}:{due.isoformat()}"
    text = f"Reminder: {activity.subject}"
    if activity.due_at:
        text += f" (due {timezone.localtime(activity.due_at):%Y-%m-%d %H:%M})"
    with transaction.atomic():
        notification, created = Notification.objects.get_or_create(
            key=key,
            defaults={
                "user": user,
                "text": text[:300],
                "url": reverse("activities:task_list"),
                "activity": activity,
            },
        )
    if created and user.email:
        send_mail(
            subject=text[:200],
            message=f"{text}\n\n{activity.body}".strip(),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
            fail_silently=False,
        )
    return notification if created else None


def notifications_mark_read(*, actor, ids: list[int] | None = None) -> int:
    """Mark the actor's notifications read (all unread ones when `ids` is None)."""
    queryset = Notification.objects.filter(user_id=actor.pk, read_at__isnull=True)
    if ids is not None:
        if not isinstance(ids, list | tuple) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise ValidationError({"ids": ["Expected a list of ids."]})
        queryset = queryset.filter(pk__in=ids)
    return queryset.update(read_at=timezone.now())
