"""Small display helpers for the profile pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _lazy

from agglo.profiles.messages import label, word_stored
from agglo.profiles.models import Source

register = template.Library()


@register.filter
def yuan(value: Any) -> str:
    """An amount in CNY yuan shown in 10k yuan (万元), the unit Chinese statements use."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value) / 10000:,.2f}"


@register.filter
def percent(value: Any) -> str:
    return "—" if value is None else f"{Decimal(value) * 100:.1f}%"


@register.filter
def field_label(name: str) -> str:
    return label(name)


@register.filter
def attr(obj: Any, name: str) -> Any:
    return getattr(obj, name, None)


@register.filter
def worded(warnings: list[dict[str, Any]]) -> list[str]:
    return [word_stored(w) for w in warnings or []]


@register.inclusion_tag("profiles/partials/provenance.html")
def provenance(fact: Any) -> dict[str, Any]:
    return {"fact": fact, "source_label": dict(Source.choices).get(fact.source, fact.source)}


SUBJECTS = {
    "financials": _lazy("Financial statement"),
    "ratings": _lazy("Credit rating"),
    "ip": _lazy("IP asset"),
    "capabilities": _lazy("Capability"),
    "case": _lazy("Case"),
    "organization": _lazy("Profile"),
    "position": _lazy("Chain position"),
    "relation": _lazy("Relation"),
    "disclosure": _lazy("Disclosure"),
    "reminder": _lazy("Reminder"),
}
ACTIONS = {
    "created": _lazy("created"),
    "updated": _lazy("changed"),
    "changed": _lazy("changed"),
    "deleted": _lazy("deleted"),
    "imported": _lazy("imported"),
    "verified": _lazy("verified"),
    "evidence_added": _lazy("evidence attached"),
    "added": _lazy("added"),
    "removed": _lazy("removed"),
    "status_changed": _lazy("status changed"),
    "participant_added": _lazy("participant added"),
    "participant_confirmed": _lazy("participation confirmed"),
    "input_changed": _lazy("input changed"),
    "rated": _lazy("rated"),
    "sent": _lazy("sent"),
}


@register.filter
def event_label(event: str) -> str:
    """ "profiles.financials_updated" → "Financial statement · changed", in the user's language."""
    name = event.split(".", 1)[-1]
    for subject, subject_label in SUBJECTS.items():
        if name.startswith(subject + "_"):
            action = name[len(subject) + 1 :]
            return f"{subject_label} · {ACTIONS.get(action, action)}"
    return name
