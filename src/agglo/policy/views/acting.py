"""What the policy pages share: the small forms' field names in errors, and whose desk a page is."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from agglo.access import policy as access
from agglo.common.errors import DomainError, labelled_errors
from agglo.registry.models import Organization

# fields of the policy pages' small forms, as they read in an error
ACTION_FIELDS = {
    "amount": gettext_lazy("Amount (yuan)"),
    "reason": gettext_lazy("Reason"),
    "note": gettext_lazy("Note"),
    "answer": gettext_lazy("Answer"),
    "paid_on": gettext_lazy("Paid on"),
    "reference": gettext_lazy("Transfer or voucher number"),
    "files": gettext_lazy("Files"),
    "organization": gettext_lazy("Organization"),
    "ends_on": gettext_lazy("Ends on"),
}


def say(request: HttpRequest, exc: DomainError) -> None:
    """One error line, each bad field named as its form labels it (a field without a label: the message)."""
    parts = [line for _field, line in labelled_errors(exc.errors, ACTION_FIELDS)]
    messages.error(request, " ".join(parts) or exc.message)


def admin_orgs(user: Any) -> list[Organization]:
    return list(Organization.objects.filter(pk__in=access.administered_organization_ids(user)).order_by("name_zh"))


def agencies_of(user: Any) -> list[Organization]:
    return [o for o in admin_orgs(user) if o.kind == "government"]


# a page for agencies' admins, read by someone else: said rather than "not found"
NOT_AN_AGENCY = gettext_lazy(
    "Policies are drafted and published by the administrators of government agencies that are members of the "
    "platform; an officer's account reads members' data and needs but does not publish."
)
