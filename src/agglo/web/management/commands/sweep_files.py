"""`agglo sweep_files`: delete uploaded files that no row names (see `common.orphans`)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from agglo.common.orphans import MIN_AGE, orphans_remove, shown

log = logging.getLogger("agglo.housekeeping")
MAX_HOURS = 10 * 366 * 24


class Command(BaseCommand):
    help = (
        "Delete uploaded files that no row names (left by a rolled-back request or a killed process), older than a "
        "day (daily in `agglo housekeeping`)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list them, delete nothing")
        parser.add_argument(
            "--hours", type=int, default=int(MIN_AGE.total_seconds() // 3600), help="least age of a file taken (≥ 1)"
        )

    def handle(self, *args: Any, dry_run: bool, hours: int, **options: Any) -> None:
        if hours < 1:
            raise CommandError("--hours: at least 1 (a younger file may belong to a request still running).")
        if hours > MAX_HOURS:  # further back than the calendar goes, the cut-off could not be reckoned
            raise CommandError(f"--hours: at most {MAX_HOURS} (ten years).")
        found = orphans_remove(min_age=dt.timedelta(hours=hours), dry_run=dry_run)
        for name in found:
            self.stdout.write(("would delete " if dry_run else "deleted ") + shown(name))
        if found and not dry_run:
            log.warning("sweep_files: deleted %d file(s) no row names.", len(found))
        self.stdout.write(f"files no row names: {len(found)}" + (" (dry run)" if dry_run else ""))
