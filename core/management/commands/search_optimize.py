"""`crm search_optimize`: compact the search index (after a mass deletion such as a large import undone)."""

import time

from django.core.management.base import BaseCommand

from core import search


class Command(BaseCommand):
    help = "Compact the search index after mass deletions (SQLite FTS5 'optimize'; a no-op on PostgreSQL)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        search.optimize()
        self.stdout.write(f"Search index optimised in {time.perf_counter() - started:.1f} s.")
