"""`crm worker`: runs background tasks (django-tasks, database backend) and delivers pending events."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from core.events import deliver_pending


class Command(BaseCommand):
    help = "Run the background worker: queued tasks and the event outbox."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="Process what is pending, then exit.")
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args, batch, interval, **options):
        backlog = deliver_pending(limit=100000)
        if backlog:
            self.stderr.write(f"Delivered {backlog} pending events.")
        worker_options = {"queue_name": "*", "interval": interval, "reload": False, "startup_delay": False}
        if batch:
            worker_options["batch"] = True
        call_command("db_worker", **worker_options)
