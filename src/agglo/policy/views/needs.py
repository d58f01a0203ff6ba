"""Members file policy needs; government reads them grouped by province and topic, and agencies answer."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from agglo.access import policy as access
from agglo.common.errors import DomainError, Forbidden, NotFound, labelled_errors
from agglo.common.idempotency import confirm_repeat
from agglo.common.numbers import posted_id
from agglo.policy import needs
from agglo.policy.models import Policy, PolicyNeed
from agglo.policy.views.acting import ACTION_FIELDS, say
from agglo.registry import selectors as registry_selectors
from agglo.registry.models import Organization, Region

# the need form's fields, as it labels them (an error names the field the way the form does)
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
        say(request, exc)
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
