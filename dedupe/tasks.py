"""Background entry points of the dedupe app (django-tasks, run by `crm worker`)."""

from django_tasks import task


@task()
def find_duplicates(kind: str) -> dict:
    from . import jobs

    return jobs.run(kind).as_dict()


@task()
def merge_groups(actor_id: int, group_ids: list[int]) -> dict:
    from users.models import User

    from . import services

    actor = User.objects.get(pk=actor_id)
    merged, skipped = services.groups_merge(actor=actor, group_ids=group_ids)
    return {"merged": merged, "skipped": skipped}
