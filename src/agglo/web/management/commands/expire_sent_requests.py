from django.core.management.base import BaseCommand

from agglo.common.idempotency import sent_requests_expire


class Command(BaseCommand):
    help = "Forget the answers kept for requests sent again (Idempotency-Key, forms) after a day (run hourly)."

    def handle(self, *args, **options):
        self.stdout.write(f"expired sent requests: {sent_requests_expire()}")
