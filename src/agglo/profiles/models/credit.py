from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from agglo.profiles.fields import GRADES
from agglo.profiles.models.facts import Fact, Source


class CreditRating(Fact):
    """A credit grade given to an organization by the platform or an external agency, under a named method."""

    class Body(models.TextChoices):
        PLATFORM = "platform", _("The platform")
        AGENCY = "agency", _("External agency")

    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="ratings")
    grade = models.CharField(_("grade"), max_length=3, choices=[(g, g) for g in GRADES])
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2, null=True, blank=True)
    rating_body = models.CharField(_("rating body"), max_length=10, choices=Body.choices)
    agency_name = models.CharField(_("agency"), max_length=120, blank=True)
    method_version = models.CharField(_("method version"), max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "rating_body", "agency_name", "as_of"], name="uniq_rating_body_date"
            )
        ]
        ordering = ["organization", "-as_of", "-id"]
        verbose_name = _("credit rating")
        verbose_name_plural = _("credit ratings")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.grade} {self.as_of}"

    @property
    def checked(self) -> bool:
        """`checked_ratings`, of one rating read."""
        return self.rating_body == self.Body.PLATFORM or self.verified


def checked_ratings() -> models.Q:
    """Ratings someone besides the owner stands behind: the platform's own, or one an operator or a bank verified.
    A rating its owner entered ("AAA by some agency", no report) is shown as self-declared and decides nothing: not
    the headline while a checked one is valid, not a policy's credit rule, not trust in matching (policy review 58
    H3)."""
    return models.Q(rating_body=CreditRating.Body.PLATFORM) | models.Q(
        source__in=(Source.OPERATOR_VERIFIED, Source.BANK_VERIFIED)
    )
