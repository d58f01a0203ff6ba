"""Paying granted sums (拨付): the agency records each payment, in instalments up to the granted amount; each is on
the transparency log with the agency and the member as parties, and the member is told."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agglo.access import policy as access
from agglo.common.audit import record
from agglo.common.days import iso_day
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.language import Phrase
from agglo.common.lines import ONE_LINE, is_one_line
from agglo.common.notify import notify
from agglo.common.numbers import grouped
from agglo.ledger.entries import digest
from agglo.ledger.services import entry_append
from agglo.policy.models import Application, GrantPayment
from agglo.policy.services import can_issue, logged_amount, yuan
from agglo.profiles.messages import date_fault
from agglo.registry.models.bilingual import Bilingual


def _day(raw: Any, errors: dict[str, list[str]]) -> dt.date | None:
    if raw in (None, ""):
        errors["paid_on"] = [_("This field is required.")]
        return None
    day = iso_day(raw)
    if day is None:
        errors["paid_on"] = [date_fault(raw)]
    return day


@transaction.atomic
def grant_payment_record(
    *, actor: Any, application: Application, amount: Any, paid_on: Any, reference: str = ""
) -> GrantPayment:
    """The issuing agency records a payment of a granted sum: on a day from the grant to today, at most what is
    left to pay. The application is read again under its lock, so that two payments recorded at once cannot
    together pass the granted amount."""
    if not can_issue(actor, application.policy.issuer):
        raise Forbidden(_("Only the issuing agency records what it paid."))
    application = Application.objects.select_for_update(of=("self",)).select_related("policy").get(pk=application.pk)
    if application.status != Application.Status.GRANTED:
        raise ValidationFailed({"status": [_("Only a granted application is paid.")]})
    if not application.amount:
        raise ValidationFailed({"amount": [_("This grant names no sum: there is nothing to pay.")]})
    errors: dict[str, list[str]] = {}
    value = yuan(amount, "amount", errors)
    if value is None and "amount" not in errors:
        errors["amount"] = [_("This field is required.")]
    left = application.left_to_pay  # read under the lock above
    if value is not None and not 0 < value <= left:
        errors["amount"] = [
            _("Must be more than 0 and at most the %(left)s yuan left to pay of %(granted)s.")
            % {"left": grouped(left), "granted": grouped(application.amount)}
        ]
    day = _day(paid_on, errors)
    granted_on = timezone.localdate(application.decided_at) if application.decided_at else None
    if day is not None and day > timezone.localdate():
        errors["paid_on"] = [_("Must not be in the future.")]
    elif day is not None and granted_on is not None and day < granted_on:
        errors["paid_on"] = [_("Must not be before the grant (%(day)s).") % {"day": granted_on.isoformat()}]
    reference = (reference or "").strip()
    if len(reference) > 100:
        errors["reference"] = [_("At most %(max)d characters (has %(n)d).") % {"max": 100, "n": len(reference)}]
    elif not is_one_line(reference):
        errors["reference"] = [str(ONE_LINE)]
    if errors:
        raise ValidationFailed(errors)
    assert value is not None and day is not None
    payment = GrantPayment.objects.create(
        application=application, amount=value, paid_on=day, reference=reference, recorded_by=actor
    )
    policy = application.policy
    record(
        "policy.paid",
        actor=actor,
        subject=application,
        payload={"amount": str(value), "paid_on": day.isoformat(), "reference": reference},
        organization_id=application.organization_id,
    )
    # the log holds the sum and the day; a transfer number only by digest (a party holding it can check it)
    entry_append(
        "policy.paid",
        actor=actor,
        acting_org=policy.issuer_id,
        subject=application,
        payload={
            "policy": policy.pk,
            "organization": application.organization_id,
            "amount": logged_amount(application, value),  # sealed where a formula's sum would tell a figure
            "paid_on": day.isoformat(),
            "reference": digest(reference.encode()) if reference else None,
        },
        parties=[policy.issuer_id, application.organization_id],
    )
    notify(
        access.organization_admins(application.organization_id),
        verb="policy.paid",
        text=Phrase(
            gettext_lazy("The agency paid %(amount)s yuan of your grant for “%(title)s” on %(day)s."),
            amount=grouped(value),
            title=Bilingual(policy.title_zh, policy.title_en),
            day=day.isoformat(),
        ),
        link=f"/policies/{policy.pk}/",
    )
    return payment
