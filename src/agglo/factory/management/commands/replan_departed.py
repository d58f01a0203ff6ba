from django.core.management.base import BaseCommand

from agglo.factory.services.departures import departures_replan


class Command(BaseCommand):
    help = (
        "Re-plan open orders that still count on factories whose organization was suspended or withdrawn (every 10 "
        "minutes: `agglo housekeeping` runs it; a status change also sets it off at once)."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"orders re-planned for departed factories: {departures_replan()}")
