"""Background work of the policy app: re-matching members whose data changed."""

from __future__ import annotations

from django_tasks import task

from agglo.policy.matching import organizations_rematch


@task()
def organizations_rematch_task(organization_ids: list[int]) -> list[int]:
    """Re-evaluate every live policy for these organizations and tell the newly eligible."""
    return list(organizations_rematch(organization_ids, tell=True))
