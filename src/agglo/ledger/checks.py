"""`agglo check --deploy`: the log must have its signing key before it can publish anything."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured


def log_key_configured(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    from agglo.ledger.keys import log_signer

    try:
        log_signer()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint="Make one with `agglo ledger keygen --name <origin>`.", id="agglo.E101")]
    return []
