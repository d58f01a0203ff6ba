"""The facts other apps weigh trust on: the valid credit grade (the headline members see), confirmed
collaboration cases, and the mean rating partners gave. For ranking, not for display of detail; but ranking
explains itself to any member, so only cases any member may see (public or members) count, and their ratings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Avg, Count
from django.utils import timezone

from agglo.profiles.models import CaseParticipant, CaseRating, CreditRating, OrganizationCapability
from agglo.profiles.models.credit import checked_ratings
from agglo.profiles.models.facts import Source

SEEN_BY_MEMBERS = ("public", "members")  # a partners-only or private case is not every member's to know of


@dataclass(frozen=True)
class TrustFacts:
    grade: str | None = None
    confirmed_cases: int = 0
    mean_rating: float | None = None


def trust_facts(org_ids: Iterable[int]) -> dict[int, TrustFacts]:
    """Trust facts of the given organizations (every one of them present in the answer)."""
    ids = list(set(org_ids))
    today = timezone.localdate()
    grades: dict[int, str] = {}
    # Oldest first so that the newest valid rating wins.
    for org_id, grade in (
        CreditRating.objects.filter(checked_ratings(), organization_id__in=ids, valid_until__gte=today)
        .order_by("as_of", "id")
        .values_list("organization_id", "grade")
    ):
        grades[org_id] = grade
    cases = dict(
        CaseParticipant.objects.filter(
            organization_id__in=ids, confirmed_at__isnull=False, case__visibility__in=SEEN_BY_MEMBERS
        )
        .values("organization_id")
        .annotate(n=Count("id"))
        .values_list("organization_id", "n")
    )
    ratings = dict(
        CaseRating.objects.filter(rated_id__in=ids, case__visibility__in=SEEN_BY_MEMBERS)
        .values("rated_id")
        .annotate(mean=Avg("score"))
        .values_list("rated_id", "mean")
    )
    return {
        i: TrustFacts(grades.get(i), int(cases.get(i, 0)), float(ratings[i]) if i in ratings else None) for i in ids
    }


@dataclass(frozen=True)
class Certificate:
    valid_until: dt.date  # the longest any certificate of the term on record runs
    verified_until: dt.date | None = None  # the longest one an operator checked runs

    @property
    def verified(self) -> bool:
        return self.verified_until is not None


def certificates_on_record(org_ids: Iterable[int], terms: Iterable[str]) -> dict[int, dict[str, Certificate]]:
    """The certificates of `terms` each organization has on record in its profile, with their number and valid
    today: term code → how long they run. Capabilities are members' public facts,
    so any member may weigh them. A line without a certificate number is a claim, not a certificate (review 92)."""
    found: dict[int, dict[str, Certificate]] = {}
    rows = (
        OrganizationCapability.objects.exclude(certificate_no="")
        .filter(
            organization_id__in=list(set(org_ids)),
            term__code__in=list(set(terms)),
            valid_until__gte=timezone.localdate(),
        )
        .values_list("organization_id", "term__code", "source", "valid_until")
    )
    for org_id, term, source, until in rows:
        before = found.setdefault(org_id, {}).get(term)
        checked = until if source == Source.OPERATOR_VERIFIED else None
        if before is not None:
            until = max(until, before.valid_until)
            checked = max((d for d in (checked, before.verified_until) if d), default=None)
        found[org_id][term] = Certificate(until, checked)
    return found
