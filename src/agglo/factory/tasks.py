"""Background work of the virtual factory."""

from __future__ import annotations

from django_tasks import task


@task()
def departures_task(organization_ids: list[int]) -> int:
    """Re-plan the open orders that count on these organizations' factories, now suspended or withdrawn; returns
    how many orders were re-planned. The platform acts: the status change that set it off is the operators' record."""
    from agglo.factory.services.departures import departures_replan

    return departures_replan(organization_ids=organization_ids)
