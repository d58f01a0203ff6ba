"""`agglo sweep_files`: a file an outer transaction's rollback left behind is deleted once it is a day old; files rows
name, young files and files outside the upload folders are kept."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models, transaction

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
    with pytest.raises(CommandError, match="--hours: at most 87840"):  # not an OverflowError's trace
        call_command("sweep_files", "--hours", "100000000")


def _media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "var"  # MEDIA_ROOT set to the var folder itself, as a deployment may
    settings.MEDIA_ROOT.mkdir()
    return Path(settings.MEDIA_ROOT)


def _kept(cluster: dict[str, Any], name: str = "kept.pdf", body: bytes = PDF) -> OrderDocument:
    order = planned(cluster)
    return order_documents_add(actor=cluster["people"]["buyer"], order=order, files=[upload(name, body)])[0]


def _all_old(media: Path) -> None:
    for path in media.rglob("*"):
        if path.is_file() and not path.is_symlink():
            _age(path, 48)


def test_a_row_a_default_manager_hides_still_keeps_its_file(
    cluster: dict[str, Any], settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    media = _media(settings, tmp_path)
    kept = _kept(cluster)
    _all_old(media)

    class Hiding(models.Manager[OrderDocument]):  # soft deletion, or any default manager that filters
        def get_queryset(self) -> models.QuerySet[OrderDocument]:
            return super().get_queryset().none()

    hiding = Hiding()
    hiding.model = OrderDocument
    monkeypatch.setitem(OrderDocument._meta.__dict__, "default_manager", hiding)
    assert not OrderDocument._default_manager.exists()
    call_command("sweep_files")
    assert (media / kept.file.name).exists()


def test_a_file_reached_through_a_symlinked_folder_is_never_taken(
    cluster: dict[str, Any], settings: Any, tmp_path: Path
) -> None:
    media = _media(settings, tmp_path)
    kept = _kept(cluster)
    (media / "evidence").mkdir()
    (media / "evidence" / "alias").symlink_to(media / "orders")  # the same files under another name
    (media / "orders" / "up").symlink_to(media)  # a loop, up to the var folder
    (media / "agglo.sqlite3").write_bytes(b"the database")
    _all_old(media)
    call_command("sweep_files")
    assert (media / kept.file.name).exists()
    assert (media / "agglo.sqlite3").exists()
    assert (media / "evidence" / "alias").is_symlink() and (media / "orders" / "up").is_symlink()


def test_a_row_naming_its_file_oddly_takes_nothing_outside_the_upload_folders(
    cluster: dict[str, Any], settings: Any, tmp_path: Path
) -> None:
    media = _media(settings, tmp_path)
    first, second = _kept(cluster, "a.pdf"), _kept(cluster, "b.pdf", PDF + b"%b")
    # a name as a script or an import may have written it: the same file, not as the storage writes it
    OrderDocument.objects.filter(pk=first.pk).update(file=f"./{first.file.name}")
    OrderDocument.objects.filter(pk=second.pk).update(file=second.file.name.replace("/", "//", 1))
    (media / "ledger-key.txt").write_text("the log's key")
    (media / "static").mkdir()
    (media / "static" / "app.css").write_text("body {}")
    _all_old(media)
    call_command("sweep_files")
    assert (media / first.file.name).exists() and (media / second.file.name).exists()
    assert (media / "ledger-key.txt").exists() and (media / "static" / "app.css").exists()


def test_a_file_a_row_names_after_the_sweep_read_the_rows_is_kept(
    cluster: dict[str, Any], settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agglo.common import orphans

    media = _media(settings, tmp_path)
    kept = _kept(cluster)
    name = kept.file.name
    OrderDocument.objects.filter(pk=kept.pk).update(file="")  # not named when the sweep reads the rows
    _all_old(media)
    real_walk = orphans._walk

    def walk_then_named(*args: Any) -> Any:  # named again while the folders are read
        yield from real_walk(*args)
        OrderDocument.objects.filter(pk=kept.pk).update(file=name)

    monkeypatch.setattr(orphans, "_walk", walk_then_named)
    call_command("sweep_files")
    assert (media / name).exists()


def test_a_file_whose_name_is_not_text_is_listed_and_swept(settings: Any, tmp_path: Path) -> None:
    media = _media(settings, tmp_path)
    folder = media / "orders" / "2020" / "01"
    folder.mkdir(parents=True)
    odd = os.fsencode(folder) + b"/\xff\xfe left.pdf"
    with open(odd, "wb") as f:
        f.write(b"x")
    os.utime(odd, (time.time() - 48 * 3600,) * 2)
    out = io.StringIO()
    call_command("sweep_files", "--dry-run", stdout=out)
    assert "would delete orders/2020/01/\\xff\\xfe left.pdf" in out.getvalue() and os.path.exists(odd)
    out.getvalue().encode("utf-8")  # a terminal or a log takes it
    call_command("sweep_files", stdout=io.StringIO())
    assert not os.path.exists(odd)
