"""Ledger benchmark: append N entries in batched commits while a publisher signs checkpoints at a fixed interval,
then time proofs at N and a full recomputation.

- appends_per_s: entries committed per second by one appender (batches of `batch`, each one transaction; the
  database's own durability settings apply, stated in the output).
- integrate_p95_s: per entry, from its batch's commit (acknowledged) to the commit of the first checkpoint that
  covers it, with the publisher running every `interval` seconds beside the appender.
- inclusion_p95_ms / consistency_p95_ms: proof generation at size N from the stored nodes, through the selector
  the API uses (database reads included), over random indexes and sizes.
- verify_s: the outside verifier's full run (`verify.verify_log`) over the tiles and entry bundles as served:
  every entry rehashed, the tree rebuilt, every checkpoint's signature and root checked.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import random
import time
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from rich.console import Console

from agglo.bench.registry import percentile
from agglo.ledger import entries, selectors, services, verify
from agglo.ledger.keys import log_verifier
from agglo.ledger.models import SignedCheckpoint

ORGS = 5000
MOMENT = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)


def _entry(i: int, rng: random.Random, moment: dt.datetime, orgs: list[int]) -> tuple[entries.Entry, tuple[int, int]]:
    """A factory acceptance as `factory.services.jobs` logs it: every fact and the actor sealed under the
    allocation's key (about 790 bytes)."""
    buyer, factory = rng.choice(orgs), rng.choice(orgs)
    key = rng.randbytes(16).hex()
    facts = {
        "order": 1 + i // 6,
        "buyer": buyer,
        "factory": factory,
        "process": "cnc",
        "quantity": rng.randrange(100, 5000),
        "week": "2026-12-07",
    }
    payload = {k: entries.sealed(f"{k}:{v}", key) for k, v in facts.items()}
    actor = entries.sealed_ref("party", f"org:{factory}", key)
    subject = entries.sealed_ref("factory.allocation", f"factory.allocation:{i}", key)
    return entries.Entry("factory.allocation_accepted", moment, actor, subject, payload), (
        buyer,
        factory,
    )


def _organizations() -> list[int]:
    # Parties need organizations to point at; plain rows are enough here.
    from agglo.registry.models import Organization, Region
    from agglo.registry.services import reference_data_load

    reference_data_load()
    region, area = Region.objects.get(code="440300"), Region.objects.get(code="440000")
    Organization.objects.bulk_create(
        [
            Organization(
                name_zh=f"基准企业{i}", kind="enterprise", layer="core", status="member", region=region, area=area
            )
            for i in range(1, ORGS + 1)
        ],
        batch_size=1000,
    )
    return list(Organization.objects.values_list("pk", flat=True))


def run(size: int, batch: int, interval: float, seed: int, err: Console, publish: str = "commit") -> dict[str, Any]:
    rng = random.Random(seed)
    settings.AGGLO_LEDGER_PUBLISH = publish
    orgs = _organizations()
    services.checkpoint_publish()  # the empty tree's checkpoint
    if publish == "commit":
        append_s, acks, published = _append_publishing_on_commit(size, batch, rng, orgs)
    else:
        append_s, acks, published = _append_beside_publisher(size, batch, interval, rng, orgs)
    err.print(f"  appended and published {size:,}")

    latencies: list[float] = []
    weights: list[int] = []
    cursor = 0
    previous_end = 0
    for end, acked in acks:
        while published[cursor][0] < end:
            cursor += 1
        latencies.append(published[cursor][1] - acked)
        weights.append(end - previous_end)
        previous_end = end
    expanded = sorted((lat, w) for lat, w in zip(latencies, weights, strict=True))
    integrate_p95 = _weighted_percentile(expanded, 95)

    samples = 1000
    inclusion_ms, consistency_ms = [], []
    for _ in range(samples):
        index = rng.randrange(size)
        t0 = time.perf_counter()
        selectors.inclusion_proof(index, size)
        inclusion_ms.append((time.perf_counter() - t0) * 1000)
        old = rng.randrange(1, size + 1)
        t0 = time.perf_counter()
        selectors.consistency_proof(old, size)
        consistency_ms.append((time.perf_counter() - t0) * 1000)

    history = [selectors.served_note(row) for row in selectors.checkpoint_list()]
    err.print(f"  verifying {size:,} entries and {len(history):,} checkpoints")
    t0 = time.perf_counter()
    report = verify.verify_log(_fetch, log_verifier(), history)
    verify_s = time.perf_counter() - t0
    if report.problems or report.entries != size:
        raise RuntimeError(f"the benchmark log does not verify: {report.problems[:3]}")
    synchronous = None
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA synchronous")
            synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(cur.fetchone()[0])
    return {
        "size": size,
        "batch": batch,
        "publish": publish,
        "publish_interval_s": interval if publish == "interval" else None,
        "metrics": {
            "appends_per_s": round(size / append_s, 1),
            "integrate_p95_s": round(integrate_p95, 3),
            "inclusion_p95_ms": percentile(inclusion_ms, 95),
            "consistency_p95_ms": percentile(consistency_ms, 95),
            "verify_s": round(verify_s, 1),
            "inclusion_p50_ms": percentile(inclusion_ms, 50),
            "consistency_p50_ms": percentile(consistency_ms, 50),
            "checkpoints": SignedCheckpoint.objects.count(),
            "append_s": round(append_s, 1),
        },
        "database": connection.vendor,
        "sqlite_synchronous": synchronous,
    }


