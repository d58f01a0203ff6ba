"""The policy library, a policy's page with the reader's eligibility (and, for its agency, who matches and
who applied), its files, and the agency's desk."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from agglo.access import policy as access
from agglo.common.downloads import attachment
from agglo.common.errors import Forbidden, NotFound
from agglo.common.numbers import grouped
from agglo.policy import needs, selectors, services
from agglo.policy.downloads import policy_document_download
from agglo.policy.grants import MONEY_BASES
from agglo.policy.models import Policy
from agglo.policy.views.acting import NOT_AN_AGENCY, admin_orgs, agencies_of
from agglo.profiles.tabular import write_csv
from agglo.registry.models import Organization


def library(request: HttpRequest) -> HttpResponse:
    q, kind = request.GET.get("q", "")[:100], request.GET.get("kind", "")[:20]
    rows = selectors.policy_list(actor=request.user, q=q, kind=kind)[:100]
    context = {
        "rows": rows,
        "q": q,
        "kind": kind,
        "kinds": Policy.Kind.choices,
        "agencies": agencies_of(request.user),
    }
    return render(request, "policy/library.html", context)


MATCHES_PAGE = 50  # eligible members and near misses on a page of the policy


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        policy = selectors.policy_get(actor=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    return policy_page(request, policy)


def policy_page(
    request: HttpRequest, policy: Policy, failed: dict[str, Any] | None = None, paying: dict[str, Any] | None = None
) -> HttpResponse:
    """The policy page; `failed` is a decision sent with errors, `paying` a payment, shown at its application's row
    as typed."""
    mine = []
    if request.user.is_authenticated:
        # the reader's firms that could benefit: an agency (the issuer above all) is not an applicant
        names = {  # in the reader's language
            o.pk: o.name
            for o in Organization.objects.filter(pk__in=access.active_organization_ids(request.user)).exclude(
                kind="government"
            )
        }
        mine = [
            {
                "pk": org,
                "name": names[org],
                "eligible": outcome.eligible,
                "rows": outcome.rows(),
                "wanting": outcome.outcome.wanting,
                "outside": not outcome.in_scope,
            }
            for org, outcome in selectors.eligibility(actor=request.user, policy=policy)
            if org in names
        ]
    manage = selectors.can_manage(request.user, policy)
    matches: Any = []
    if manage:  # a page of them, each with every clause and the firm's value where it discloses it
        matches = Paginator(selectors.match_rows(actor=request.user, policy=policy), MATCHES_PAGE).get_page(
            request.GET.get("matches")
        )
        matches.object_list = selectors.explain(list(matches.object_list), actor=request.user)
        services.matches_viewed(viewer=request.user, matches=matches.object_list, channel="page")
    lang = "en" if (request.LANGUAGE_CODE or "").startswith("en") else "zh"
    apps = (
        list(selectors.application_list(actor=request.user, policy=policy)[:500])
        if request.user.is_authenticated
        else []
    )
    if manage:  # each applicant's standing against the rule today, beside the decision on it
        standing = selectors.applicant_standing(
            actor=request.user, policy=policy, organization_ids=[a.organization_id for a in apps]
        )
        for a in apps:
            a.standing = standing.get(a.organization_id)
    applied = {a.organization_id for a in apps}
    outside = {m["pk"] for m in mine if m["outside"]}  # the policy's regions leave them out: no form to fill in vain
    can_apply = (
        [o for o in admin_orgs(request.user) if o.pk not in applied | outside and o.kind != "government"]
        if policy.status == Policy.Status.PUBLISHED and not policy.auto_grant and not policy.ended
        else []
    )
    context = {
        "policy": policy,
        "scope": selectors.scope_regions(policy),
        "formula": formula_text(policy),
        "mine": mine,
        "manage": manage,
        "documents": list(policy.documents.all()),
        "matches": matches,
        "lang": lang,
        "applications": apps,
        "can_apply": can_apply if policy.begun else [],
        "opens_on": policy.starts_on if can_apply and not policy.begun else None,
        # organizations that may apply but do not meet the rule today: the button asks first
        "short_of_rule": {m["pk"] for m in mine if not m["eligible"]},
        "failed": failed or {},
        "paying": paying or {},
        "today": timezone.localdate(),
        "grants": selectors.grants_public(actor=request.user, policy=policy),
    }
    return render(request, "policy/detail.html", context, status=400 if failed or paying else 200)


# a grant formula's figure, as a sentence on the policy's page names it
BASIS_WORDS = {
    "rd_expense": pgettext_lazy("grant basis", "R&D expenses last year"),
    "revenue": pgettext_lazy("grant basis", "revenue last year"),
    "total_assets": pgettext_lazy("grant basis", "total assets"),
    "headcount": pgettext_lazy("grant basis", "person employed"),
    "ip_invention": pgettext_lazy("grant basis", "invention patent"),
    "ip_total": pgettext_lazy("grant basis", "IP asset"),
}


def formula_text(policy: Policy) -> str:
    """What each grant pays by the policy's formula, in words ("" without one)."""
    if not policy.grant_basis or policy.grant_rate is None:
        return ""
    rate = policy.grant_rate.normalize()  # 10, 0.125 or 5,000, as the agency wrote it
    shown = grouped(rate) if rate == rate.to_integral_value() else f"{rate:f}"
    words = {"rate": shown, "basis": BASIS_WORDS.get(policy.grant_basis, "")}
    said = (
        _("%(rate)s%% of the member's %(basis)s") % words
        if policy.grant_basis in MONEY_BASES
        else _("%(rate)s yuan for each %(basis)s of the member") % words
    )
    if policy.grant_cap is not None:
        said = _("%(said)s, at most %(cap)s yuan") % {"said": said, "cap": grouped(policy.grant_cap)}
    return said


