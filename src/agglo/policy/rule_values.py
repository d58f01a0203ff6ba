"""The values a rule names, checked against what they name: a certification, a chain segment or a region is a
code of its catalogue, and a misspelt one would hold for nobody, and tell near misses what none can meet
(policy review 58 M1)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from agglo.policy.facts import FACTS
from agglo.policy.rules import Rule
from agglo.profiles.fields import GRADES
from agglo.profiles.models import CapabilityTerm
from agglo.registry.models import Region, Segment
from agglo.registry.models.bilingual import prefers_chinese

SUGGESTIONS = 3


def _terms(values: set[str]) -> set[str]:
    return set(CapabilityTerm.objects.filter(code__in=values).values_list("code", flat=True))


def _segments(values: set[str]) -> set[str]:
    return set(Segment.objects.filter(code__in=values).values_list("code", flat=True))


def _regions(values: set[str]) -> set[str]:
    return set(Region.objects.filter(code__in=values).values_list("code", flat=True))


def _suggest(model: Any, value: str) -> list[str]:
    """Catalogue entries whose name or code holds what was written: "高新技术企业" finds high-tech-enterprise."""
    near = model.objects.filter(Q(name_zh__icontains=value) | Q(name_en__icontains=value) | Q(code__icontains=value))
    return [f"{code} ({name})" for code, name in near.values_list("code", "name_zh")[:SUGGESTIONS]]


KNOWN: dict[str, tuple[Callable[[set[str]], set[str]], Any]] = {
    "certifications": (_terms, CapabilityTerm),
    "segments": (_segments, Segment),
    "region": (_regions, Region),
    "province": (_regions, Region),
    "credit_grade": (lambda values: values & set(GRADES), None),
}


def _written(operand: Any) -> Iterable[str]:
    if isinstance(operand, str):
        return [operand]
    if isinstance(operand, tuple | list | set | frozenset):
        return [v for v in operand if isinstance(v, str)]
    return []


def unknown_values(rule: Rule) -> list[str]:
    """A message for each value the rule names that its catalogue does not hold, with likely meant ones."""
    wanted: dict[str, set[str]] = {}
    for node, *_rest in rule.leaves:
        if node.fact.name in KNOWN:
            wanted.setdefault(node.fact.name, set()).update(_written(node.operand))
    messages = []
    for name, values in sorted(wanted.items()):
        known, model = KNOWN[name]
        label = FACTS[name].label_zh if prefers_chinese() else FACTS[name].label_en
        for value in sorted(values - known(values)):
            text = _("%(fact)s: no code “%(value)s” in the catalogue; a rule names codes.") % {
                "fact": label,
                "value": value,
            }
            if model is not None and (near := _suggest(model, value)):
                text += " " + _("Perhaps: %(codes)s.") % {"codes": "; ".join(near)}
            messages.append(text)
    return messages
