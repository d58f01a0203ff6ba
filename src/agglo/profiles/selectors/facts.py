"""Reads of an organization's facts, each restricted to the field groups the actor may see."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.access.selectors import PUBLIC_NAME_PREFETCH
from agglo.common.errors import NotFound
from agglo.profiles.indicators import Indicators, StatementFigures, indicators
from agglo.profiles.kinds import FactKind, superseded
from agglo.profiles.models import (
    CapabilityTerm,
    Case,
    CaseParticipant,
    CreditRating,
    Fact,
    FinancialStatement,
    StatementEvidence,
)
from agglo.profiles.models.credit import checked_ratings
from agglo.profiles.visibility import can_see_credit_headline, can_see_group, can_see_level
from agglo.registry.models import Organization
from agglo.registry.selectors import organization_get
from agglo.registry.selectors.organizations import visible


def fact_list(*, actor: Any, organization: Organization, kind: FactKind) -> QuerySet[Fact] | None:
    """The organization's facts of one kind, or None when the actor may not see that group."""
    if not can_see_group(actor, organization, kind.group):
        return None
    qs = with_superseded(kind, kind.model.objects.filter(organization=organization))  # type: ignore[attr-defined]
    if kind.name == "capabilities":
        qs = qs.select_related("term")
    if kind.name == "financials":
        qs = qs.prefetch_related("evidence")
    # who verified each fact, named as outsiders read it (`access.selectors.public_name`), in a query per relation
    return qs.select_related("verified_by").prefetch_related(*(f"verified_by__{p}" for p in PUBLIC_NAME_PREFETCH))


def evidence_get(*, actor: Any, organization: Organization, pk: int) -> StatementEvidence:
    """A file backing one of the organization's statements, for whoever may see its financials (the owner,
    operators and auditors, and others as its disclosure level allows); NotFound otherwise."""
    evidence = StatementEvidence.objects.filter(pk=pk, statement__organization=organization).first()
    if evidence is None or not can_see_group(actor, organization, "financials"):
        raise NotFound(_("No evidence file with id %(pk)s.") % {"pk": pk})
    return evidence


def with_superseded(kind: FactKind, qs: QuerySet[Any]) -> QuerySet[Any]:
    newer = superseded(kind)
    return qs.annotate(superseded=newer) if newer is not None else qs


def fact_get(*, actor: Any, kind: FactKind, pk: int) -> Fact:
    """One fact the actor may see, by id; NotFound otherwise (hidden and missing look the same)."""
    qs = with_superseded(kind, kind.model.objects.select_related("organization"))  # type: ignore[attr-defined]
    fact = qs.filter(pk=pk).first()
    if fact is None:
        raise NotFound(_("No such record: %(id)s.") % {"id": pk})
    organization = organization_get(actor=actor, pk=fact.organization_id)
    if not can_see_group(actor, organization, kind.group):
        raise NotFound(_("No such record: %(id)s.") % {"id": pk})
    fact.organization = organization
    return fact


def figures(statement: FinancialStatement) -> StatementFigures:
    return StatementFigures(
        **{name: getattr(statement, name) for name in StatementFigures.__dataclass_fields__}  # type: ignore[arg-type]
    )


def indicator_list(statements: list[FinancialStatement]) -> list[Indicators]:
    return indicators([figures(s) for s in statements])


def credit_headline(*, actor: Any, organization: Organization) -> CreditRating | None:
    """The newest checked rating still valid (`checked_ratings`), else the newest self-declared one, shown as such;
    for members and government; None when there is none or it is hidden."""
    if not can_see_credit_headline(actor, organization):
        return None
    today = timezone.localdate()
    valid = CreditRating.objects.filter(organization=organization, valid_until__gte=today)
    first = models.Case(When(checked_ratings(), then=Value(0)), default=Value(1))
    return valid.annotate(first=first).order_by("first", "-as_of", "-id").first()


