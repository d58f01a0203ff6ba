from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from agglo.common.errors import DomainError
from agglo.profiles.exporting import CONTENT_TYPES, export_response
from agglo.profiles.selectors.exports import EXPORT_KINDS


class Command(BaseCommand):
    help = "Export what a user may see: agglo export_data financials --as USERNAME --format xlsx -o out.xlsx"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=EXPORT_KINDS)
        parser.add_argument("--as", dest="username", required=True, help="the user whose view is exported")
        parser.add_argument("--format", default="csv", choices=tuple(CONTENT_TYPES))
        parser.add_argument("-o", "--output", type=Path, required=True)

    def handle(self, *args, kind, username, format, output, **options):
        actor = get_user_model().objects.filter(username=username, is_active=True).first()
        if actor is None:
            raise CommandError(f"--as: no active user {username!r}")
        try:
            response = export_response(actor, kind, format, channel="export")
        except DomainError as exc:
            raise CommandError(exc.message) from None
        output.write_bytes(response.content)
        self.stdout.write(f"wrote {len(response.content):,} bytes to {output}")
