from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.errors import Forbidden, NotFound
from agglo.registry.models import Admission


def admission_list(*, actor: Any, status: str | None = None) -> QuerySet[Admission]:
    """The review queue (operators only), oldest open application first."""
    if not policy.can_review_admissions(actor):
        raise Forbidden(_("Only platform operators see the review queue."))
    qs = Admission.objects.select_related("organization__region", "decided_by").prefetch_related("documents")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "id")


def admission_get(*, actor: Any, pk: int) -> Admission:
    admission = admission_list(actor=actor).prefetch_related("events__actor").filter(pk=pk).first()
    if admission is None:
        raise NotFound(_("No admission with id %(pk)s.") % {"pk": pk})
    return admission


def flagged_applications(*, actor: Any, admission: Admission) -> dict[int, Admission]:
    """For the review page: the latest application of each organization this one was flagged as a possible
    duplicate of, by organization id (a rejected applicant applying again shows what was decided then)."""
    ids = [f["organization"] for f in admission.duplicate_flags if isinstance(f, dict) and "organization" in f]
    latest: dict[int, Admission] = {}
    for other in admission_list(actor=actor).filter(organization_id__in=ids).exclude(pk=admission.pk):
        latest[other.organization_id] = other  # oldest first: the last one kept is the newest
    return latest


def same_email_open(*, actor: Any, admission: Admission) -> list[Admission]:
    """Other open applications with this one's contact e-mail: the public form takes them without saying so (it
    would tell anyone which addresses have applied; review 49 F6), so the reviewer sees them here."""
    others = (
        admission_list(actor=actor)
        .filter(
            contact_email__iexact=admission.contact_email,
            status__in=(Admission.Status.SUBMITTED, Admission.Status.NEEDS_INFO),
        )
        .exclude(pk=admission.pk)
    )
    return list(others.order_by("-created_at", "-id"))


def earlier_applications(*, actor: Any, admission: Admission) -> list[Admission]:
    """The same organization's other applications, newest first: a rejected applicant that applies again (same
    credit code, same contact) refreshes its own record, so no duplicate is flagged, yet what was decided then
    matters (review 47 F5)."""
    others = admission_list(actor=actor).filter(organization_id=admission.organization_id).exclude(pk=admission.pk)
    return list(others.order_by("-created_at", "-id"))


def admission_by_token(token: str) -> Admission:
    """The application behind a tracking link; the link itself is the applicant's credential."""
    admission = (
        Admission.objects.select_related("organization__region")
        .prefetch_related("events", "documents")
        .filter(tracking_token=token)
        .first()
        if token and len(token) <= 64
        else None
    )
    if admission is None:
        raise NotFound(_("No application with that tracking link."))
    return admission
