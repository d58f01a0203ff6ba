"""`agglo matching_index rebuild|sync|events`: rebuild the stored index with a progress bar, catch up with
changes made outside the services, or export the behaviour log (CSV) for offline evaluation."""

from __future__ import annotations

import csv
import sys

from django.core.management.base import BaseCommand
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agglo.matching.selectors import LIVE, event_list
from agglo.matching.services import index_rebuild, index_sync

EVENT_COLUMNS = ("created_at", "kind", "user_id", "organization_id", "query_key", "item_key", "rank", "score")


class Command(BaseCommand):
    help = "Matching index: rebuild (full, with progress), sync (changes since the last write), events (CSV log)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=("rebuild", "sync", "events"))

    def handle(self, *args, action: str, **options):
        err = Console(stderr=True)
        if action == "events":
            writer = csv.writer(sys.stdout)
            writer.writerow(EVENT_COLUMNS)
            for row in event_list().values_list(*EVENT_COLUMNS).iterator():
                writer.writerow(row)
            return
        if action == "sync":
            changed = index_sync()
        else:
            columns = (TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            with Progress(*columns, console=err, transient=True) as bar:
                task = bar.add_task("index", total=None)
                changed = index_rebuild(progress=lambda done, total: bar.update(task, completed=done, total=total))
        LIVE.reset()
        err.print(f"matching index: {changed} documents changed")
