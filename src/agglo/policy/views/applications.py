"""Members apply for a policy and send materials; its agency decides, grants to every eligible member at once
and records payments."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from agglo.common.errors import DomainError, NotFound, ValidationFailed, labelled_errors
from agglo.common.numbers import grouped, posted_id
from agglo.policy import applications, payments, selectors
from agglo.policy.downloads import application_download
from agglo.policy.views.acting import ACTION_FIELDS, say
from agglo.policy.views.library import policy_page


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
        say(request, exc)
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
            return policy_page(request, application.policy, failed={"pk": application.pk, "errors": parts, **sent})
        say(request, exc)
    except DomainError as exc:
        say(request, exc)
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
        say(request, exc)
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
        return policy_page(request, application.policy, paying={"pk": application.pk, "errors": parts, **sent})
    except DomainError as exc:
        say(request, exc)
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
        say(request, exc)
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
