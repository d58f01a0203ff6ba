"""Profile pages: the organization with its tabs, fact editing, cases, history, access log, import and export."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from agglo.access import policy
from agglo.access.client import client_ip
from agglo.access.models import DailyQuota
from agglo.access.quotas import profile_viewed
from agglo.access.ratelimit import RateLimited
from agglo.access.selectors import daily_usage
from agglo.access.services import sensitive_views_record
from agglo.common.errors import DomainError, Forbidden, NotFound, PreconditionFailed, ValidationFailed, labelled_errors
from agglo.common.form_versions import FormVersion
from agglo.common.numbers import posted_id
from agglo.common.problem import too_many
from agglo.profiles import selectors, services
from agglo.profiles.exporting import export_response
from agglo.profiles.fields import CASES
from agglo.profiles.forms import (
    EXPORT_LABELS,
    CaseRatingForm,
    DisclosureForm,
    EvidenceForm,
    ImportForm,
    ParticipantForm,
    VerifyForm,
    spec_form,
    submitted,
)
from agglo.profiles.kinds import KINDS
from agglo.profiles.messages import FIELD_LABELS, word_stored
from agglo.profiles.models import CapabilityTerm, Source
from agglo.profiles.presenters import profile_summary
from agglo.profiles.selectors.exports import EXPORT_KINDS
from agglo.profiles.services.facts import fact_values
from agglo.profiles.visibility import verification_sources
from agglo.registry import selectors as registry
from agglo.registry.forms import apply_service_errors
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
KIND_TITLES = {
    "financials": gettext_lazy("Financial statement"),
    "ratings": gettext_lazy("Credit rating"),
    "ip": gettext_lazy("IP asset"),
    "capabilities": gettext_lazy("Capability"),
}
KIND_TAB = {"financials": "finances", "ratings": "credit", "ip": "ip", "capabilities": "capabilities"}
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


def _org(request: HttpRequest, pk: int) -> Organization:
    try:
        return registry.organization_get(actor=request.user, pk=pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


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
    org = _org(request, pk)
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


def _editable(request: HttpRequest, org: Organization) -> None:
    if not policy.can_edit_organization(request.user, org.pk):
        raise PermissionDenied


def _save(request: HttpRequest, form: Any, service: Any, version: FormVersion | None = None, **kwargs: Any) -> bool:
    """Call a write service for a submitted form; its field messages go beside the fields. True when saved.
    `version`: the record's version the form was drawn with, for a change."""
    try:
        service(actor=request.user, **kwargs, **({"if_match": version.sent} if version else {}))
    except ValidationFailed as exc:
        apply_service_errors(form, exc)
    except PreconditionFailed as exc:  # only with a version sent: the view draws the form again as a merge
        assert version is not None
        version.refused(exc)
    except DomainError as exc:
        apply_service_errors(form, ValidationFailed(exc.errors or {"__all__": [exc.message]}))
    else:
        messages.success(request, _("Saved."))
        return True
    return False


def _fact_initial(fact: Any) -> dict[str, Any]:
    return {k: ("" if v is None else v) for k, v in fact_values(fact).items()}


