"""`agglo up`: migrate, load reference data and (on an empty database) the demo cluster, then serve."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from agglo.demo.management.commands.demo import MAX_ORGS, MIN_ORGS, run_with_progress
from agglo.demo.services import demo_accounts_ensure
from agglo.registry.models import Organization
from agglo.registry.services import reference_data_load

# how the demo's orders stand, in the console's words (the console is English, like the logins table)
DEMO_ORDER_STATES = {
    "planned": "offers waiting for the factories' answers",
    "confirmed": "accepted by every factory, first step under way",
}


class Command(BaseCommand):
    help = (
        "Run the platform: migrate, load data, start gunicorn, the task worker and the periodic jobs, print the demo "
        "logins."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("AGGLO_HOST", "127.0.0.1"))
        # read when the command runs, so that a bad AGGLO_PORT is an error naming it, not a failure of --help
        parser.add_argument("--port", type=int, default=None, help="default: AGGLO_PORT, else 8000")
        parser.add_argument(
            "--orgs",
            type=int,
            default=300,
            help=f"demo organizations to load into an empty database ({MIN_ORGS}–{MAX_ORGS:,})",
        )
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (1–64)")
        parser.add_argument("--no-serve", action="store_true", help="prepare the database and stop")

    def handle(self, *args, host, port, orgs, workers, no_serve, **options):
        port = _checked(port, orgs, workers)
        console = Console()
        # Links in e-mails (the demo's seed mails too) point at this server unless a public address is configured.
        base = os.environ.get("AGGLO_BASE_URL") or f"http://{host}:{port}"
        settings.AGGLO_BASE_URL = base
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        settings.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
        settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it even when serving from apps
        console.print("[bold]Agglo[/bold] · migrating the database")
        call_command("migrate", interactive=False, verbosity=0)
        reference_data_load()
        if settings.PRODUCTION:
            # Never plant known passwords or synthetic members in a real deployment.
            console.print(
                "Production mode: no demo cluster and no demo accounts (create an operator with createsuperuser)"
            )
            logins = []
        else:
            if not Organization.objects.exists():
                console.print(f"Empty database: loading a demo cluster of {orgs} organizations")
                run_with_progress(orgs, 42)
            logins = demo_accounts_ensure()
        if logins:
            # The first two factories in the main table; every other factory's admin in a compact list after it.
            factories = [login for login in logins if login.role == "factory admin"]
            table = Table(title="Demo logins (password for all: " + logins[0].password + ")")
            for column in ("username", "role", "organization"):
                table.add_column(column)
            for login in logins:
                if login not in factories[2:]:
                    table.add_row(login.username, login.role, login.organization)
            console.print(table)
            if factories[2:]:
                console.print("Other demo factory admins (same password), for whichever factories a plan picks:")
                for login in factories[2:]:
                    # whole lines, never cut: the processes at the end are what picks the login
                    console.print(f"  {login.username:<16} {login.organization}", soft_wrap=True, markup=False)
            _print_demo_orders(console)
        from django.core.exceptions import ImproperlyConfigured

        from agglo.ledger.keys import log_verifier

        try:
            console.print(f"Transparency log verifier key: {log_verifier().encode()}")
        except ImproperlyConfigured as exc:
            console.print(f"[bold red]Transparency log:[/bold red] {exc}")
        if no_serve:
            return
        url = f"http://{host}:{port}/"
        env = {**os.environ, "AGGLO_BASE_URL": base}
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--config",
                    "python:agglo.gunicorn_conf",
                    "agglo.wsgi:application",
                    "--bind",
                    f"{host}:{port}",
                    "--workers",
                    str(workers),
                    "--threads",
                    "4",
                    "--timeout",
                    "60",
                    "--access-logfile",
                    "-",
                    # gunicorn's control socket sits at one path per machine user, whichever instance made it:
                    # a second platform on the machine would take over the first one's (and nothing here uses it)
                    "--no-control-socket",
                ],
                env=env,
            )
        ]
        # With the immediate backend tasks run inside the requests: there is no queue to work.
        queued = settings.TASK_BACKEND != "immediate"
        if queued:
            procs.append(subprocess.Popen([sys.executable, "-m", "agglo.cli", "worker"], env=env))
        # the periodic jobs (offers past their deadline expire, listings past their date, the index catches up)
        procs.append(subprocess.Popen([sys.executable, "-m", "agglo.cli", "housekeeping"], env=env))
        worker = " with a task worker" if queued else ""
        console.print(f"Serving on [bold]{url}[/bold] (API docs: {url}api/v1/docs){worker}. Ctrl-C stops.")
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for proc in procs:
                    if proc.poll() is not None:
                        raise CommandError(f"{' '.join(proc.args[2:4])} exited with code {proc.returncode}")
                time.sleep(0.5)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _checked(port: int | None, orgs: int, workers: int) -> int:
    """The arguments checked before any work starts (a migration, a demo load); the port to serve on."""
    if port is None:
        raw = os.environ.get("AGGLO_PORT", "8000")
        try:
            port = int(raw)
        except ValueError:
            raise CommandError(f"AGGLO_PORT: must be a whole number, got {raw!r}") from None
    if not 1 <= port <= 65535:
        raise CommandError(f"--port (or AGGLO_PORT): must be between 1 and 65535, got {port}")
    if not MIN_ORGS <= orgs <= MAX_ORGS:
        raise CommandError(f"--orgs: must be between {MIN_ORGS} and {MAX_ORGS:,}, got {orgs}")
    if not 1 <= workers <= 64:
        raise CommandError(f"--workers: must be between 1 and 64, got {workers}")
    return port


def _print_demo_orders(console: Console) -> None:
    """Which factory logins each demo order's plan involves: whose job board shows it."""
    from django.contrib.auth import get_user_model

    from agglo.demo.orders import demo_orders_summary

    buyer = get_user_model().objects.filter(username="sme-admin").first()
    summary = demo_orders_summary(buyer) if buyer is not None else []
    if summary:
        console.print("Demo orders placed by sme-admin, and the factory logins their plans involve:")
    for order, usernames in summary:
        state = DEMO_ORDER_STATES.get(order.status, order.status)
        line = f"  {order.product} ({state}): {', '.join(usernames) or '-'}"
        console.print(line, soft_wrap=True, markup=False)
