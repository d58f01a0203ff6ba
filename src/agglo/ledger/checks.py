"""`agglo check --deploy`: the log must have its signing key, and a name of its own, before it publishes."""

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


DEFAULT_ORIGIN = "localhost/agglo/ledger"


def log_origin_configured(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Every deployment that left the development origin would sign as the same log, and witnesses keep their
    state per origin (review 49 L3): a deployment names its own."""
    from django.conf import settings

    if settings.AGGLO_LEDGER_ORIGIN == DEFAULT_ORIGIN:
        return [
            Error(
                f"AGGLO_LEDGER_ORIGIN is the development default {DEFAULT_ORIGIN!r}.",
                hint="Set it to the log's public prefix, e.g. agglo.example/ledger, and make the key with that name.",
                id="agglo.E102",
            )
        ]
    return []