@login_required
@require_http_methods(["GET", "POST"])
def fact_edit(request: HttpRequest, pk: int, kind: str, fact_id: int | None = None) -> HttpResponse:
    """Add or change one fact; the service's field messages show beside the fields."""
    if kind not in KINDS:
        raise Http404
    org = _org(request, pk)
    _editable(request, org)
    fact = None
    if fact_id is not None:
        try:
            fact = selectors.fact_get(actor=request.user, kind=KINDS[kind], pk=fact_id)
        except NotFound as exc:
            raise Http404 from exc
        if fact.organization_id != org.pk:  # type: ignore[attr-defined]
            raise Http404
    initial = _fact_initial(fact) if fact else None
    form = spec_form(kind, KINDS[kind].specs, request.POST or None, initial)
    version = FormVersion(fact, request.POST)
    version.draw(form)
    if request.method == "POST":
        if fact is None:
            saved = _save(request, form, services.fact_create, organization=org, kind=kind, data=submitted(form))
        else:
            saved = _save(request, form, services.fact_update, version, fact=fact, data=submitted(form))
        if saved:
            return redirect("profiles:organization_tab", pk=pk, tab=KIND_TAB[kind])
        if version.stale and fact is not None:
            fact.refresh_from_db()
            fresh = spec_form(kind, KINDS[kind].specs, None, _fact_initial(fact))
            form = version.redraw(form, fresh)
    context = {
        "org": org,
        "form": form,
        "kind": kind,
        "fact": fact,
        "version": version.value,
        "drawn": version.drawn,
        "title": KIND_TITLES[kind],
        "back_tab": KIND_TAB[kind],
        "warnings": [word_stored(w) for w in (fact.warnings if fact else [])],
    }
    return render(request, "profiles/fact_form.html", context, status=400 if request.method == "POST" else 200)


@login_required
def evidence_file(request: HttpRequest, pk: int, evidence_id: int) -> HttpResponse:
    """A file backing a statement (an audit report …), for whoever may see the organization's financials: so that
    an operator can check a statement marked audited, and a partner can read what the mark rests on. An outside
    view lands in the owner's access log, and counts as a read of its profile."""
    org = _org(request, pk)
    try:
        evidence = selectors.evidence_get(actor=request.user, organization=org, pk=evidence_id)
    except NotFound as exc:
        raise Http404 from exc
    try:
        profile_viewed(actor=request.user, organization_id=org.pk, address=client_ip(request))
    except RateLimited as exc:
        return too_many(request, exc)
    if not evidence.file.storage.exists(evidence.file.name):
        raise Http404
    sensitive_views_record(viewer=request.user, owner_ids=[org.pk], groups=["financials"], channel="page")
    return FileResponse(evidence.file.open("rb"), content_type=evidence.content_type, filename=evidence.original_name)


@login_required
@require_http_methods(["POST"])
def evidence_remove(request: HttpRequest, pk: int, evidence_id: int) -> HttpResponse:
    """Take a file off a statement (the owner's admins); an "audited" mark left without files is dropped."""
    org = _org(request, pk)
    try:
        evidence = selectors.evidence_get(actor=request.user, organization=org, pk=evidence_id)
        dropped = services.evidence_remove(actor=request.user, evidence=evidence)
    except NotFound as exc:
        if not policy.can_edit_organization(request.user, org.pk):
            raise Http404 from exc
        # its own people, on a page older than a removal or after a second click: say so where files are listed
        messages.info(request, _("That file is no longer attached."))
        return redirect("profiles:organization_tab", pk=pk, tab="finances")
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    if dropped:
        messages.success(request, _("File removed. With no file left, the statement is no longer marked audited."))
    else:
        messages.success(request, _("File removed."))
    return redirect("profiles:organization_tab", pk=pk, tab="finances")


@login_required
@require_http_methods(["POST"])
def fact_action(request: HttpRequest, pk: int, kind: str, fact_id: int, action: str) -> HttpResponse:
    """Delete, verify or attach evidence to a fact, then back to its tab with what happened."""
    if kind not in KINDS or action not in ("delete", "verify", "evidence"):
        raise Http404
    org = _org(request, pk)
    try:
        fact = selectors.fact_get(actor=request.user, kind=KINDS[kind], pk=fact_id)
        if fact.organization_id != org.pk:  # type: ignore[attr-defined]
            raise Http404
        if action == "delete":
            services.fact_delete(actor=request.user, fact=fact)
            messages.success(request, _("Deleted."))
        elif action == "verify":
            form = VerifyForm(request.POST)
            source = form.cleaned_data["source"] if form.is_valid() else ""
            note = request.POST.get("note", "")
            services.fact_verify(actor=request.user, fact=fact, source=source, note=note)
            if source == Source.AUDITED:
                messages.success(
                    request, _("Marked audited. Others see it as your own mark until the platform checks it.")
                )
            else:
                messages.success(request, _("Marked as verified."))
        else:
            evidence = EvidenceForm(request.POST, request.FILES)
            files = evidence.cleaned_data["files"] if evidence.is_valid() else []
            services.evidence_add(actor=request.user, statement=fact, files=files)  # type: ignore[arg-type]
            messages.success(request, _("Evidence attached."))
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, " ".join(m for ms in exc.errors.values() for m in ms) or exc.message)
    return redirect("profiles:organization_tab", pk=pk, tab=KIND_TAB[kind])


