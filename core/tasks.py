"""Background entry points of the core: they take ids or nothing and call a service; idempotent."""

from django_tasks import task

from . import events


@task()
def deliver_events() -> int:
    total = 0
    while True:
        delivered = events.deliver_pending(limit=500)
        total += delivered
        if delivered < 500:
            return total
