"""Signals the professional database sends for writes that bypass model signals (bulk imports)."""

from django.dispatch import Signal

# Sent after a bulk import wrote facts, with `organization_ids`: the organizations whose facts changed.
facts_imported = Signal()
