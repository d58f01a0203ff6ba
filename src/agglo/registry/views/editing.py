"""An organization's admins edit its profile, chain positions and relations."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from agglo.access import policy
from agglo.common.errors import DomainError, NotFound, PreconditionFailed, ValidationFailed
from agglo.common.form_versions import FormVersion
from agglo.registry import selectors, services
from agglo.registry.forms import (
    OrganizationEditForm,
    PositionForm,
    apply_service_errors,
)
from agglo.registry.models import Organization
from agglo.registry.services.organizations import PROFILE_FIELDS


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
