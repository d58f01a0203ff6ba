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


@pytest.mark.long
def test_production_passes_check_deploy_without_warnings(tmp_path):
    from agglo.ledger.note import Signer

    production = {
        "AGGLO_PRODUCTION": "1",
        "AGGLO_SECRET_KEY": "q8#Vb2!zR7@kL1$wP5^nM3&xT9*cF4(hJ6)gD0-sA_yU+eI=oK~",
        "AGGLO_ALLOWED_HOSTS": "agglo.example.cn",
        "AGGLO_BASE_URL": "https://agglo.example.cn",
        "AGGLO_VAR_DIR": str(tmp_path),
        "AGGLO_LEDGER_ORIGIN": "agglo.example.cn/ledger",
        "AGGLO_EMAIL_HOST": "smtp.example.cn",
        "AGGLO_EMAIL_FROM": "noreply@agglo.example.cn",
    }
    missing = run(["check", "--deploy", "--fail-level", "WARNING"], **production)
    assert missing.returncode != 0 and "AGGLO_LEDGER_KEY" in missing.stderr + missing.stdout
    key = Signer.generate("agglo.example.cn/ledger").encode()
    result = run(["check", "--deploy", "--fail-level", "WARNING"], **production, AGGLO_LEDGER_KEY=key)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout
    # the development origin is no deployment's: every one that kept it would sign as the same log (review 49 L3)
    default = Signer.generate("localhost/agglo/ledger").encode()
    shared = {**production, "AGGLO_LEDGER_ORIGIN": "localhost/agglo/ledger", "AGGLO_LEDGER_KEY": default}
    result = run(["check", "--deploy", "--fail-level", "WARNING"], **shared)
    assert result.returncode != 0 and "agglo.E102" in result.stderr + result.stdout


@pytest.mark.long
def test_production_refuses_a_plain_http_address_and_warns_of_mail_to_the_log(tmp_path):
    from agglo.ledger.note import Signer

    production = {
        "AGGLO_PRODUCTION": "1",
        "AGGLO_SECRET_KEY": "q8#Vb2!zR7@kL1$wP5^nM3&xT9*cF4(hJ6)gD0-sA_yU+eI=oK~",
        "AGGLO_ALLOWED_HOSTS": "agglo.example.cn",
        "AGGLO_VAR_DIR": str(tmp_path),
        "AGGLO_LEDGER_ORIGIN": "agglo.example.cn/ledger",
        "AGGLO_LEDGER_KEY": Signer.generate("agglo.example.cn/ledger").encode(),
    }
    plain = run(["check"], **production, AGGLO_BASE_URL="http://agglo.example.cn")
    assert plain.returncode != 0 and "public HTTPS address" in plain.stderr
    console = run(["check", "--deploy", "--fail-level", "WARNING"], **production, AGGLO_BASE_URL="https://a.example.cn")
    assert console.returncode != 0 and "agglo.W103" in console.stderr + console.stdout
    local_from = run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        **production,
        AGGLO_BASE_URL="https://agglo.example.cn",
        AGGLO_EMAIL_HOST="smtp.example.cn",
    )
    assert local_from.returncode != 0 and "agglo.W104" in local_from.stderr + local_from.stdout


def test_a_lower_case_log_level_is_taken_and_the_version_is_agglos(tmp_path):
    assert run(["check"], AGGLO_LOG_LEVEL="debug", AGGLO_VAR_DIR=str(tmp_path)).returncode == 0
    result = run(["--version"])
    assert result.returncode == 0 and result.stdout.startswith("agglo 0.")
    bad = run(["check"], DATABASE_URL="foo://x", AGGLO_VAR_DIR=str(tmp_path))
    assert bad.returncode == 2 and bad.stderr.startswith("agglo: DATABASE_URL must be a database URL")


def test_bad_boolean_setting_is_named(tmp_path):
    result = run(["check"], AGGLO_DEBUG="maybe", AGGLO_VAR_DIR=str(tmp_path))
    assert result.returncode != 0 and "AGGLO_DEBUG must be a boolean" in result.stderr


def test_a_request_is_not_taken_over_while_the_solver_may_still_run(tmp_path):
    """A form sent again takes over from a first send only after the longest a request may run (review 38)."""
    result = run(["check"], AGGLO_FACTORY_TIME_LIMIT="300", AGGLO_RESEND_STALE_S="120", AGGLO_VAR_DIR=str(tmp_path))
    assert result.returncode != 0 and "AGGLO_RESEND_STALE_S must be at least" in result.stderr
    assert run(["check"], AGGLO_FACTORY_TIME_LIMIT="300", AGGLO_VAR_DIR=str(tmp_path)).returncode == 0


@pytest.mark.django_db
def test_health_says_503_when_the_static_files_were_not_collected(client, monkeypatch):
    from django.contrib.staticfiles.storage import staticfiles_storage

    def missing(name):
        raise ValueError(f"Missing staticfiles manifest entry for '{name}'")

    monkeypatch.setattr(staticfiles_storage, "url", missing)
    answer = client.get("/healthz")
    assert answer.status_code == 503 and "collectstatic" in answer.json()["status"]


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


