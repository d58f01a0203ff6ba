"""Collaborative innovation cases: entering and changing one, and its participants' confirmations and ratings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from agglo.common.errors import DomainError, NotFound, ValidationFailed, labelled_errors
from agglo.common.form_versions import FormVersion
from agglo.common.numbers import posted_id
from agglo.profiles import selectors, services
from agglo.profiles.fields import CASES
from agglo.profiles.forms import (
    CaseRatingForm,
    ParticipantForm,
    spec_form,
    submitted,
)
from agglo.profiles.messages import FIELD_LABELS
from agglo.profiles.views.acting import editable_or_403, org_or_404, save_form
from agglo.registry.models import Organization

# a case form's fields as the page names them (the fact labels are lower case, to sit inside sentences)
CASE_LABELS = {name: capfirst(label) for name, label in FIELD_LABELS.items()}


PARTICIPANT_FAILED = "profiles.participant_failed"  # session key: a participant form sent with errors


def _case_initial(case: Any) -> dict[str, Any]:
    return {k: ("" if getattr(case, k) is None else getattr(case, k)) for k in CASES}


@login_required
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, pk: int, case_id: int | None = None) -> HttpResponse:
    org = org_or_404(request, pk)
    editable_or_403(request, org)
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
            saved = save_form(request, form, services.case_create, organization=org, data=submitted(form))
        else:
            saved = save_form(request, form, services.case_update, version, case=case, data=submitted(form))
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
