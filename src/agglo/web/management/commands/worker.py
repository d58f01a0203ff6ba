"""`agglo worker`: the background-task worker (the database queue of django-tasks), which outlives a database
restart and logs at the platform's level."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.utils import InterfaceError, OperationalError
from django_tasks_db.management.commands.db_worker import Command as DbWorker

logger = logging.getLogger("agglo.worker")

RETRY_SECONDS = (1, 2, 5, 10, 30)  # waits between attempts to reach the database again, the last repeated


class Command(DbWorker):
    help = "Run the background-task worker (the database queue of django-tasks)."

    def configure_logging(self, verbosity: int) -> None:
        """django-tasks sets its loggers from the verbosity alone (INFO by default); without -v the worker logs at
        AGGLO_LOG_LEVEL, as the rest of the platform does (review 102)."""
        super().configure_logging(verbosity)
        if verbosity == 1:
            for name in ("django_tasks", "django_tasks_db"):
                logging.getLogger(name).setLevel(settings.LOG_LEVEL)

    def handle(self, *args: Any, **options: Any) -> None:
        """The worker's loop, started again when the database went away (a restart, a failover): it waits and tries
        again instead of exiting, so that mails and re-matching do not stop unseen (review 102)."""
        failures = 0
        while True:
            started = time.monotonic()
            try:
                super().handle(*args, **options)
                return  # stopped by a signal, or a batch finished
            except (OperationalError, InterfaceError) as exc:
                if time.monotonic() - started > 60:  # it ran a while: a new outage, waited for from the start
                    failures = 0
                wait = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                logger.warning("The database cannot be reached (%s); trying again in %d s.", exc, wait)
                for connection in connections.all():
                    # a broken connection is opened anew on the next query; Django forgets it even if closing fails
                    with contextlib.suppress(OperationalError, InterfaceError):
                        connection.close()
                time.sleep(wait)
