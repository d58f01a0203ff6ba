"""Loading the demo cluster's professional-database facts (written in bulk, marked as demo imports)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from agglo.common.audit import record_many
from agglo.demo.profile_generator import OrgRef, generate_facts
from agglo.profiles.models import (
    CapabilityTerm,
    Case,
    CaseParticipant,
    CaseRating,
    CreditRating,
    FinancialStatement,
    IPAsset,
    OrganizationCapability,
    Source,
)
from agglo.registry.models import Organization, Relation

Progress = Callable[[str, int, int], None]
NOTE = "demo"
BATCH = 5000


def _noop(stage: str, done: int, total: int) -> None:
    return None


def _common(as_of: dt.date, valid_until: dt.date) -> dict[str, object]:
    return {"source": Source.IMPORTED, "source_note": NOTE, "as_of": as_of, "valid_until": valid_until}


def _rated(org: int, today: dt.date) -> dict[str, object]:
    """An agency's yearly rating, given within the last year and checked against its report, so that it counts
    (only a checked one does: `profiles.models.credit.checked_ratings`); not all of them ending a week after the
    demo's day, as they did when every one was dated the 15th of December."""
    as_of = today - dt.timedelta(days=30 + org % 300)
    return {**_common(as_of, as_of + dt.timedelta(days=365)), "source": Source.OPERATOR_VERIFIED}


@transaction.atomic
def demo_profiles_load(*, seed: int, progress: Progress = _noop) -> dict[str, int]:
    """Statements, ratings, IP, capabilities and cases for every member organization that has none yet."""
    today = timezone.localdate()
    year = today.year
    have = set(FinancialStatement.objects.values_list("organization_id", flat=True).distinct())
    orgs = [
        OrgRef(pk, kind, founded or 2015, headcount or 20)
        for pk, kind, founded, headcount in Organization.objects.filter(status="member")
        .exclude(pk__in=have)
        .values_list("pk", "kind", "founded_year", "headcount")
        .order_by("pk")
    ]
    partners = list(
        Relation.objects.filter(kind=Relation.Kind.PARTNER).values_list("source_org_id", "target_org_id").order_by("pk")
    )
    terms = list(CapabilityTerm.objects.values_list("code", "kind").order_by("code"))
    facts = generate_facts(orgs, partners, terms, seed, this_year=year)
    statements = [
        FinancialStatement(
            organization_id=s.org,
            year=s.year,
            **s.figures,  # type: ignore[arg-type]
            **_common(min(dt.date(s.year, 12, 31), today), dt.date(s.year + 2, 6, 30)),
        )
        for s in facts.statements
    ]
    for i in range(0, len(statements), BATCH):
        FinancialStatement.objects.bulk_create(statements[i : i + BATCH])
        progress("statements", min(len(statements), i + BATCH), len(statements))
    CreditRating.objects.bulk_create(
        [
            CreditRating(
                organization_id=r.org,
                grade=r.grade,
                score=r.score,
                rating_body="agency",
                agency_name=r.agency,
                method_version="demo-2025",
                **_rated(r.org, today),
            )
            for r in facts.ratings
        ],
        batch_size=BATCH,
    )
    progress("ratings", len(facts.ratings), len(facts.ratings))
    seen: set[tuple[int, str, str]] = set()
    assets = []
    for a in facts.ip:
        if (a.org, a.kind, a.number) in seen:
            continue
        seen.add((a.org, a.kind, a.number))
        assets.append(
            IPAsset(
                organization_id=a.org,
                kind=a.kind,
                number=a.number,
                title=a.title,
                status=a.status,
                filed_on=dt.date(a.filed_year, 3, 1),
                granted_on=dt.date(a.granted_year, 9, 1) if a.granted_year else None,
                **_common(today - dt.timedelta(days=30), today + dt.timedelta(days=335)),
            )
        )
    IPAsset.objects.bulk_create(assets, batch_size=BATCH)
    progress("ip", len(assets), len(assets))
    term_ids = dict(CapabilityTerm.objects.values_list("code", "pk"))
    capabilities = [
        OrganizationCapability(
            organization_id=c.org,
            term_id=term_ids[c.term],
            detail=c.detail,
            **_common(today - dt.timedelta(days=60), today + dt.timedelta(days=670)),
        )
        for c in facts.capabilities
    ]
    OrganizationCapability.objects.bulk_create(capabilities, batch_size=BATCH)
    progress("capabilities", len(capabilities), len(capabilities))
    cases = _cases(facts.cases, today)
    progress("cases", cases, cases)
    _history(facts)
    return {
        "statements": len(statements),
        "ratings": len(facts.ratings),
        "ip": len(assets),
        "capabilities": len(capabilities),
        "cases": cases,
    }


def _history(facts) -> None:  # type: ignore[no-untyped-def]
    """One history line per organization saying what the demo loader put in, so its history is not blank."""
    counts: dict[int, dict[str, int]] = {}
    for name, items in (
        ("statements", facts.statements),
        ("ratings", facts.ratings),
        ("ip", facts.ip),
        ("capabilities", facts.capabilities),
    ):
        for item in items:
            counts.setdefault(item.org, {}).setdefault(name, 0)
            counts[item.org][name] += 1
    record_many(
        "profiles.demo_loaded",
        actor=None,
        actor_label="demo",
        subject_type="registry.organization",
        rows=((org, payload, org) for org, payload in counts.items()),
    )


def _cases(specs, today: dt.date) -> int:  # type: ignore[no-untyped-def]
    seen: set[tuple[int, str, int]] = set()
    rows = []
    for spec in specs:
        if (spec.lead, spec.title, spec.started_year) in seen:
            continue
        seen.add((spec.lead, spec.title, spec.started_year))
        case = Case(
            organization_id=spec.lead,
            title=spec.title,
            kind=spec.kind,
            started_on=dt.date(spec.started_year, 4, 1),
            ended_on=dt.date(spec.ended_year, 10, 1) if spec.ended_year else None,
            outcome_patents=spec.patents,
            outcome_products=spec.products,
            **_common(today - dt.timedelta(days=90), today + dt.timedelta(days=275 if not spec.ended_year else 1735)),
        )
        rows.append((case, spec))
    Case.objects.bulk_create([c for c, _ in rows], batch_size=BATCH)
    now = timezone.now()
    participants, ratings = [], []
    for case, spec in rows:
        participants.append(
            CaseParticipant(case=case, organization_id=spec.lead, role="lead", input_kind="cash", confirmed_at=now)
        )
        participants.append(
            CaseParticipant(
                case=case,
                organization_id=spec.partner,
                role="partner",
                input_kind="staff",
                input_amount=spec.partner_input,
                confirmed_at=now,
            )
        )
        ratings.append(CaseRating(case=case, rater_id=spec.lead, rated_id=spec.partner, score=spec.score))
    CaseParticipant.objects.bulk_create(participants, batch_size=BATCH)
    CaseRating.objects.bulk_create(ratings, batch_size=BATCH)
    return len(rows)
