"""timeline: `GET /api/v1/contacts/{id}/timeline?limit=20` for a contact with 10,000 timeline entries, at
page 1 and at a deep cursor (entry 5,000), through a real server.

The standard benchmark database (N contacts) gets one contact of Sales EMEA (so `lukas`, a member of that
team, sees it) with 9,500 activities (notes, calls, meetings, e-mails, tasks over three years) and 500
system events (owner changes in its history), plus a light sprinkle of activities on other contacts.
Measured for the admin and for the member, one request at a time, p50 and p95.

The floor is the same work in plain SQL on the raw DB-API cursor in this process, same run: the contact
with its visibility condition, the two keyset range scans (activity links by (contact, occurred_at,
activity) and history entries by time, 21 rows each, after the same cursor) and the page's activity rows.
"""

from __future__ import annotations

import datetime as dt
import json
import random

from bench.common import (
    Reporter,
    Server,
    bearer,
    bench_users,
    get_ok,
    log,
    percentile,
    placeholders,
    raw_cursor,
    time_calls,
    visibility_sql,
)

ACTIVITIES = 9_500
EVENTS = 500
LIMIT = 20
DEEP_INDEX = 5_000
SUBJECT = "Timeline benchmark contact"


def requests_per_case(scale: int) -> int:
    return 60 if scale <= 10_000 else 300


