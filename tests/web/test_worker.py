"""`agglo worker` outlives a database that goes away, runs again what was left running, and logs at the platform's
level (review 102)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from django.db.utils import OperationalError
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Command as DbWorker
from django_tasks_db.models import DBTaskResult

from agglo.web.management.commands import worker

# without a transaction around each test: the worker closes its connections when the database goes away, which
# would end that transaction (on PostgreSQL every later query then fails, and the worker waits for ever)
pytestmark = pytest.mark.django_db(transaction=True)


def _task(status: str, *, minutes_ago: float | None, workers: list[str]) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        status=status,
        args_kwargs={"args": [[1]], "kwargs": {}},
        task_path="agglo.factory.tasks.departures_task",
        backend_name="default",
        run_after=now,
        started_at=None if minutes_ago is None else now - dt.timedelta(minutes=minutes_ago),
        worker_ids=workers,
    )


# The worker closes the connection on a database error: inside a test's transaction that leaves a connection no
# query can use, and the worker waited for a database that never came back (PostgreSQL hung; review 106).
def test_a_task_cut_off_with_the_database_runs_again_when_it_is_back(monkeypatch: Any) -> None:
    runs: list[str] = []
    cut = _task("RUNNING", minutes_ago=0.1, workers=["w1"])
    elsewhere = _task("RUNNING", minutes_ago=0.1, workers=["w1", "w2"])  # another worker runs it now
    done = _task("SUCCESSFUL", minutes_ago=0.1, workers=["w1"])

    def handle(self: Any, *args: Any, **options: Any) -> None:
        runs.append("run")
        if len(runs) == 1:  # while it ran `cut`, the server went away
            raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(DbWorker, "handle", handle)
    monkeypatch.setattr(worker.time, "sleep", lambda s: None)
    worker.Command().handle(verbosity=1, worker_id="w1")
    statuses = {t.pk: t.status for t in DBTaskResult.objects.all()}
    assert statuses == {cut.pk: "READY", elsewhere.pk: "RUNNING", done.pk: "SUCCESSFUL"}
    assert runs == ["run", "run"]


def test_a_task_a_stopped_worker_left_running_runs_again_at_the_next_start(settings: Any, monkeypatch: Any) -> None:
    settings.AGGLO_TASK_STALE_MINUTES = 60
    old = _task("RUNNING", minutes_ago=61, workers=["dead"])
    recent = _task("RUNNING", minutes_ago=5, workers=["alive"])
    monkeypatch.setattr(DbWorker, "handle", lambda self, *a, **o: None)
    worker.Command().handle(verbosity=1, worker_id="new")
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, old.started_at) == ("READY", None)
    assert recent.status == "RUNNING"


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
