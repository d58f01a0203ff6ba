"""An agency drafts, changes, publishes and closes its policies, and attaches their files."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from agglo.common.errors import DomainError, NotFound, PreconditionFailed, labelled_errors
from agglo.common.form_versions import FormVersion
from agglo.common.idempotency import confirm_repeat
from agglo.policy import selectors, services
from agglo.policy.facts import FACTS
from agglo.policy.models import Policy
from agglo.policy.views.acting import NOT_AN_AGENCY, agencies_of, say
from agglo.registry.forms import region_choices

# the figures a grant may be reckoned on, as the draft form names them (percent of money; yuan per unit of counts)
GRANT_BASES = [
    ("rd_expense", gettext_lazy("R&D expenses last year (percent)")),
    ("revenue", gettext_lazy("Revenue last year (percent)")),
    ("total_assets", gettext_lazy("Total assets (percent)")),
    ("headcount", gettext_lazy("Headcount (yuan a person)")),
    ("ip_invention", gettext_lazy("Invention patents (yuan a patent)")),
    ("ip_total", gettext_lazy("IP assets (yuan an asset)")),
]


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
    agencies = [policy.issuer] if policy is not None else agencies_of(request.user)
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
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        policy = selectors.policy_get(actor=request.user, pk=pk)
        services.policy_close(actor=request.user, policy=policy)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        say(request, exc)
    else:
        messages.success(request, _("Closed: it takes no more applications; those already in can still be decided."))
    return redirect("policy:detail", pk=pk)


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
        say(request, exc)
    else:
        messages.success(request, _("The files are attached."))
    return redirect("policy:detail", pk=pk)


@login_required
@require_POST
def document_remove(request: HttpRequest, document_id: int) -> HttpResponse:
    try:
        doc = selectors.document_get(actor=request.user, pk=document_id)
        services.policy_document_remove(actor=request.user, document=doc)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        say(request, exc)
        return redirect("policy:library")
    return redirect("policy:detail", pk=doc.policy_id)
