"""Background entry points of the activities app: they take ids and call a service; idempotent."""

from django_tasks import task

from . import services


@task()
def task_reminder(activity_id: int, remind_at: str) -> bool:
    """Due at the task's `remind_at`: notify the assignee unless the reminder is no longer relevant."""
    return services.reminder_deliver(activity_id=activity_id, remind_at=remind_at) is not None
