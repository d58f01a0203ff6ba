"""Merkle tree hashes and proofs exactly as RFC 9162 §2.1 defines them (the RFC 6962 tree, SHA-256).

The log keeps the hash of every complete, aligned subtree: node (level, index) covers leaves
[index·2^level, (index+1)·2^level). Any MTH(D[a:b]) the RFC's recursions ask for splits into such nodes, so proofs
are built from a handful of stored hashes fetched in one batch (`reader`), never by rehashing leaves.

Verification follows the RFC's algorithms (§2.1.3.2, §2.1.4.2) with two extra strict rules that careful verifiers
apply: every hash is 32 bytes, and a consistency proof from an empty tree is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# (level, index) of a complete subtree.
Node = tuple[int, int]
# Fetches stored hashes for a batch of nodes, in the order asked.
Reader = Callable[[Sequence[Node]], Sequence[bytes]]


class ProofError(ValueError):
    """A proof, a size or a hash does not verify; the message says which rule failed."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def nodes_of(start: int, end: int) -> list[Node]:
    """The complete subtrees that make up D[start:end] as the RFC recursion splits it, left to right.

    Holds for the ranges RFC 9162 ever hashes: `start` aligned to the largest power of two ≤ end - start."""
    nodes: list[Node] = []
    while start < end:
        size = end - start
        level = size.bit_length() - 1
        if size == 1 << level:
            nodes.append((level, start >> level))
            break
        k = _split(size)
        level = k.bit_length() - 1
        nodes.append((level, start >> level))
        start += k
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from the hashes of its complete subtrees, left to right (the right part nests deepest)."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _inclusion_ranges(index: int, start: int, end: int, out: list[tuple[int, int]]) -> None:
    # PATH(m, D[start:end]) of RFC 9162 §2.1.3.1; the sibling range is appended after the deeper path.
    n = end - start
    if n <= 1:
        return
    k = _split(n)
    if index - start < k:
        _inclusion_ranges(index, start, start + k, out)
        out.append((start + k, end))
    else:
        _inclusion_ranges(index, start + k, end, out)
        out.append((start, start + k))


def _consistency_ranges(m: int, start: int, end: int, complete: bool, out: list[tuple[int, int]]) -> None:
    # SUBPROOF(m, D[start:end], b) of RFC 9162 §2.1.4.1.
    n = end - start
    if m == n:
        if not complete:
            out.append((start, end))
        return
    k = _split(n)
    if m <= k:
        _consistency_ranges(m, start, start + k, complete, out)
        out.append((start + k, end))
    else:
        _consistency_ranges(m - k, start + k, end, False, out)
        out.append((start, start + k))


def _hashes_of(ranges: list[tuple[int, int]], reader: Reader) -> list[bytes]:
    parts = [nodes_of(a, b) for a, b in ranges]
    wanted = sorted({node for nodes in parts for node in nodes})
    found = dict(zip(wanted, reader(wanted), strict=True))
    return [fold([found[node] for node in nodes]) for nodes in parts]


def inclusion_proof(index: int, size: int, reader: Reader) -> list[bytes]:
    """The audit path for leaf `index` in the tree of `size` leaves."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not below the tree size {size}")
    ranges: list[tuple[int, int]] = []
    _inclusion_ranges(index, 0, size, ranges)
    return _hashes_of(ranges, reader)


def consistency_proof(old_size: int, new_size: int, reader: Reader) -> list[bytes]:
    """The proof that the tree of `new_size` leaves extends the tree of `old_size` leaves."""
    if not 0 < old_size <= new_size:
        raise ProofError(f"a consistency proof needs 0 < from ≤ to, got from={old_size}, to={new_size}")
    ranges: list[tuple[int, int]] = []
    if old_size < new_size:
        _consistency_ranges(old_size, 0, new_size, True, ranges)
    return _hashes_of(ranges, reader)


def root(size: int, reader: Reader) -> bytes:
    """MTH of the first `size` leaves."""
    if size == 0:
        return EMPTY_ROOT
    nodes = nodes_of(0, size)
    return fold(list(reader(nodes)))


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} must be {HASH_SIZE} bytes, got {len(value)}")


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that `proof` yields for `leaf` (a leaf hash) at `index` in a tree of `size` (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not below the tree size {size}")
    _check_hash("leaf hash", leaf)
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        _check_hash("proof hash", p)
        if sn == 0:
            raise ProofError("the proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the path to the root")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes) -> None:
    """Raise ProofError unless `proof` shows `leaf` at `index` in the tree of `size` with `expected_root`."""
    _check_hash("root", expected_root)
    if root_from_inclusion(index, size, leaf, proof) != expected_root:
        raise ProofError("the inclusion proof does not lead to the expected root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Raise ProofError unless `proof` shows the tree (new_size, new_root) extends (old_size, old_root) (§2.1.4.2).

    Roots are only compared, never hashed, so their length is not checked here."""
    for p in proof:
        _check_hash("proof hash", p)
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if new_size < old_size:
        raise ProofError(f"the new size {new_size} is below the old size {old_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("trees of equal size need an empty proof")
        if old_root != new_root:
            raise ProofError("trees of equal size have different roots")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node of the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than needed")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than needed")
    if fr != old_root:
        raise ProofError("the consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("the consistency proof does not lead to the new root")


@dataclass
class CompactRange:
    """The right edge of a growing tree: one hash per complete subtree of the binary decomposition of `size`.

    Appending leaf hashes yields every newly completed node, which is what the log stores; `root()` is MTH of all
    leaves so far. Witnesses and verifiers keep one to check new entries without the old ones."""

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)  # largest subtree first

    def append(self, leaf: bytes) -> list[tuple[Node, bytes]]:
        """Add one leaf hash; returns the completed nodes, the leaf itself first."""
        index = self.size
        done: list[tuple[Node, bytes]] = [((0, index), leaf)]
        h, level = leaf, 0
        while index & 1:
            h = node_hash(self.hashes.pop(), h)
            level += 1
            index >>= 1
            done.append(((level, index), h))
        self.hashes.append(h)
        self.size += 1
        return done

    def extend(self, leaves: Iterable[bytes]) -> list[tuple[Node, bytes]]:
        out: list[tuple[Node, bytes]] = []
        for leaf in leaves:
            out.extend(self.append(leaf))
        return out

    def root(self) -> bytes:
        return fold(self.hashes) if self.hashes else EMPTY_ROOT

    @classmethod
    def at(cls, size: int, reader: Reader) -> CompactRange:
        """The compact range of the first `size` leaves, from stored hashes."""
        nodes = _edge_nodes(size)
        return cls(size=size, hashes=list(reader(nodes)) if nodes else [])


def _edge_nodes(size: int) -> list[Node]:
    nodes: list[Node] = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes
