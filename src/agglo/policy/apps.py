from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PolicyConfig(AppConfig):
    name = "agglo.policy"
    label = "policy"
    verbose_name = _("Government policies")

    def ready(self) -> None:
        from agglo.policy import receivers

        receivers.connect()