def _append_publishing_on_commit(
    size: int, batch: int, rng: random.Random, orgs: list[int]
) -> tuple[float, list[tuple[int, float]], list[tuple[int, float]]]:
    """The platform's default: each committing transaction publishes a checkpoint right after its commit."""
    acks: list[tuple[int, float]] = []
    published: list[tuple[int, float]] = []
    start = time.perf_counter()
    for first in range(0, size, batch):
        items = [_entry(i, rng, MOMENT, orgs) for i in range(first, min(size, first + batch))]
        end = first + len(items)
        with transaction.atomic():
            # Runs at commit, before the publisher's own on-commit hook: the acknowledgement time.
            transaction.on_commit(lambda end=end: acks.append((end, time.perf_counter())))
            services.entries_append(items)
        published.append((selectors.published_size(), time.perf_counter()))
    return time.perf_counter() - start, acks, published


def _append_beside_publisher(
    size: int, batch: int, interval: float, rng: random.Random, orgs: list[int]
) -> tuple[float, list[tuple[int, float]], list[tuple[int, float]]]:
    """`agglo ledger publish --every S` in its own process beside one appender; perf_counter is CLOCK_MONOTONIC,
    comparable across processes."""
    connections.close_all()
    context = multiprocessing.get_context("fork")
    stop, done = context.Event(), context.Queue()
    process = context.Process(target=_publisher, args=(interval, stop, done), daemon=True)
    process.start()
    acks: list[tuple[int, float]] = []
    start = time.perf_counter()
    for first in range(0, size, batch):
        items = [_entry(i, rng, MOMENT, orgs) for i in range(first, min(size, first + batch))]
        services.entries_append(items)
        acks.append((first + len(items), time.perf_counter()))
    append_s = time.perf_counter() - start
    while selectors.published_size() < size:
        time.sleep(0.05)
    stop.set()
    published: list[tuple[int, float]] = done.get(timeout=60)
    process.join(timeout=60)
    return append_s, acks, published


def _publisher(interval: float, stop: Any, done: Any) -> None:
    published: list[tuple[int, float]] = []
    try:
        while not stop.is_set():
            started = time.perf_counter()
            while (row := services.checkpoint_publish()) is not None:
                published.append((row.size, time.perf_counter()))
            time.sleep(max(0.0, interval - (time.perf_counter() - started)))
    finally:
        done.put(published)
        connections.close_all()


def _fetch(path: str) -> bytes | None:
    from agglo.common.errors import NotFound

    if path == "checkpoint":
        return selectors.served_note(selectors.checkpoint_current()).encode()
    try:
        return selectors.tile_data(path.removeprefix("tile/"))
    except NotFound:
        return None


def _weighted_percentile(pairs: list[tuple[float, int]], q: float) -> float:
    total = sum(w for _, w in pairs)
    threshold, seen = total * q / 100, 0
    for value, weight in pairs:
        seen += weight
        if seen >= threshold:
            return value
    return pairs[-1][0] if pairs else 0.0
