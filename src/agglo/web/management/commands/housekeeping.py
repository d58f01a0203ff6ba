"""`agglo housekeeping`: the platform's periodic jobs in one loop, so that a deadline passes for real without a cron
table (`agglo up` starts it beside the server). A deployment may run it as a service, or the jobs from cron."""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

log = logging.getLogger("agglo.housekeeping")

# (command and arguments, seconds between runs): offers are answered by the hour, listings expire by the day
JOBS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("expire_offers",), 600),
    (("remind_offers",), 600),
    (("sweep_standing",), 600),  # statuses written around the service, carried out (the re-plan next sees them)
    (("replan_departed",), 600),
    (("expire_listings",), 3600),
    (("matching_index", "sync"), 3600),
    (("expire_sent_requests",), 3600),
    (("sweep_files",), 86400),
)


class Command(BaseCommand):
    help = (
        "Run the periodic jobs (expire offers and remind of those due soon, carry out changes of standing made around "
        "the service, re-plan around departed factories, expire listings, sync the matching index, forget kept "
        "answers, delete files no row names) on their schedule."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="run every job once and stop")

    def handle(self, *args: Any, once: bool, **options: Any) -> None:
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        if not once:
            signal.signal(signal.SIGINT, stop)
            signal.signal(signal.SIGTERM, stop)
        due = dict.fromkeys((job for job, _every in JOBS), 0.0)
        failed: list[str] = []
        while not stopping:
            for job, every in JOBS:
                if time.monotonic() < due[job]:
                    continue
                due[job] = time.monotonic() + every
                if not once:  # a long-running loop drops a connection the server closed meanwhile
                    close_old_connections()
                try:
                    call_command(*job, stdout=self.stdout)
                except Exception:  # one failing job must not stop the others, nor the server beside it
                    log.exception("housekeeping: %s failed", " ".join(job))
                    if once:
                        failed.append(" ".join(job))
            if once:
                if failed:  # run from cron, the failure shows in the exit code
                    raise CommandError(f"failed: {', '.join(failed)}")
                return
            time.sleep(1)