def _prepare(users) -> object:
    """The contact with 10,000 entries (built once per benchmark database)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone

    from activities.models import Activity, ActivityLink
    from contacts.models import Contact
    from core.models import HistoryEntry

    team_id = users.member_team.team_ids[0]
    contact = Contact.objects.filter(first_name=SUBJECT).first()
    if contact is not None and ActivityLink.objects.filter(contact=contact).count() >= ACTIVITIES:
        log(f"reusing the timeline contact #{contact.pk}")
        return contact
    log(f"adding a contact with {ACTIVITIES:,} activities and {EVENTS:,} events …")
    rng = random.Random(424242)  # noqa: S311 (benchmark data, not security)
    now = timezone.now()
    kinds = ["note", "call", "meeting", "email", "task"]
    with transaction.atomic():
        contact = Contact.objects.create(first_name=SUBJECT, owner=users.member_team, team_id=team_id)
        rows = []
        for index in range(ACTIVITIES):
            kind = kinds[index % len(kinds)]
            when = now - dt.timedelta(seconds=rng.randrange(3 * 365 * 86400))
            rows.append(
                Activity(
                    kind=kind,
                    subject=f"{kind} {index}",
                    body="<p>Talked about the renewal and next quarter's order.</p>"
                    if kind == "note"
                    else "",
                    occurred_at=when,
                    direction="out" if kind in ("call", "email") else "",
                    outcome="connected" if kind == "call" else "",
                    duration_seconds=300 if kind == "call" else None,
                    starts_at=when if kind == "meeting" else None,
                    ends_at=when + dt.timedelta(hours=1) if kind == "meeting" else None,
                    email_status="logged" if kind == "email" else "",
                    priority="normal" if kind == "task" else "",
                    due_at=when if kind == "task" else None,
                    assignee=users.member_team if kind == "task" else None,
                    owner=users.member_team,
                    team_id=team_id,
                )
            )
        activities = Activity.objects.bulk_create(rows, batch_size=2000)
        ActivityLink.objects.bulk_create(
            (
                ActivityLink(activity=a, contact=contact, occurred_at=a.occurred_at, kind=a.kind)
                for a in activities
            ),
            batch_size=2000,
        )
        content_type = ContentType.objects.get_for_model(Contact)
        HistoryEntry.objects.bulk_create(
            (
                HistoryEntry(
                    content_type=content_type,
                    object_id=contact.pk,
                    action="updated",
                    actor=users.admin,
                    created_at=now - dt.timedelta(seconds=rng.randrange(3 * 365 * 86400)),
                    changes={"owner_id": [users.admin.pk, users.member_team.pk]},
                )
                for _ in range(EVENTS)
            ),
            batch_size=2000,
        )
        # Other customers have timelines too: one note on every 20th contact.
        others = list(Contact.objects.exclude(pk=contact.pk).values_list("pk", flat=True)[::20])
        notes = Activity.objects.bulk_create(
            (Activity(kind="note", body="<p>x</p>", occurred_at=now, owner=users.admin) for _ in others),
            batch_size=2000,
        )
        ActivityLink.objects.bulk_create(
            (
                ActivityLink(activity=a, contact_id=pk, occurred_at=a.occurred_at, kind="note")
                for a, pk in zip(notes, others, strict=True)
            ),
            batch_size=2000,
        )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return contact


def _entries(contact) -> list[tuple]:
    """Every timeline entry of the contact as (time, rank, id), newest first (ranks as in the query)."""
    from django.contrib.contenttypes.models import ContentType

    from activities.models import ActivityLink
    from activities.queries import ACTIVITY_RANK, EVENT_Q, EVENT_RANK
    from core.models import HistoryEntry

    entries = [
        (t, ACTIVITY_RANK, pk)
        for t, pk in ActivityLink.objects.filter(
            contact=contact, activity__archived_at__isnull=True
        ).values_list("occurred_at", "activity_id")
    ]
    content_type = ContentType.objects.get_for_model(contact)
    entries += [
        (t, EVENT_RANK, pk)
        for t, pk in HistoryEntry.objects.filter(
            EVENT_Q, content_type=content_type, object_id=contact.pk
        ).values_list("created_at", "id")
    ]
    return sorted(entries, reverse=True)


def run(*, scale: int, db_url: str, **_) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from contacts.models import Contact
    from core.pagination import cursor_encode

    users = bench_users()
    contact = _prepare(users)
    entries = _entries(contact)
    log(f"timeline contact #{contact.pk}: {len(entries):,} entries")
    reporter = Reporter("timeline", connection.vendor, scale)
    count = requests_per_case(scale)
    content_type_id = ContentType.objects.get_for_model(Contact).pk
    cursor = raw_cursor()
    deep = entries[DEEP_INDEX - 1]
    deep_cursor = cursor_encode(list(deep))

    def floor_statements(user, position):
        where, params = visibility_sql(user, "c")
        contact_sql = "SELECT c.id, c.owner_id, c.team_id FROM contacts_contact c WHERE c.id = %s"
        contact_params = [contact.pk]
        if where:
            contact_sql += f" AND {where}"
            contact_params += params
        links_sql = (
            "SELECT l.occurred_at, l.activity_id FROM activities_activitylink l "
            "JOIN activities_activity a ON a.id = l.activity_id "
            "WHERE l.contact_id = %s AND a.archived_at IS NULL"
        )
        links_params: list = [contact.pk]
        history_sql = (
            "SELECT h.created_at, h.id FROM core_historyentry h "
            "WHERE h.content_type_id = %s AND h.object_id = %s"
        )
        history_params: list = [content_type_id, contact.pk]
        if position is not None:
            time, rank, pk = position
            # the cursor sits on an activity (rank 1) or an event (rank 0); same conditions as the query
            if rank == 1:
                links_sql += " AND (l.occurred_at < %s OR (l.occurred_at = %s AND l.activity_id < %s))"
                links_params += [time, time, pk]
                history_sql += " AND h.created_at <= %s"
                history_params += [time]
            else:
                links_sql += " AND l.occurred_at < %s"
                links_params += [time]
                history_sql += " AND (h.created_at < %s OR (h.created_at = %s AND h.id < %s))"
                history_params += [time, time, pk]
        links_sql += " ORDER BY l.occurred_at DESC, l.activity_id DESC LIMIT %s"
        history_sql += " ORDER BY h.created_at DESC, h.id DESC LIMIT %s"
        return [
            (placeholders(contact_sql), contact_params),
            (placeholders(links_sql), [*links_params, LIMIT + 1]),
            (placeholders(history_sql), [*history_params, LIMIT + 1]),
        ]

    def _db_value(value):
        if connection.vendor == "sqlite" and isinstance(value, dt.datetime):
            return connection.ops.adapt_datetimefield_value(value)
        return value

    with Server() as server:
        for label, user in (("admin", users.admin), ("member", users.member_team)):
            for depth, position, api_cursor, offset in (
                ("page1", None, None, 0),
                ("deep", deep, deep_cursor, DEEP_INDEX),
            ):
                headers = bearer(user)
                path = f"/api/v1/contacts/{contact.pk}/timeline?limit={LIMIT}"
                if api_cursor:
                    path += f"&cursor={api_cursor}"
                body = json.loads(get_ok(server.port, path, headers))
                got = [(i["activity"] or i["event"])["id"] for i in body["items"]]
                expected = [pk for _, _, pk in entries[offset : offset + LIMIT]]
                if got != expected:
                    raise RuntimeError(
                        f"{label} {depth}: the API answered {got[:3]}… but expected {expected[:3]}…"
                    )
                statements = [
                    (sql, [_db_value(p) for p in params]) for sql, params in floor_statements(user, position)
                ]
                activity_ids = [pk for _, rank, pk in entries[offset : offset + LIMIT] if rank == 1]
                page_sql = placeholders(
                    f"SELECT * FROM activities_activity WHERE id IN ({', '.join(['%s'] * len(activity_ids))})"
                )

                def floor(statements=statements, page_sql=page_sql, activity_ids=activity_ids):
                    for sql, params in statements:
                        cursor.execute(sql, params)
                        cursor.fetchall()
                    if activity_ids:
                        cursor.execute(page_sql, activity_ids)
                        cursor.fetchall()

                floor()
                samples = time_calls(
                    lambda path=path, headers=headers: get_ok(server.port, path, headers), count
                )
                floor_samples = time_calls(floor, count)
                for p in (50, 95):
                    reporter.emit(
                        f"{label}_{depth}_p{p}_ms", percentile(samples, p), percentile(floor_samples, p)
                    )
    log(f"timeline: {count} sequential requests per case through gunicorn -w 2, {LIMIT} entries a page;")
    log("floor = the contact's visibility check, both keyset range scans and the page's rows, plain SQL.")
