from django.core.management.base import BaseCommand

from agglo.registry.search_index import rebuild


class Command(BaseCommand):
    help = "Recompute search tokens of every organization and rebuild the full-text index."

    def handle(self, *args, **options):
        self.stdout.write(f"indexed {rebuild()} organizations")