@pytest.mark.long
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


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (["--orgs", "0"], {}, "--orgs: must be between 50"),
        (["--port", "70000"], {}, "--port (or AGGLO_PORT): must be between 1 and 65535"),
        (["--workers", "0"], {}, "--workers: must be between 1 and 64"),
        ([], {"AGGLO_PORT": "abc"}, "AGGLO_PORT: must be a whole number, got 'abc'"),
    ],
)
def test_up_checks_its_arguments_before_any_work(args, env, said, monkeypatch):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(CommandError) as exc:
        call_command("up", "--no-serve", *args)
    assert str(exc.value) == said or str(exc.value).startswith(said), exc.value


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    """`agglo … | head`: the pipe closes under the command, which ends quietly."""
    env = {**ENV, "DJANGO_SETTINGS_MODULE": "agglo.settings", "AGGLO_VAR_DIR": str(tmp_path)}
    code = "import sys; sys.argv = ['agglo', 'help']; from agglo.cli import main; main()"
    reader = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader.stdout.close()  # closed before the command writes: its first write meets a broken pipe
    _out, err = reader.communicate(timeout=120)
    assert b"Traceback" not in err, err.decode()


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"AGGLO_DAILY_EXPORTS": "abc"}, "agglo: AGGLO_DAILY_EXPORTS must be a whole number, got 'abc'"),
        ({"AGGLO_DAILY_POLICY_MATCHES": "-1"}, "agglo: AGGLO_DAILY_POLICY_MATCHES must be at least 0, got -1"),
        ({"AGGLO_EMAIL_PORT": "70000"}, "agglo: AGGLO_EMAIL_PORT must be between 1 and 65535, got 70000"),
        ({"AGGLO_SESSION_HOURS": "0"}, "agglo: AGGLO_SESSION_HOURS must be at least 1, got 0"),
        ({"AGGLO_RATE_BACKEND": "disk"}, "agglo: AGGLO_RATE_BACKEND must be database or memory, got 'disk'"),
        ({"AGGLO_LEDGER_PUBLISH": "hourly"}, "agglo: AGGLO_LEDGER_PUBLISH must be commit or interval, got 'hourly'"),
        ({"AGGLO_LANGUAGE": "fr"}, "agglo: AGGLO_LANGUAGE must be zh-hans or en, got 'fr'"),
        ({"AGGLO_FACTORY_TIME_LIMIT": "abc"}, "agglo: AGGLO_FACTORY_TIME_LIMIT must be a number, got 'abc'"),
        ({"AGGLO_FACTORY_NEWCOMER_SHARE": "2"}, "agglo: AGGLO_FACTORY_NEWCOMER_SHARE must be between 0 and 1, got 2"),
        (
            {"AGGLO_RATE_LIMITS": "[1]"},
            "agglo: AGGLO_RATE_LIMITS must be a JSON object: 'list' object is not a mapping",
        ),
        (
            {"AGGLO_TIME_ZONE": "Mars/Base"},
            "agglo: AGGLO_TIME_ZONE must be a time zone, such as Asia/Shanghai; got 'Mars/Base'",
        ),
        (
            {"AGGLO_MARKET_REVIEW": "maybe"},
            "agglo: AGGLO_MARKET_REVIEW must be a boolean (1/0, true/false), got 'maybe'",
        ),
        ({"AGGLO_TASK_BACKEND": "bogus"}, "agglo: AGGLO_TASK_BACKEND must be database or immediate, got 'bogus'"),
        # review 53 F8: these passed `check --deploy`, then every request (or every start) failed
        (
            {"AGGLO_LOG_LEVEL": "verbose"},
            "agglo: AGGLO_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'VERBOSE'",
        ),
        (
            {"AGGLO_RATE_LIMITS": '{"ip": [10]}'},
            "agglo: AGGLO_RATE_LIMITS: 'ip' must be [requests per minute, burst], two positive numbers, got [10]",
        ),
        (
            {"AGGLO_REDIS_URL": "notaurl"},
            "agglo: AGGLO_REDIS_URL must start with redis://, rediss:// or unix://, got 'notaurl'",
        ),
        ({"AGGLO_EMAIL_TIMEOUT": "0"}, "agglo: AGGLO_EMAIL_TIMEOUT must be between 1 and 600, got 0"),
        (
            {"AGGLO_RATE_LIMITS": '{"IP": [10, 5]}'},
            "agglo: AGGLO_RATE_LIMITS: 'IP' is no kind of limit; the kinds are ip, user, token, node, reset, "
            "anon_profile, log",
        ),
        (
            {"AGGLO_EMAIL_TLS": "1", "AGGLO_EMAIL_SSL": "1"},
            "agglo: AGGLO_EMAIL_TLS and AGGLO_EMAIL_SSL: set one of them, not both",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_not_a_traceback(tmp_path, env, said):
    result = run(["check"], AGGLO_VAR_DIR=str(tmp_path), **env)
    assert result.returncode == 2 and result.stderr.strip() == said


def test_a_database_that_cannot_be_opened_is_said_not_a_traceback(tmp_path):
    result = run(["demo"], AGGLO_VAR_DIR=str(tmp_path / "not-made"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"agglo: the database {tmp_path / 'not-made' / 'agglo.sqlite3'} cannot be opened")
    # one that opens but stops the command is not said to be missing (review 90); an empty one opens (SQLite makes
    # the file in a folder that exists), which spares migrating it
    code = "from django.db import connection; connection.cursor().execute('SELECT * FROM no_such_table')"
    stopped = run(["shell", "-c", code], AGGLO_VAR_DIR=str(tmp_path))
    assert stopped.returncode == 1 and "Traceback" not in stopped.stderr
    assert "stopped the command: no such table: no_such_table" in stopped.stderr


@pytest.mark.django_db(transaction=True)
def test_a_worker_builds_its_matching_engine_as_it_starts(make_org):
    """Review 49 (perf): the first reader in each worker waited 5.7 s for the engine at 5,000 members."""
    import jieba

    from agglo import gunicorn_conf
    from agglo.matching.selectors.engine import LIVE

    make_org()
    LIVE.reset()
    jieba.dt.initialized = False  # the names' word breaks (`words`) load its dictionary, not a first request
    gunicorn_conf.warm_up()
    assert LIVE._engine is not None
    assert jieba.dt.initialized
