"""The operators' admission review: the queue, one application with its documents, and the decision."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from agglo.access import policy
from agglo.common.errors import DomainError, NotFound, ValidationFailed
from agglo.registry import selectors, services
from agglo.registry.forms import (
    ReviewForm,
)
from agglo.registry.models import Admission


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
