"""What the profile pages share: the organization a page is about, who may edit it, and saving a form through
its service."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.errors import DomainError, NotFound, PreconditionFailed, ValidationFailed
from agglo.common.form_versions import FormVersion
from agglo.registry import selectors as registry
from agglo.registry.forms import apply_service_errors
from agglo.registry.models import Organization


def org_or_404(request: HttpRequest, pk: int) -> Organization:
    try:
        return registry.organization_get(actor=request.user, pk=pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


def editable_or_403(request: HttpRequest, org: Organization) -> None:
    if not policy.can_edit_organization(request.user, org.pk):
        raise PermissionDenied


def save_form(request: HttpRequest, form: Any, service: Any, version: FormVersion | None = None, **kwargs: Any) -> bool:
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
