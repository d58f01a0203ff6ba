"""What outsiders do over real HTTP: verify the whole log, witness it, check a receipt offline."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from agglo.ledger import note
from agglo.ledger.keys import log_verifier
from agglo.ledger.models import Cosignature, Witness
from agglo.ledger.services import witness_register
from tests.ledger.conftest import append

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def witness_key(operator):
    signer = note.Signer.generate("witness.example/w1", note.COSIGNATURE_V1)
    witness_register(actor=operator, verifier_key=signer.verifier.encode())
    return signer


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("ledger", *args, stdout=out)
    return out.getvalue()


def test_verify_over_http_and_from_a_dump(live_server, tmp_path):
    append(300)
    append(20, start=300)
    key = log_verifier().encode()
    assert "OK: 320 entries" in run("verify", "--url", live_server.url, "--key", key)
    assert "OK: 320 entries" in run("verify", "--url", live_server.url + "/ledger/", "--key", key)  # its prefix
    run("dump", str(tmp_path / "mirror"))
    assert (tmp_path / "mirror" / "tile" / "entries" / "001.p" / "64").exists()
    assert "OK: 320 entries" in run("verify", "--dir", str(tmp_path / "mirror"), "--key", key)
    # a changed tile above level 0 is caught too (review 49 L1)
    upper = tmp_path / "mirror" / "tile" / "1" / "000.p" / "1"
    data = bytearray(upper.read_bytes())
    data[0] ^= 1
    upper.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="tile/1/000.p/1 does not hold the hashes of the subtrees below it"):
        run("verify", "--dir", str(tmp_path / "mirror"), "--key", key)
    other = note.Signer.generate(log_verifier().name).verifier.encode()
    with pytest.raises(CommandError, match="no signature by a known key"):
        run("verify", "--url", live_server.url, "--key", other)


def test_verify_over_http_waits_out_the_logs_rate_limit(live_server, settings, monkeypatch):
    """Review 49 H2: the log's reads have their own bucket per address, apart from the pages' (whose limit stopped
    an outside check of a 40,000-entry log), and the command waits as a 429's Retry-After asks."""
    import time

    from agglo.access import ratelimit
    from agglo.access.models import RateBucket
    from agglo.ledger.management.commands import ledger as command

    waits: list[float] = []
    sleep = time.sleep
    monkeypatch.setattr(command.time, "sleep", lambda s: (waits.append(s), sleep(s)))
    append(600)
    settings.AGGLO_RATE_LIMITING = True
    settings.AGGLO_RATE_LIMITS = {**settings.AGGLO_RATE_LIMITS, "ip": [60, 1], "log": [300, 4]}
    ratelimit.backend.cache_clear()
    try:
        assert "OK: 600 entries" in run("verify", "--url", live_server.url, "--key", log_verifier().encode())
    finally:
        ratelimit.backend.cache_clear()
    assert RateBucket.objects.filter(key__startswith="log:").exists()
    assert waits and all(0 < w <= 60 for w in waits)  # it was told to wait, and did


def test_witness_cosigns_then_catches_an_edited_entry(live_server, tmp_path, witness_key):
    append(30)
    key, state = log_verifier().encode(), str(tmp_path / "w.json")
    args = ("witness", "--url", live_server.url, "--key", key, "--witness-key", witness_key.encode(), "--state", state)
    assert "cosigned size 30: 30 new entries mirrored" in run(*args)
    served = json.loads((tmp_path / "w.json").read_text())
    assert served["size"] == 30
    checkpoint_text = run_http(live_server.url + "/ledger/checkpoint")
    assert "— witness.example/w1 " in checkpoint_text
    assert Cosignature.objects.count() == 1
    append(5, start=30)
    assert "cosigned size 35: 5 new entries mirrored, 30 earlier ones re-checked" in run(*args)
    # An operator edits an entry in place: the next round re-fetches it and raises the alarm.
    with connection.cursor() as cursor:
        cursor.execute('UPDATE ledger_logentry SET data = %s WHERE "index" = %s', [b'{"forged":1}', 12])
    append(1, start=35)
    with pytest.raises(CommandError, match="ALARM"):
        run(*args)
    with pytest.raises(CommandError, match="entry 12: an entry has exactly the keys"):
        call_command("ledger", "audit")


def test_witness_reports_a_rollback(live_server, tmp_path, witness_key):
    append(10)
    key, state = log_verifier().encode(), tmp_path / "w.json"
    args = (
        "witness",
        "--url",
        live_server.url,
        "--key",
        key,
        "--witness-key",
        witness_key.encode(),
        "--state",
        str(state),
    )
    run(*args)
    saved = json.loads(state.read_text())
    saved["size"] = 50  # as if the log had shown it a bigger tree before
    state.write_text(json.dumps(saved))
    with pytest.raises(CommandError, match="ROLLBACK"):
        run(*args)


def test_unregistered_witness_is_refused(client):
    append(3)
    stranger = note.Signer.generate("witness.example/w1", note.COSIGNATURE_V1)
    body = client.get("/ledger/checkpoint").content.decode().split("\n\n")[0] + "\n"
    line = note.cosign(body, stranger, 1_700_000_000).strip()
    r = client.post("/api/v1/ledger/cosignatures", {"size": 3, "signature": line}, content_type="application/json")
    assert r.status_code == 403
    assert not Witness.objects.exists() and not Cosignature.objects.exists()
    r = client.post("/api/v1/ledger/cosignatures", {"size": 4, "signature": line}, content_type="application/json")
    assert r.status_code == 422 and "size" in r.json()["errors"]


