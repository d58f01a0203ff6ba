"""Signed notes, cosignatures, checkpoints, tiles and entries against their specifications."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from agglo.ledger import checkpoint, entries, note, tiles

# The example key and note of the Go reference implementation (golang.org/x/mod/sumdb/note, note_test.go).
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"


def test_go_reference_keys_and_signature_byte_for_byte():
    signer = note.Signer.parse(GO_SKEY)
    assert signer.encode() == GO_SKEY
    assert signer.verifier.encode() == GO_VKEY
    assert note.Verifier.parse(GO_VKEY) == signer.verifier
    assert note.sign(GO_TEXT, [signer]) == GO_TEXT + "\n" + GO_SIG
    opened = note.open_note(GO_TEXT + "\n" + GO_SIG, [note.Verifier.parse(GO_VKEY)])
    assert opened.text == GO_TEXT


@pytest.mark.parametrize(
    "mangled",
    [
        GO_VKEY[:-1],
        GO_VKEY.replace("c74f20a3", "c74f20a4"),
        GO_VKEY.replace("PeterNeumann", "Peter Neumann"),
        GO_VKEY.replace("+AR", "+Ax"),
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "",
    ],
)
def test_mangled_verifier_keys_are_refused(mangled):
    with pytest.raises(note.NoteError):
        note.Verifier.parse(mangled)


def test_tampered_or_unsigned_notes_fail():
    verifier = note.Verifier.parse(GO_VKEY)
    with pytest.raises(note.NoteError):
        note.open_note(GO_TEXT.replace("cryptography", "cryptographY") + "\n" + GO_SIG, [verifier])
    other = note.Signer.generate("PeterNeumann")
    with pytest.raises(note.NoteError, match="no signature by a known key"):
        note.open_note(note.sign(GO_TEXT, [other]), [verifier])
    for bad in (GO_TEXT, GO_TEXT + "\n", GO_TEXT + "\n— x\n", GO_TEXT + "\x07\n" + GO_SIG):
        with pytest.raises(note.NoteError):
            note.open_note(bad, [verifier])


def test_unknown_signatures_are_ignored_and_kept():
    log, witness = note.Signer.generate("log.example/a"), note.Signer.generate("w.example/1")
    raw = note.sign(GO_TEXT, [log, witness])
    opened = note.open_note(raw, [log.verifier])
    assert [s.name for s in opened.signatures] == ["log.example/a", "w.example/1"]
    assert opened.encode() == raw


def test_cosignature_v1_message_and_key_id():
    body = checkpoint.Checkpoint("example.com/log", 5, b"\x01" * 32).body()
    cosigner = note.Signer.generate("witness.example/w1", note.COSIGNATURE_V1)
    line = note.cosign(body, cosigner, 1679315147)
    sig = note.parse(body + "\n" + line).signatures[0]
    assert sig.key_id == note.key_id("witness.example/w1", 0x04, cosigner.verifier.public_key)
    assert sig.data[:8] == (1679315147).to_bytes(8, "big")
    assert note.cosignature_message(body, 1679315147) == b"cosignature/v1\ntime 1679315147\n" + body.encode()
    assert note.verify_cosignature(body, sig, cosigner.verifier) == 1679315147
    with pytest.raises(note.NoteError):
        note.verify_cosignature(body.replace("5", "6"), sig, cosigner.verifier)
    assert note.Verifier.parse(cosigner.verifier.encode()).sig_type == 0x04


def test_checkpoint_round_trip_and_strictness():
    cp = checkpoint.Checkpoint("agglo.example/log", 20852163, bytes(range(32)), ("ext line",))
    assert checkpoint.parse(cp.body()) == cp
    assert cp.body().splitlines()[:2] == ["agglo.example/log", "20852163"]
    for bad in ("o\n01\n" + base64.b64encode(bytes(32)).decode() + "\n", "o\n1\nAAAA\n", "o\n1\n", "o\n-1\nx\n"):
        with pytest.raises(checkpoint.CheckpointError):
            checkpoint.parse(bad)


@pytest.mark.parametrize(("index", "path"), [(0, "000"), (7, "007"), (1234067, "x001/x234/067"), (1000, "x001/000")])
def test_tile_index_encoding(index, path):
    assert tiles.encode_index(index) == path
    assert tiles.parse_path(f"0/{path}").index == index


def test_tile_paths_and_availability():
    t = tiles.parse_path("1/x001/234.p/17")
    assert (t.level, t.index, t.width, t.tree_level) == (1, 1234, 17, 8)
    assert tiles.parse_path("entries/005").is_entries
    for bad in ("1/1234", "01/000", "64/000", "0/000.p/256", "0/000.p/0", "0/x000/001", "0/000/"):
        with pytest.raises(tiles.TileError):
            tiles.parse_path(bad)
    # The spec's example: a tree of 70,000 has 273 full level-0 tiles, a partial of 112, a full level-1 tile,
    # a partial level-1 tile of 17 and a partial level-2 tile of 1.
    size = 70_000
    assert tiles.available(tiles.Tile(0, 272, 256), size) and not tiles.available(tiles.Tile(0, 273, 256), size)
    assert tiles.available(tiles.Tile(0, 273, 112), size)
    assert tiles.available(tiles.Tile(1, 0, 256), size) and tiles.available(tiles.Tile(1, 1, 17), size)
    assert tiles.available(tiles.Tile(2, 0, 1), size)
    assert not tiles.available(tiles.Tile(2, 0, 256), size)
    # review 49 H1: the partial tiles of earlier sizes stay, so a client that read an earlier checkpoint finds
    # them; none past the tree's edge
    assert tiles.available(tiles.Tile(0, 273, 111), size) and tiles.available(tiles.Tile(0, 273, 1), size)
    assert tiles.available(tiles.Tile(0, 272, 5), size) and tiles.available(tiles.Tile(-1, 12, 200), size)
    assert not tiles.available(tiles.Tile(0, 273, 113), size) and not tiles.available(tiles.Tile(0, 274, 1), size)
    assert not tiles.available(tiles.Tile(1, 1, 18), size) and not tiles.available(tiles.Tile(2, 0, 2), size)


def test_entry_bundles_round_trip():
    data = [b"", b"a", b"x" * 300]
    blob = tiles.bundle(data)
    assert blob[:5] == bytes.fromhex("0000000161")
    assert tiles.unbundle(blob) == data
    with pytest.raises(tiles.TileError):
        tiles.unbundle(blob[:-1])


def test_entries_are_canonical_and_keep_personal_data_out():
    moment = dt.datetime(2026, 11, 28, 9, 30, 1, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    entry = entries.Entry("market.interest_accepted", moment, "org:12", "market.interest:5", {"z": 1, "a": [True]})
    data = entry.canonical()
    assert data == (
        b'{"actor":"org:12","payload":{"a":[true],"z":1},"subject":"market.interest:5",'
        b'"time":"2026-11-28T01:30:01.123Z","type":"market.interest_accepted"}'
    )
    assert entries.decode(data)["payload"] == {"a": [True], "z": 1}
    with pytest.raises(entries.EntryError, match="not the RFC 8785 canonical form"):
        entries.decode(b'{"type":"a.b","time":"t","actor":"system","subject":"system","payload":{}}')
    with pytest.raises(entries.EntryError, match="payload.note"):
        entries.Entry("a.b", moment, "system", "system", {"note": "x" * 201})
    with pytest.raises(entries.EntryError, match="payload.amount"):
        entries.Entry("a.b", moment, "system", "system", {"amount": 1.5})
    with pytest.raises(entries.EntryError, match="actor"):
        entries.Entry("a.b", moment, "张三", "system", {})
    assert entries.digest({"b": 1, "a": 2}) == entries.digest({"a": 2, "b": 1})
