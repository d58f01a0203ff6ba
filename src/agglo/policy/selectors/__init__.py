"""Reads of the policy app, already limited to what the actor may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.access import policy as access
from agglo.common.errors import Forbidden, NotFound
from agglo.policy.facts import FACT_GROUPS, covers
from agglo.policy.grants import withheld_basis
from agglo.policy.models import (
    Application,
    ApplicationDocument,
    GrantPayment,
    OrganizationFacts,
    Policy,
    PolicyDocument,
    PolicyMatch,
    rule_of_text,
)
from agglo.policy.rules import Outcome
from agglo.policy.selectors.facts import facts_for, stored_facts
from agglo.profiles.visibility import owners_filter
from agglo.registry.models import Organization, Region


def policy_list(*, actor: Any, q: str = "", kind: str = "") -> QuerySet[Policy]:
    """Published policies, and closed ones (what they granted stays announced), for everyone; drafts too for their
    agency's admins and operators."""
    qs = Policy.objects.select_related("issuer")
    if not access.is_operator(actor):
        public = Q(status__in=(Policy.Status.PUBLISHED, Policy.Status.CLOSED))
        qs = qs.filter(public | Q(issuer_id__in=access.administered_organization_ids(actor)))
    if q:
        qs = qs.filter(
            Q(title_zh__icontains=q)
            | Q(title_en__icontains=q)
            | Q(summary_zh__icontains=q)
            | Q(summary_en__icontains=q)
        )
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-published_at", "-id")


def policy_get(*, actor: Any, pk: int) -> Policy:
    policy = policy_list(actor=actor).filter(pk=pk).first()
    if policy is None:
        raise NotFound(_("No policy with id %(pk)s.") % {"pk": pk})
    return policy


def scope_regions(policy: Policy) -> list[Region]:
    """The regions a policy is limited to (none: anywhere), in code order."""
    return list(Region.objects.filter(code__in=policy.region_scope or []).order_by("code"))


def can_manage(actor: Any, policy: Policy) -> bool:
    return access.is_operator(actor) or access.is_org_admin(actor, policy.issuer_id)


def match_rows(*, actor: Any, policy: Policy) -> QuerySet[PolicyMatch]:
    """A policy's matches, eligible first and then the nearest misses (not yet explained, for paging)."""
    if not can_manage(actor, policy):
        raise Forbidden(_("Only the issuing agency sees who matches its policy."))
    matches = PolicyMatch.objects.in_good_standing().filter(policy=policy).select_related("organization", "policy")
    return matches.order_by("-eligible", "missing", "pk")


def explain(matches: list[PolicyMatch], *, actor: Any) -> list[PolicyMatch]:
    """Put each match's clauses in words with its member's values, reading their kept facts in one query. A value
    from a field group the member keeps from the actor (`FACT_GROUPS`) is withheld: the actor reads whether the
    clause holds. For the member's access log, `disclosed` names the sensitive groups whose values were given,
    `disclosed_missing` those given beside a clause the member misses (all that the policy page prints), and
    `screened` those withheld whose clauses' outcomes were given."""
    if not matches:
        return matches
    ids = {m.organization_id for m in matches}
    facts = stored_facts(OrganizationFacts.objects.filter(organization_id__in=ids))
    named = {text: rule_of_text(text).fact_names & FACT_GROUPS.keys() for text in {m.policy.rule for m in matches}}
    seen = _seeing(actor, ids, {FACT_GROUPS[name] for names in named.values() for name in names})
    stated: set[int] = set()
    if any("headcount" in names for names in named.values()):  # the registry's headcount is public
        kept = OrganizationFacts.objects.filter(organization_id__in=ids, headcount_stated=True)
        stated = set(kept.values_list("organization_id", flat=True))
    for match in matches:
        rule = rule_of_text(match.policy.rule)
        org = match.organization_id
        sensitive = named[rule.text] if org in stated else named[rule.text] - {"headcount"}
        withheld = {name for name in sensitive if org not in seen[FACT_GROUPS[name]]}
        match.explained = match.explain(facts.get(org, {}), withheld)
        given = [
            (FACT_GROUPS[node.fact.name], row)
            for (node, *_), row in zip(rule.leaves, match.explained, strict=False)  # as `explained` pairs them
            if node.fact.name in sensitive and node.fact.name not in withheld
        ]
        match.disclosed = {group for group, _row in given}
        match.disclosed_missing = {group for group, row in given if not row["passed"] and row["needed"]}
        match.screened = {FACT_GROUPS[name] for name in withheld}
    return matches


def _seeing(actor: Any, organization_ids: set[int], groups: set[str]) -> dict[str, set[int]]:
    """Of these organizations, those each group of which the actor may see: one query per group, not per row."""
    out = {}
    for group in groups:
        annotations, condition = owners_filter(actor, group)
        rows = Organization.objects.filter(pk__in=organization_ids).annotate(**annotations).filter(condition)
        out[group] = set(rows.values_list("pk", flat=True))
    return out