@login_required
def matches_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The eligible members and near misses as CSV, each clause with the firm's value where it discloses it: what
    an officer checks and announces from (policy review 58 M3). Logged in the members' access logs as the page is."""
    try:
        policy = selectors.policy_get(actor=request.user, pk=pk)
        rows = selectors.explain(list(selectors.match_rows(actor=request.user, policy=policy)), actor=request.user)
    except NotFound:
        raise Http404 from None
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    services.matches_viewed(viewer=request.user, matches=rows, channel="export")
    en = (request.LANGUAGE_CODE or "").startswith("en")
    hidden = _("not disclosed to you")

    def clauses(m: Any) -> str:
        said = []
        for c in m.explained:
            value = hidden if c["yours"] is None else (c["yours_en"] if en else c["yours"])
            said.append(f"{c['en'] if en else c['zh']}: {value} {'✓' if c['passed'] else '✗'}")
        return "; ".join(said)

    body = write_csv(
        ("organization_id", "organization", "uscc", "eligible", "missing", "conditions"),
        [
            (m.organization_id, m.organization.name, m.organization.uscc or "", m.eligible, m.missing, clauses(m))
            for m in rows
        ],
    )
    return attachment(body, "text/csv; charset=utf-8", f"policy-{policy.pk}-matches.csv")


@login_required
def workspace(request: HttpRequest) -> HttpResponse:
    """An agency's desk: its policies with who matches and the applications waiting, and the members' needs."""
    agencies = selectors.agency_workspace(actor=request.user)
    if not agencies:
        raise PermissionDenied(str(NOT_AN_AGENCY))
    unanswered = needs.need_list(actor=request.user).filter(answered_at__isnull=True).count()
    return render(request, "policy/workspace.html", {"agencies": agencies, "unanswered": unanswered})


def document(request: HttpRequest, document_id: int) -> FileResponse:
    """A policy's file, for anyone who may see the policy."""
    try:
        return policy_document_download(selectors.document_get(actor=request.user, pk=document_id))
    except NotFound:
        raise Http404 from None
