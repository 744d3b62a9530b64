"""Domain events through a transactional outbox.

Services call `event_emit` inside their transaction; the event row commits or rolls back with the write.
After commit, a background task (run by `crm worker`) hands pending events to the registered consumers.
Each (event, consumer) pair is recorded once, so a consumer never sees an event twice even when delivery
is retried after a crash.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable, Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from .history import to_json_value
from .models import EventDelivery, OutboxEvent

logger = logging.getLogger(__name__)

Consumer = Callable[[OutboxEvent], None]
MAX_ATTEMPTS = 10
_consumers: dict[str, tuple[str, Consumer]] = {}


def consumer(name: str, pattern: str = "*") -> Callable[[Consumer], Consumer]:
    """Register a consumer for events whose name matches `pattern` (shell-style, e.g. "contact.*")."""

    def register(func: Consumer) -> Consumer:
        _consumers[name] = (pattern, func)
        return func

    return register


def registered_consumers() -> dict[str, tuple[str, Consumer]]:
    return dict(_consumers)


def _schedule_delivery() -> None:
    from .tasks import deliver_events

    try:
        deliver_events.enqueue()
    except Exception:  # the worker also sweeps pending events on its own; never fail a committed write
        logger.exception("could not enqueue event delivery")


def event_emit(name: str, *, instance=None, actor=None, payload: dict | None = None) -> OutboxEvent:
    event = OutboxEvent.objects.create(
        name=name,
        object_type=instance._meta.label_lower if instance is not None else "",
        object_id=getattr(instance, "pk", None),
        actor_id=getattr(actor, "pk", None),
        payload=to_json_value(payload or {}),
    )
    transaction.on_commit(_schedule_delivery)
    return event


def event_emit_bulk(name: str, *, model, actor, rows: Iterable[tuple[int, dict]], batch_size=2000) -> int:
    events = [
        OutboxEvent(
            name=name,
            object_type=model._meta.label_lower,
            object_id=object_id,
            actor_id=getattr(actor, "pk", None),
            payload=to_json_value(payload),
        )
        for object_id, payload in rows
    ]
    OutboxEvent.objects.bulk_create(events, batch_size=batch_size)
    if events:
        transaction.on_commit(_schedule_delivery)
    return len(events)


def deliver_pending(limit: int = 500) -> int:
    """Hand pending events to consumers; returns how many events were completed. Idempotent."""
    done = 0
    pending = list(
        OutboxEvent.objects.filter(delivered_at__isnull=True, attempts__lt=MAX_ATTEMPTS).order_by("id")[
            :limit
        ]
    )
    for event in pending:
        ok = True
        for consumer_name, (pattern, func) in _consumers.items():
            if not fnmatch.fnmatchcase(event.name, pattern):
                continue
            if EventDelivery.objects.filter(event=event, consumer=consumer_name).exists():
                continue
            try:
                with transaction.atomic():
                    func(event)
                    EventDelivery.objects.create(event=event, consumer=consumer_name)
            except IntegrityError:
                continue  # another worker delivered it at the same time
            except Exception as exc:  # a failing consumer must not block the others
                ok = False
                logger.exception("event consumer %s failed on event %s", consumer_name, event.pk)
                OutboxEvent.objects.filter(pk=event.pk).update(last_error=f"{consumer_name}: {exc}"[:2000])
        if ok:
            OutboxEvent.objects.filter(pk=event.pk).update(delivered_at=timezone.now())
            done += 1
        else:
            OutboxEvent.objects.filter(pk=event.pk).update(attempts=event.attempts + 1)
    return done
