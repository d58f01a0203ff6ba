"""A witness: follow a log, refuse rollbacks and split views, mirror-check new entries, then cosign.

Pure: it talks to the log through `fetch` (tlog-tiles paths), `get_json` (the proof API) and `post_json`, and
keeps its memory in a `WitnessState` the caller stores. Anything suspicious raises WitnessAlarm.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agglo.ledger import merkle, note, tiles
from agglo.ledger.verify import Fetch, VerifyError, open_checkpoint, tile_paths

GetJson = Callable[[str, dict[str, Any]], Any]
PostJson = Callable[[str, dict[str, Any]], Any]


class WitnessAlarm(Exception):
    """The log misbehaved: a rollback, a split view, an inconsistent tree or entries that do not match."""


@dataclass
class WitnessState:
    origin: str = ""
    size: int = 0
    root: str = ""  # base64
    edge: list[str] = field(default_factory=list)  # the compact range at `size`, base64
    checkpoint: str = ""  # the last signed note seen

    def compact_range(self) -> merkle.CompactRange:
        return merkle.CompactRange(size=self.size, hashes=[base64.b64decode(h) for h in self.edge])


@dataclass(frozen=True)
class Outcome:
    size: int
    new_entries: int
    sampled: int
    cosignature: str


def _entries_between(fetch: Fetch, start: int, end: int) -> list[bytes]:
    out: list[bytes] = []
    for tile in tile_paths(end):
        first, last = tile.span()
        if last <= start:
            continue
        data = fetch("tile/" + tile.path())
        if data is None:
            raise WitnessAlarm(f"tile/{tile.path()} is missing")
        bundle = tiles.unbundle(data)
        if len(bundle) != tile.width:
            raise WitnessAlarm(f"tile/{tile.path()} holds {len(bundle)} entries, expected {tile.width}")
        out.extend(bundle[max(0, start - first) :])
    return out


def observe(
    state: WitnessState,
    log: note.Verifier,
    cosigner: note.Signer,
    *,
    fetch: Fetch,
    get_json: GetJson,
    post_json: PostJson,
    sample: int = 64,
    rng: random.Random | None = None,
    now: Callable[[], float] = time.time,
) -> Outcome:
    """One round: check the log's current checkpoint against `state`, cosign it, and advance `state`."""
    raw = fetch("checkpoint")
    if raw is None:
        raise WitnessAlarm("the log serves no checkpoint")
    try:
        cp = open_checkpoint(raw, log)
    except VerifyError as exc:
        raise WitnessAlarm(str(exc)) from None
    old_root = base64.b64decode(state.root) if state.root else merkle.EMPTY_ROOT
    if state.origin and state.origin != cp.origin:
        raise WitnessAlarm(f"the log's origin changed from {state.origin!r} to {cp.origin!r}")
    if cp.size < state.size:
        raise WitnessAlarm(f"ROLLBACK: the log went back from size {state.size} to {cp.size}")
    if cp.size == state.size and cp.root != old_root:
        raise WitnessAlarm(f"SPLIT VIEW: two different roots for size {cp.size}")
    if 0 < state.size < cp.size:
        answer = get_json("proofs/consistency", {"from": state.size, "to": cp.size})
        proof = [base64.b64decode(h) for h in answer.get("hashes", [])]
        try:
            merkle.verify_consistency(state.size, cp.size, old_root, cp.root, proof)
        except merkle.ProofError as exc:
            raise WitnessAlarm(f"SPLIT VIEW: size {cp.size} is not consistent with size {state.size}: {exc}") from None
    # Mirror check: the entries the log serves must hash, with what we kept, to the signed root.
    edge = state.compact_range()
    new = _entries_between(fetch, state.size, cp.size)
    edge.extend(merkle.leaf_hash(e) for e in new)
    if edge.size != cp.size or edge.root() != cp.root:
        raise WitnessAlarm(f"the entries served up to {cp.size} do not hash to the signed root")
    sampled = _sample_old_entries(state.size, cp, get_json, sample, rng or random.Random())
    line = note.cosign(cp.body(), cosigner, int(now()))
    post_json("cosignatures", {"size": cp.size, "signature": line.strip()})
    state.origin, state.size = cp.origin, cp.size
    state.root = base64.b64encode(cp.root).decode()
    state.edge = [base64.b64encode(h).decode() for h in edge.hashes]
    state.checkpoint = raw.decode() if isinstance(raw, bytes) else raw
    return Outcome(size=cp.size, new_entries=len(new), sampled=sampled, cosignature=line.strip())


def _sample_old_entries(old_size: int, cp: Any, get_json: GetJson, sample: int, rng: random.Random) -> int:
    """Re-fetch earlier entries with their inclusion proofs: an entry edited after we mirrored it is caught."""
    if old_size == 0 or sample <= 0:
        return 0
    picks = range(old_size) if sample >= old_size else rng.sample(range(old_size), sample)
    for index in picks:
        entry = base64.b64decode(get_json(f"entries/{index}", {})["entry"])
        answer = get_json("proofs/inclusion", {"index": index, "size": cp.size})
        proof = [base64.b64decode(h) for h in answer.get("hashes", [])]
        try:
            merkle.verify_inclusion(index, cp.size, merkle.leaf_hash(entry), proof, cp.root)
        except merkle.ProofError:
            raise WitnessAlarm(f"entry {index} as served now is not the entry the log signed") from None
    return len(picks)