def applicant_standing(*, actor: Any, policy: Policy, organization_ids: list[int]) -> dict[int, Standing]:
    """How each applicant stands on the policy now, from its facts today (whether or not it was among the matches
    stored at publishing): for the issuing agency, beside its decision."""
    if not can_manage(actor, policy):
        raise Forbidden(_("Only the issuing agency sees how applicants stand."))
    rule = rule_of_text(policy.rule)
    facts = facts_for(sorted(set(organization_ids)))
    return {org: _scoped(policy, rule.evaluate(facts[org]), facts[org]) for org in organization_ids if org in facts}


def eligibility(*, actor: Any, policy: Policy) -> list[tuple[int, Standing]]:
    """How each of the actor's organizations stands on the policy now, explained clause by clause."""
    rule = rule_of_text(policy.rule)
    orgs = sorted(access.active_organization_ids(actor))
    facts = facts_for(orgs)
    return [(org, _scoped(policy, rule.evaluate(facts[org]), facts[org])) for org in orgs if org in facts]


@dataclass(frozen=True)
class Standing:
    """How an organization stands on a policy: the rule's outcome, and whether it lies in the policy's regions
    (outside them the rule's answer does not make it eligible)."""

    outcome: Outcome
    in_scope: bool

    @property
    def eligible(self) -> bool:
        return self.in_scope and self.outcome.eligible

    @property
    def short(self) -> int:
        """How many clauses the organization is short (an `or` that fails counts once)."""
        return self.outcome.short

    def rows(self) -> list[dict[str, Any]]:
        return self.outcome.rows()


def _scoped(policy: Policy, outcome: Outcome, facts: dict[str, Any]) -> Standing:
    return Standing(outcome, covers(policy.region_scope or (), facts))


def policies_for(*, actor: Any, limit: int = 10) -> list[PolicyMatch]:
    """Published policies the actor's organizations are eligible for or nearly are, newest first, explained."""
    matches = (
        PolicyMatch.objects.filter(
            organization_id__in=access.active_organization_ids(actor), policy__status=Policy.Status.PUBLISHED
        )
        # a policy past its last day is no one's to apply for: not "for you" any more (review 48)
        .filter(Q(policy__ends_on__isnull=True) | Q(policy__ends_on__gte=timezone.localdate()))
        .select_related("policy", "organization")
        # where the member applied (or was granted without applying), how that stands: not "eligible" still
        .annotate(
            applied=Subquery(
                Application.objects.filter(policy=OuterRef("policy"), organization=OuterRef("organization"))
                .order_by("-created_at", "-pk")
                .values("status")[:1]
            )
        )
        .order_by("-eligible", "-policy__published_at")[:limit]
    )
    return explain(list(matches), actor=actor)


def application_list(*, actor: Any, policy: Policy) -> QuerySet[Application]:
    """All applications for the agency and operators; a member's own otherwise."""
    qs = (
        Application.objects.filter(policy=policy)
        .select_related("organization")
        .prefetch_related("documents", "payments")
    )
    if not can_manage(actor, policy):
        qs = qs.filter(organization_id__in=access.active_organization_ids(actor))
    return qs.order_by("-created_at")


def grants_public(*, actor: Any, policy: Policy, limit: int = 1000) -> list[Application]:
    """Who was granted how much, and when: public, as an agency announces its grants (公示), to anyone who reads
    the policy (policy review 58 M4). What was asked, and refusals, stay between the agency and the member. A sum
    the policy reckons on a figure its member may withhold is shown (`sum_shown`) only to readers who may see that
    figure, and to the agency: with the public formula, it would tell the figure (review 96)."""
    granted = Application.objects.filter(policy=policy, status=Application.Status.GRANTED)
    # with their payments: what was paid of each (`Application.paid`), as disbursements are announced too
    grants = list(
        granted.select_related("organization").prefetch_related("payments").order_by("decided_at", "pk")[:limit]
    )
    # a grant sealed on the log when it was made (its `text_key`) stays hidden whatever the formula is now (review 97)
    withheld = withheld_basis(policy.grant_basis)
    hidden = {g.pk for g in grants if withheld or g.text_key}
    manages = can_manage(actor, policy)
    shown: set[int] = set()
    if hidden and not manages:
        annotations, condition = owners_filter(actor, withheld or "financials")
        ids = {g.organization_id for g in grants if g.pk in hidden}
        shown = set(
            Organization.objects.filter(pk__in=ids)
            .annotate(**annotations)
            .filter(condition)
            .values_list("pk", flat=True)
        )
    for g in grants:
        g.sum_shown = manages or g.pk not in hidden or g.organization_id in shown  # type: ignore[attr-defined]
    return grants


def application_get(*, actor: Any, pk: int) -> Application:
    """An application the actor may decide (its policy's agency, operators) or read (its own member)."""
    application = Application.objects.select_related("policy", "policy__issuer").filter(pk=pk).first()
    if application is None or (
        not can_manage(actor, application.policy)
        and application.organization_id not in access.active_organization_ids(actor)
    ):
        raise NotFound(_("No application with id %(pk)s.") % {"pk": pk})
    return application


