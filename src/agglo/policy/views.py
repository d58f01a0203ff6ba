"""Policy pages: the library, a policy with my eligibility (and, for its agency, who matches), drafting."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from agglo.access import policy as access
from agglo.common.downloads import attachment
from agglo.common.errors import DomainError, Forbidden, NotFound, PreconditionFailed, ValidationFailed, labelled_errors
from agglo.common.form_versions import FormVersion
from agglo.common.idempotency import confirm_repeat
from agglo.common.numbers import grouped, posted_id
from agglo.policy import applications, estimates, needs, payments, selectors, services
from agglo.policy import calculators as calculators_core
from agglo.policy.downloads import application_download, policy_document_download
from agglo.policy.facts import FACTS
from agglo.policy.grants import MONEY_BASES
from agglo.policy.models import Policy, PolicyNeed
from agglo.profiles.tabular import write_csv
from agglo.registry import selectors as registry_selectors
from agglo.registry.forms import region_choices
from agglo.registry.models import Organization, Region

# fields of the policy pages' small forms, as they read in an error
ACTION_FIELDS = {
    "amount": gettext_lazy("Amount (yuan)"),
    "reason": gettext_lazy("Reason"),
    "note": gettext_lazy("Note"),
    "answer": gettext_lazy("Answer"),
    "paid_on": gettext_lazy("Paid on"),
    "reference": gettext_lazy("Transfer or voucher number"),
    "files": gettext_lazy("Files"),
    "organization": gettext_lazy("Organization"),
    "ends_on": gettext_lazy("Ends on"),
}


def _say(request: HttpRequest, exc: DomainError) -> None:
    """One error line, each bad field named as its form labels it (a field without a label: the message)."""
    parts = [line for _field, line in labelled_errors(exc.errors, ACTION_FIELDS)]
    messages.error(request, " ".join(parts) or exc.message)


def library(request: HttpRequest) -> HttpResponse:
    q, kind = request.GET.get("q", "")[:100], request.GET.get("kind", "")[:20]
    rows = selectors.policy_list(actor=request.user, q=q, kind=kind)[:100]
    context = {
        "rows": rows,
        "q": q,
        "kind": kind,
        "kinds": Policy.Kind.choices,
        "agencies": _agencies(request.user),
    }
    return render(request, "policy/library.html", context)


def _admin_orgs(user: Any) -> list[Organization]:
    return list(Organization.objects.filter(pk__in=access.administered_organization_ids(user)).order_by("name_zh"))


def _agencies(user: Any) -> list[Organization]:
    return [o for o in _admin_orgs(user) if o.kind == "government"]


MATCHES_PAGE = 50  # eligible members and near misses on a page of the policy


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        policy = selectors.policy_get(actor=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    return _detail(request, policy)


def _detail(
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
        [o for o in _admin_orgs(request.user) if o.pk not in applied | outside and o.kind != "government"]
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


# the figures a grant may be reckoned on, as the draft form names them (percent of money; yuan per unit of counts)
GRANT_BASES = [
    ("rd_expense", gettext_lazy("R&D expenses last year (percent)")),
    ("revenue", gettext_lazy("Revenue last year (percent)")),
    ("total_assets", gettext_lazy("Total assets (percent)")),
    ("headcount", gettext_lazy("Headcount (yuan a person)")),
    ("ip_invention", gettext_lazy("Invention patents (yuan a patent)")),
    ("ip_total", gettext_lazy("IP assets (yuan an asset)")),
]


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


# the draft form's fields, as its labels name them in errors
FORM_FIELDS = {
    "issuer": gettext_lazy("Agency"),
    "kind": gettext_lazy("Kind"),
    "title_zh": gettext_lazy("Chinese title"),
    "title_en": gettext_lazy("English title"),
    "summary_zh": gettext_lazy("Chinese summary"),
    "summary_en": gettext_lazy("English summary"),
    "region_scope": gettext_lazy("Regions"),
    "starts_on": gettext_lazy("Starts on"),
    "ends_on": gettext_lazy("Ends on"),
    "budget": gettext_lazy("Budget (yuan)"),
    "rule": gettext_lazy("Eligibility rule"),
    "grant_basis": gettext_lazy("Grant reckoned on"),
    "grant_rate": gettext_lazy("Grant rate"),
    "grant_cap": gettext_lazy("Grant cap (yuan)"),
    "status": gettext_lazy("Status"),
}


# what kind of value each fact is, as the draft form's list of facts says it
FACT_TYPES = {
    "number": pgettext_lazy("kind of value", "number"),
    "percent": pgettext_lazy("kind of value", "percentage"),
    "text": pgettext_lazy("kind of value", "text"),
    "bool": pgettext_lazy("kind of value", "true or false"),
    "list": pgettext_lazy("kind of value", "list"),
}
# the calculators' fields, as their forms label them
CALCULATOR_FIELDS = {
    "staff": gettext_lazy("Total staff"),
    "tech_staff": gettext_lazy("Technical staff"),
    "revenue": gettext_lazy("Sales revenue last year (yuan)"),
    "total_assets": gettext_lazy("Total assets (yuan)"),
    "rd_expense": gettext_lazy("R&D expenses (yuan)"),
    "total_cost": gettext_lazy("Total costs and expenses (yuan)"),
    "ip_class_i": gettext_lazy("Class I IP (invention patents, new plant varieties, new drugs, IC layouts…)"),
    "ip_class_ii": gettext_lazy("Class II IP (utility models, designs, software copyrights)"),
    "expensed": gettext_lazy("R&D expenses charged this year (yuan)"),
    "amortisation": gettext_lazy("Amortisation of R&D intangible assets this year (yuan)"),
    "year": gettext_lazy("Tax year"),
    "industry": gettext_lazy("Industry, if excluded from the deduction"),
}


@login_required
@require_http_methods(["GET", "POST"])
@confirm_repeat
def draft(request: HttpRequest) -> HttpResponse:
    """Draft a new policy for one of the user's agencies."""
    return _policy_form(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a policy before it closes: a draft freely; a published one is matched against the members again."""
    try:
        policy = selectors.policy_get(actor=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    if not selectors.can_manage(request.user, policy) or policy.status == Policy.Status.CLOSED:
        raise Http404
    return _policy_form(request, policy)


def _policy_form(request: HttpRequest, policy: Policy | None) -> HttpResponse:
    agencies = [policy.issuer] if policy is not None else _agencies(request.user)
    if not agencies:  # a page that exists, for agencies' admins: say so rather than "not found"
        raise PermissionDenied(str(NOT_AN_AGENCY))
    errors: dict[str, list[str]] = {}
    version = FormVersion(policy, request.POST)
    values: dict[str, Any] = (
        _values_of(policy) if policy is not None else {"kind": "subsidy", "issuer": str(agencies[0].pk)}
    )
    if policy is not None and request.method != "POST":
        version.draw_values(_own(values))
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in FORM_FIELDS if k != "status"}
        values["region_scope"] = [c.strip() for c in request.POST.getlist("region_scope") if c.strip()]  # picked
        values["auto_grant"] = bool(request.POST.get("auto_grant"))
        if policy is not None:
            values["issuer"] = str(policy.issuer_id)  # an agency's policy stays its own
        issuer = next((a for a in agencies if str(a.pk) == values["issuer"]), None)
        if issuer is None:
            errors["issuer"] = [_("Choose one of your agencies.")]
        else:
            data = {k: v for k, v in values.items() if k != "issuer"}
            try:
                if policy is None:
                    saved = services.policy_create(actor=request.user, issuer=issuer, data=data)
                else:
                    saved = services.policy_update(actor=request.user, policy=policy, data=data, if_match=version.sent)
            except PreconditionFailed as exc:  # drawn again as a merge with the policy now
                version.refused(exc)
                assert policy is not None
                policy.refresh_from_db()
                values, lines = version.merge_values(_own(values), _own(_values_of(policy)), FORM_FIELDS)
                values["issuer"] = str(policy.issuer_id)
                errors = {f"version_{n}": [line] for n, line in enumerate(lines)}
            except DomainError as exc:
                errors = exc.errors or {"title_zh": [exc.message]}
            else:
                if policy is None:
                    messages.success(request, _("Draft saved. Check it, then publish."))
                elif saved.status == Policy.Status.PUBLISHED:
                    messages.success(request, _("Policy changed; the members were matched against it again."))
                else:
                    messages.success(request, _("Draft changed. Check it, then publish."))
                return redirect("policy:detail", pk=saved.pk)
    context = {
        "policy": policy,
        "version": version.value,
        "drawn": version.drawn,
        "agencies": agencies,
        "values": values,
        # each bad field's errors after its label, with the reader's colon
        "errors": labelled_errors(errors, FORM_FIELDS),
        "error_fields": set(errors),
        "kinds": Policy.Kind.choices,
        "bases": GRANT_BASES,
        "facts": [(f, FACT_TYPES.get(f.type, f.type)) for f in FACTS.values()],
        "regions": region_choices(),
    }
    return render(request, "policy/draft.html", context, status=422 if errors else 200)


def _own(values: dict[str, Any]) -> dict[str, Any]:
    """The policy form's values a version covers (`common.form_versions`): the agency is not the form's to change."""
    return {k: v for k, v in values.items() if k != "issuer"}


def _values_of(policy: Policy) -> dict[str, Any]:
    """The form filled with the policy as it stands."""
    return {
        "issuer": str(policy.issuer_id),
        "kind": policy.kind,
        "title_zh": policy.title_zh,
        "title_en": policy.title_en,
        "summary_zh": policy.summary_zh,
        "summary_en": policy.summary_en,
        "region_scope": list(policy.region_scope or []),
        "starts_on": policy.starts_on.isoformat() if policy.starts_on else "",
        "ends_on": policy.ends_on.isoformat() if policy.ends_on else "",
        "budget": "" if policy.budget is None else f"{policy.budget:f}",
        "rule": policy.rule,
        "auto_grant": policy.auto_grant,
        "grant_basis": policy.grant_basis,
        "grant_rate": "" if policy.grant_rate is None else f"{policy.grant_rate.normalize():f}",
        "grant_cap": "" if policy.grant_cap is None else f"{policy.grant_cap:f}",
    }


@login_required
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        policy = selectors.policy_get(actor=request.user, pk=pk)
        services.policy_publish(actor=request.user, policy=policy)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:  # what is wrong, not only that something is
        messages.error(
            request, " ".join(text for texts in (exc.errors or {}).values() for text in texts) or exc.message
        )
    else:
        messages.success(request, _("Published; eligible members and near misses have been told."))
    return redirect("policy:detail", pk=pk)


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
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        policy = selectors.policy_get(actor=request.user, pk=pk)
        services.policy_close(actor=request.user, policy=policy)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        _say(request, exc)
    else:
        messages.success(request, _("Closed: it takes no more applications; those already in can still be decided."))
    return redirect("policy:detail", pk=pk)


@login_required
@require_POST
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        policy = selectors.policy_get(actor=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    org = request.POST.get("organization", "")
    try:
        applications.application_submit(
            actor=request.user,
            policy=policy,
            organization_id=posted_id(org) or 0,
            note=request.POST.get("note", ""),
            files=request.FILES.getlist("files"),
        )
    except DomainError as exc:
        _say(request, exc)
    else:
        messages.success(request, _("Application sent."))
    return redirect("policy:detail", pk=pk)


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        application = selectors.application_get(actor=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    try:
        decided = applications.application_decide(
            actor=request.user,
            application=application,
            grant=request.POST.get("grant") == "1",
            reason=request.POST.get("reason", ""),
            amount=request.POST.get("amount", ""),
        )
    except ValidationFailed as exc:
        if set(exc.errors) & {"amount", "reason", "organization"}:  # back at the application's row, as typed
            parts = [line for _field, line in labelled_errors(exc.errors, ACTION_FIELDS)]
            sent = {k: request.POST.get(k, "") for k in ("amount", "reason")}
            return _detail(request, application.policy, failed={"pk": application.pk, "errors": parts, **sent})
        _say(request, exc)
    except DomainError as exc:
        _say(request, exc)
    else:
        name = decided.organization.name
        if decided.status == decided.Status.GRANTED and decided.amount is not None:  # the agency sees its sums
            messages.success(
                request,
                _("Granted %(amount)s yuan to %(name)s; it is told.")
                % {"amount": grouped(decided.amount), "name": name},
            )
        elif decided.status == decided.Status.GRANTED:
            messages.success(request, _("Granted to %(name)s; it is told.") % {"name": name})
        else:
            messages.success(request, _("Rejected; %(name)s is told, with your reason.") % {"name": name})
    return redirect("policy:detail", pk=application.policy_id)


@login_required
@require_POST
def grant_eligible(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        policy = selectors.policy_get(actor=request.user, pk=pk)
        count = applications.policy_grant_eligible(actor=request.user, policy=policy, amount=request.POST.get("amount"))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        _say(request, exc)
    else:
        messages.success(request, _("Granted to %(n)d eligible members.") % {"n": count})
        if policy.grant_basis and (waiting := selectors.eligible_ungranted(policy=policy)):  # no figure to reckon on
            messages.warning(
                request,
                ngettext(
                    "%(n)d eligible member has no figure the formula reckons on, so nothing was granted to it.",
                    "%(n)d eligible members have no figure the formula reckons on, so nothing was granted to them.",
                    waiting,
                )
                % {"n": waiting},
            )
    return redirect("policy:detail", pk=pk)


# the need form's fields, as it labels them (an error names the field the way the form does)
NOT_AN_AGENCY = gettext_lazy(
    "Policies are drafted and published by the administrators of government agencies that are members of the "
    "platform; an officer's account reads members' data and needs but does not publish."
)
NEED_LABELS = {
    "organization": gettext_lazy("Organization"),
    "topic": gettext_lazy("Topic"),
    "text": gettext_lazy("Need"),
    "segment": gettext_lazy("Chain segment code (optional)"),
}


@login_required
@require_http_methods(["GET", "POST"])
@confirm_repeat
def need_index(request: HttpRequest) -> HttpResponse:
    """File a need; see my organizations' needs and answers; government sees them all, grouped, and answers."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        org = request.POST.get("organization", "")
        try:
            needs.need_submit(
                actor=request.user,
                organization_id=posted_id(org) or 0,
                data={k: request.POST.get(k, "") for k in ("topic", "text", "segment")},
            )
        except DomainError as exc:
            errors = exc.errors or {"organization": [exc.message]}
        else:
            messages.success(
                request,
                _(
                    "Thank you: the need is filed and government can see it. Once an agency answers, the need and "
                    "its answer are published without your organization's name."
                ),
            )
            return redirect("policy:needs")
    return _needs_page(request, errors)


def _needs_page(
    request: HttpRequest, errors: dict[str, list[str]], answering: dict[str, Any] | None = None
) -> HttpResponse:
    """The needs page; `errors`: a need sent with faults, `answering`: an answer sent with faults (that need alone
    is listed, its form as typed, so that neither is lost among the others: review 100)."""
    # the organizations the user may file a need for: an agency files none
    orgs = [
        o
        for o in Organization.objects.filter(pk__in=access.active_organization_ids(request.user))
        if o.kind != "government"
    ]
    government = needs.sees_all_needs(request.user)
    # every province by default (a small area's few needs make no groups); an agency's own is offered first
    home = needs.home_province(request.user) if government else ""
    provinces = sorted(Region.objects.filter(level="province"), key=lambda r: (r.code != home, r.code))
    province = request.GET.get("province", "") if government else ""
    if province not in {r.code for r in provinces}:
        province = ""
    dashboard = needs.need_dashboard(actor=request.user, province=province) if government else None
    rows = needs.of_province(needs.need_list(actor=request.user), province)
    if answering is not None:
        rows = needs.need_list(actor=request.user).filter(pk=answering["pk"])
    group = None
    if dashboard and answering is None and (key := posted_id(request.GET.get("group"))) is not None:
        # One cluster's needs, to read and answer together.
        group = next((g for g in dashboard["clusters"] if g["key"] == key), None)
        if group is not None:
            rows = rows.filter(pk__in=group["need_ids"])
    context = {
        "rows": rows[:200],
        "group": group,
        "orgs": orgs,
        "topics": PolicyNeed.Topic.choices,
        # the chain segment a need is about, picked by name
        "segments": [
            (chain, list(items)) for chain, items in groupby(registry_selectors.segment_list(), lambda s: s.chain)
        ],
        "errors": errors,
        "error_lines": [line for _field, line in labelled_errors(errors, NEED_LABELS)],
        # a need sent with errors comes back as typed
        "sent": {k: request.POST.get(k, "") for k in ("organization", "topic", "text", "segment")} if errors else {},
        "government": government,
        # only agencies' admins answer: an officer or operator reads the needs without an answer form
        "answers": needs.answers_needs(request.user),
        "dashboard": dashboard,
        "provinces": provinces,
        "province": province,
        "answered": needs.answered_needs()[:50],
        "published": Policy.objects.filter(status=Policy.Status.PUBLISHED).order_by("-published_at")[:50],
        "answering": answering or {},
    }
    return render(request, "policy/needs.html", context, status=422 if errors or answering else 200)


@login_required
@require_POST
def need_answer(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        need = needs.need_get(actor=request.user, pk=pk)
        needs.need_answer(
            actor=request.user,
            need=need,
            answer=request.POST.get("answer", ""),
            policy_id=posted_id(request.POST.get("policy", "")),
        )
    except NotFound:
        raise Http404 from None
    except Forbidden as exc:
        _say(request, exc)
    except DomainError as exc:  # back on this need's form, as typed, its errors tied to it
        answering = {
            "pk": pk,
            "answer": request.POST.get("answer", ""),
            "policy": request.POST.get("policy", ""),
            "lines": [line for _field, line in labelled_errors(exc.errors, ACTION_FIELDS)] or [exc.message],
            "fields": list(exc.errors or {}),
            # answered meanwhile (by another agency): the row has no form left, so the text comes back in words
            "answered": bool(needs.need_get(actor=request.user, pk=pk).answer),
        }
        return _needs_page(request, {}, answering)
    else:
        messages.success(request, _("Answered; the member who filed the need is told."))
    return redirect("policy:needs")


@require_http_methods(["GET", "POST"])
def calculators(request: HttpRequest) -> HttpResponse:
    """The technology-based SME evaluation and the R&D additional deduction, started from my own records."""
    values: dict[str, Any] = selectors.calculator_defaults(actor=request.user) if request.user.is_authenticated else {}
    which, result, errors = request.POST.get("calculator", ""), None, {}
    if request.method == "POST":
        # what was sent, over the other calculator's starting figures (a form sends only its own fields)
        sent = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
        flags = (*estimates.TECH_SME_FLAGS,) if which == "tech_sme" else ("ic_or_machine_tool",)
        values = {k: v for k, v in values.items() if k not in flags} | sent
        try:
            if which == "tech_sme":
                result = estimates.tech_sme(request.POST)
            elif which == "rd_deduction":
                result = estimates.rd_deduction(request.POST)
            else:
                errors = {"calculator": [_("Choose a calculator.")]}
        except DomainError as exc:
            errors = exc.errors
    context = {
        "values": values,
        "which": which,
        "result": result,
        # each bad field's errors after its label, shown in the form that was sent
        "errors": [line for _field, line in labelled_errors(errors, CALCULATOR_FIELDS)],
        "flags": estimates.TECH_SME_FLAGS,
        "industries": sorted(estimates.INDUSTRY_NAMES.items(), key=lambda item: str(item[1])),
        "tech_sme_source": calculators_core.TECH_SME_SOURCE,
        "deduction_source": calculators_core.DEDUCTION_SOURCE,
    }
    return render(request, "policy/calculators.html", context, status=422 if errors else 200)


@login_required
def workspace(request: HttpRequest) -> HttpResponse:
    """An agency's desk: its policies with who matches and the applications waiting, and the members' needs."""
    agencies = selectors.agency_workspace(actor=request.user)
    if not agencies:
        raise PermissionDenied(str(NOT_AN_AGENCY))
    unanswered = needs.need_list(actor=request.user).filter(answered_at__isnull=True).count()
    return render(request, "policy/workspace.html", {"agencies": agencies, "unanswered": unanswered})


@login_required
@require_POST
def documents_add(request: HttpRequest, pk: int) -> HttpResponse:
    """The agency attaches files to its policy; errors come back on the policy page."""
    try:
        policy = selectors.policy_get(actor=request.user, pk=pk)
        services.policy_documents_add(actor=request.user, policy=policy, files=request.FILES.getlist("files"))
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        _say(request, exc)
    else:
        messages.success(request, _("The files are attached."))
    return redirect("policy:detail", pk=pk)


def document(request: HttpRequest, document_id: int) -> FileResponse:
    """A policy's file, for anyone who may see the policy."""
    try:
        return policy_document_download(selectors.document_get(actor=request.user, pk=document_id))
    except NotFound:
        raise Http404 from None


@login_required
@require_POST
def pay(request: HttpRequest, pk: int) -> HttpResponse:
    """The agency records a payment of a granted sum; a refusal comes back at the application's row as typed."""
    try:
        application = selectors.application_get(actor=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    sent = {k: request.POST.get(k, "") for k in ("amount", "paid_on", "reference")}
    try:
        paid = payments.grant_payment_record(actor=request.user, application=application, **sent)
    except ValidationFailed as exc:
        parts = [line for _field, line in labelled_errors(exc.errors, ACTION_FIELDS)]
        return _detail(request, application.policy, paying={"pk": application.pk, "errors": parts, **sent})
    except DomainError as exc:
        _say(request, exc)
    else:
        messages.success(
            request,
            _("Payment of %(amount)s yuan to %(name)s recorded; it is told.")
            % {"amount": grouped(paid.amount), "name": application.organization.name},
        )
    return redirect("policy:detail", pk=application.policy_id)


@login_required
@require_POST
def application_documents_add(request: HttpRequest, pk: int) -> HttpResponse:
    """The applicant sends more materials while its application waits; errors come back on the policy page."""
    try:
        application = selectors.application_get(actor=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    try:
        applications.application_documents_add(
            actor=request.user, application=application, files=request.FILES.getlist("files")
        )
    except DomainError as exc:
        _say(request, exc)
    else:
        messages.success(request, _("The files are sent with the application."))
    return redirect("policy:detail", pk=application.policy_id)


@login_required
def application_document(request: HttpRequest, document_id: int) -> FileResponse:
    """An application's file, for the member that sent it, the policy's agency and operators; as a download."""
    try:
        return application_download(selectors.application_document_get(actor=request.user, pk=document_id))
    except NotFound:
        raise Http404 from None


@login_required
@require_POST
def document_remove(request: HttpRequest, document_id: int) -> HttpResponse:
    try:
        doc = selectors.document_get(actor=request.user, pk=document_id)
        services.policy_document_remove(actor=request.user, document=doc)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        _say(request, exc)
        return redirect("policy:library")
    return redirect("policy:detail", pk=doc.policy_id)
