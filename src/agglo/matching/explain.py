"""Explanations in words: what a result matched, how it sits on the chain, why it is trusted, which signals
moved it. The ranking core gives codes; this turns them into the reader's language."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from agglo.matching.ranking import Match
from agglo.matching.reference import analyzer
from agglo.registry.models.bilingual import prefers_chinese

SIGNAL_LABELS = {
    "text": gettext_lazy("Text"),
    "semantic": gettext_lazy("Meaning (embeddings)"),
    "chain": gettext_lazy("Chain position"),
    "trust": gettext_lazy("Trust"),
    "reciprocity": gettext_lazy("Reciprocity"),
    "cross_region": gettext_lazy("Other region"),
    "freshness": gettext_lazy("Freshness"),
    "behaviour": gettext_lazy("Members' responses"),
}


def relation_text(match: Match, segment_names: dict[str, str]) -> str:
    if not match.relation_segments:
        return ""
    yours, theirs = (segment_names.get(c, c) for c in match.relation_segments)
    texts = {
        "upstream": _("Upstream of you: %(theirs)s supplies %(yours)s"),
        "downstream": _("Downstream of you: %(theirs)s uses the output of %(yours)s"),
        "same_segment": _("Same segment: %(yours)s"),
        "near": _("Two steps along the chain: %(theirs)s and %(yours)s"),
        "same_chain": _("Same chain: %(theirs)s and %(yours)s"),
    }
    return texts[match.relation] % {"theirs": theirs, "yours": yours}


def trust_texts(match: Match) -> list[str]:
    out = []
    for note in match.trust_notes:
        name, _sep, value = note.partition(":")
        if name == "credit":
            out.append(_("Credit grade %(grade)s") % {"grade": value})
        elif name == "cases":
            n = int(value) if value.isdigit() else 0
            out.append(
                ngettext("%(n)s confirmed collaboration case", "%(n)s confirmed collaboration cases", n) % {"n": value}
            )
        elif name == "rating":
            out.append(_("Partners rate it %(score)s of 5") % {"score": value})
    return out


def matched_texts(match: Match) -> list[str]:
    words = analyzer()
    chinese = prefers_chinese()
    return list(dict.fromkeys(words.label(t, chinese=chinese) for t in match.matched if not t.startswith("k:")))


# signals that describe the counterpart's owner (where it sits on the chain, its region, its record): an
# anonymous listing's explanation leaves them out, so they cannot narrow down who is behind it
OWNER_SIGNALS = frozenset({"chain", "trust", "reciprocity", "cross_region", "behaviour"})


def signal_texts(match: Match, *, owner_hidden: bool = False) -> list[tuple[str, str, float]]:
    """(name, label, contribution) of each signal the reader may see."""
    return [
        (name, str(SIGNAL_LABELS[name]), value)
        for name, value in match.signals
        if not (owner_hidden and name in OWNER_SIGNALS)
    ]
