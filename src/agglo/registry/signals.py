"""Signals the registry sends for changes other apps act on."""

from django.dispatch import Signal

# Sent by `organization_set_status` inside its transaction, once the status changed, with `organization`, `before`
# and `after` (statuses) and `since`: when the status left behind began (None if never recorded), so that on
# reinstatement a receiver can tell what it took back meanwhile.
organization_status_changed = Signal()
