from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProfilesConfig(AppConfig):
    name = "agglo.profiles"
    label = "profiles"
    verbose_name = _("Professional database")

    def ready(self) -> None:
        # Organizations in an ongoing case together are partners for visibility (DESIGN.md §5).
        from agglo.profiles.visibility import case_partner_ids
        from agglo.registry.selectors.organizations import PARTNER_SOURCES

        if case_partner_ids not in PARTNER_SOURCES:
            PARTNER_SOURCES.append(case_partner_ids)
