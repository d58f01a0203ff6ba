import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parents[2] / "src" / "agglo" / "locale" / "zh_Hans" / "LC_MESSAGES"


def catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f, locale="zh_Hans")


def test_chinese_catalog_is_complete_and_compiled():
    po = catalog(LOCALE / "django.po")
    missing = [m.id for m in po if m.id and (not m.string or "fuzzy" in m.flags or m.string == ("",))]
    assert not missing, f"untranslated or fuzzy: {missing}"
    mo = gettext.GNUTranslations((LOCALE / "django.mo").open("rb"))
    for m in po:
        if m.id and not m.pluralizable:
            got = mo.pgettext(m.context, m.id) if m.context else mo.gettext(m.id)
            assert got == m.string, f"django.mo is stale for {m.id!r}: run make messages"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext's xgettext to extract strings")
def test_every_ui_string_in_the_code_is_in_the_catalog(tmp_path):
    source = Path(__file__).resolve().parents[2] / "src" / "agglo"
    copy = tmp_path / "agglo"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("static", "__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"DJANGO_SETTINGS_MODULE": "agglo.settings", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(source.parent)},
    )
    fresh = catalog(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    missing = [m.id for m in fresh if m.id and (not m.string or "fuzzy" in m.flags)]
    assert not missing, f"strings without a Chinese translation (run make messages and translate): {missing}"
    # and `make messages` drops none of ours: a translation of a string the code no longer has, or of one of
    # Django's own that no source names (common/django_words.py), would be lost on the next run (review 56b)
    kept = {(m.context, m.id) for m in fresh if m.id}
    dropped = [m.id for m in catalog(LOCALE / "django.po") if m.id and (m.context, m.id) not in kept]
    assert not dropped, f"translations make messages would drop: {dropped}"


def test_djangos_own_password_rules_read_in_chinese() -> None:
    """Django 5.2 words the length rule anew; its own zh_Hans catalogue lags, ours carries it."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        validate_password("abc")
    assert refused.value.messages[0] == "密码长度太短。密码必须包含至少 8 个字符。"


@pytest.mark.django_db
def test_the_operators_back_office_reads_in_chinese(operator) -> None:
    """Named as the platform, the task queue's section included (review 109 found "Django 管理" and a queue named
    in English only)."""
    from django.test import Client

    operator.is_staff = operator.is_superuser = True  # as `agglo up` makes the demo's operator
    operator.save(update_fields=["is_staff", "is_superuser"])
    c = Client()
    c.force_login(operator)
    page = c.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Agglo 运营后台" in page and "后台任务" in page and "任务结果" in page
    assert "Django" not in page and "Tasks Database Backend" not in page
