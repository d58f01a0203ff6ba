"""Signals the registry sends for changes other apps act on."""

from django.dispatch import Signal

# Sent by `organization_set_status` inside its transaction, once the status changed, with `organization`, `before`
# and `after` (statuses) and `since`: when the status left behind began (None if never recorded), so that on
# reinstatement a receiver can tell what it took back meanwhile.
organization_status_changed = Signal()

# Sent by `services.standing.standing_sweep` (no arguments), after it has carried out the changes of standing made
# around `organization_set_status`: each app takes back, in transactions of its own and idempotently, what a
# withdrawal ends that still stands for an organization withdrawn (left by a change around the service, or by a
# withdrawal recorded before the app took it back), and returns {its name: how many organizations it took back
# from}. What it records meanwhile is marked `swept` (`common.audit.marked`).
departure_swept = Signal()
