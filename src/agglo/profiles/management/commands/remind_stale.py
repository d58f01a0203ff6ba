from django.core.management.base import BaseCommand

from agglo.profiles.services import stale_reminders_send


class Command(BaseCommand):
    help = "E-mail organization admins about facts that are stale or due within 30 days (run daily, e.g. from cron)."

    def handle(self, *args, **options):
        counts = stale_reminders_send()
        self.stdout.write(f"reminded {counts['organizations']} organizations of {counts['facts']} facts")