def calculator_defaults(*, actor: Any) -> dict[str, Any]:
    """Figures from the actor's first organization's latest statement and granted IP, to start the calculators
    from (the member may change any of them); empty for anyone without an organization."""
    from agglo.profiles.models import FinancialStatement, IPAsset

    orgs = sorted(access.active_organization_ids(actor))
    if not orgs:
        return {}
    # the calculators ask for last year's figures: a statement of the year under way is only a part of one
    statements = FinancialStatement.objects.filter(organization_id=orgs[0]).order_by("-year")
    statement = statements.filter(year__lt=timezone.localdate().year).first() or statements.first()
    granted = IPAsset.objects.filter(organization_id=orgs[0], status=IPAsset.Status.GRANTED).exclude(
        kind=IPAsset.Kind.TRADEMARK
    )
    out: dict[str, Any] = {
        "ip_class_i": granted.filter(kind=IPAsset.Kind.INVENTION_PATENT).count(),
        "ip_class_ii": granted.exclude(kind=IPAsset.Kind.INVENTION_PATENT).count(),
    }
    if statement is not None:
        out |= {
            "staff": statement.headcount,
            "tech_staff": statement.rd_headcount,
            "revenue": statement.revenue,
            "total_assets": statement.total_assets,
            "rd_expense": statement.rd_expense,
            "expensed": statement.rd_expense,
            "year": statement.year,
        }
    return {k: v for k, v in out.items() if v is not None}


def agency_workspace(*, actor: Any) -> list[dict[str, Any]]:
    """For each government agency the actor administers: its policies with how many members are eligible or one
    condition short, its applications by status with the amount granted, and how much of it is paid."""
    from django.db.models import Count

    from agglo.registry.models import Organization

    agencies = Organization.objects.filter(pk__in=access.administered_organization_ids(actor), kind="government")
    out = []
    for agency in agencies.order_by("name_zh"):
        policies = list(Policy.objects.filter(issuer=agency).order_by("-published_at", "-id"))
        # one grouped count of the matches, not two distinct counts over a join of every policy's columns (perf
        # review 58: 30 policies of 67,000 matches each took a second)
        counted = {
            row["policy_id"]: row
            for row in PolicyMatch.objects.in_good_standing()
            .filter(policy__issuer=agency)
            .values("policy_id")
            .annotate(n_eligible=Count("pk", filter=Q(eligible=True)), n_near=Count("pk", filter=Q(eligible=False)))
        }
        decided = {
            (row["policy_id"], row["status"]): row
            for row in Application.objects.filter(policy__issuer=agency)
            .values("policy_id", "status")
            .annotate(n=Count("pk"), amount=Sum("amount"))
        }
        paid = dict(
            GrantPayment.objects.filter(application__policy__issuer=agency)
            .values("application__policy_id")
            .annotate(s=Sum("amount"))
            .values_list("application__policy_id", "s")
        )
        for p in policies:
            p.paid_amount = paid.get(p.pk) or 0
            p.eligible = counted.get(p.pk, {}).get("n_eligible", 0)
            p.near = counted.get(p.pk, {}).get("n_near", 0)
            p.submitted = decided.get((p.pk, Application.Status.SUBMITTED), {}).get("n", 0)
            p.granted = decided.get((p.pk, Application.Status.GRANTED), {}).get("n", 0)
            p.granted_amount = decided.get((p.pk, Application.Status.GRANTED), {}).get("amount") or 0
        out.append({"agency": agency, "policies": policies})
    return out


def document_get(*, actor: Any, pk: int) -> PolicyDocument:
    """A document of a policy the actor may see (published ones are public; drafts their agency's)."""
    document = PolicyDocument.objects.select_related("policy").filter(pk=pk).first()
    if document is None or not policy_list(actor=actor).filter(pk=document.policy_id).exists():
        raise NotFound(_("No policy document with id %(pk)s.") % {"pk": pk})
    return document


def application_document_get(*, actor: Any, pk: int) -> ApplicationDocument:
    """A file of an application the actor may read (`application_get`: its agency, operators, its own member)."""
    document = ApplicationDocument.objects.filter(pk=pk).first()
    if document is None:
        raise NotFound(_("No application document with id %(pk)s.") % {"pk": pk})
    try:
        application_get(actor=actor, pk=document.application_id)
    except NotFound:
        raise NotFound(_("No application document with id %(pk)s.") % {"pk": pk}) from None
    return document


def eligible_ungranted(*, policy: Policy) -> int:
    """Eligible members with no application or grant on the policy: after a grant to every eligible member, those
    the formula could not reckon (no figure)."""
    done = Application.objects.filter(policy=policy).values("organization_id")
    matches = PolicyMatch.objects.in_good_standing().filter(policy=policy, eligible=True)
    return matches.exclude(organization_id__in=done).count()
