"""Appending, publishing and auditing the stored log."""

from __future__ import annotations

import base64

import pytest
from django.db import connection

from agglo.ledger import merkle, note, selectors, services
from agglo.ledger.checkpoint import parse as parse_checkpoint
from agglo.ledger.integrity import audit
from agglo.ledger.keys import log_verifier
from agglo.ledger.models import LogEntry, SignedCheckpoint, TreeNode, node_key
from agglo.ledger.store import LedgerIntegrityError
from tests.ledger.conftest import append

pytestmark = pytest.mark.django_db(transaction=True)


def test_appends_are_published_after_commit_and_consistent():
    append(5)
    first = SignedCheckpoint.objects.order_by("-size").first()
    assert first.size == 5
    append(300, start=5)
    current = selectors.checkpoint_current()
    assert current.size == 305
    cp = parse_checkpoint(note.open_note(current.note, [log_verifier()]).text)
    leaves = [merkle.leaf_hash(bytes(e.data)) for e in LogEntry.objects.order_by("index")]
    edge = merkle.CompactRange()
    edge.extend(leaves)
    assert cp.root == edge.root()
    proof = selectors.consistency_proof(5, 305)
    merkle.verify_consistency(5, 305, bytes(first.root), cp.root, proof)
    for index in (0, 4, 255, 256, 304):
        merkle.verify_inclusion(index, 305, leaves[index], selectors.inclusion_proof(index, 305), cp.root)
    assert audit().ok


def test_audit_catches_an_entry_edited_in_the_database():
    append(40)
    with connection.cursor() as cursor:
        cursor.execute(
            'UPDATE ledger_logentry SET data = %s WHERE "index" = %s',
            [b'{"actor":"system","payload":{"n":999},"subject":"test.thing:7","time":"x","type":"test.event"}', 7],
        )
    report = audit()
    assert not report.ok
    assert any("entry 7: its bytes changed" in p for p in report.problems)
    assert any("checkpoint 40" in p for p in report.problems)


def test_a_rewritten_tree_is_never_signed():
    append(10)
    # An operator rewrites history: a new entry 3 and every node recomputed to match it.
    LogEntry.objects.filter(index=3).update(data=b"forged")
    edge = merkle.CompactRange()
    nodes = edge.extend(merkle.leaf_hash(bytes(e.data)) for e in LogEntry.objects.order_by("index"))
    for (level, index), h in nodes:
        TreeNode.objects.filter(key=node_key(level, index)).update(hash=h)
    with pytest.raises(LedgerIntegrityError, match="not consistent"):
        append(1, start=10)
        services.checkpoint_publish()  # the on-commit publisher logged it; calling again raises
    assert SignedCheckpoint.objects.order_by("-size").first().size == 10
    assert not audit().ok


def test_tiles_and_bundles_match_the_tree():
    append(300)
    size = selectors.published_size()
    level0 = selectors.tile_data("0/000")
    assert len(level0) == 256 * 32
    assert level0[:32] == merkle.leaf_hash(bytes(LogEntry.objects.get(index=0).data))
    assert len(selectors.tile_data("0/001.p/44")) == 44 * 32
    assert selectors.tile_data("1/000.p/1") == merkle.root(
        256, lambda nodes: [bytes(TreeNode.objects.get(key=node_key(*n)).hash) for n in nodes]
    )
    bundle = selectors.tile_data("entries/001.p/44")
    assert bundle.startswith(len(bytes(LogEntry.objects.get(index=256).data)).to_bytes(2, "big"))
    assert size == 300
    from agglo.common.errors import NotFound

    assert selectors.tile_data("0/001.p/43") == selectors.tile_data("0/001.p/44")[: 43 * 32]  # an earlier edge
    for missing in ("0/001", "0/001.p/45", "2/000.p/1", "0/000.p/0", "junk"):
        with pytest.raises(NotFound):
            selectors.tile_data(missing)


