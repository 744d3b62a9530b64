"""The outbox: events commit with the write, are delivered after commit, once per consumer."""

from __future__ import annotations

import pytest
from django.db import transaction

from core import events
from core.models import EventDelivery, OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen():
    received: list[tuple[str, int]] = []

    def record(event):
        received.append((event.name, event.object_id))

    events.consumer("test-recorder", "contact.*")(record)

    yield received
    events._consumers.pop("test-recorder", None)
    events._consumers.pop("test-broken", None)


def test_event_rolls_back_with_the_write(org):
    from contacts.services import contact_create

    with pytest.raises(RuntimeError), transaction.atomic():
        contact_create(actor=org.owner, data={"first_name": "Gone"})
        raise RuntimeError("the request failed after the write")
    assert OutboxEvent.objects.count() == 0


def test_delivery_is_idempotent_and_survives_a_failing_consumer(org, seen):
    from contacts.services import contact_create

    contact = contact_create(actor=org.owner, data={"first_name": "Ada"})
    calls = {"n": 0}

    def flaky(event):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("down")

    events.consumer("test-broken", "contact.created")(flaky)
    assert events.deliver_pending() == 0  # the flaky consumer failed: not complete yet
    assert seen == [("contact.created", contact.pk)]
    event = OutboxEvent.objects.get()
    assert event.delivered_at is None and event.attempts == 1 and "down" in event.last_error
    assert events.deliver_pending() == 1
    assert seen == [("contact.created", contact.pk)]  # not delivered twice to the healthy consumer
    assert calls["n"] == 2
    assert EventDelivery.objects.filter(event=event).count() == 2
    assert events.deliver_pending() == 0


def test_worker_task_delivers_after_commit(org, seen, django_capture_on_commit_callbacks):
    from contacts.services import contact_create
    from core.tasks import deliver_events

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        contact = contact_create(actor=org.owner, data={"first_name": "Ada"})
    assert callbacks, "delivery is scheduled after commit"
    assert seen == []
    assert deliver_events.call() == 1
    assert seen == [("contact.created", contact.pk)]
