from django.core.management.base import BaseCommand

from agglo.factory.services.reminders import REMIND_HOURS, offers_remind


class Command(BaseCommand):
    help = (
        f"Remind factories of offers, and buyers of counter-offers, due within {REMIND_HOURS} hours and not yet "
        "answered (every 10 minutes: `agglo housekeeping` runs it)."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"offers reminded of: {offers_remind()}")
