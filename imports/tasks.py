"""Background entry points of the imports app: they take ids and call the engine; idempotent."""

from django_tasks import task


@task()
def import_run(job_id: int) -> None:
    from .engine import job_run

    job_run(job_id)


@task()
def import_undo_run(job_id: int, actor_id: int) -> None:
    from users.models import User

    from .engine import job_undo
    from .models import ImportJob

    if ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.UNDOING).exists():
        job_undo(job_id, User.objects.get(pk=actor_id))
