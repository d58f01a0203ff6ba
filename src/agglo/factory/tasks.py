"""Background work of the virtual factory."""

from __future__ import annotations

from django_tasks import task


@task()
def departures_task(organization_ids: list[int]) -> int:
    """Re-plan the open orders that count on these organizations' factories, now suspended or withdrawn; returns
    how many orders were re-planned. The platform acts: the status change that set it off is the operators' record."""
    from agglo.factory.services.departures import departures_replan

    return departures_replan(organization_ids=organization_ids)


@task()
def buyer_status_task(organization_id: int, suspended: bool) -> int:
    """Tell the factories working on a buyer's open orders that it was suspended, or reinstated."""
    from agglo.factory.services.departures import buyer_status_tell

    return buyer_status_tell(organization_id, suspended=suspended)
