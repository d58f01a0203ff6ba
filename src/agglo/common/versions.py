"""Versions of records a client may read, change and read again: the `ETag` of an answer and the `If-Match` of a
change (RFC 9110 §8.8.3, §13.1.1), so that an ERP and a person editing the same record do not overwrite each
other unseen. A version is the record's id and the time of its last change, to the microsecond. A page's edit form
carries the version it was drawn with in a hidden field (`FormVersion`) and sends it back as the same check."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agglo.common.errors import PreconditionFailed


def version_tag(record: Any) -> str:
    """The record's entity tag, quoted as HTTP writes it."""
    return f'"{record.pk}.{int(record.updated_at.timestamp() * 1_000_000)}"'


def version_check(record: Any, if_match: str | None) -> None:
    """Refuse a change whose `If-Match` names none of the record's current version (`*`, or none sent, names any).
    The caller holds the record's row lock, so that the version cannot change between the check and the write."""
    if if_match is None or if_match.strip() == "*":
        return
    sent = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if version_tag(record) not in sent:
        raise PreconditionFailed(
            _(
                "The record changed since you read it (If-Match %(sent)s, now %(now)s): read it again, then send your "
                "change."
            )
            % {"sent": if_match.strip(), "now": version_tag(record)},
            current=version_tag(record),
        )


FIELD = "version"  # the hidden field of a page's edit form

STALE_FORM = gettext_lazy(
    "Someone changed this record after you opened this form (on another page or through the API). The form now "
    "holds the record as it is, with your changes kept: check it, then save again."
)


class FormVersion:
    """The version a page's edit form carries: drawn with the record's, sent back as `if_match`. A save refused as
    stale draws the form again with the version now, so that saving again, knowingly, goes through; a save refused
    for a bad field keeps the version sent. A form sent without one (drawn before forms carried it) is not checked."""

    def __init__(self, record: Any, posted: Any = None) -> None:
        self.sent: str | None = (posted or {}).get(FIELD) or None
        self.value = self.sent or (version_tag(record) if record is not None else "")
        # the digests of the fields as drawn (`common.form_versions`): sent back, and drawn with the form
        self.drawn_sent: str | None = (posted or {}).get("drawn") or None
        self.drawn = self.drawn_sent or ""
        self.stale = False

    def refused(self, exc: PreconditionFailed) -> None:
        self.value = exc.current
        self.stale = True
