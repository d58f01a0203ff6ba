"""`agglo sweep_standing`: carry out the changes of standing made around the service (see
`registry.services.standing.standing_sweep`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from agglo.registry.services.standing import standing_sweep


class Command(BaseCommand):
    help = (
        "Find statuses written around the suspend / reinstate / withdraw service (a bulk update in the database) and "
        "carry them out as it would, marked as found by this sweep; revoke the nodes withdrawn organizations still "
        "have and close what they still have open (every 10 minutes in `agglo housekeeping`). A second run does "
        "nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        done = standing_sweep()
        for pk, (before, after) in sorted(done.changes.items()):
            self.stdout.write(f"organization {pk}: {before} -> {after}, not recorded: recorded and carried out")
        for pk, names in sorted(done.nodes.items()):
            self.stdout.write(f"organization {pk}: withdrawn, nodes revoked: {', '.join(names)}")
        apps = ", ".join(f"{app} {n}" for app, n in sorted(done.apps.items())) or "none"
        self.stdout.write(
            f"standing sweep: changes carried out: {len(done.changes)}; organizations with nodes revoked: "
            f"{len(done.nodes)}; organizations with what they left open taken back: {apps}"
        )
        if done.failed:  # logged with their traceback; `housekeeping --once` exits non-zero
            raise CommandError(f"failed for organizations {', '.join(map(str, sorted(set(done.failed))))}: see the log")
