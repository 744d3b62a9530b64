"""`crm bench NAME [--scale N] [--db-url URL] [--keep]`: run `bench/<name with - → _>.py`.

The benchmark runs against its own database (never the installation's): a SQLite file under
var/bench/, or `crm_bench_<scale>` on the PostgreSQL server `--db-url` names. This command prepares that
database's place, then runs the benchmark in a child process whose DATABASE_URL points at it, so that
everything — migrations, the seed, the in-process floor queries and the gunicorn server — uses it.
"""

from __future__ import annotations

import importlib
import keyword
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

INNER_ENV = "CRM_BENCH_INNER"


class Command(BaseCommand):
    help = (
        "Run a benchmark (contacts-list, contacts-search, contacts-get, import, …) at a scale on its own "
        "database, filled with the demo seed and reused while it matches. Prints one JSON line per figure "
        "on stdout (see bench/README.md); progress on stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="contacts-list, contacts-search or contacts-get")
        parser.add_argument("--scale", type=int, default=2000, help="Contacts in the benchmark database.")
        parser.add_argument(
            "--db-url",
            default=None,
            help="A PostgreSQL server (postgres://user@host:port/any) to run on; SQLite when omitted.",
        )
        parser.add_argument(
            "--keep",
            action="store_true",
            help="Keep the benchmark database for the next run (always kept from 100,000 contacts up).",
        )
        parser.add_argument("--fresh", action="store_true", help="Rebuild the benchmark database.")

    def handle(self, *args, name, scale, db_url, keep, fresh, **options):
        from bench import common

        module_name = name.replace("-", "_")
        if keyword.iskeyword(module_name):  # `crm bench import` runs bench/import_.py
            module_name += "_"
        if not module_name.isidentifier() or module_name in {"common", "tests"}:
            raise CommandError(f"unknown benchmark {name!r}")
        try:
            module = importlib.import_module(f"bench.{module_name}")
        except ModuleNotFoundError:
            raise CommandError(f"unknown benchmark {name!r}: there is no bench/{module_name}.py")
        if scale < 100:
            raise CommandError("--scale must be at least 100.")

        if os.environ.get(INNER_ENV):  # the child: Django already points at the benchmark database
            info = common.prepare(scale)
            module.run(scale=scale, db_url=os.environ["DATABASE_URL"], seed_info=info)
            return

        try:
            url = common.bench_database_url(scale, db_url, Path(settings.VAR_DIR))
        except ValueError as exc:
            raise CommandError(str(exc))
        marker = None if fresh else common.marker_read(url)
        if marker and marker["scale"] == scale and marker["generator"] == common.GENERATOR_VERSION:
            common.log(f"{name}: reusing {common.vendor_of(url)} benchmark database at {scale:,} contacts")
        else:
            common.log(
                f"{name}: creating the {common.vendor_of(url)} benchmark database for {scale:,} contacts"
            )
            common.database_reset(url)
        base_dir = Path(__file__).resolve().parents[3]
        env = {
            **os.environ,
            "DATABASE_URL": url,
            INNER_ENV: "1",
            "DJANGO_SETTINGS_MODULE": "crm.settings",
            "PYTHONPATH": os.pathsep.join(p for p in [str(base_dir), os.environ.get("PYTHONPATH", "")] if p),
        }
        command = [sys.executable, "-m", "django", "bench", name, "--scale", str(scale)]
        try:
            completed = subprocess.run(command, cwd=base_dir, env=env, check=False)  # noqa: S603
        except KeyboardInterrupt:
            raise CommandError("interrupted")
        finally:
            if not keep and scale < common.KEEP_FROM_SCALE:
                common.database_drop(url)
        if completed.returncode:
            raise CommandError(f"{name} failed (exit status {completed.returncode})")
