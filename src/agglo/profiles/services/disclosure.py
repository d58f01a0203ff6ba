"""The owner's choice of who sees its financials and credit detail."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.profiles.models import Disclosure
from agglo.registry.models import Organization

LEVELS = ("public", "members", "partners", "private")
FIELDS = ("financials_visibility", "credit_visibility")


@transaction.atomic
def disclosure_set(*, actor: Any, organization: Organization, data: dict[str, Any]) -> Disclosure:
    """Set the visibility level of the financials and credit-detail groups."""
    if not policy.can_edit_organization(actor, organization.pk):
        raise Forbidden(_("You may not edit this organization's data."))
    errors = {k: [_("Unknown field.")] for k in data if k not in FIELDS}
    for k in FIELDS:
        if k in data and data[k] not in LEVELS:
            errors[k] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(LEVELS)}]
    if errors:
        raise ValidationFailed(errors)
    disclosure, _created = Disclosure.objects.get_or_create(organization=organization)
    changed = [k for k in FIELDS if k in data and getattr(disclosure, k) != data[k]]
    if changed:
        before = {k: getattr(disclosure, k) for k in changed}
        for k in changed:
            setattr(disclosure, k, data[k])
        disclosure.save()
        record(
            "profiles.disclosure_changed",
            actor=actor,
            subject=organization,
            payload={"before": before, "after": {k: data[k] for k in changed}},
            organization_id=organization.pk,
        )
    return disclosure