def test_entry_and_proof_api(client):
    append(20)
    r = client.get("/api/v1/ledger/entries/3")
    assert r.status_code == 200
    assert base64.b64decode(r.json()["entry"]) == bytes(LogEntry.objects.get(index=3).data)
    r = client.get("/api/v1/ledger/proofs/inclusion", {"index": 3, "size": 20})
    assert r.json()["index"] == 3 and len(r.json()["hashes"]) == 5
    r = client.get("/api/v1/ledger/proofs/consistency", {"from": 7, "to": 20})
    assert set(r.json()) == {"from", "to", "hashes"} and r.json()["from"] == 7
    assert client.get("/api/v1/ledger/entries/20").status_code == 404
    bad = client.get("/api/v1/ledger/proofs/inclusion", {"index": 3, "size": 21})
    assert bad.status_code == 422 and "size" in bad.json()["errors"]
    bad = client.get("/api/v1/ledger/proofs/consistency", {"from": 0, "to": 20})
    assert bad.status_code == 422 and "from" in bad.json()["errors"]
    r = client.get("/ledger/checkpoint")
    assert r["Content-Type"].startswith("text/plain") and r.content.decode().split("\n")[1] == "20"
    assert client.get("/ledger/key").content.decode() == log_verifier().encode()
    assert client.get("/ledger/tile/0/000.p/20").content[:32] == merkle.leaf_hash(
        bytes(LogEntry.objects.get(index=0).data)
    )
    assert client.get("/ledger/tile/0/000").status_code == 404
    # an earlier checkpoint's partial tiles are still there: a prefix of today's (review 49 H1)
    edge = client.get("/ledger/tile/0/000.p/20").content
    assert client.get("/ledger/tile/0/000.p/7").content == edge[: 7 * 32]
    assert client.get("/ledger/tile/entries/000.p/7").status_code == 200
    assert client.get("/ledger/tile/0/000.p/21").status_code == 404  # past the published tree


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("get", "/api/v1/ledger/proofs/inclusion?index=x&size=1", None, "index"),
        ("get", "/api/v1/ledger/proofs/inclusion?index=-1&size=3", None, "index"),
        ("get", "/api/v1/ledger/proofs/consistency?from=2&to=1", None, "from"),
        ("get", "/api/v1/ledger/proofs/consistency?to=3", None, "from"),
        ("post", "/api/v1/ledger/cosignatures", {"size": 3, "signature": "— w x"}, "signature"),
        ("post", "/api/v1/ledger/cosignatures", {"size": 3, "signature": "not a signature line"}, "signature"),
        ("post", "/api/v1/ledger/cosignatures", {"size": -5, "signature": "x"}, "size"),
        ("post", "/api/v1/ledger/cosignatures", {"signature": "x"}, "size"),
    ],
)
def test_bad_input_names_the_field_and_never_errors(client, method, path, body, field):
    append(3)
    r = client.get(path) if method == "get" else client.post(path, body, content_type="application/json")
    assert r.status_code in (400, 422), r.content
    assert field in r.json()["errors"], r.json()


def test_witness_registration_checks_the_key(client, operator):
    client.force_login(operator)
    for key, message in (("junk", "verifier_key"), (note.Signer.generate("log.example/x").verifier.encode(), "0x04")):
        r = client.post("/api/v1/ledger/witnesses", {"verifier_key": key}, content_type="application/json")
        assert r.status_code == 422 and message in json_text(r)
    good = note.Signer.generate("w.example/1", note.COSIGNATURE_V1).verifier.encode()
    assert (
        client.post("/api/v1/ledger/witnesses", {"verifier_key": good}, content_type="application/json").status_code
        == 201
    )
    again = client.post("/api/v1/ledger/witnesses", {"verifier_key": good}, content_type="application/json")
    assert again.status_code == 409
    other = note.Signer.generate("w.example/2", note.COSIGNATURE_V1).verifier.encode()
    for pk in (999999, -5):  # review 49 L2: a 500 before
        r = client.post(
            "/api/v1/ledger/witnesses", {"verifier_key": other, "organization_id": pk}, content_type="application/json"
        )
        assert r.status_code == 422 and "organization_id" in r.json()["errors"]


def json_text(response) -> str:
    import json

    return json.dumps(response.json(), ensure_ascii=False)
