"""`agglo policy_match`: re-match every published policy against the members' current data (run daily)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from agglo.policy.matching import facts_refresh, members, policy_match
from agglo.policy.models import Policy


class Command(BaseCommand):
    help = (
        "Refresh every member's kept eligibility facts, then re-match every published policy, telling members who "
        "became eligible (run daily)"
    )

    def handle(self, *args, **options):
        # Some facts change with the date alone (years of membership, certificates and ratings expiring).
        facts = facts_refresh(members())
        self.stdout.write(f"facts refreshed for {len(facts)} members")
        for policy in Policy.objects.filter(status=Policy.Status.PUBLISHED).order_by("pk"):
            # an ended policy is matched again for the record, but nobody is told of what they can no longer get
            eligible, near = policy_match(policy, tell=not policy.ended)
            self.stdout.write(f"policy {policy.pk}: {eligible} eligible, {near} near misses")
