"""Checks every uploaded document passes: its type is recognised from its bytes and its size is limited."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

# Sniffed from the file's first bytes: the browser's claimed type is not trusted. Which of them a form takes is
# its own choice (`types`): most take PDF, PNG and JPEG (settings.AGGLO_UPLOAD_TYPES); an order's drawings also
# take STEP models and ZIP packages (Gerber sets, a drawing set).
_MAGIC = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"ISO-10303-21;": "model/step",
    b"PK\x03\x04": "application/zip",
}
DRAWING_TYPES = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "model/step": ".step",
    "application/zip": ".zip",
}
_NAMES = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "model/step": "STEP",
    "application/zip": "ZIP",
}


# ... and ended as its format ends: a header glued onto other bytes (an HTML page behind a PNG signature) is not
# that file. A PDF may carry a few bytes after its %%EOF line; JPEG writers sometimes pad after their end marker;
# a STEP file ends with its END line and a newline or two. A ZIP is read by its central directory (`_zip_sound`).
_ENDS = {
    "application/pdf": (b"%%EOF", 1024),
    "image/png": (b"IEND\xaeB`\x82", 0),
    "image/jpeg": (b"\xff\xd9", 64),
    "model/step": (b"END-ISO-10303-21;", 64),
}


def sniff(head: bytes) -> str | None:
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), None)


def _zip_sound(upload: UploadedFile) -> bool:
    """A ZIP whose central directory reads and lists at least one member, each member's local header where the
    directory says (an end record glued onto other bytes lists none, or points into them). Nothing is unpacked."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
            for info in members:
                upload.seek(info.header_offset)
                if upload.read(4) != b"PK\x03\x04":
                    return False
            return bool(members)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    finally:
        upload.seek(0)


def _ends_as(kind: str, upload: UploadedFile) -> bool:
    if kind == "application/zip":
        return _zip_sound(upload)
    marker, slack = _ENDS[kind]
    size = upload.size or 0
    upload.seek(max(0, size - len(marker) - slack))
    tail = upload.read()
    upload.seek(0)
    return marker in tail if slack else tail.endswith(marker)


def check_documents(
    documents: Sequence[UploadedFile],
    errors: dict[str, list[str]],
    *,
    field: str = "documents",
    max_count: int = 5,
    held: int = 0,
    types: dict[str, str] | None = None,
) -> None:
    """Add a message under `field` for too many files, an oversized file, or one of a type not in `types` (by
    default PDF, PNG or JPEG). `held` files are attached already and count against `max_count`."""
    limit = settings.AGGLO_UPLOAD_MAX_BYTES
    allowed = types or settings.AGGLO_UPLOAD_TYPES
    if held + len(documents) > max_count:
        errors[field] = [
            _("At most %(n)d files.") % {"n": max_count}
            if not held
            else _("At most %(n)d files in all: %(held)d are attached already, so %(room)d more may be.")
            % {"n": max_count, "held": held, "room": max(max_count - held, 0)}
        ]
    for upload in documents:
        name = upload.name or "?"
        if upload.size > limit:
            errors.setdefault(field, []).append(
                _("%(name)s is %(size)s; the limit is %(limit)s.")
                % {"name": name, "size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
            continue
        upload.seek(0)
        kind = sniff(upload.read(16))
        upload.seek(0)
        if kind not in allowed or not _ends_as(kind, upload):
            errors.setdefault(field, []).append(
                _("%(name)s is not a PDF, PNG or JPEG file.") % {"name": name}
                if types is None
                else _("%(name)s is not a file of a kind taken here (%(kinds)s).")
                % {"name": name, "kinds": pgettext("between file kinds", ", ").join(_NAMES[k] for k in allowed)}
            )


def kept_name(name: str, most: int = 200) -> str:
    """An upload's name cut to `most` characters, its extension kept: a copy saved from a download still opens (data
    review 58 L6)."""
    if len(name) <= most:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 10:
        return name[:most]
    return f"{stem[: most - len(ext) - 1]}.{ext}"


def store_upload(document: Any, upload: UploadedFile, *, default_name: str, types: dict[str, str] | None = None) -> Any:
    """Save an upload as a document row (fields file, original_name, content_type, size, sha256): its type from
    its bytes, its file named by its digest. Call check_documents first (with the same `types`)."""
    upload.seek(0)
    body = upload.read()
    upload.seek(0)
    kind = sniff(body[:16]) or "application/octet-stream"
    document.original_name = kept_name(upload.name or default_name)
    document.content_type, document.size = kind, len(body)
    document.sha256 = hashlib.sha256(body).hexdigest()
    document.file.save(document.sha256[:16] + (types or settings.AGGLO_UPLOAD_TYPES).get(kind, ""), upload, save=False)
    document.save()
    return document


@contextmanager
def files_removed_on_failure(documents: list[Any]) -> Iterator[None]:
    """Files stored for `documents` (rows not yet, or not surely, kept) are deleted again if the block fails: a
    rolled-back row leaves no file behind."""
    try:
        yield
    except BaseException:
        for document in documents:
            if document.file.name:
                document.file.storage.delete(document.file.name)
        raise
