from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FactoryConfig(AppConfig):
    name = "agglo.factory"
    label = "factory"
    verbose_name = _("Virtual factory")

    def ready(self) -> None:
        from agglo.factory import receivers

        receivers.connect()
