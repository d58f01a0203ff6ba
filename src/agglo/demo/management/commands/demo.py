from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agglo.demo.factory import demo_factory_load
from agglo.demo.market import demo_market_load
from agglo.demo.profiles import demo_profiles_load
from agglo.demo.services import demo_accounts_ensure, demo_cluster_clear, demo_cluster_load
from agglo.registry.models import Organization
from agglo.registry.services import reference_data_load

MIN_ORGS, MAX_ORGS = 50, 100_000


def run_with_progress(
    n: int,
    seed: int,
    *,
    quiet: bool = False,
    console: Console | None = None,
    profiles: bool = True,
    market: bool = True,
) -> dict[str, int]:
    """Load a demo cluster (with `profiles`, its professional-database facts; with `market`, needs and offers
    and the matching index), a progress bar per stage."""
    with Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=quiet,
        transient=False,
        console=console,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        counts = demo_cluster_load(n=n, seed=seed, progress=progress)
        if profiles:
            counts.update(demo_profiles_load(seed=seed, progress=progress))
        if market:
            counts.update(demo_market_load(seed=seed, progress=progress))
        counts.update(demo_factory_load(seed=seed))
        return counts


class Command(BaseCommand):
    help = "Build a deterministic synthetic cluster: agglo demo --orgs N --seed S (50 to 100,000 organizations)."

    def add_arguments(self, parser):
        parser.add_argument("--orgs", type=int, default=300)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--quiet", action="store_true")
        parser.add_argument("--replace", action="store_true", help="delete every organization first")

    def handle(self, *args, orgs, seed, quiet, replace, **options):
        if settings.PRODUCTION:  # its accounts share a published password, and --replace deletes every member
            raise CommandError("AGGLO_PRODUCTION is on: the demo cluster is for development and trials only")
        if not MIN_ORGS <= orgs <= MAX_ORGS:
            raise CommandError(f"--orgs: must be between {MIN_ORGS} and {MAX_ORGS:,}, got {orgs}")
        existing = Organization.objects.count()
        if existing and not replace:
            raise CommandError(
                f"the database already holds {existing:,} organizations: pass --replace to delete them first, "
                "or point AGGLO_SQLITE_PATH / DATABASE_URL at an empty database"
            )
        if replace:
            demo_cluster_clear()
        reference_data_load()
        counts = run_with_progress(orgs, seed, quiet=quiet)
        demo_accounts_ensure()
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in counts.items()))
