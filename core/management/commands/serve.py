"""`crm serve`: the web server (gunicorn, one sync worker per core, which measured fastest here)."""

import os
import shutil
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the CRM on http://HOST:PORT with gunicorn (PORT from the environment or --port)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "0")) or None
        )
        parser.add_argument("--dev", action="store_true", help="Django's auto-reloading development server.")

    def handle(self, *args, port, host, workers, dev, **options):
        if dev:
            from django.core.management import call_command

            call_command("runserver", f"{host}:{port}")
            return
        workers = workers or max(2, os.cpu_count() or 2)
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or "gunicorn"
        self.stderr.write(f"Serving on http://{host}:{port}/ with {workers} workers (Ctrl+C stops)")
        os.execv(  # noqa: S606  (replace this process with gunicorn, no shell)
            gunicorn,
            [
                gunicorn,
                "crm.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(workers),
                "--access-logfile",
                "-" if os.environ.get("ACCESS_LOG") else "/dev/null",
                "--timeout",
                "120",
            ],
        )
