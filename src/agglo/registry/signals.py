"""Signals the registry sends for changes other apps act on."""

from django.dispatch import Signal

# Sent by `organization_set_status` inside its transaction, with `organization`, `before` and `after` (statuses).
organization_status_changed = Signal()
