"""`crm import KIND FILE [--mapping JSON_OR_TEMPLATE] [--key KEY] [--dry-run] [--user NAME] [--report PATH]`.

Runs the import in this process (no worker needed) with a progress bar on stderr, writes the per-row report
to `--report` and prints the summary on stdout. Exits non-zero only when the file itself cannot be read
(or the options are wrong); bad rows are reported, not fatal.
"""

from __future__ import annotations

import csv
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from core.errors import ServiceError


class Command(BaseCommand):
    help = "Import contacts, companies, products or orders from a CSV, XLSX (or, for contacts, vCard) file."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["contacts", "companies", "products", "orders"])
        parser.add_argument("file")
        parser.add_argument("--mapping", help='JSON {"column": "field"} or the name of a mapping template.')
        parser.add_argument(
            "--key",
            default="",
            help="Match rows to update on: email, external_id (contacts); domain, external_id, name "
            "(companies); sku (products). Orders always match on their number: an existing order is skipped.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check every row, write nothing.")
        parser.add_argument("--create-companies", action="store_true", help="Create companies contacts name.")
        parser.add_argument("--user", help="Import as this user (default: the first active administrator).")
        parser.add_argument("--report", help="Write the per-row report (CSV) to this path.")

    def handle(self, *args, kind, file, mapping, key, dry_run, create_companies, user, report, **options):
        from imports import engine, queries, services
        from users.models import User

        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(f"no active user {user!r}")
        else:
            actor = User.objects.filter(is_active=True, is_superuser=True).order_by("id").first()
            actor = actor or User.objects.filter(is_active=True, role="admin").order_by("id").first()
            if actor is None:
                raise CommandError("no administrator to import as: pass --user")
        parsed_mapping, template = None, None
        if mapping:
            try:
                parsed_mapping = json.loads(mapping)
            except json.JSONDecodeError:
                template = mapping
        try:
            with open(file, "rb") as upload:
                job = services.import_create(
                    actor=actor,
                    kind=kind,
                    upload=upload,
                    file_name=file,
                    mapping=parsed_mapping,
                    key=key,
                    dry_run=dry_run,
                    create_companies=create_companies,
                    template=template,
                    start=False,
                )
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}")
        except ServiceError as exc:
            messages = [f"{k}: {' '.join(v)}" for k, v in exc.errors.items()] or [exc.detail]
            raise CommandError("; ".join(messages))
        from imports.models import ImportJob

        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.PENDING)
        width = 30

        def progress(done: int, total: int) -> None:
            filled = int(width * done / total) if total else width
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} rows")
            sys.stderr.flush()

        job = engine.job_run(job.pk, progress=progress)
        sys.stderr.write("\n")
        if report:
            with open(report, "w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                for line in queries.report_lines(job):
                    writer.writerow(line)
        summary = {
            "import": job.pk,
            "status": job.status,
            "dry_run": job.dry_run,
            "rows": job.processed_rows,
            "created": job.created_count,
            "updated": job.updated_count,
            "skipped": job.skipped_count,
            "errors": job.error_count,
            "possible_duplicates": job.duplicate_count,
        }
        if job.kind == "orders":
            summary["counted"] = "orders"  # created/skipped/errors count orders; rows counts file rows
        if job.message:
            summary["message"] = job.message
        self.stdout.write(json.dumps(summary))
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(job.message or "the import failed")
