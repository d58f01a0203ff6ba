"""The organization's profile with its tabs: overview, finances, credit, IP, capabilities, cases, history and
access log, each showing sensitive parts only to those the owner allows."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy

from agglo.access import policy
from agglo.access.client import client_ip
from agglo.access.quotas import profile_viewed
from agglo.access.ratelimit import RateLimited
from agglo.access.services import sensitive_views_record
from agglo.common.problem import too_many
from agglo.profiles import selectors
from agglo.profiles.forms import (
    CaseRatingForm,
    DisclosureForm,
    ParticipantForm,
    VerifyForm,
)
from agglo.profiles.kinds import KINDS
from agglo.profiles.messages import FIELD_LABELS
from agglo.profiles.models import Source
from agglo.profiles.presenters import profile_summary
from agglo.profiles.views.acting import org_or_404
from agglo.profiles.views.cases import PARTICIPANT_FAILED
from agglo.profiles.visibility import verification_sources
from agglo.registry import selectors as registry
from agglo.registry.models import Organization, Position, Relation

TABS = {
    "overview": gettext_lazy("Overview"),
    "finances": gettext_lazy("Financials"),
    "credit": gettext_lazy("Credit"),
    "ip": gettext_lazy("IP"),
    "capabilities": gettext_lazy("Capabilities"),
    "cases": gettext_lazy("Cases"),
    "history": gettext_lazy("History"),
    "access": gettext_lazy("Access log"),
}


FIN_COLUMNS = (
    "revenue",
    "total_assets",
    "total_liabilities",
    "equity",
    "net_profit",
    "operating_cash_flow",
    "rd_expense",
    "headcount",
    "rd_headcount",
    # what the Altman Z'' score reads, so that a lender can check it (policy review 58 M8)
    "current_assets",
    "current_liabilities",
    "retained_earnings",
    "ebit",
)


def _base(request: HttpRequest, org: Organization, tab: str) -> dict[str, Any]:
    own = org.pk in policy.organization_ids(request.user) or policy.sees_all_organizations(request.user)
    tabs = [(k, v) for k, v in TABS.items() if k != "access" or own]
    verify_labels = dict(Source.choices)
    kind = {"finances": "financials", "credit": "ratings"}.get(tab, tab)
    return {
        "verify_choices": [(v, verify_labels[v]) for v in verification_sources(request.user, org, kind)],
        "org": org,
        "tab": tab,
        "tabs": tabs,
        "can_edit": policy.can_edit_organization(request.user, org.pk),
        "groups": selectors.visible_groups(request.user, org),
        "levels": selectors.disclosure_levels(org),
    }


def _log(request: HttpRequest, org: Organization, groups: list[str]) -> None:
    sensitive_views_record(viewer=request.user, owner_ids=[org.pk], groups=groups, channel="page")


def organization_profile(request: HttpRequest, pk: int, tab: str = "overview") -> HttpResponse:
    """The organization's profile; each tab shows one part, sensitive parts only to those the owner allows."""
    if tab not in TABS:
        raise Http404
    org = org_or_404(request, pk)
    try:
        profile_viewed(actor=request.user, organization_id=org.pk, address=client_ip(request))
    except RateLimited as exc:
        return too_many(request, exc)
    context = _base(request, org, tab)
    renderer = TAB_RENDERERS[tab]
    context.update(renderer(request, org, context))
    return render(request, "profiles/profile.html", context)


def _overview(request: HttpRequest, org: Organization, context: dict[str, Any]) -> dict[str, Any]:
    summary = profile_summary(actor=request.user, organization=org, include_indicators=False, groups=context["groups"])
    show_contacts = "contacts" in context["groups"]
    if show_contacts and (org.contact_name or org.contact_email or org.contact_phone):
        _log(request, org, ["contacts"])
    return {
        "summary": summary,
        "positions": registry.position_list(actor=request.user, organization=org),
        "relations": registry.relation_list(actor=request.user, organization=org),
        "show_contacts": show_contacts,
        "role_labels": dict(Position.Role.choices),
        "relation_labels": dict(Relation.Kind.choices),
        "disclosure_form": DisclosureForm(
            initial={
                "financials_visibility": context["levels"]["financials"],
                "credit_visibility": context["levels"]["credit"],
            }
        ),
    }


def _facts(request: HttpRequest, org: Organization, name: str) -> list[Any] | None:
    facts = selectors.fact_list(actor=request.user, organization=org, kind=KINDS[name])
    return None if facts is None else list(facts)


TAB_PAGE = 100


