from django.core.management.base import BaseCommand

from agglo.factory.services.jobs import offers_expire


class Command(BaseCommand):
    help = (
        "Expire virtual-factory offers not answered by their deadline and re-plan their orders (every 10 minutes: "
        "`agglo housekeeping` runs it)."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"expired offers: {offers_expire()}")
