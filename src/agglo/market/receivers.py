"""What the market does when `organization_set_status` changes a member's status (`services.standing`), in the
same transaction: the change and what it means for the member's listings and responses stand or fall together; and
what the registry's sweep of standing asks (`departure_swept`): what members that left still have open, closed."""

from __future__ import annotations

from typing import Any

from agglo.market.services.standing import (
    departed_close,
    departed_sweep,
    partners_tell,
    reinstated_tell,
    responders_tell,
)
from agglo.registry.models import Organization
from agglo.registry.signals import departure_swept, organization_status_changed

S = Organization.Status


def _status_changed(
    sender: Any, organization: Organization, before: str, after: str, since: Any = None, **kwargs: Any
) -> None:
    if after == S.WITHDRAWN:
        departed_close(organization)
    elif after == S.SUSPENDED:
        responders_tell(organization, suspended=True)
    elif after == S.MEMBER:
        if before == S.SUSPENDED:
            responders_tell(organization, suspended=False)
        reinstated_tell(organization, since=since)
    partners_tell(organization, status=after)  # they lose sight of what they agreed on, or see it again


def _departure_swept(sender: Any, **kwargs: Any) -> dict[str, int]:
    return {"market": departed_sweep()}  # what members that left still have open, closed (`agglo sweep_standing`)


def connect() -> None:
    organization_status_changed.connect(_status_changed, dispatch_uid="market.organization_status_changed")
    departure_swept.connect(_departure_swept, dispatch_uid="market.departure_swept")
