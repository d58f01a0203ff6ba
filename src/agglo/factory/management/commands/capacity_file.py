from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from agglo.common.commands import in_english, output_checked, written
from agglo.common.errors import DomainError, ValidationFailed
from agglo.factory.selectors.calendar import calendar_page
from agglo.factory.selectors.calendar_file import CONTENT_TYPES, calendar_file
from agglo.factory.services.calendar_file import calendar_import
from agglo.factory.services.capacity import page_start_checked
from agglo.profiles.services.imports import size_check


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


class Command(BaseCommand):
    help = (
        "A factory's capacity calendar as a file: agglo capacity_file export --as USERNAME [--format xlsx] "
        "[--from YYYY-MM-DD] [-o FILE]; agglo capacity_file import FILE --as USERNAME [--dry-run]. An import writes "
        "every changed week or, if any row is bad, none; every bad row is listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=("export", "import"))
        parser.add_argument("file", type=Path, nargs="?", help="the file to import")
        parser.add_argument("--as", dest="username", required=True, help="the user it acts as")
        parser.add_argument("--dry-run", action="store_true", help="import: check every row and write nothing")
        parser.add_argument("--format", choices=tuple(CONTENT_TYPES), default="csv", help="export: the file's format")
        parser.add_argument("--from", dest="start", default="", help="export: the first week (any day of it)")
        parser.add_argument("-o", "--output", type=Path, help="export: where to write (standard output if left out)")

    @in_english
    def handle(self, *args, action, file, username, dry_run, format, start, output, **options):
        actor = get_user_model().objects.filter(username=username, is_active=True).first()
        if actor is None:
            raise CommandError(f"--as: no active user {username!r}")
        try:
            if action == "export":
                self._export(actor, format, start, output)
            else:
                self._import(actor, file, dry_run)
        except DomainError as exc:
            raise CommandError(exc.summary()) from None

    def _export(self, actor, format, start, output):
        try:
            start = page_start_checked(start)
        except ValidationFailed as exc:
            raise CommandError(f"--from: {exc.errors['from'][0]}") from None
        if output is not None:
            output_checked("--output", output)
        body, _type, _name = calendar_file(actor=actor, format=format, weeks=calendar_page(start or None).weeks)
        if output is not None:
            written("--output", output, body)
        elif format == "xlsx":
            raise CommandError("--output: an XLSX file is not written to the terminal; name a file")
        else:
            self.stdout.write(body.decode("utf-8-sig"), ending="")

    def _import(self, actor, file, dry_run):
        if file is None:
            raise CommandError("file: name the CSV or XLSX file to import")
        if file.is_dir():
            raise CommandError(f"file: {file} is a folder; name the file")
        if not file.is_file():
            raise CommandError(f"file: {file} does not exist")
        size_check(file.stat().st_size)
        result = calendar_import(actor=actor, body=file.read_bytes(), filename=file.name, dry_run=dry_run)
        for error in result.errors:
            self.stdout.write(f"row {error.row}\t{error.column or '-'}\t{error.rule}\t{error.message}")
        summary = (
            f"{_count(result.rows, 'row')}: {_count(result.changed, 'week')} changed, {result.unchanged} unchanged"
        )
        if result.errors:
            shown = f", the first {len(result.errors)} listed" if result.errors_total > len(result.errors) else ""
            raise CommandError(f"{_count(result.errors_total, 'problem')}{shown}; nothing was written ({summary})")
        self.stdout.write(("checked, nothing written: " if dry_run else "imported: ") + summary)
