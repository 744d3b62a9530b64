"""The timeline tab with its composer, filters and "load more", the open-tasks panel, My tasks with
one-click completion, notifications and the bell; query-count guards on the timeline and task pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.models import Activity, ActivityLink, Notification

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _detail(contact, **query):
    params = "&".join(f"{k}={v}" for k, v in {"tab": "timeline", **query}.items())
    return f"{reverse('contacts:contact_detail', args=[contact.pk])}?{params}"


def test_timeline_tab_shows_entries_composer_and_filters(org, page_as, shared):
    from activities.services import activity_create

    contact = shared["contact"]
    activity_create(
        actor=org.owner,
        data={"kind": "note", "body": "<p>Loves <em>COBOL</em></p>", "links": [{"contact_id": contact.pk}]},
    )
    activity_create(
        actor=org.owner,
        data={"kind": "call", "direction": "out", "outcome": "busy", "links": [{"contact_id": contact.pk}]},
    )
    response = page_as(org.owner).get(_detail(contact))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Loves <em>COBOL</em>" in html and "Busy" in html and "created this record" in html
    assert 'id="composer"' in html and "Log note" in html
    calls = page_as(org.owner).get(
        reverse("activities:contact_timeline", args=[contact.pk]) + "?kind=call", **HTMX
    )
    text = calls.content.decode()
    assert "Busy" in text and "COBOL" not in text and "created this record" not in text
    # read-only users see the timeline but get no composer
    readonly = page_as(org.readonly).get(_detail(contact)).content.decode()
    assert "COBOL" in readonly and 'id="composer"' not in readonly
    assert page_as(org.other).get(_detail(contact)).status_code == 404


def test_composer_logs_and_shows_errors_beside_fields(org, page_as, shared):
    contact = shared["contact"]
    client = page_as(org.teammate)
    url = reverse("activities:contact_compose", args=[contact.pk])
    form = client.get(url + "?kind=meeting", **HTMX).content.decode()
    assert 'name="starts_at"' in form and 'name="duration_minutes"' not in form

    bad = client.post(
        url,
        {
            "kind": "meeting",
            "subject": "Demo",
            "starts_at": "2030-01-01T10:00",
            "ends_at": "2030-01-01T09:00",
        },
        **HTMX,
    )
    html = bad.content.decode()
    assert bad.status_code == 200 and "The end must be after the start." in html
    assert 'id="id_ends_at_errors"' in html
    assert Activity.objects.count() == 0

    bad_call = client.post(url, {"kind": "call", "duration_minutes": "5"}, **HTMX).content.decode()
    assert 'id="id_direction_errors"' in bad_call

    ok = client.post(
        url, {"kind": "call", "direction": "in", "outcome": "connected", "duration_minutes": "12"}, **HTMX
    )
    assert ok.status_code == 200 and "Connected" in ok.content.decode()
    call = Activity.objects.get()
    assert call.duration_seconds == 720 and call.owner_id == org.teammate.pk
    assert list(call.links.values_list("contact_id", flat=True)) == [contact.pk]

    plain = client.post(url, {"kind": "note", "body": "first line\n<b>not bold</b>\n\nsecond"})
    assert plain.status_code == 302 and plain["Location"].endswith("?tab=timeline")
    note = Activity.objects.get(kind="note")
    assert note.body == "<p>first line<br>&lt;b&gt;not bold&lt;/b&gt;</p><p>second</p>"

    company_url = reverse("activities:company_compose", args=[shared["company"].pk])
    assert client.post(company_url, {"kind": "task", "subject": "Follow up"}).status_code == 302
    assert page_as(org.readonly).post(url, {"kind": "note", "body": "x"}).status_code == 403


def test_load_more_pages_through_the_timeline(org, page_as, shared):
    contact = shared["contact"]
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    activities = Activity.objects.bulk_create(
        Activity(
            kind="note",
            body=f"<p>entry-{i:03d}</p>",
            occurred_at=start + dt.timedelta(minutes=i),
            owner=org.owner,
        )
        for i in range(45)
    )
    ActivityLink.objects.bulk_create(
        ActivityLink(activity=a, contact=contact, occurred_at=a.occurred_at, kind="note") for a in activities
    )
    client = page_as(org.owner)
    first = client.get(_detail(contact)).content.decode()
    # page 1: the contact's "created" event (now) and entries 44..26
    assert "created this record" in first and "entry-044" in first and "entry-026" in first
    assert "entry-025" not in first
    import re

    more = re.search(r'hx-get="([^"]*part=entries[^"]*)"', first).group(1).replace("&amp;", "&")
    second = client.get(more, **HTMX).content.decode()
    assert "entry-025" in second and "entry-006" in second and "entry-026" not in second
    more = re.search(r'hx-get="([^"]*part=entries[^"]*)"', second).group(1).replace("&amp;", "&")
    third = client.get(more, **HTMX).content.decode()
    assert "entry-005" in third and "entry-000" in third and "entry-006" not in third
    assert "part=entries" not in third


def test_timeline_tab_queries_do_not_grow(org, page_as, shared):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from activities.services import activity_create

    client = page_as(org.manager)
    counts = []
    for n, shown in ((3, 3), (27, 19)):
        for i in range(n):
            activity_create(
                actor=org.owner,
                data={
                    "kind": "task",
                    "subject": f"t{i}",
                    "assignee_id": org.teammate.pk,
                    "due_at": timezone.now() - dt.timedelta(days=1),  # the "created" event stays on page 1
                    "links": [{"contact_id": shared["contact"].pk}],
                },
            )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(_detail(shared["contact"]))
        assert response.content.decode().count('class="tl-entry tl-task') == shown
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_open_tasks_panel(org, page_as, shared):
    from activities.services import activity_create, task_complete

    link = [{"company_id": shared["company"].pk}]
    activity_create(actor=org.owner, data={"kind": "task", "subject": "Open one", "links": link})
    done = activity_create(actor=org.owner, data={"kind": "task", "subject": "Closed one", "links": link})
    task_complete(actor=org.owner, activity_id=done.pk)
    html = (
        page_as(org.owner)
        .get(reverse("contacts:company_detail", args=[shared["company"].pk]))
        .content.decode()
    )
    assert "Open tasks" in html and "Open one" in html and "Closed one" not in html


def test_my_tasks_groups_and_one_click_completion(org, page_as, shared):
    from activities.services import activity_create

    now = timezone.now()
    client = page_as(org.owner)
    empty = client.get(reverse("activities:task_list")).content.decode()
    assert "Nothing to do" in empty

    late = activity_create(
        actor=org.owner,
        data={
            "kind": "task",
            "subject": "Late one",
            "due_at": now - dt.timedelta(days=3),
            "links": [{"contact_id": shared["contact"].pk}],
        },
    )
    activity_create(
        actor=org.owner, data={"kind": "task", "subject": "Soon one", "due_at": now + dt.timedelta(days=3)}
    )
    activity_create(actor=org.teammate, data={"kind": "task", "subject": "Teammate task"})
    html = client.get(reverse("activities:task_list")).content.decode()
    assert html.index("Overdue") < html.index("Late one") < html.index("Upcoming") < html.index("Soon one")
    assert "Teammate task" not in html and "Grace Hopper" in html

    response = client.post(reverse("activities:task_complete", args=[late.pk]), **HTMX)
    assert response.status_code == 200 and "is-done" in response.content.decode()
    assert Activity.objects.get(pk=late.pk).done_at is not None
    assert "Late one" not in client.get(reverse("activities:task_list")).content.decode()
    reopened = client.post(reverse("activities:task_reopen", args=[late.pk]), **HTMX)
    assert reopened.status_code == 200 and Activity.objects.get(pk=late.pk).done_at is None

    manager = (
        page_as(org.manager)
        .get(reverse("activities:task_list") + f"?assignee={org.teammate.pk}")
        .content.decode()
    )
    assert "Teammate task" in manager and 'name="assignee"' in manager
    member = (
        page_as(org.owner)
        .get(reverse("activities:task_list") + f"?assignee={org.teammate.pk}")
        .content.decode()
    )
    assert "Teammate task" not in member and 'name="assignee"' not in member


def test_task_page_queries_do_not_grow(org, page_as, shared):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from activities.services import activity_create

    def add(n):
        for i in range(n):
            activity_create(
                actor=org.owner,
                data={
                    "kind": "task",
                    "subject": f"t{i}",
                    "links": [{"contact_id": shared["contact"].pk}, {"company_id": shared["company"].pk}],
                },
            )

    client = page_as(org.owner)
    counts = []
    for n, total in ((3, 3), (27, 30)):
        add(n)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("activities:task_list"))
        assert response.content.decode().count('class="task-row') == total
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_notifications_page_and_bell(org, page_as):
    Notification.objects.create(user=org.owner, text="Reminder: Call Grace", url="/tasks/")
    Notification.objects.create(user=org.teammate, text="Not yours")
    client = page_as(org.owner)
    home = client.get(reverse("contacts:contact_list")).content.decode()
    assert 'class="notification-count">1<' in home
    page = client.get(reverse("activities:notifications")).content.decode()
    assert "Reminder: Call Grace" in page and "Not yours" not in page and "is-unread" in page
    assert client.post(reverse("activities:notifications_read")).status_code == 302
    assert Notification.objects.get(user=org.owner).read_at is not None
    assert Notification.objects.get(user=org.teammate).read_at is None
    assert "notification-count" not in client.get(reverse("contacts:contact_list")).content.decode()
