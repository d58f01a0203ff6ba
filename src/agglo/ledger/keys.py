"""The platform's log key: from AGGLO_LEDGER_KEY, else a key file under var/ made on first use."""

from __future__ import annotations

import logging
import os
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from agglo.ledger.note import NoteError, Signer, Verifier

logger = logging.getLogger("agglo.ledger")


def origin() -> str:
    """The checkpoint origin line, which is also the key name."""
    return settings.AGGLO_LEDGER_ORIGIN


@cache
def log_signer() -> Signer:
    text = settings.AGGLO_LEDGER_KEY or _key_file()
    try:
        signer = Signer.parse(text)
    except NoteError as exc:
        raise ImproperlyConfigured(f"AGGLO_LEDGER_KEY: {exc}") from None
    if signer.name != origin():
        raise ImproperlyConfigured(f"AGGLO_LEDGER_KEY is for {signer.name!r}, the log origin is {origin()!r}")
    return signer


def log_verifier() -> Verifier:
    return log_signer().verifier


def _key_file() -> str:
    path = Path(settings.AGGLO_LEDGER_KEY_FILE)
    if path.exists():
        return path.read_text().strip()
    if settings.PRODUCTION:
        raise ImproperlyConfigured("Set AGGLO_LEDGER_KEY (or provide AGGLO_LEDGER_KEY_FILE) in production")
    path.parent.mkdir(parents=True, exist_ok=True)
    signer = Signer.generate(origin())
    # Created private from the start: the key signs everything the log ever says.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(signer.encode() + "\n")
    logger.warning("made a new log key in %s; its verifier key is %s", path, signer.verifier.encode())
    return signer.encode()
