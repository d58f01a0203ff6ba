"""The Merkle core against the transparency-dev/merkle vectors (RFC 6962 / RFC 9162) and against itself."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agglo.ledger import merkle

# transparency-dev/merkle's test data, copied from ../shared/data/merkle (see data/SOURCE.md).
VECTORS = json.loads((Path(__file__).resolve().parent / "data" / "rfc6962_vectors.json").read_text())


def h(text: str) -> bytes:
    return bytes.fromhex(text)


class Store:
    """Every complete node of a tree built leaf by leaf, as the log stores them."""

    def __init__(self, entries: Sequence[bytes]) -> None:
        self.nodes: dict[merkle.Node, bytes] = {}
        self.edge = merkle.CompactRange()
        self.roots = [merkle.EMPTY_ROOT]
        for entry in entries:
            self.nodes.update(self.edge.append(merkle.leaf_hash(entry)))
            self.roots.append(self.edge.root())

    def read(self, nodes: Sequence[merkle.Node]) -> list[bytes]:
        return [self.nodes[n] for n in nodes]


def test_hasher_vectors():
    by_desc = {v["desc"]: v for v in VECTORS["hasher"]}
    assert merkle.EMPTY_ROOT.hex() == VECTORS["hasher"][0]["want_hex"]
    for vector in by_desc.values():
        if "left_hex" in vector:
            assert merkle.node_hash(h(vector["left_hex"]), h(vector["right_hex"])).hex() == vector["want_hex"]
        elif "input_hex" in vector:
            assert merkle.leaf_hash(h(vector["input_hex"])).hex() == vector["want_hex"]


def test_reference_tree_roots_and_nodes():
    tree = VECTORS["reference_tree_8_leaves"]
    store = Store([h(x) for x in tree["leaf_inputs_hex"]])
    assert [r.hex() for r in store.roots] == tree["root_by_tree_size_hex"]
    for level, key in enumerate(["leaf_hashes_hex", "level1_hashes_hex", "level2_hashes_hex", "level3_hashes_hex"]):
        assert [store.nodes[(level, i)].hex() for i in range(len(tree[key]))] == tree[key]
    for size in range(9):
        assert merkle.root(size, store.read) == store.roots[size]


@pytest.mark.parametrize("vector", VECTORS["inclusion"], ids=lambda v: v["file"])
def test_inclusion_vectors(vector):
    def verify():
        merkle.verify_inclusion(
            vector["leafIdx"],
            vector["treeSize"],
            h(vector["leafHash"]),
            [h(p) for p in vector["proof"]],
            h(vector["root"]),
        )

    if vector["wantErr"]:
        with pytest.raises(merkle.ProofError):
            verify()
    else:
        verify()


@pytest.mark.parametrize("vector", VECTORS["consistency"], ids=lambda v: v["file"])
def test_consistency_vectors(vector):
    def verify():
        merkle.verify_consistency(
            vector["size1"], vector["size2"], h(vector["root1"]), h(vector["root2"]), [h(p) for p in vector["proof"]]
        )

    if vector["wantErr"]:
        with pytest.raises(merkle.ProofError):
            verify()
    else:
        verify()


def test_generated_proofs_match_the_published_ones():
    # Every valid probe over the reference tree must be what our generator produces, hash for hash.
    tree = VECTORS["reference_tree_8_leaves"]
    store = Store([h(x) for x in tree["leaf_inputs_hex"]])
    roots = set(tree["root_by_tree_size_hex"])
    checked = 0
    for v in VECTORS["inclusion"]:
        if not v["wantErr"] and v["root"] in roots and v["treeSize"] <= 8:
            assert [p.hex() for p in merkle.inclusion_proof(v["leafIdx"], v["treeSize"], store.read)] == v["proof"]
            checked += 1
    for v in VECTORS["consistency"]:
        if not v["wantErr"] and v["root2"] in roots and v["size1"] > 0 and v["size2"] <= 8:
            assert [p.hex() for p in merkle.consistency_proof(v["size1"], v["size2"], store.read)] == v["proof"]
            checked += 1
    assert checked >= 10


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70), st.data())
def test_every_generated_proof_verifies(entries, data):
    store = Store(entries)
    n = len(entries)
    size = data.draw(st.integers(1, n))
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.inclusion_proof(index, size, store.read)
    merkle.verify_inclusion(index, size, merkle.leaf_hash(entries[index]), proof, store.roots[size])
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, size, merkle.leaf_hash(entries[index] + b"x"), proof, store.roots[size])
    old = data.draw(st.integers(1, size))
    proof = merkle.consistency_proof(old, size, store.read)
    merkle.verify_consistency(old, size, store.roots[old], store.roots[size], proof)
    if old < size:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(old, size, merkle.leaf_hash(b"forged"), store.roots[size], proof)


def test_compact_range_resumes_from_stored_hashes():
    entries = [i.to_bytes(2, "big") for i in range(300)]
    store = Store(entries)
    edge = merkle.CompactRange.at(123, store.read)
    assert edge.root() == store.roots[123]
    edge.extend(merkle.leaf_hash(e) for e in entries[123:])
    assert edge.root() == store.roots[300]


def test_bad_requests_are_refused():
    store = Store([b"a", b"b"])
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_proof(2, 2, store.read)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof(0, 2, store.read)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof(2, 1, store.read)
