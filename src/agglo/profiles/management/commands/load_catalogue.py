from django.core.management.base import BaseCommand

from agglo.profiles.services import catalogue_load


class Command(BaseCommand):
    help = "Insert or update the capability catalogue from profiles/data/capabilities.json (idempotent)."

    def handle(self, *args, **options):
        count = catalogue_load()
        self.stdout.write(f"capability catalogue: {count} terms")
