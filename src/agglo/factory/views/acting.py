"""What the virtual factory's pages share: field labels for service errors, and running a service for a button."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from agglo.access import policy
from agglo.common.errors import DomainError, Forbidden, labelled_errors
from agglo.registry.models import Organization

# Field names in a service's errors, as the pages label them; errors about the whole step have no label.
LABELS = {
    "plan": gettext_lazy("The plan"),
    "quantity_done": gettext_lazy("Quantity done"),
    "defects": gettext_lazy("Defects"),
    "delivered_on": gettext_lazy("Delivered on"),
    "weeks": gettext_lazy("Weeks late"),
    "reason": gettext_lazy("Reason"),
    "quantity": gettext_lazy("Quantity"),
    "note": gettext_lazy("Note"),
    "week": gettext_lazy("Week"),
    "capacity": gettext_lazy("Capacity"),
    "defects_found": gettext_lazy("Defects found"),
    "reply": gettext_lazy("Your answer"),
    "due_week": gettext_lazy("Due week"),
    "max_suppliers": gettext_lazy("Suppliers per operation at most"),
    "budget": gettext_lazy("Budget (yuan)"),
    "late_penalty": gettext_lazy("Lateness penalty per week (yuan)"),
    "max_share": gettext_lazy("Largest share of one factory"),
}


def error_parts(exc: DomainError, labels: dict[str, Any] | None = None) -> list[str]:
    """Each bad field's errors after its label, as the form labels it (`labels` where a form names one otherwise)."""
    return [line for _field, line in labelled_errors(exc.errors, LABELS | (labels or {}))]


def flash(request: HttpRequest, exc: DomainError, labels: dict[str, Any] | None = None) -> None:
    """One error line naming each bad field."""
    messages.error(request, " ".join(error_parts(exc, labels)) or exc.message)  # each part ends its own sentence


@contextmanager
def acting(request: HttpRequest, labels: dict[str, Any] | None = None) -> Iterator[None]:
    """Run a service for a button: a refusal is a 403, any other domain error a message on the next page."""
    try:
        yield
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except DomainError as exc:
        flash(request, exc, labels)


def my_orgs(user: Any) -> list[Organization]:
    ids = policy.active_organization_ids(user)
    return list(Organization.objects.filter(pk__in=ids).order_by("name_zh"))
