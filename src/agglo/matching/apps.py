from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "agglo.matching"
    label = "matching"
    verbose_name = _("Matching")

    def ready(self) -> None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        from agglo.matching.embeddings import MODELS

        if settings.AGGLO_MATCHING_EMBEDDINGS and settings.AGGLO_MATCHING_EMBEDDINGS not in MODELS:
            raise ImproperlyConfigured(
                f"AGGLO_MATCHING_EMBEDDINGS: choose one of {', '.join(MODELS)} or leave it empty, "
                f"got {settings.AGGLO_MATCHING_EMBEDDINGS!r}"
            )
        from agglo.matching.ranking import Weights

        weights = settings.AGGLO_MATCHING_WEIGHTS
        known = set(Weights.__dataclass_fields__)
        if not isinstance(weights, dict) or any(
            k not in known or isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0
            for k, v in weights.items()
        ):
            raise ImproperlyConfigured(
                f"AGGLO_MATCHING_WEIGHTS: a JSON object of non-negative numbers named {', '.join(sorted(known))}, "
                f"got {weights!r}"
            )
        # The market tells who listens when listings change and interest moves; it does not import matching.
        from agglo.market import hooks
        from agglo.matching.services.events import interest_recorded
        from agglo.matching.services.index import listings_changed

        if listings_changed not in hooks.LISTING_CHANGED:
            hooks.LISTING_CHANGED.append(listings_changed)
        if interest_recorded not in hooks.INTEREST_EVENT:
            hooks.INTEREST_EVENT.append(interest_recorded)
        from agglo.matching import receivers

        receivers.connect()
