from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agglo.common.commands import in_english
from agglo.common.errors import DomainError
from agglo.profiles.services import IMPORT_KINDS, import_file, import_size_check


class Command(BaseCommand):
    help = (
        "Import organizations, financial statements, IP assets or capabilities from CSV/XLSX: "
        "agglo import_data financials FILE --as USERNAME [--dry-run]. All rows or none; every bad row is listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=IMPORT_KINDS)
        parser.add_argument("file", type=Path)
        parser.add_argument("--as", dest="username", required=True, help="the user the import acts as")
        parser.add_argument("--dry-run", action="store_true", help="check every row and write nothing")
        parser.add_argument("--source-note", default="", help='where the data comes from, e.g. "某银行 2025 报送"')

    @in_english
    def handle(self, *args, kind, file, username, dry_run, source_note, **options):
        actor = get_user_model().objects.filter(username=username, is_active=True).first()
        if actor is None:
            raise CommandError(f"--as: no active user {username!r}")
        if file.is_dir():
            raise CommandError(f"file: {file} is a folder; name the file")
        if not file.is_file():
            raise CommandError(f"file: {file} does not exist")
        console = Console(stderr=True)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as bar:
            task = bar.add_task("check" if dry_run else "import", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            try:
                import_size_check(file.stat().st_size)
                result = import_file(
                    actor=actor,
                    kind=kind,
                    body=file.read_bytes(),
                    filename=file.name,
                    dry_run=dry_run,
                    source_note=source_note,
                    progress=progress,
                )
            except DomainError as exc:
                raise CommandError(exc.summary()) from None
        for error in result.errors:
            self.stdout.write(f"row {error.row}\t{error.column or '-'}\t{error.rule}\t{error.message}")
        summary = f"{result.rows} rows: {result.created} new, {result.updated} changed, {result.unchanged} unchanged"
        if result.errors:
            n = result.errors_total
            raise CommandError(f"{n:,} problem{'' if n == 1 else 's'}; nothing was written ({summary})")
        self.stdout.write(("checked, nothing written: " if dry_run else "imported: ") + summary)
