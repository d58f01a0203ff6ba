"""Versions of records a client may read, change and read again: the `ETag` of an answer and the `If-Match` of a
change (RFC 9110 §8.8.3, §13.1.1), so that an ERP and a person editing the same record do not overwrite each
other unseen. A version is the record's id and the time of its last change, to the microsecond. A page's edit form
carries the version it was drawn with in a hidden field (`common.form_versions.FormVersion`) and sends it back as the
same check."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

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
