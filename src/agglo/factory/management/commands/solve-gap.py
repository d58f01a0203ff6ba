"""`agglo solve-gap FILE [--time-limit S] [--maximize] --json`: solve one Generalized Assignment Problem in the
OR-Library format and print the status, objective, bound, assignment (agent index, 0-based, per job) and seconds."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agglo.factory.gap import GapFormatError, parse_gap, solve_gap


class Command(BaseCommand):
    help = "Solve one GAP instance (OR-Library format): agglo solve-gap FILE [--time-limit S] [--maximize] --json"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--time-limit", type=float, default=10.0, help="seconds (default 10)")
        parser.add_argument("--maximize", action="store_true", help="maximise profit instead of minimising cost")
        parser.add_argument("--json", action="store_true", help="the JSON on one line (without it, indented)")

    def handle(self, *args, file: str, time_limit: float, maximize: bool, json: bool, **options):
        if not 0 < time_limit <= 86_400:
            raise CommandError(f"--time-limit: must be between 0 and 86400 seconds, got {time_limit}")
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8-sig")  # a BOM, as Windows editors write it, is not a number
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"FILE: cannot read {file}: {exc}") from None
        try:
            problem = parse_gap(text)
        except GapFormatError as exc:
            raise CommandError(f"FILE {file}: not a GAP problem: {exc}") from None
        result = solve_gap(problem, maximize=maximize, time_limit=time_limit)
        out = {
            "status": result.status,
            "objective": result.objective,
            "bound": result.bound,
            "assignment": list(result.assignment),
            "seconds": round(result.seconds, 3),
        }
        self.stdout.write(_dumps(out) if json else _dumps(out, indent=2))


def _dumps(value, indent=None):
    return json.dumps(value, indent=indent)
