"""Uploaded files that no row names: written by a request whose transaction then rolled back outside the service
that wrote them (a caller's outer transaction), or whose process was killed between the file and the commit.
`files_removed_on_failure` covers a failure inside the service; this sweep covers the rest. Only the folders the
upload fields write to are read, and only files older than a day are taken, so a file whose row is about to be
committed is never touched."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.apps import apps
from django.core.files.storage import Storage, default_storage
from django.db import models
from django.utils import timezone

# longer than any transaction runs: a file younger than this may belong to one still open
MIN_AGE = dt.timedelta(hours=24)


def _upload_fields() -> Iterator[tuple[type[models.Model], models.FileField]]:
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField) and field.storage is default_storage:
                yield model, field


def named_files() -> set[str]:
    """Every file name a row of an upload field holds."""
    names: set[str] = set()
    for model, field in _upload_fields():
        rows = model._default_manager.exclude(**{field.name: ""}).values_list(field.name, flat=True)
        names.update(n for n in rows.iterator(chunk_size=5000) if n)
    return names


def upload_folders(names: set[str]) -> set[str]:
    """The top folders uploads go to: each field's fixed one, and those of the names kept (a field that names its
    folder by a function)."""
    folders = {n.split("/", 1)[0] for n in names if "/" in n}
    for _model, field in _upload_fields():
        if isinstance(field.upload_to, str) and "/" in field.upload_to:
            folders.add(field.upload_to.split("/", 1)[0])
    return folders


def _walk(storage: Storage, folder: str) -> Iterator[str]:
    if not storage.exists(folder):
        return
    subfolders, files = storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}"
    for sub in subfolders:
        yield from _walk(storage, f"{folder}/{sub}")


def orphan_files(*, min_age: dt.timedelta = MIN_AGE, now: dt.datetime | None = None) -> list[str]:
    """Files in the upload folders that no row names and that are older than `min_age`, by storage name."""
    cutoff = (now or timezone.now()) - min_age
    named = named_files()
    found = []
    for folder in sorted(upload_folders(named)):
        for name in _walk(default_storage, folder):
            if name not in named and default_storage.get_modified_time(name) < cutoff:
                found.append(name)
    return sorted(found)


def orphans_remove(*, min_age: dt.timedelta = MIN_AGE, dry_run: bool = False) -> list[str]:
    """Delete the orphan files (none with `dry_run`); returns their names."""
    found = orphan_files(min_age=min_age)
    if not dry_run:
        for name in found:
            default_storage.delete(name)
    return found
