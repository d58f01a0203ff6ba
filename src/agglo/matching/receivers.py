"""What matching does when `organization_set_status` changes a member's status: once that commits, the
organization's document and its listings' are refreshed, so that a member suspended or withdrawn drops out of
everyone's results at once (not only at the next rebuild) and one reinstated is found again with its published
listings (the hourly sync sees the organization change, not its listings)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from agglo.market.models import Listing
from agglo.matching.tasks import documents_refresh_task
from agglo.registry.models import Organization
from agglo.registry.signals import organization_status_changed


def _status_changed(sender: Any, organization: Organization, before: str, after: str, **kwargs: Any) -> None:
    pk = organization.pk
    listings = sorted(Listing.objects.filter(organization_id=pk).values_list("pk", flat=True))
    transaction.on_commit(lambda: documents_refresh_task.enqueue(listing_ids=listings, org_ids=[pk]))


def connect() -> None:
    organization_status_changed.connect(_status_changed, dispatch_uid="matching.organization_status_changed")
