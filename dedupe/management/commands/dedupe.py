"""`crm dedupe [contacts|companies]`: run the whole-database duplicate job now, in this process."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand

from dedupe import jobs

KINDS = {"contacts": "contact", "companies": "company"}


class Command(BaseCommand):
    help = (
        "Find likely duplicates among all contacts and/or companies and replace the open groups on the "
        "review page (dismissed and merged groups are kept). Prints one JSON line per kind."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", nargs="?", choices=sorted(KINDS), help="Both when omitted.")

    def handle(self, *args, kind=None, **options):
        kinds = [KINDS[kind]] if kind else list(KINDS.values())
        for name in kinds:
            result = jobs.run(name, progress=lambda text: print(text, file=sys.stderr, flush=True))
            self.stdout.write(json.dumps(result.as_dict()))
