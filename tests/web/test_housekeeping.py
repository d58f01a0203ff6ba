"""`agglo housekeeping --once`: every periodic job runs, and one that fails shows in the exit status."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from agglo.web.management.commands import housekeeping

pytestmark = pytest.mark.django_db


def test_a_failing_job_does_not_stop_the_others_and_fails_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # a job that cannot run (no such command), between two that can
    jobs = (("expire_offers",), 600), (("no_such_command",), 600), (("expire_listings",), 3600)
    monkeypatch.setattr(housekeeping, "JOBS", jobs)
    with pytest.raises(CommandError, match="failed: no_such_command"):
        call_command("housekeeping", "--once")


def test_every_job_runs_once(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("housekeeping", "--once")
    said = capsys.readouterr()
    assert "expired offers: 0" in said.out and "expired 0 listings" in said.out
    assert "offers reminded of: 0" in said.out
    assert "standing sweep: changes carried out: 0; organizations with nodes revoked: 0" in said.out
    assert "matching index: " in said.err  # the index command reports on stderr
