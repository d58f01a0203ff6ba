"""What the platform's management commands share: a file to write checked before any work is done."""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.utils import translation


def output_checked(option: str, output: Path) -> None:
    """Refuse, in words, an output that cannot be written: a folder, or a file in a folder that does not exist
    (checked first: an export counts against quotas and access logs; data review 58 M3)."""
    if output.is_dir():
        raise CommandError(f"{option}: {output} is a folder; name a file")
    if not output.parent.is_dir():
        raise CommandError(f"{option}: no folder {output.parent}")


def written(option: str, output: Path, body: bytes | Iterable[bytes]) -> int:
    """Write `body` (or its chunks, as a download streams them) to `output`, a failure (no room, no permission)
    said in words rather than a traceback. The number of bytes written. The chunks go to a temporary file beside
    it, put in its place only once whole: a failure half-way leaves the file that was there as it was."""
    size = 0
    try:
        with tempfile.NamedTemporaryFile(dir=output.parent, prefix=f".{output.name}.", delete=False) as out:
            part = Path(out.name)
            try:
                for chunk in [body] if isinstance(body, bytes) else body:
                    size += out.write(chunk)
            except BaseException:
                out.close()
                part.unlink(missing_ok=True)
                raise
        os.replace(part, output)
    except OSError as exc:
        raise CommandError(f"{option}: cannot write {output}: {exc.strerror or exc}") from None
    return size


def in_english(handle: Callable[..., Any]) -> Callable[..., Any]:
    """A command's `handle` run in English, the commands' own language: what the services it calls say (a row's
    problem, a refusal) comes out in English too, not in the platform's default language beside English words.
    What members read (notifications, e-mails) is written in each reader's language whatever is active."""

    @functools.wraps(handle)
    def run(*args: Any, **kwargs: Any) -> Any:
        with translation.override("en"):
            return handle(*args, **kwargs)

    return run