def case_list(*, actor: Any, organization: Organization) -> list[Case]:
    """Cases the organization takes part in (confirmed, or led by it) that the actor may see, newest first; its
    own people also see those that name it and wait for its confirmation.

    A list, not a queryset: each case's own visibility is decided in Python over the loaded participants.
    """
    ids = _case_ids(organization)
    if organization.pk in policy.organization_ids(actor):
        ids |= set(
            CaseParticipant.objects.filter(organization=organization, confirmed_at__isnull=True).values_list(
                "case_id", flat=True
            )
        )
    qs = (
        Case.objects.filter(pk__in=ids)
        .select_related("organization")
        .prefetch_related("participants__organization", "ratings")
    )
    return [c for c in qs if case_visible(actor, c)]


def _case_ids(organization: Organization) -> set[int]:
    """Cases the organization leads or confirmed its part in: two indexed reads (an OR across the join scans)."""
    led = Case.objects.filter(organization=organization).values_list("pk", flat=True)
    joined = CaseParticipant.objects.filter(organization=organization, confirmed_at__isnull=False).values_list(
        "case_id", flat=True
    )
    return set(led) | set(joined)


def case_count(*, actor: Any, organization: Organization) -> int:
    """How many of the organization's cases the actor may see, without loading them whole."""
    ids = _case_ids(organization)
    rows = list(Case.objects.filter(pk__in=ids).values_list("pk", "organization_id", "visibility")) if ids else []
    mine = policy.organization_ids(actor)
    if not rows or policy.sees_all_organizations(actor):
        return len(rows)
    joined = (
        set(
            CaseParticipant.objects.filter(case_id__in=[r[0] for r in rows], organization_id__in=mine).values_list(
                "case_id", flat=True
            )
        )
        if mine
        else set()
    )
    leads = {r[1] for r in rows}
    lead_orgs = Organization.objects.in_bulk(leads) if any(r[2] != "public" for r in rows) else {}
    seen = 0
    for pk, lead, level in rows:
        if lead in mine or pk in joined or level == "public" or can_see_level(actor, lead_orgs[lead], level):
            seen += 1
    return seen


def case_visible(actor: Any, case: Case) -> bool:
    """Participants always see their case; others by the level the lead chose."""
    mine = policy.organization_ids(actor)
    if case.organization_id in mine or any(p.organization_id in mine for p in case.participants.all()):
        return True
    return can_see_level(actor, case.organization, case.visibility)


def case_key(actor: Any, case: Case) -> str:
    """The key the log seals the case's entries under, for its lead and participants (and operators and auditors,
    who see everything); "" for anyone else, and before the first entry."""
    mine = policy.organization_ids(actor)
    party = case.organization_id in mine or any(p.organization_id in mine for p in case.participants.all())
    return case.text_key if party or policy.sees_all_organizations(actor) else ""


def case_get(*, actor: Any, pk: int) -> Case:
    case = (
        Case.objects.select_related("organization")
        .prefetch_related("participants__organization", "ratings__rater", "ratings__rated")
        .filter(pk=pk)
        .filter(visible(actor, "organization__"))
        .first()
    )
    if case is None or not case_visible(actor, case):
        raise NotFound(_("No case with id %(id)s.") % {"id": pk})
    return case


def capability_terms(*, q: str = "", kind: str = "") -> QuerySet[CapabilityTerm]:
    """The catalogue, searched by code, Chinese or English name and synonyms."""
    qs = CapabilityTerm.objects.all()
    if kind:
        qs = qs.filter(kind=kind)
    for word in q.split()[:5]:
        qs = qs.filter(
            Q(code__icontains=word)
            | Q(name_zh__icontains=word)
            | Q(name_en__icontains=word)
            | Q(synonyms__icontains=word)
        )
    return qs


def capability_holders(*, actor: Any, code: str) -> QuerySet[Organization]:
    """Organizations the actor may see that hold a catalogue capability."""
    if not CapabilityTerm.objects.filter(code=code).exists():
        raise NotFound(_("No capability %(code)s in the catalogue.") % {"code": code})
    return (
        Organization.objects.filter(visible(actor))
        .filter(capabilities__term__code=code)
        .select_related("region")
        .order_by("name_zh")
    )
