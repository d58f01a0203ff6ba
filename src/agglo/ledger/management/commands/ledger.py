"""`agglo ledger …`: publish checkpoints, audit the stored log, verify or witness a log from outside, check receipts."""

from __future__ import annotations

import argparse
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console

from agglo.common.commands import in_english
from agglo.common.errors import DomainError
from agglo.ledger import note, receipt, tiles, verify, witness

# the actions that check what someone else wrote
OUTSIDE = frozenset(("verify", "witness", "receipt"))


class Command(BaseCommand):
    help = "The transparency log: keygen, publish, audit, dump, verify, witness, receipt"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        keygen = sub.add_parser("keygen", help="make a log or witness key pair")
        keygen.add_argument("--name", required=True, help="key name, e.g. witness.example.com/w1")
        keygen.add_argument("--witness", action="store_true", help="a cosignature/v1 (0x04) witness key")
        publish = sub.add_parser("publish", help="hash new entries and sign a checkpoint")
        publish.add_argument("--every", type=float, default=0, help="keep publishing every S seconds")
        sub.add_parser("audit", help="recompute the stored log and compare it with the signed checkpoints")
        dump = sub.add_parser("dump", help="write the log as a tlog-tiles folder for offline verification")
        dump.add_argument("folder")
        check = sub.add_parser("verify", help="verify a log from its public resources, over HTTP or from a dump")
        source = check.add_mutually_exclusive_group(required=True)
        source.add_argument("--url", help="the platform's base URL, e.g. https://agglo.example")
        source.add_argument("--dir", help="a folder written by `agglo ledger dump`")
        check.add_argument("--key", required=True, help="the log's verifier key string")
        watch = sub.add_parser("witness", help="check the log's new checkpoint and post a cosignature")
        watch.add_argument("--url", required=True)
        watch.add_argument("--key", required=True, help="the log's verifier key string")
        watch.add_argument(
            "--witness-key", default=os.environ.get("AGGLO_WITNESS_KEY", ""), help="PRIVATE+KEY… or a file with it"
        )
        watch.add_argument("--state", help="where the witness keeps what it saw (default ~/.agglo-witness/…)")
        watch.add_argument(
            "--sample", type=_count, default=64, help="earlier entries to re-check each round (0 or more)"
        )
        proof = sub.add_parser("receipt", help="verify a receipt file offline")
        proof.add_argument("file")
        proof.add_argument("--key", required=True, help="the log's verifier key string")
        proof.add_argument("--witness-key", action="append", default=[], help="a witness verifier key (repeatable)")
        proof.add_argument(
            "--min-cosignatures", type=_count, default=0, help="distinct given witnesses that must have cosigned"
        )

    @in_english
    def handle(self, *args, action: str, **options: Any) -> None:
        self.err = Console(stderr=True)
        if action not in OUTSIDE:
            getattr(self, f"_{action}")(**options)
            return
        # What these read comes from outside the platform (a receipt, a dump, a server, a state file): anything
        # malformed there is a failed check, said in words, never a traceback.
        try:
            getattr(self, f"_{action}")(**options)
        except CommandError:
            raise
        # RecursionError: JSON nested deeper than the parser goes (data review 58 M3)
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
            raise CommandError(f"MALFORMED input, nothing verified: {type(exc).__name__}: {exc}") from None

    # --- keys -------------------------------------------------------------------------------------------------
    def _keygen(self, *, name: str, witness: bool, **_: Any) -> None:
        try:
            signer = note.Signer.generate(name, note.COSIGNATURE_V1 if witness else note.ED25519)
        except note.NoteError as exc:
            raise CommandError(f"--name: {exc}") from None
        self.stdout.write(f"private key (keep secret): {signer.encode()}")
        self.stdout.write(f"verifier key (publish):   {signer.verifier.encode()}")

    # --- server side ------------------------------------------------------------------------------------------
    def _publish(self, *, every: float, **_: Any) -> None:
        from agglo.ledger.services import publish_all, publish_forever
        from agglo.ledger.store import LedgerIntegrityError

        if not 0 <= every <= 86_400:  # NaN fails this too: it would publish in a busy loop
            raise CommandError(f"--every: must be between 0 and 86400 seconds, got {every}")
        if every:
            self.err.print(f"publishing a checkpoint every {every} s (Ctrl-C stops)")
            publish_forever(every)
            return
        try:
            row = publish_all()
        except LedgerIntegrityError as exc:
            raise CommandError(f"REFUSED to publish: {exc}") from None
        self.stdout.write(f"checkpoint {row.size}" if row else "nothing new to publish")

    def _audit(self, **_: Any) -> None:
        from agglo.ledger.integrity import audit

        report = audit(progress=lambda n: self.err.print(f"  {n:,} entries", end="\r"))
        summary = f"{report.entries:,} entries, {report.nodes:,} tree nodes, {report.checkpoints:,} checkpoints"
        if report.ok:
            self.stdout.write(f"OK: {summary} match the signed checkpoints")
            return
        for problem in report.problems:
            self.stderr.write(f"TAMPERED: {problem}")
        raise CommandError(
            f"the audit found {len(report.problems)} problem(s) in {summary}; the first: {report.problems[0]}"
        )

    def _dump(self, *, folder: str, **_: Any) -> None:
        from agglo.ledger import selectors

        root = Path(folder)
        if root.exists() and not root.is_dir():
            raise CommandError(f"folder: {root} is a file")
        try:
            current = selectors.checkpoint_current()
        except DomainError as exc:
            raise CommandError(f"{exc.message} Run `agglo ledger publish` first.") from None
        root.mkdir(parents=True, exist_ok=True)  # even for a log of size 0, which has no tiles to make it
        size = current.size
        count = 0
        for level in range(-1, 64):
            if level >= 0 and size >> (level * tiles.TILE_HEIGHT) == 0:
                break
            for tile in verify.tile_paths(size, level):
                target = root / "tile" / tile.path()
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(selectors.tile_data(tile.path()))
                count += 1
        (root / "checkpoint").write_text(selectors.served_note(current))
        history = [selectors.served_note(row) for row in selectors.checkpoint_list()]
        (root / "checkpoints.json").write_text(json.dumps(history, indent=1))
        self.stdout.write(f"wrote checkpoint {size}, {count} tiles and {len(history)} checkpoints to {root}")

    # --- outside the platform ---------------------------------------------------------------------------------
    def _verify(self, *, url: str | None, dir: str | None, key: str, **_: Any) -> None:
        log = self._verifier(key)
        if url:
            fetch, get_json, _post = _http(url)
            history: list[str] = []
            after = -1
            while page := get_json("checkpoints", {"after": after}):
                history.extend(row["note"] for row in page)
                after = page[-1]["size"]
        else:
            folder = Path(dir or ".")
            if not folder.is_dir():  # a missing folder is the reader's mistake, not a failed log
                raise CommandError(f"--dir: no folder {folder}")
            fetch = _folder(folder)
            listed = folder / "checkpoints.json"
            history = json.loads(listed.read_text()) if listed.exists() else []
        try:
            report = verify.verify_log(fetch, log, history, progress=lambda n: self.err.print(f"  {n:,}", end="\r"))
        except (verify.VerifyError, tiles.TileError) as exc:
            raise CommandError(f"FAILED: {exc}") from None
        if report.problems:
            for problem in report.problems:
                self.stderr.write(f"FAILED: {problem}")
            raise CommandError(f"{len(report.problems)} problem(s); the first: {report.problems[0]}")
        self.stdout.write(
            f"OK: {report.entries:,} entries rehashed; the current checkpoint and {report.checkpoints:,} earlier "
            "ones match them"
        )

    def _witness(self, *, url: str, key: str, witness_key: str, state: str | None, sample: int, **_: Any) -> None:
        log = self._verifier(key)
        if not witness_key:
            raise CommandError("--witness-key: give the witness's PRIVATE+KEY… string or a file (or AGGLO_WITNESS_KEY)")
        text = Path(witness_key).read_text().strip() if Path(witness_key).is_file() else witness_key
        try:
            cosigner = note.Signer.parse(text)
        except note.NoteError as exc:
            raise CommandError(f"--witness-key: {exc}") from None
        if cosigner.sig_type != note.COSIGNATURE_V1:
            raise CommandError("--witness-key: must be a witness key (make one with `agglo ledger keygen --witness`)")
        path = Path(state) if state else Path.home() / ".agglo-witness" / (log.name.replace("/", "_") + ".json")
        saved = witness.WitnessState(**json.loads(path.read_text())) if path.exists() else witness.WitnessState()
        fetch, get_json, post_json = _http(url)
        try:
            outcome = witness.observe(
                saved, log, cosigner, fetch=fetch, get_json=get_json, post_json=post_json, sample=sample
            )
        except (witness.WitnessAlarm, tiles.TileError) as exc:
            self.stderr.write("!" * 72)
            self.stderr.write(f"ALARM: {exc}")
            self.stderr.write("!" * 72)
            raise CommandError(f"ALARM: {exc}") from None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(saved.__dict__))
        self.stdout.write(
            f"cosigned size {outcome.size}: {outcome.new_entries:,} new entries mirrored, "
            f"{outcome.sampled} earlier ones re-checked"
        )

    def _receipt(self, *, file: str, key: str, witness_key: list[str], min_cosignatures: int, **_: Any) -> None:
        try:
            data = json.loads(Path(file).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"{file}: {exc}") from None
        try:
            result = receipt.verify(data, key, witness_key, min_cosignatures=min_cosignatures)
        except (receipt.ReceiptError, note.NoteError) as exc:
            raise CommandError(f"INVALID receipt: {exc}") from None
        entry = result.entry
        self.stdout.write(
            f"VALID: entry {result.index} of {result.size} — {entry['type']} by {entry['actor']} on "
            f"{entry['subject']} at {entry['time']}"
            + (f"; cosigned by {', '.join(result.cosigned_by)}" if result.cosigned_by else "")
        )

    def _verifier(self, key: str) -> note.Verifier:
        try:
            return note.Verifier.parse(key)
        except note.NoteError as exc:
            raise CommandError(f"--key: {exc}") from None


