from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from agglo.access.ratelimit import RateLimited
from agglo.common.commands import in_english, output_checked, written
from agglo.common.errors import DomainError
from agglo.profiles.exporting import CONTENT_TYPES, export_file
from agglo.profiles.selectors.exports import EXPORT_KINDS


class Command(BaseCommand):
    help = "Export what a user may see: agglo export_data financials --as USERNAME --format xlsx -o out.xlsx"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=EXPORT_KINDS)
        parser.add_argument("--as", dest="username", required=True, help="the user whose view is exported")
        parser.add_argument(
            "--format", default=None, choices=tuple(CONTENT_TYPES), help="default: the output's extension, else csv"
        )
        parser.add_argument("--own", action="store_true", help="only the user's own organizations (imports again)")
        parser.add_argument("-o", "--output", type=Path, required=True)

    @in_english
    def handle(self, *args, kind, username, format, own, output, **options):
        actor = get_user_model().objects.filter(username=username, is_active=True).first()
        if actor is None:
            raise CommandError(f"--as: no active user {username!r}")
        format = format or (output.suffix.lstrip(".").lower() if output.suffix.lower() in (".xlsx", ".json") else "csv")
        # the output checked before the export, which counts against the daily quota and the owners' access logs
        output_checked("-o", output)
        try:
            export = export_file(actor, kind, format, channel="export", own=own)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        except RateLimited as exc:
            said = str(exc.said) if exc.said else f"{username} has used today's exports"
            raise CommandError(f"--as: {said} (try again in {exc.retry_after} s)") from None
        try:
            size = written("-o", output, export.read())
        finally:
            export.close()  # its temporary file, or its rows' database cursor (not a response's close(), which
            # would end the caller's database connection as a request's end does)
        self.stdout.write(f"wrote {size:,} bytes to {output}")
