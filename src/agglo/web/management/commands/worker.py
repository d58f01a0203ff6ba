"""`agglo worker`: the background-task worker (the database queue of django-tasks), which outlives a database
restart, runs again what a lost connection or a dead worker left half done, and logs at the platform's level."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.utils import InterfaceError, OperationalError
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Command as DbWorker
from django_tasks_db.models import DBTaskResult

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
        interrupted = False
        while True:
            started = time.monotonic()
            try:
                requeued = requeue_left(options.get("worker_id", ""), mine=interrupted)
                interrupted = False
                if requeued:
                    logger.warning(
                        "%d task(s) left running by a lost connection or a stopped worker run again.", requeued
                    )
                super().handle(*args, **options)
                return  # stopped by a signal, or a batch finished
            except (OperationalError, InterfaceError) as exc:
                interrupted = True
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


def requeue_left(worker_id: str, *, mine: bool) -> int:
    """Put back in the queue the tasks left "running" that nothing runs any more: with `mine`, those this worker was
    running when the database went away (their end could not be written); and those started longer ago than
    AGGLO_TASK_STALE_MINUTES, whose worker stopped without ending them (killed, or its machine restarted). The
    platform's tasks take seconds, so a task that old is no longer running. A task may so run twice (a mail sent
    again), never not at all. Returns how many were put back."""
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
    stale = timezone.now() - dt.timedelta(minutes=settings.AGGLO_TASK_STALE_MINUTES)
    left = [
        pk
        for pk, started, workers in running.values_list("pk", "started_at", "worker_ids")
        if (started is not None and started < stale) or (mine and workers and workers[-1] == worker_id)
    ]
    # still running only: another worker may have ended one meanwhile
    return running.filter(pk__in=left).update(status=TaskResultStatus.READY, started_at=None)
