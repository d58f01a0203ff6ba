"""`agglo worker` outlives a database that goes away, and logs at the platform's level (review 102)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db.utils import OperationalError
from django_tasks_db.management.commands.db_worker import Command as DbWorker

from agglo.web.management.commands import worker


def test_the_worker_waits_for_the_database_and_goes_on(monkeypatch: Any) -> None:
    runs: list[str] = []
    waits: list[float] = []

    def handle(self: Any, *args: Any, **options: Any) -> None:
        runs.append("run")
        if len(runs) < 3:  # a restart of the database server: refused twice, then back
            raise OperationalError("connection to server failed: Connection refused")

    monkeypatch.setattr(DbWorker, "handle", handle)
    monkeypatch.setattr(worker.time, "sleep", waits.append)
    worker.Command().handle(verbosity=1)  # the tests' task backend runs tasks at once: no queue to name
    assert runs == ["run", "run", "run"] and waits == [1, 2]


def test_another_error_still_stops_the_worker(monkeypatch: Any) -> None:
    def handle(self: Any, *args: Any, **options: Any) -> None:
        raise RuntimeError("a fault of the worker's own")

    monkeypatch.setattr(DbWorker, "handle", handle)
    with pytest.raises(RuntimeError):
        worker.Command().handle(verbosity=1)


def test_the_worker_logs_at_the_platforms_level(settings: Any) -> None:
    settings.LOG_LEVEL = "ERROR"
    worker.Command().configure_logging(1)
    assert logging.getLogger("django_tasks_db").level == logging.ERROR
    worker.Command().configure_logging(2)  # asked for more with -v 2: given
    assert logging.getLogger("django_tasks_db").level == logging.DEBUG