def run_http(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url) as response:
        return response.read().decode()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (
                "verify",
                "--url",
                "ftp://x",
                "--key",
                "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            ),
            "--url",
        ),
        (("verify", "--dir", ".", "--key", "junk"), "--key"),
        (
            (
                "witness",
                "--url",
                "http://127.0.0.1:9",
                "--key",
                "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                "--witness-key",
                "",
            ),
            "--witness-key",
        ),
        (("keygen", "--name", "has space"), "--name"),
        (("publish", "--every", "-1"), "--every"),
        (("publish", "--every", "nan"), "--every"),
        (("publish", "--every", "inf"), "--every"),
    ],
)
def test_commands_name_the_bad_option(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("ledger", *args)


def test_receipt_command_refuses_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("{not json")
    with pytest.raises(CommandError, match="r.json"):
        call_command("ledger", "receipt", str(path), "--key", log_verifier().encode())
    signer = note.Signer.generate("w.example/1")  # a log key where a witness key belongs
    with pytest.raises(CommandError, match="witness key"):
        call_command(
            "ledger",
            "witness",
            "--url",
            "http://127.0.0.1:9",
            "--key",
            log_verifier().encode(),
            "--witness-key",
            signer.encode(),
        )


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe binary",
        b"[1, 2]",
        b"7",
        b'{"proof": 5, "index": 0}',
        b'{"checkpoint": 1, "entry": []}',
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the JSON parser goes (data review 58 M3)
    ],
)
def test_a_malformed_receipt_is_refused_in_words_not_a_traceback(tmp_path, body):
    path = tmp_path / "r.json"
    path.write_bytes(body)
    with pytest.raises(CommandError, match="r.json|MALFORMED|INVALID"):
        call_command("ledger", "receipt", str(path), "--key", log_verifier().encode())


def test_a_malformed_dump_and_a_bad_dump_folder_are_refused_in_words(tmp_path):
    broken = tmp_path / "dump"
    broken.mkdir()
    (broken / "checkpoints.json").write_text("{not json")
    with pytest.raises(CommandError, match="MALFORMED"):
        call_command("ledger", "verify", "--dir", str(broken), "--key", log_verifier().encode())
    (broken / "checkpoints.json").write_text("[1, 2]")
    with pytest.raises(CommandError):
        call_command("ledger", "verify", "--dir", str(broken), "--key", log_verifier().encode())
    afile = tmp_path / "afile"
    afile.write_text("")
    with pytest.raises(CommandError, match="is a file"):
        call_command("ledger", "dump", str(afile))


def test_a_bad_witness_key_or_signature_is_named_in_the_readers_language(client, operator):
    """The signed-note core names the rule in English for the command line; pages and the API say it in the
    reader's language (before, the core's English sat inside the Chinese sentence)."""
    from tests.registry.test_api import bearer

    append(3)
    good = note.Signer.generate("witness.example/w1", note.COSIGNATURE_V1).verifier.encode()
    name, key_id, key = good.split("+", 2)
    auth = bearer(operator)
    # an upper-case key id: at least its first digit, as a key id of digits alone reads the same upper-cased
    upper = "A" + key_id[1:].upper()
    for bad, rule in ((f"{name}+{upper}+{key}", "8"), (f"{name}+{key_id}+!!", "base64")):
        for language, said in (("en", rule), ("zh-hans", rule)):
            r = client.post(
                "/api/v1/ledger/witnesses",
                {"verifier_key": bad},
                content_type="application/json",
                HTTP_ACCEPT_LANGUAGE=language,
                **auth,
            )
            assert r.status_code == 422, r.content
            message = r.json()["errors"]["verifier_key"][0]
            assert said in message, message
            if language == "zh-hans":
                assert not any(word in message for word in ("verifier key", "must", "not valid")), message
    r = client.post(
        "/api/v1/ledger/cosignatures",
        {"size": 3, "signature": "— witness.example/w1 AAAA"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert r.status_code == 422 and "签名太短" in r.json()["errors"]["signature"][0], r.content


def test_a_receipts_quorum_counts_distinct_witnesses(live_server, tmp_path, witness_key, operator):
    """Review 49 H3/M1: one witness is one cosigner, however often its line is repeated in a receipt or its key
    given, and its key cannot be registered again under another name."""
    from agglo.common.errors import Conflict
    from agglo.ledger import receipt, selectors

    append(10)
    key = log_verifier().encode()
    args = ("witness", "--url", live_server.url, "--key", key, "--witness-key", witness_key.encode())
    run(*args, "--state", str(tmp_path / "w.json"))
    data = selectors.receipt(operator, 3)
    one = witness_key.verifier.encode()
    assert receipt.verify(data, key, [one], min_cosignatures=1).cosigned_by == ("witness.example/w1",)
    with pytest.raises(receipt.ReceiptError, match="1 distinct witnesses of those given, 2 required"):
        receipt.verify(data, key, [one, one], min_cosignatures=2)
    line = next(x for x in data["checkpoint"].splitlines() if x.startswith("— witness.example/w1 "))
    doubled = dict(data, checkpoint=data["checkpoint"] + line + "\n")
    with pytest.raises(receipt.ReceiptError, match="1 distinct witnesses"):
        receipt.verify(doubled, key, [one], min_cosignatures=2)
    alias = note.Verifier("witness.example/alias", note.COSIGNATURE_V1, witness_key.verifier.public_key).encode()
    with pytest.raises(Conflict):
        witness_register(actor=operator, verifier_key=alias)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError, match="below 0"):
        call_command("ledger", "receipt", str(path), "--key", key, "--min-cosignatures", "-1")
