from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "agglo.ledger"
    label = "ledger"
    verbose_name = _("Transparency log")

    def ready(self) -> None:
        from django.core import checks

        from agglo.ledger.checks import log_key_configured, log_origin_configured

        checks.register(log_key_configured, checks.Tags.security, deploy=True)
        checks.register(log_origin_configured, checks.Tags.security, deploy=True)
