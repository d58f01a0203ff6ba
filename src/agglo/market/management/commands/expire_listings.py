from django.core.management.base import BaseCommand

from agglo.market.services import listings_expire


class Command(BaseCommand):
    help = "Mark published needs and offers past their expiry date as expired (run daily, e.g. from cron)."

    def handle(self, *args, **options):
        self.stdout.write(f"expired {listings_expire()} listings")
