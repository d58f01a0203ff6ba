from django.core.management.base import BaseCommand

from agglo.registry.services import reference_data_load


class Command(BaseCommand):
    help = "Load or refresh the shipped regions (GB/T 2260, ISO 3166-1) and industry chains."

    def handle(self, *args, **options):
        counts = reference_data_load()
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in counts.items()))
