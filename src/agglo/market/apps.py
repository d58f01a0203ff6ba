from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketConfig(AppConfig):
    name = "agglo.market"
    label = "market"
    verbose_name = _("Needs and offers")

    def ready(self) -> None:
        # An accepted interest makes the two organizations partners for visibility (DESIGN.md §5).
        from agglo.market.selectors.listings import interest_partner_ids
        from agglo.registry.selectors.organizations import PARTNER_SOURCES

        if interest_partner_ids not in PARTNER_SOURCES:
            PARTNER_SOURCES.append(interest_partner_ids)
        from agglo.market import receivers

        receivers.connect()