def _finances(request: HttpRequest, org: Organization, context: dict[str, Any]) -> dict[str, Any]:
    statements = _facts(request, org, "financials")
    if statements is None:
        return {"hidden": True}
    _log(request, org, ["financials"])
    rows = sorted(statements, key=lambda s: s.year)
    indicators = {i.year: i for i in selectors.indicator_list(rows)}
    chart = {
        "years": [s.year for s in rows],
        "series": {
            name: [None if getattr(s, name) is None else float(getattr(s, name)) for s in rows]  # a gap, not 0
            for name in ("revenue", "net_profit", "rd_expense")
        },
        "labels": {name: str(capfirst(FIELD_LABELS[name])) for name in ("revenue", "net_profit", "rd_expense")},
    }
    return {
        "statements": list(reversed(rows)),
        "indicators": indicators,
        "chart": chart,
        "columns": [(c, FIELD_LABELS[c]) for c in FIN_COLUMNS],
        "verify_form": VerifyForm(),
    }


def _credit(request: HttpRequest, org: Organization, context: dict[str, Any]) -> dict[str, Any]:
    headline = selectors.credit_headline(actor=request.user, organization=org)
    ratings = _facts(request, org, "ratings")
    if ratings is not None:
        _log(request, org, ["credit"])
    return {"headline": headline, "ratings": ratings, "hidden": ratings is None}


def _paged(request: HttpRequest, rows: Any, per: int) -> Any:
    """A page of a tab's rows (perf review 58: 1,500 IP assets or 300 cases on one page took a second)."""
    return None if rows is None else Paginator(rows, per).get_page(request.GET.get("page"))


def _ip(request: HttpRequest, org: Organization, context: dict[str, Any]) -> dict[str, Any]:
    facts = selectors.fact_list(actor=request.user, organization=org, kind=KINDS["ip"])
    return {"assets": _paged(request, facts, TAB_PAGE)}


def _capabilities(request: HttpRequest, org: Organization, context: dict[str, Any]) -> dict[str, Any]:
    facts = selectors.fact_list(actor=request.user, organization=org, kind=KINDS["capabilities"])
    return {"capabilities": _paged(request, facts, TAB_PAGE)}


CASE_PAGE = 20  # each case carries its forms


def _cases(request: HttpRequest, org: Organization, context: dict[str, Any]) -> dict[str, Any]:
    mine = policy.organization_ids(request.user)
    failed = request.session.pop(PARTICIPANT_FAILED, None)
    cases = _paged(request, selectors.case_list(actor=request.user, organization=org), CASE_PAGE)
    for case in cases:
        confirmed = [p for p in case.participants.all() if p.confirmed_at]
        case.my_pending = [p for p in case.participants.all() if p.organization_id in mine and not p.confirmed_at]
        case.log_key = selectors.case_key(request.user, case)
        rating_form = CaseRatingForm(prefix=f"r{case.pk}")
        rated = {r.rated_id for r in case.ratings.all() if r.rater_id in mine}  # each partner is rated once
        rating_form.fields["rated"].choices = [
            (p.organization_id, p.organization.name)
            for p in confirmed
            if p.organization_id not in mine and p.organization_id not in rated
        ]
        case.rating_form = (
            rating_form
            if any(p.organization_id in mine for p in confirmed) and rating_form.fields["rated"].choices
            else None
        )
        case.can_edit = policy.can_edit_organization(request.user, case.organization_id)
        # a participant sent with errors comes back in its case's form, as typed (the message says what is wrong)
        sent = failed.get("data") if failed and failed.get("case") == case.pk else None
        case.participant_form = ParticipantForm(initial=sent) if sent else ParticipantForm()
    return {"cases": cases}


def _history(request: HttpRequest, org: Organization, context: dict[str, Any]) -> dict[str, Any]:
    groups = context["groups"]
    events = selectors.history_events(actor=request.user, organization=org, groups=groups)
    shown = Paginator(events, TAB_PAGE).get_page(request.GET.get("page"))
    shown.object_list = selectors.history_shown(
        actor=request.user, organization=org, events=list(shown.object_list), groups=groups
    )
    return {"events": shown}


def _access(request: HttpRequest, org: Organization, context: dict[str, Any]) -> dict[str, Any]:
    if not selectors.can_read_access_log(request.user, org):
        raise PermissionDenied
    entries = selectors.access_log_list(actor=request.user, organization=org)
    return {"entries": Paginator(entries, TAB_PAGE).get_page(request.GET.get("page"))}


TAB_RENDERERS = {
    "overview": _overview,
    "finances": _finances,
    "credit": _credit,
    "ip": _ip,
    "capabilities": _capabilities,
    "cases": _cases,
    "history": _history,
    "access": _access,
}