@login_required
@require_http_methods(["POST"])
def disclosure_page(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request, pk)
    form = DisclosureForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed({k: list(v) for k, v in form.errors.items()})
        services.disclosure_set(actor=request.user, organization=org, data=form.cleaned_data)
        messages.success(request, _("Saved."))
    except DomainError as exc:
        messages.error(request, " ".join(m for ms in exc.errors.values() for m in ms) or exc.message)
    return redirect("profiles:organization", pk=pk)


def _case_initial(case: Any) -> dict[str, Any]:
    return {k: ("" if getattr(case, k) is None else getattr(case, k)) for k in CASES}


@login_required
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, pk: int, case_id: int | None = None) -> HttpResponse:
    org = _org(request, pk)
    _editable(request, org)
    case = None
    if case_id is not None:
        try:
            case = selectors.case_get(actor=request.user, pk=case_id)
        except NotFound as exc:
            raise Http404 from exc
        if case.organization_id != org.pk:
            raise Http404
    initial = _case_initial(case) if case else {"visibility": "members"}
    form = spec_form("cases", CASES, request.POST or None, initial)
    version = FormVersion(case, request.POST)
    version.draw(form)
    if request.method == "POST":
        if case is None:
            saved = _save(request, form, services.case_create, organization=org, data=submitted(form))
        else:
            saved = _save(request, form, services.case_update, version, case=case, data=submitted(form))
        if saved:
            return redirect("profiles:organization_tab", pk=pk, tab="cases")
        if version.stale and case is not None:
            case.refresh_from_db()
            fresh = spec_form("cases", CASES, None, _case_initial(case))
            form = version.redraw(form, fresh)
    context = {
        "org": org,
        "form": form,
        "kind": "cases",
        "fact": case,
        "version": version.value,
        "drawn": version.drawn,
        "title": _("Collaboration case"),
        "back_tab": "cases",
        "warnings": [],
    }
    return render(request, "profiles/fact_form.html", context, status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["POST"])
def case_action(request: HttpRequest, pk: int, case_id: int, action: str) -> HttpResponse:
    """Add a participant, confirm one's own participation, or rate a partner."""
    try:
        case = selectors.case_get(actor=request.user, pk=case_id)
        if action == "participant":
            form = ParticipantForm(request.POST)
            if not form.is_valid():
                raise ValidationFailed({k: list(v) for k, v in form.errors.items()})
            data = dict(form.cleaned_data)
            ref = data["organization"].strip().upper()
            partner = posted_id(ref) or Organization.objects.filter(uscc=ref).values_list("pk", flat=True).first()
            if partner is None:  # not a member id, and no organization has that credit code
                raise ValidationFailed(
                    {"organization": [_("No member organization has the credit code %(code)s.") % {"code": ref}]}
                )
            data["organization"] = partner
            data["role"] = "partner"
            services.participant_add(actor=request.user, case=case, data=data)
            messages.success(request, _("Participant added; it must confirm its part."))
        elif action == "confirm":
            participant = services.participant_get(case=case, pk=posted_id(request.POST.get("participant")) or 0)
            seen = request.POST.get("seen") or None  # what the page showed; a change since is refused
            services.participant_confirm(actor=request.user, participant=participant, seen=seen)
            messages.success(request, _("Participation confirmed."))
        elif action == "rate":
            form = CaseRatingForm(request.POST, prefix=f"r{case.pk}")
            form.fields["rated"].choices = [(p.organization_id, "") for p in case.participants.all()]
            if not form.is_valid():
                raise ValidationFailed({k: list(v) for k, v in form.errors.items()})
            services.case_rate(actor=request.user, case=case, data=form.cleaned_data)
            messages.success(request, _("Rating recorded."))
        else:
            raise Http404
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(
            request, " ".join(line for _field, line in labelled_errors(exc.errors, CASE_LABELS)) or exc.message
        )
        if action == "participant":  # keep what was typed for the form on the next page
            fields = ("organization", "input_kind", "input_amount", "input_note")
            request.session[PARTICIPANT_FAILED] = {
                "case": case_id,
                "data": {k: request.POST.get(k, "") for k in fields},
            }
    return redirect("profiles:organization_tab", pk=pk, tab="cases")