def _folder(root: Path) -> verify.Fetch:
    def fetch(path: str) -> bytes | None:
        target = root / path
        return target.read_bytes() if target.is_file() else None

    return fetch


def _count(text: str) -> int:
    """A whole number of 0 or more, for argparse (which names the option in its error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is below 0")
    return value


RETRIES = 8  # answers of 429 or 503 waited out per request before giving up
MAX_WAIT = 60.0


def _retry_after(error: urllib.error.HTTPError) -> float:
    """The seconds a 429 or 503 asks to wait (Retry-After in seconds; 1 if it gives none), at most a minute."""
    value = (error.headers.get("Retry-After") or "1").strip()
    return min(MAX_WAIT, float(value)) if value.isdigit() else 1.0


def _http(base: str) -> tuple[verify.Fetch, Any, Any]:
    parsed = urllib.parse.urlparse(base)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise CommandError(f"--url: expected http(s)://host[:port], got {base!r}")
    base = base.rstrip("/").removesuffix("/ledger")  # the log's tlog-tiles prefix given instead of the platform's

    def get(url: str) -> bytes | None:
        for attempt in range(RETRIES + 1):
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    return response.read()
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return None
                wait = _retry_after(exc) if exc.code in (429, 503) else None
                if wait is None or attempt == RETRIES:
                    raise CommandError(f"{url}: HTTP {exc.code}") from None
                time.sleep(wait)  # the log asks a reader to slow down: a full check reads thousands of tiles
            except urllib.error.URLError as exc:
                raise CommandError(f"{url}: {exc.reason}") from None
        return None  # not reached: the last attempt returns or raises

    def fetch(path: str) -> bytes | None:
        return get(f"{base}/ledger/{path}")

    def get_json(path: str, params: dict[str, Any]) -> Any:
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        data = get(f"{base}/api/v1/ledger/{path}{query}")
        if data is None:
            raise CommandError(f"{path}: not found on the log")
        return json.loads(data)

    def post_json(path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            f"{base}/api/v1/ledger/{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise CommandError(f"the log refused the cosignature: HTTP {exc.code} {exc.read()[:300]!r}") from None

    return fetch, get_json, post_json
