from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "agglo.web"
    label = "web"
    verbose_name = _("Web pages")

    def ready(self) -> None:
        from django.core import checks

        from agglo.web.checks import mail_configured

        checks.register(mail_configured, checks.Tags.security, deploy=True)
