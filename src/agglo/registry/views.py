"""Registry pages: directory, organization, chain map, admission form and status, review queue."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from agglo.access import policy
from agglo.common.errors import DomainError, NotFound, PreconditionFailed, ValidationFailed, labelled_errors
from agglo.common.form_versions import FormVersion
from agglo.common.idempotency import answer_secret
from agglo.common.language import SESSION_LANGUAGE
from agglo.registry import selectors, services
from agglo.registry.forms import (
    AdmissionForm,
    OrganizationEditForm,
    PositionForm,
    RespondForm,
    ReviewForm,
    apply_service_errors,
)
from agglo.registry.models import Admission, Organization, Position
from agglo.registry.selectors.chains import chain_links
from agglo.registry.services.admission import APPLICATION_CONTACT_FIELDS, APPLICATION_ORG_FIELDS
from agglo.registry.services.organizations import PROFILE_FIELDS

FACET_PARAMS = ("kind", "layer", "area", "chain", "segment")


def _int_param(request: HttpRequest, name: str, default: int) -> int:
    try:
        return min(max(1, int(request.GET.get(name, default))), 10_000)  # no page lies beyond; no overflow
    except ValueError:
        return default


def directory(request: HttpRequest) -> HttpResponse:
    filters = selectors.DirectoryFilters(
        q=request.GET.get("q", "")[:200], **{k: request.GET.get(k, "") for k in FACET_PARAMS}
    )
    error = None
    try:
        result = selectors.organization_search(actor=request.user, filters=filters, page=_int_param(request, "page", 1))
    except ValidationFailed as exc:
        error = "; ".join(line for _field, line in labelled_errors(exc.errors, FACET_TITLES))
        result = selectors.organization_search(actor=request.user, filters=selectors.DirectoryFilters(q=filters.q))
    context = {"result": result, "filters": filters, "error": error, "facet_links": _facet_links(request, result)}
    template = "registry/partials/directory_results.html" if request.htmx else "registry/directory.html"
    return render(request, template, context, status=400 if error else 200)


FACET_TITLES = {
    "kind": gettext_lazy("Kind"),
    "layer": gettext_lazy("Environment layer"),
    "area": gettext_lazy("Region"),
    "chain": gettext_lazy("Industry chain"),
    "segment": gettext_lazy("Chain segment"),
}


def _facet_links(request: HttpRequest, result: selectors.DirectoryPage) -> list[dict]:
    """Facet values with the link that toggles each one (built here: cheaper than a template tag per link)."""
    groups = []
    for name, title in FACET_TITLES.items():
        values = result.facets.get(name) or []
        links = []
        for value in values:
            params = request.GET.copy()
            params.pop("page", None)
            active = params.get(name) == value["value"]
            if active:
                params.pop(name)
            else:
                params[name] = value["value"]
            if name == "chain":  # a segment belongs to one chain: changing the chain clears it
                params.pop("segment", None)
            links.append({**value, "active": active, "href": "?" + params.urlencode()})
        if links:
            groups.append({"name": name, "title": title, "links": links})
    return groups


def _visible_org(request: HttpRequest, pk: int) -> Organization:
    try:
        return selectors.organization_get(actor=request.user, pk=pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


# The profile fields the edit page shows: what an organization's admins may change, less the derived size class.
EDITABLE = tuple(f for f in PROFILE_FIELDS if f != "size_class")


def _edit_initial(org: Any) -> dict[str, Any]:
    initial = {f: getattr(org, f) for f in EDITABLE}
    initial["tags"] = ", ".join(org.tags)
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def organization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The organization's admins (and operators) keep its profile and chain positions current."""
    org = _visible_org(request, pk)
    if not policy.can_edit_organization(request.user, org.pk):
        raise PermissionDenied
    form = OrganizationEditForm(request.POST or None, initial=_edit_initial(org), prefix="org")
    version = FormVersion(org, request.POST)
    version.draw(form)
    segments = selectors.segment_list()
    position_form = PositionForm(segments=segments, prefix="pos")
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in EDITABLE}
        try:
            services.organization_update(actor=request.user, organization=org, data=data, if_match=version.sent)
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        except PreconditionFailed as exc:  # drawn again as a merge with the record now
            version.refused(exc)
            org.refresh_from_db()
            fresh = OrganizationEditForm(initial=_edit_initial(org), prefix="org")
            form = version.redraw(form, fresh)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("registry:organization_edit", pk=pk)
    return render(
        request,
        "registry/organization_edit.html",
        {
            "org": org,
            "form": form,
            "version": version.value,
            "drawn": version.drawn,
            "position_form": position_form,
            "positions": selectors.position_list(actor=request.user, organization=org),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["POST"])
def position_add_page(request: HttpRequest, pk: int) -> HttpResponse:
    org = _visible_org(request, pk)
    form = PositionForm(request.POST, segments=selectors.segment_list(), prefix="pos")
    if form.is_valid():
        try:
            services.position_add(
                actor=request.user,
                organization=org,
                segment_code=form.cleaned_data["segment"],
                role=form.cleaned_data["role"],
            )
            messages.success(request, _("Position added."))
        except DomainError as exc:
            messages.error(request, " ".join(m for ms in exc.errors.values() for m in ms) or exc.message)
    else:
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
    return redirect("registry:organization_edit", pk=pk)


@login_required
@require_http_methods(["POST"])
def position_remove_page(request: HttpRequest, pk: int, position_id: int) -> HttpResponse:
    org = _visible_org(request, pk)
    position = selectors.position_list(actor=request.user, organization=org).filter(pk=position_id).first()
    if position is None:
        raise Http404
    try:
        services.position_remove(actor=request.user, position=position)
        messages.success(request, _("Position removed."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("registry:organization_edit", pk=pk)


@login_required
@require_http_methods(["POST"])
def relation_remove_page(request: HttpRequest, pk: int, relation_id: int) -> HttpResponse:
    """Take a relation off the organization's page: one it declared, or another's one-sided claim about it."""
    org = _visible_org(request, pk)
    relation = next(
        (r for r in selectors.relation_list(actor=request.user, organization=org) if r.pk == relation_id), None
    )
    if relation is None:
        raise Http404
    try:
        services.relation_remove(actor=request.user, relation=relation)
        messages.success(request, _("Relation removed."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("profiles:organization", pk=pk)


def chain_index(request: HttpRequest) -> HttpResponse:
    return render(request, "registry/chains.html", {"chains": selectors.chain_list()})


def chain_map_page(request: HttpRequest, code: str) -> HttpResponse:
    try:
        chain_map = selectors.chain_map(actor=request.user, code=code)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    graph = {
        "nodes": [
            {
                "id": c.segment.code,
                "name": c.segment.name,
                "column": c.column,
                "row": i,
                "members": c.members,
                "gap": c.is_gap,
            }
            for column in chain_map.columns
            for i, c in enumerate(column)
        ],
        "links": [{"source": a, "target": b} for a, b in chain_links(chain_map.chain)],
    }
    # what the graph's arrows say, as text on each segment's card (review 49 a11y F8): the segments it feeds
    names = {n["id"]: n["name"] for n in graph["nodes"]}
    feeds: dict[str, list[str]] = {}
    for link in graph["links"]:
        feeds.setdefault(link["source"], []).append(names.get(link["target"], link["target"]))
    return render(
        request,
        "registry/chain_map.html",
        {
            "map": chain_map,
            "graph": graph,
            "feeds": feeds,
            "role_labels": dict(Position.Role.choices),
            "chains": selectors.chain_list(),
        },
    )


@require_http_methods(["GET", "POST"])
@answer_secret  # the status page's address is the application's tracking token
def admission_apply_page(request: HttpRequest) -> HttpResponse:
    form = AdmissionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and not form.is_valid():
        _all_problems(request, form)
    elif request.method == "POST":
        data = form.cleaned_data
        try:
            admission = services.admission_apply(
                actor=request.user,
                organization={k: data[k] for k in APPLICATION_ORG_FIELDS},
                contact={k: data[k] for k in APPLICATION_CONTACT_FIELDS},
                password=data["password"],
                message=data["message"],
                documents=request.FILES.getlist("documents"),
            )
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        except DomainError as exc:
            apply_service_errors(form, ValidationFailed(exc.errors or {"__all__": [exc.message]}))
        else:
            messages.success(request, _("Your application was received. Keep this page's address to follow it."))
            return redirect("registry:admission_status", token=admission.tracking_token)
    status = 400 if request.method == "POST" else 200
    return render(request, "registry/apply.html", {"form": form}, status=status)


def _all_problems(request: HttpRequest, form: AdmissionForm) -> None:
    """The service's own rules (credit code, year, website, documents, password strength) for the fields the form
    did not already refuse, so that one answer names every problem (walk review 45 F1: they came in rounds)."""
    sent = {**{k: request.POST.get(k, "") for k in form.fields}, **form.cleaned_data}
    errors, _org, _contact = services.admission_check(
        organization={k: sent[k] for k in APPLICATION_ORG_FIELDS},
        contact={k: sent[k] for k in APPLICATION_CONTACT_FIELDS},
        password=sent["password"],
        message=sent["message"],
        documents=request.FILES.getlist("documents"),
    )
    refused = set(form.errors)
    apply_service_errors(form, ValidationFailed({k: v for k, v in errors.items() if k not in refused}))


@require_http_methods(["GET", "POST"])
def admission_status_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        admission = selectors.admission_by_token(token)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    picked = settings.LANGUAGE_COOKIE_NAME in request.COOKIES or SESSION_LANGUAGE in request.session
    if admission.language and not picked:  # opened from the decision e-mail: the language applied in
        translation.activate(admission.language)
        request.LANGUAGE_CODE = admission.language
    form = RespondForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.admission_respond(
                admission=admission,
                note=form.cleaned_data["note"],
                documents=request.FILES.getlist("documents"),
            )
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your answer was sent to the reviewer."))
            return redirect("registry:admission_status", token=token)
    return render(
        request,
        "registry/admission_status.html",
        {"admission": admission, "form": form, "email_in_use": selectors.email_in_use(admission.contact_email)},
        status=400 if request.method == "POST" else 200,
    )


def _operator(request: HttpRequest) -> None:
    if not policy.can_review_admissions(request.user):
        raise PermissionDenied


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    _operator(request)
    status = request.GET.get("status", "open")
    if status not in ("open", *Admission.Status.values):  # an unknown filter is the default, said as such
        status = "open"
    qs = selectors.admission_list(actor=request.user)
    if status == "open":
        qs = qs.filter(status__in=[Admission.Status.SUBMITTED, Admission.Status.NEEDS_INFO])
    elif status in Admission.Status.values:
        qs = qs.filter(status=status)
    admissions = list(qs.select_related("organization")[:200])
    # an organization that applied before (a turned-down applicant applying again), flagged in the list too
    counts = Counter(
        Admission.objects.filter(organization_id__in=[a.organization_id for a in admissions]).values_list(
            "organization_id", flat=True
        )
    )
    for a in admissions:  # flagged in the list too, not only on the application's page
        a.code_elsewhere = selectors.code_issued_elsewhere(a.organization)
        a.applied_before = counts[a.organization_id] > 1
    return render(
        request,
        "registry/review_queue.html",
        {
            "admissions": admissions,
            "status": status,
            "statuses": Admission.Status.choices,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _operator(request)
    try:
        admission = selectors.admission_get(actor=request.user, pk=pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action, note = form.cleaned_data["action"], form.cleaned_data["note"]
        try:
            if action == "approve":
                services.admission_approve(actor=request.user, admission=admission, note=note)
                messages.success(request, _("Approved: the organization is now a member."))
            elif action == "reject":
                services.admission_reject(actor=request.user, admission=admission, reason=note)
                messages.success(request, _("Rejected; the applicant can read the reason."))
            else:
                services.admission_request_info(actor=request.user, admission=admission, note=note)
                messages.success(request, _("The applicant was asked for more information."))
        except ValidationFailed as exc:
            for messages_ in exc.errors.values():
                for m in messages_:
                    form.add_error("note", m)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("registry:review_detail", pk=pk)
    return render(
        request,
        "registry/review_detail.html",
        {
            "admission": admission,
            "form": form,
            "email_in_use": selectors.email_in_use(admission.contact_email),
            "same_email": selectors.same_email_open(actor=request.user, admission=admission),
            "code_province": selectors.code_province_mismatch(admission.organization),
            "flagged": selectors.flagged_applications(actor=request.user, admission=admission),
            "earlier": selectors.earlier_applications(actor=request.user, admission=admission),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def review_document(request: HttpRequest, pk: int, doc_id: int) -> FileResponse:
    _operator(request)
    try:
        admission = selectors.admission_get(actor=request.user, pk=pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    document = admission.documents.filter(pk=doc_id).first()
    if document is None or not document.file.storage.exists(document.file.name):
        raise Http404
    return FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=False,
        filename=document.original_name,
    )