# a case form's fields as the page names them (the fact labels are lower case, to sit inside sentences)
CASE_LABELS = {name: capfirst(label) for name, label in FIELD_LABELS.items()}
PARTICIPANT_FAILED = "profiles.participant_failed"  # session key: a participant form sent with errors


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload a CSV/XLSX file: check it (dry run) or apply it; every bad row is listed with its column and rule."""
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            services.import_size_check(upload.size or 0)
            result = services.import_file(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                body=upload.read(),
                filename=upload.name or "upload",
                dry_run=form.cleaned_data["dry_run"],
            )
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
            status = 400
        except DomainError as exc:
            form.add_error(None, exc.message)
            status = 403 if exc.status == 403 else 400
        else:
            status = 200 if not result.errors else 400
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "profiles/import.html",
        {
            "form": form,
            "result": result,
            "export_kinds": [(k, EXPORT_LABELS[k]) for k in EXPORT_KINDS],
            "formats": ("csv", "xlsx", "json"),
            "field_labels": FIELD_LABELS,
            "has_own": bool(policy.organization_ids(request.user)),
            "limits": _export_limits(request.user),
        },
        status=status,
    )


def _export_limits(user: Any) -> dict[str, Any]:
    """What an export of others' data counts against today: the exports, and for members (not government officers
    or the platform's staff) a profile view of each other organization in it (`quotas.profiles_exported`)."""
    usage = daily_usage(user)
    views = None if policy.platform_roles(user) else usage.get(DailyQuota.Kind.PROFILE_VIEW)
    return {"exports": usage.get(DailyQuota.Kind.EXPORT), "views": views}


@login_required
def export_page(request: HttpRequest, kind: str, format: str) -> HttpResponse:
    # a link on another site would spend the reader's daily exports and put their name in others' access logs
    # (review 49 F8): an export starts from the platform's own pages, or is typed in
    if request.headers.get("Sec-Fetch-Site", "none") not in ("same-origin", "none"):  # a sibling site too
        raise PermissionDenied(_("Start an export from the import and export page."))
    try:
        return export_response(request.user, kind, format, channel="export", own=request.GET.get("own") == "1")
    except RateLimited as exc:
        return too_many(request, exc)
    except ValidationFailed as exc:
        raise Http404(str(exc)) from exc
    except DomainError as exc:
        raise PermissionDenied(exc.message) from exc


def catalogue_page(request: HttpRequest) -> HttpResponse:
    """Search the capability catalogue and see who holds a capability."""
    q = request.GET.get("q", "")[:100]
    kind = request.GET.get("kind", "")
    terms = list(selectors.capability_terms(q=q, kind=kind)[:200])
    code = request.GET.get("term", "")
    holders = None
    if code:
        try:
            holders = list(selectors.capability_holders(actor=request.user, code=code)[:200])
        except NotFound as exc:
            raise Http404 from exc
    return render(
        request,
        "profiles/catalogue.html",
        {"terms": terms, "q": q, "kind": kind, "kinds": CapabilityTerm.Kind.choices, "term": code, "holders": holders},
    )
