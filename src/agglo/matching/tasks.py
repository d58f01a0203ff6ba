"""Background work of matching: keeping the stored index in step with the market."""

from __future__ import annotations

from django_tasks import task


@task()
def documents_refresh_task(listing_ids: list[int], org_ids: list[int] | None = None) -> int:
    """Refresh the documents of changed listings (and their owners) and of these organizations; returns how many
    changed."""
    from agglo.matching.services.index import documents_refresh

    return documents_refresh(listing_ids=listing_ids, org_ids=org_ids or ())
