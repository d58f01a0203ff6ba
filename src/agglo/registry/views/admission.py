"""Applying for admission, and the applicant's private status page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from agglo.common.errors import DomainError, NotFound, ValidationFailed
from agglo.common.idempotency import answer_secret
from agglo.common.language import SESSION_LANGUAGE
from agglo.registry import selectors, services
from agglo.registry.forms import (
    AdmissionForm,
    RespondForm,
    apply_service_errors,
)
from agglo.registry.services.admission import APPLICATION_CONTACT_FIELDS, APPLICATION_ORG_FIELDS


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
