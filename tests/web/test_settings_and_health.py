import os
import subprocess
import sys

import pytest

ENV = {k: v for k, v in os.environ.items() if not k.startswith(("AGGLO_", "DJANGO_")) and k != "DATABASE_URL"}


def run(args, **extra):
    env = {**ENV, "DJANGO_SETTINGS_MODULE": "agglo.settings", **extra}
    return subprocess.run(
        [sys.executable, "-m", "agglo.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_insecure_settings(tmp_path):
    result = run(["check"], AGGLO_PRODUCTION="1", AGGLO_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "AGGLO_SECRET_KEY" in result.stderr and "AGGLO_ALLOWED_HOSTS" in result.stderr
    assert "AGGLO_BASE_URL" in result.stderr


def test_production_passes_check_deploy_without_warnings(tmp_path):
    from agglo.ledger.note import Signer

    production = {
        "AGGLO_PRODUCTION": "1",
        "AGGLO_SECRET_KEY": "q8#Vb2!zR7@kL1$wP5^nM3&xT9*cF4(hJ6)gD0-sA_yU+eI=oK~",
        "AGGLO_ALLOWED_HOSTS": "agglo.example.cn",
        "AGGLO_BASE_URL": "https://agglo.example.cn",
        "AGGLO_VAR_DIR": str(tmp_path),
        "AGGLO_LEDGER_ORIGIN": "agglo.example.cn/ledger",
    }
    missing = run(["check", "--deploy", "--fail-level", "WARNING"], **production)
    assert missing.returncode != 0 and "AGGLO_LEDGER_KEY" in missing.stderr + missing.stdout
    key = Signer.generate("agglo.example.cn/ledger").encode()
    result = run(["check", "--deploy", "--fail-level", "WARNING"], **production, AGGLO_LEDGER_KEY=key)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_bad_boolean_setting_is_named(tmp_path):
    result = run(["check"], AGGLO_DEBUG="maybe", AGGLO_VAR_DIR=str(tmp_path))
    assert result.returncode != 0 and "AGGLO_DEBUG must be a boolean" in result.stderr


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(client):
    from django.db import connection

    assert client.get("/healthz").json()["status"] == "ok"
    if connection.vendor != "sqlite":
        pytest.skip("SQLite-specific")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()[0]
    # The in-memory test database cannot use WAL; the file database must.
    assert mode in ("wal", "memory")
    assert connection.settings_dict["OPTIONS"]["timeout"] >= 5


def test_up_in_production_plants_no_demo_accounts(tmp_path):
    result = run(
        ["up", "--no-serve"],
        AGGLO_PRODUCTION="1",
        AGGLO_VAR_DIR=str(tmp_path),
        AGGLO_SECRET_KEY="q8#Vb2!zR7@kL1$wP5^nM3&xT9*cF4(hJ6)gD0-sA_yU+eI=oK~",
        AGGLO_ALLOWED_HOSTS="agglo.example.cn",
        AGGLO_BASE_URL="https://agglo.example.cn",
        AGGLO_SQLITE_PATH=str(tmp_path / "prod.sqlite3"),
    )
    assert result.returncode == 0, result.stderr
    assert "no demo" in result.stdout and "agglo-demo-2026" not in result.stdout
