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

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agglo.common.errors import PreconditionFailed
from agglo.common.versions import version_tag

FIELD = "version"  # the hidden field holding the version drawn
DRAWN = "drawn"  # the hidden field holding the digests

STALE_FORM = gettext_lazy(
    "Someone changed this record after you opened this form (on another page or through the API). The form now "
    "holds the record as it is, with your changes kept: check it, then save again."
)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def as_sent(value: Any) -> str:
    """A field's value as a form sends it back: lists joined, in one order (a browser sends ticked boxes and chosen
    options in the page's order, the record may keep them in another: review 94), booleans as ticked or not,
    nothing as empty; text as the fields clean it (a browser sends a text area's lines with \r\n; the ends'
    spaces are stripped)."""
    if isinstance(value, (list, tuple)):
        return "\x1f".join(sorted(as_sent(v) for v in value))
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


def changed_meanwhile(label: Any, now: str) -> str:
    """The line naming a field both the sender and someone else changed, with its value now."""
    return _("%(field)s was changed meanwhile to “%(now)s”; your entry is kept below.") % {
        "field": label,
        "now": now.replace("\x1f", ", ") or "—",
    }


class FormVersion:
    """The version a page's edit form carries, and the digests of its fields as drawn: drawn with the record's,
    sent back as `if_match`. A save refused as stale (`refused`) draws the form again as a merge with the record
    now (`redraw`, `merge_values`), carrying the version now, so that saving again, knowingly, goes through; a save
    refused for a bad field keeps what was sent. A form sent without a version is not checked."""

    def __init__(self, record: Any, posted: Any = None) -> None:
        posted = posted or {}
        self.sent: str | None = posted.get(FIELD) or None
        self.value = self.sent or (version_tag(record) if record is not None else "")
        self.drawn_sent: str | None = posted.get(DRAWN) or None
        self.drawn = self.drawn_sent or ""
        self.stale = False

    def draw(self, form: Any) -> None:
        """Note the digests of a form drawn fresh (a bound one carries back those it was sent with)."""
        if not form.is_bound:
            self.drawn = drawn_of(form_texts(form))

    def draw_values(self, values: Mapping[str, Any]) -> None:
        """The same for a form kept as plain values."""
        self.drawn = drawn_of({k: as_sent(v) for k, v in values.items()})

    def refused(self, exc: PreconditionFailed) -> None:
        self.value = exc.current
        self.stale = True

    def redraw(self, bound: Any, fresh: Any) -> Any:
        """`fresh` (the form unbound, filled with the record now) made the stale form's merge: the sender's entries
        where they are the sender's, the refusal and each field both changed above it."""
        sent, now = form_texts(bound), form_texts(fresh)
        theirs, both = merged(sent, now, self.drawn_sent)
        for name in theirs:
            fresh.initial[name] = bound[name].value()
        fresh.full_clean()  # an unbound form takes errors once it has (empty) ones, and no cleaned data
        fresh.cleaned_data = {}
        fresh.add_error(None, str(STALE_FORM))
        for name in both:
            fresh.add_error(None, changed_meanwhile(fresh.fields[name].label, now[name]))
        self.drawn = drawn_of(now)
        return fresh

    def merge_values(
        self, values: Mapping[str, Any], now: Mapping[str, Any], labels: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[str]]:
        """The same for a form kept as plain values: the merged values, and the refusal's lines."""
        sent_texts = {k: as_sent(v) for k, v in values.items()}
        now_texts = {k: as_sent(v) for k, v in now.items()}
        theirs, both = merged(sent_texts, now_texts, self.drawn_sent)
        self.drawn = drawn_of(now_texts)
        lines = [str(STALE_FORM)] + [changed_meanwhile(labels.get(n, n), now_texts[n]) for n in both]
        return {k: values[k] if k in theirs else v for k, v in now.items()}, lines
