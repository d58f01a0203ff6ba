"""Uploaded files that no row names: written by a request whose transaction then rolled back outside the service
that wrote them (a caller's outer transaction), or whose process was killed between the file and the commit.
`files_removed_on_failure` covers a failure inside the service; this sweep covers the rest. Only the folders the
upload fields write to are read, and only files older than a day are taken, so a file whose row is about to be
committed is never touched.

A file a row names is never taken, however the row names it: every row is read (not through a default manager
that may hide some), names are compared as the storage would resolve them, a file is also kept when it is the same
file on disk as one a row names (a symlinked folder, a folder mounted twice), symbolic links below an upload
folder are neither followed nor deleted, and the rows are read again just before the files go (review 106)."""

from __future__ import annotations

import datetime as dt
import os
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import SuspiciousOperation
from django.core.files.storage import Storage, default_storage
from django.db import models
from django.utils import timezone

# longer than any transaction runs: a file younger than this may belong to one still open
MIN_AGE = dt.timedelta(hours=24)
CHECK_BATCH = 500  # names looked up again per query before they are deleted


def _upload_fields() -> Iterator[tuple[type[models.Model], models.FileField]]:
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField) and field.storage is default_storage:
                yield model, field


def normal(name: str) -> str:
    """A storage name as the storage resolves it: "./orders//x.pdf" is "orders/x.pdf"."""
    return posixpath.normpath(name.replace("\\", "/")).lstrip("/")


def named_files() -> set[str]:
    """Every file name a row of an upload field holds, as written and as resolved."""
    names: set[str] = set()
    for model, field in _upload_fields():
        # the base manager: a default manager that leaves rows out (soft deletion, a filter) must not leave their
        # files unnamed
        rows = model._base_manager.exclude(**{field.name: ""}).values_list(field.name, flat=True)
        for n in rows.iterator(chunk_size=5000):
            if n:
                names.update((n, normal(n)))
    return names


def upload_folders(names: set[str]) -> set[str]:
    """The top folders uploads go to: each field's fixed one, and those of the names kept (a field that names its
    folder by a function). Only a folder's own name: never "", "." or "..", which would be the media folder (the
    var folder, where MEDIA_ROOT is set to it) or above it."""
    folders = {normal(n).split("/", 1)[0] for n in names if "/" in normal(n)}
    for _model, field in _upload_fields():
        if isinstance(field.upload_to, str) and "/" in field.upload_to:
            folders.add(normal(field.upload_to).split("/", 1)[0])
    return {f for f in folders if f not in ("", ".", "..")}


@dataclass(frozen=True)
class Found:
    """A file in an upload folder: its storage name, its age and which file it is on disk (None where the storage
    has no disk)."""

    name: str
    modified: dt.datetime
    identity: tuple[int, int] | None


def _walk(storage: Storage, folder: str) -> Iterator[Found]:
    try:
        root = storage.path(folder)
    except NotImplementedError:  # a storage without a disk has no links to follow
        yield from _listed(storage, folder)
        return
    if not os.path.isdir(root):
        return
    yield from _scanned(root, folder)


def _scanned(path: str, name: str) -> Iterator[Found]:
    # The top folder may itself be a link (uploads kept on another disk); below it, a link is someone's doing,
    # not the storage's: followed, it could lead back up to the var folder, or to files rows name by other names.
    with os.scandir(path) as entries:
        listed = sorted(entries, key=lambda e: e.name)
    for entry in listed:
        if entry.is_symlink():
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _scanned(entry.path, f"{name}/{entry.name}")
        elif entry.is_file(follow_symlinks=False):
            st = entry.stat(follow_symlinks=False)
            modified = dt.datetime.fromtimestamp(st.st_mtime, tz=dt.UTC)
            yield Found(f"{name}/{entry.name}", modified, (st.st_dev, st.st_ino))


def _listed(storage: Storage, folder: str) -> Iterator[Found]:
    if not storage.exists(folder):
        return
    subfolders, files = storage.listdir(folder)
    for name in files:
        yield Found(f"{folder}/{name}", storage.get_modified_time(f"{folder}/{name}"), None)
    for sub in subfolders:
        yield from _listed(storage, f"{folder}/{sub}")


def _identities(storage: Storage, names: Iterable[str]) -> set[tuple[int, int]]:
    """Which files on disk the names are (a link named by a row: the file it leads to)."""
    found = set()
    for name in names:
        try:
            st = os.stat(storage.path(name))
        except (NotImplementedError, OSError, ValueError, SuspiciousOperation):  # a name outside the folder, a NUL
            continue
        found.add((st.st_dev, st.st_ino))
    return found


def orphan_files(*, min_age: dt.timedelta = MIN_AGE, now: dt.datetime | None = None) -> list[str]:
    """Files in the upload folders that no row names and that are older than `min_age`, by storage name."""
    cutoff = (now or timezone.now()) - min_age
    named = named_files()
    kept = _identities(default_storage, named)
    found = []
    for folder in sorted(upload_folders(named)):
        for f in _walk(default_storage, folder):
            if f.name in named or normal(f.name) in named or f.modified >= cutoff:
                continue
            if f.identity is not None and f.identity in kept:
                continue
            found.append(f.name)
    return sorted(found)


def still_named(names: list[str]) -> set[str]:
    """Those of `names` that a row names now: a row may have come to name a file while the folders were read."""
    taken: set[str] = set()
    storable = [n for n in names if is_text(n)]  # a name that is no text (bytes not UTF-8) no row can hold
    for model, field in _upload_fields():
        for start in range(0, len(storable), CHECK_BATCH):
            batch = storable[start : start + CHECK_BATCH]
            rows = model._base_manager.filter(**{f"{field.name}__in": batch}).values_list(field.name, flat=True)
            taken.update(rows)
    return taken


def is_text(name: str) -> bool:
    """Whether a file name read from the disk is text a database can hold (not bytes decoded as escapes)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in name


def shown(name: str) -> str:
    """A file name as a log or a terminal can show it: bytes that are no text, and control characters, escaped."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def orphans_remove(*, min_age: dt.timedelta = MIN_AGE, dry_run: bool = False) -> list[str]:
    """Delete the orphan files (none with `dry_run`); returns their names."""
    found = orphan_files(min_age=min_age)
    taken = still_named(found)
    found = [name for name in found if name not in taken]
    if not dry_run:
        for name in found:
            default_storage.delete(name)
    return found
