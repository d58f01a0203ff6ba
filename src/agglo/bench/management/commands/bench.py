"""`agglo bench <area> --size N --json`: build a fresh database of N organizations and measure it."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from rich.console import Console

AREAS = ("registry", "profiles", "matching", "factory", "ledger", "policy")


class Command(BaseCommand):
    help = (
        "Benchmarks that print one JSON object: "
        "agglo bench registry|profiles|matching|factory|ledger|policy --size N --json"
    )

    def add_arguments(self, parser):
        parser.add_argument("area", choices=AREAS)
        parser.add_argument(
            "--size",
            type=int,
            default=10_000,
            help="organizations (registry, profiles, matching: 50–100,000) or entries (ledger: 1,000–10,000,000)",
        )
        parser.add_argument("--requests", type=int, default=300, help="timed requests per measure (at least 200)")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--json", action="store_true", help="print only the JSON result on stdout")
        parser.add_argument(
            "--gap-time-limit", type=float, default=60.0, help="factory only: seconds per gapa–gapd problem"
        )
        parser.add_argument(
            "--synthetic-time-limit", type=float, default=120.0, help="factory only: seconds for the synthetic case"
        )
        parser.add_argument("--skip-gap", action="store_true", help="factory only: only the synthetic case")
        parser.add_argument("--batch", type=int, default=500, help="ledger only: entries per appended transaction")
        parser.add_argument(
            "--publish",
            choices=("commit", "interval"),
            default="commit",
            help="ledger only: a checkpoint after each commit (the default mode) or from a publisher process",
        )
        parser.add_argument(
            "--interval", type=float, default=0.25, help="ledger only: the publisher's seconds between checkpoints"
        )
        parser.add_argument(
            "--embeddings", default="", help="matching only: also measure with a sentence encoder (use-m3)"
        )

    def handle(
        self,
        *args,
        area,
        size,
        requests,
        seed,
        json: bool,
        embeddings: str,
        gap_time_limit: float,
        synthetic_time_limit: float = 120.0,
        skip_gap: bool = False,
        batch: int = 500,
        interval: float = 0.25,
        publish: str = "commit",
        **options,
    ):
        if settings.PRODUCTION and area != "factory":  # the factory's needs no database and serves no page
            raise CommandError(
                "AGGLO_PRODUCTION is on: benchmarks build a throwaway database and serve it to themselves; run them "
                "on a development setup"
            )
        if area == "ledger":
            if not 1000 <= size <= 10_000_000:
                raise CommandError(f"--size: between 1,000 and 10,000,000 entries, got {size}")
            if not 1 <= batch <= 10_000:
                raise CommandError(f"--batch: between 1 and 10,000 entries, got {batch}")
            if not 0.01 <= interval <= 60:
                raise CommandError(f"--interval: between 0.01 and 60 seconds, got {interval}")
        elif area != "factory" and not 50 <= size <= 100_000:  # the factory's cases have sizes of their own
            raise CommandError(f"--size: must be between 50 and 100,000, got {size}")
        if requests < 200:
            raise CommandError(f"--requests: at least 200 requests per measure, got {requests}")
        err = Console(stderr=True)
        # The benchmarks measure the platform, not its rate limiter: thousands of requests come from one address.
        settings.AGGLO_RATE_LIMITING = False
        if area == "factory":
            # The solver core against published optima: no database either.
            from agglo.bench import factory as bench_factory

            if not 0 < gap_time_limit <= 3600:
                raise CommandError(f"--gap-time-limit: between 0 and 3600 seconds, got {gap_time_limit}")
            if not 0 < synthetic_time_limit <= 3600:
                raise CommandError(f"--synthetic-time-limit: between 0 and 3600 seconds, got {synthetic_time_limit}")
            from agglo.factory.gap import GapFormatError

            try:
                measured = bench_factory.run(gap_time_limit, synthetic_time_limit, err, gap=not skip_gap)
            except (OSError, GapFormatError) as exc:
                # The GAP data folder (AGGLO_GAP_DATA) is missing, or a file or optima.csv is not as expected.
                raise CommandError(f"GAP data in {bench_factory.data_dir()}: {exc}") from None
            result = {"area": area, **measured, "machine": _machine()}
            self.stdout.write(_dumps(result) if json else _dumps(result, indent=2))
            return
        if area == "matching":
            # The engine is measured in memory on a generated market: no database to build.
            from agglo.bench import matching as bench_matching
            from agglo.matching.embeddings import MODELS

            if embeddings and embeddings not in MODELS:
                raise CommandError(f"--embeddings: choose one of {', '.join(MODELS)}, got {embeddings!r}")
            measured = bench_matching.run(size, seed, err, model=embeddings)
            result = {"area": area, "size": size, **measured, "machine": _machine()}
            self.stdout.write(_dumps(result) if json else _dumps(result, indent=2))
            return
        # A throwaway database beside the real one: SQLite in a temporary file, PostgreSQL as test_<name>.
        settings_dict = connection.settings_dict
        if connection.vendor == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="agglo-bench-"))
            settings_dict.setdefault("TEST", {})["NAME"] = str(folder / "bench.sqlite3")
        old_name = settings_dict["NAME"]
        if area != "ledger":
            err.print(f"bench {area}: building {size:,} organizations on {connection.vendor}")
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            if area == "ledger":
                from agglo.bench import ledger as bench_ledger

                err.print(f"bench ledger: {size:,} entries in batches of {batch}, publishing on {publish}")
                measured = bench_ledger.run(size, batch, interval, seed, err, publish=publish)
                result = {"area": area, **measured, "machine": _machine()}
            else:
                result = self._run(area, size, requests, seed, err)
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
            if connection.vendor == "sqlite":
                shutil.rmtree(folder, ignore_errors=True)
        self.stdout.write(_dumps(result) if json else _dumps(result, indent=2))

    def _run(self, area, size, requests, seed, err):
        from agglo.bench import registry as bench_registry
        from agglo.demo.management.commands.demo import run_with_progress
        from agglo.registry.services import reference_data_load

        reference_data_load()
        start = time.perf_counter()
        run_with_progress(size, seed, console=err, profiles=area != "registry", market=False)
        build_s = round(time.perf_counter() - start, 1)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        if area == "profiles":
            from agglo.bench import profiles as bench_profiles

            measured = bench_profiles.run(size, requests, seed, err)
        elif area == "policy":
            from agglo.bench import policy as bench_policy

            measured = bench_policy.run(size, seed, err)
        else:
            err.print(f"measuring {requests} requests per measure")
            measured = bench_registry.run(requests, seed)
        measured["metrics"]["build_s"] = build_s
        return {
            "area": area,
            "size": size,
            "database": connection.vendor,
            **measured,
            "machine": _machine(),
        }


def _machine():
    return {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def _dumps(value, indent=None):
    return json.dumps(value, ensure_ascii=False, indent=indent)
