"""Editing one fact of the professional database (statements, ratings, IP, capabilities), its evidence, its
verification, and the owner's disclosure levels."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from agglo.access import policy
from agglo.access.client import client_ip
from agglo.access.quotas import profile_viewed
from agglo.access.ratelimit import RateLimited
from agglo.access.services import sensitive_views_record
from agglo.common.errors import DomainError, Forbidden, NotFound, ValidationFailed
from agglo.common.form_versions import FormVersion
from agglo.common.problem import too_many
from agglo.profiles import selectors, services
from agglo.profiles.forms import (
    DisclosureForm,
    EvidenceForm,
    VerifyForm,
    spec_form,
    submitted,
)
from agglo.profiles.kinds import KINDS
from agglo.profiles.messages import word_stored
from agglo.profiles.models import Source
from agglo.profiles.services.facts import fact_values
from agglo.profiles.views.acting import editable_or_403, org_or_404, save_form

KIND_TITLES = {
    "financials": gettext_lazy("Financial statement"),
    "ratings": gettext_lazy("Credit rating"),
    "ip": gettext_lazy("IP asset"),
    "capabilities": gettext_lazy("Capability"),
}


KIND_TAB = {"financials": "finances", "ratings": "credit", "ip": "ip", "capabilities": "capabilities"}


def _fact_initial(fact: Any) -> dict[str, Any]:
    return {k: ("" if v is None else v) for k, v in fact_values(fact).items()}


@login_required
@require_http_methods(["GET", "POST"])
def fact_edit(request: HttpRequest, pk: int, kind: str, fact_id: int | None = None) -> HttpResponse:
    """Add or change one fact; the service's field messages show beside the fields."""
    if kind not in KINDS:
        raise Http404
    org = org_or_404(request, pk)
    editable_or_403(request, org)
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
            saved = save_form(request, form, services.fact_create, organization=org, kind=kind, data=submitted(form))
        else:
            saved = save_form(request, form, services.fact_update, version, fact=fact, data=submitted(form))
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
    org = org_or_404(request, pk)
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
    org = org_or_404(request, pk)
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
    org = org_or_404(request, pk)
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
    org = org_or_404(request, pk)
    form = DisclosureForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed({k: list(v) for k, v in form.errors.items()})
        services.disclosure_set(actor=request.user, organization=org, data=form.cleaned_data)
        messages.success(request, _("Saved."))
    except DomainError as exc:
        messages.error(request, " ".join(m for ms in exc.errors.values() for m in ms) or exc.message)
    return redirect("profiles:organization", pk=pk)
