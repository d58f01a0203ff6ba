"""A page's edit form refused as stale (`common.versions`) is drawn again as a merge, not as the sender's copy: the
fields the sender left as drawn take the record's values now, the fields the sender changed keep the sender's
entry, and a field both changed is named with the value now (review 92: "save again" reverted, unseen, another
person's change to a field the sender never touched).

What was drawn is known by a digest of each field's value as the browser sends it back unchanged, carried in the
form's hidden `drawn` field: no copy of the record's values travels, and a forged digest only marks a field of
the sender's own as changed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

DRAWN = "drawn"  # the hidden field holding the digests


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def as_sent(value: Any) -> str:
    """A field's value as a form sends it back: lists joined, booleans as ticked or not, nothing as empty; text as
    the fields clean it (a browser sends a text area's lines with \r\n; the ends' spaces are stripped)."""
    if isinstance(value, (list, tuple)):
        return "\x1f".join(as_sent(v) for v in value)
    if isinstance(value, bool):
        return "1" if value else ""
    return "" if value is None else str(value).replace("\r\n", "\n").strip()


def drawn_of(texts: Mapping[str, str]) -> str:
    """The hidden field's value for a form drawn with these field texts."""
    return json.dumps({name: _digest(text) for name, text in texts.items()}, sort_keys=True)


def merged(sent: Mapping[str, str], now: Mapping[str, str], drawn: str | None) -> tuple[set[str], list[str]]:
    """Of a stale form: the fields whose entry is the sender's (changed since drawn, or not known to be drawn), and
    those of them someone else changed too (their value now differs from what was drawn)."""
    try:
        digests = json.loads(drawn or "{}")
    except ValueError:
        digests = {}
    if not isinstance(digests, dict):
        digests = {}
    theirs: set[str] = set()
    both: list[str] = []
    for name, text in sent.items():
        was = digests.get(name)
        if was is not None and was == _digest(text):
            continue  # left as drawn: the record's value now
        theirs.add(name)
        if was is not None and _digest(now.get(name, "")) != was and now.get(name, "") != text:
            both.append(name)
    return theirs, both


def form_texts(form: Any) -> dict[str, str]:
    """Each field of a Django form as it is drawn (or was sent, for a bound form), as a browser would send it."""
    out = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        if form.is_bound:
            value = form[name].value()
        else:  # read from the initial data itself: a drawn field (BoundField) keeps what it read first
            value = form.get_initial_for_field(field, name)
            if value is not None and not isinstance(value, (list, tuple, bool)):
                value = field.widget.format_value(value)
        out[name] = as_sent(value)
    return out


def redrawn(bound: Any, fresh: Any, drawn: str | None, stale: str) -> str:
    """Turn `fresh` (the form unbound, filled with the record now) into the stale form's merge: the sender's entries
    where they are the sender's, the refusal `stale` and each field both changed, with its value now, above it.
    Returns the digests the merge carries (of the record now, the new starting point)."""
    from django.utils.translation import gettext as _

    sent, now = form_texts(bound), form_texts(fresh)
    theirs, both = merged(sent, now, drawn)
    for name in theirs:
        fresh.initial[name] = bound[name].value()
    fresh.full_clean()  # an unbound form takes errors once it has (empty) ones, and no cleaned data
    fresh.cleaned_data = {}
    fresh.add_error(None, stale)
    for name in both:
        fresh.add_error(
            None,
            _("%(field)s was changed meanwhile to “%(now)s”; your entry is kept below.")
            % {"field": fresh.fields[name].label, "now": now[name].replace("\x1f", ", ") or "—"},
        )
    return drawn_of(now)
