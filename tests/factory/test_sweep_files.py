"""`agglo sweep_files`: a file an outer transaction's rollback left behind is deleted once it is a day old; files rows
name, young files and files outside the upload folders are kept."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from agglo.factory.models import OrderDocument
from agglo.factory.services.documents import order_documents_add
from tests.factory.test_documents import PDF, upload
from tests.factory.test_plan_flow import planned

pytestmark = pytest.mark.django_db


def _age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_a_file_left_by_an_outer_rollback_is_swept_once_a_day_old(
    cluster: dict[str, Any], settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    order = planned(cluster)
    kept = order_documents_add(actor=cluster["people"]["buyer"], order=order, files=[upload("kept.pdf", PDF)])[0]
    with pytest.raises(RuntimeError), transaction.atomic():  # the caller's transaction fails after the service
        lost = order_documents_add(
            actor=cluster["people"]["buyer"], order=order, files=[upload("lost.pdf", PDF + b"%lost")]
        )[0]
        raise RuntimeError("a later step of the same request")
    media = Path(settings.MEDIA_ROOT)
    lost_path, kept_path = media / lost.file.name, media / kept.file.name
    assert lost_path.exists() and not OrderDocument.objects.filter(file=lost.file.name).exists()
    elsewhere = media / "not-an-upload-folder" / "notes.txt"  # not a folder uploads go to: never read
    elsewhere.parent.mkdir(parents=True, exist_ok=True)
    elsewhere.write_text("kept")
    for path in (lost_path, kept_path, elsewhere):
        _age(path, 2)
    call_command("sweep_files")  # two hours old: it may belong to a request still running
    assert lost_path.exists()
    call_command("sweep_files", "--hours", "1", "--dry-run")
    assert lost_path.exists() and f"would delete {lost.file.name}" in capsys.readouterr().out
    for path in (lost_path, kept_path, elsewhere):
        _age(path, 25)
    call_command("sweep_files")
    assert not lost_path.exists()
    assert kept_path.exists() and elsewhere.exists()
    assert f"deleted {lost.file.name}" in capsys.readouterr().out


def test_a_sweep_younger_than_an_hour_is_refused() -> None:
    with pytest.raises(CommandError, match="--hours: at least 1"):
        call_command("sweep_files", "--hours", "0")
