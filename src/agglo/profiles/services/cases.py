"""Writes to collaboration case records: declare, change, add participants, confirm, rate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from agglo.common.language import Phrase
from agglo.common.notify import notify
from agglo.common.versions import version_check
from agglo.ledger.entries import digest, sealed_facts
from agglo.ledger.services import entry_append, work_key
from agglo.profiles import rules
from agglo.profiles.fields import CASE_RATING, CASES, PARTICIPANTS, coerce_all, unknown_fields
from agglo.profiles.messages import errors_of
from agglo.profiles.models import Case, CaseParticipant, CaseRating
from agglo.profiles.services.facts import snapshot
from agglo.registry.models import Organization
from agglo.registry.selectors.organizations import visible


def _audit(event: str, actor: Any, case: Case, payload: dict[str, Any], organization_id: int | None = None) -> None:
    record(
        f"profiles.case_{event}",
        actor=actor,
        subject=case,
        payload=payload,
        organization_id=organization_id or case.organization_id,
        group="cases",
    )


def _clean(data: Mapping[str, Any], *, current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    problems = unknown_fields(CASES, data)
    values, more = coerce_all(CASES, data, partial=current is not None)
    problems += more
    if problems:
        raise ValidationFailed(errors_of(problems))
    merged = {**(current or {}), **values}
    merged["visibility"] = merged.get("visibility") or "members"
    merged["outcome_patents"] = merged.get("outcome_patents") or 0
    merged["outcome_products"] = merged.get("outcome_products") or 0
    today = timezone.localdate()
    merged["as_of"] = merged.get("as_of") or today
    problems = rules.case_problems(merged, today=today)
    if problems:
        raise ValidationFailed(errors_of(problems))
    if not merged.get("valid_until"):
        # A finished case is history and stays valid for years; an ongoing one should be updated yearly.
        years = 5 if merged.get("ended_on") else 1
        merged["valid_until"] = merged["as_of"].replace(
            year=merged["as_of"].year + years, day=min(merged["as_of"].day, 28)
        )
    return merged


def _save(case: Case) -> None:
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError as exc:  # the same title and start date, recorded meanwhile or already
        raise Conflict(
            _("A case with this title and start date is already recorded."), errors={"title": [_("Already recorded.")]}
        ) from exc


def _values(case: Case) -> dict[str, Any]:
    return {name: getattr(case, name) for name in CASES}


@transaction.atomic
def case_create(*, actor: Any, organization: Organization, data: Mapping[str, Any]) -> Case:
    """Declare a case led by the organization; the lead takes part from the start, confirmed."""
    if not policy.can_edit_organization(actor, organization.pk):
        raise Forbidden(_("You may not edit this organization's data."))
    values = _clean(data)
    case = Case(organization=organization, **values)
    _save(case)
    CaseParticipant.objects.create(
        case=case, organization=organization, role="lead", input_kind="other", confirmed_at=timezone.now()
    )
    _audit("created", actor, case, {"before": {}, "after": snapshot(values)})
    return case


@transaction.atomic
def case_update(*, actor: Any, case: Case, data: Mapping[str, Any], if_match: str | None = None) -> Case:
    """Change the record; its lead's admins may. Read again under its row lock, so that two changes at once each
    keep the other's fields; `if_match`: the version the caller read (`common.versions`)."""
    if not policy.can_edit_organization(actor, case.organization_id):
        raise Forbidden(_("Only the lead organization changes the case record."))
    case.refresh_from_db(from_queryset=Case.objects.select_for_update())
    version_check(case, if_match)
    before = _values(case)
    values = _clean(data, current=before)
    changed = [k for k in values if values[k] != before.get(k)]
    if not changed:
        return case
    for name in changed:
        setattr(case, name, values[name])
    _save(case)
    _audit("updated", actor, case, {"before": snapshot(before, changed), "after": snapshot(values, changed)})
    return case


@transaction.atomic
def participant_add(*, actor: Any, case: Case, data: Mapping[str, Any]) -> CaseParticipant:
    """The lead names a partner and its input; the partner's own admins confirm it later."""
    if not policy.can_edit_organization(actor, case.organization_id):
        raise Forbidden(_("Only the lead organization adds participants."))
    problems = unknown_fields(PARTICIPANTS, data)
    values, more = coerce_all(PARTICIPANTS, data)
    problems += more
    if problems:
        raise ValidationFailed(errors_of(problems))
    partner = Organization.objects.filter(visible(actor), pk=values["organization"], status="member").first()
    if partner is None:
        raise ValidationFailed({"organization": [_("No member organization with this id.")]})
    if values["role"] == "lead":
        raise ValidationFailed({"role": [_("A case has one lead: the organization that declared it.")]})
    participant = CaseParticipant(case=case, **{**values, "organization": partner})
    try:
        with transaction.atomic():
            participant.save()
    except IntegrityError as exc:
        raise Conflict(_("Already a participant."), errors={"organization": [_("Already a participant.")]}) from exc
    _audit(
        "participant_added",
        actor,
        case,
        {"organization": partner.pk, **snapshot(values, ["role", "input_kind", "input_amount", "input_note"])},
    )
    notify(
        policy.organization_admins(partner.pk),
        verb="profiles.participant_added",
        text=Phrase(
            gettext_lazy("A collaboration case “%(title)s” lists you as a partner: confirm your part."),
            title=case.title,
        ),
        link=f"/organizations/{partner.pk}/tab/cases/",  # its own cases tab lists the cases it has to confirm
    )
    return participant


def locked(participant: CaseParticipant) -> None:
    """Read the participant again in place under its lock: of a confirmation and a change of its input sent at
    once, the second sees the first (review 53 R5: confirmed twice, or confirmed on an input it never saw)."""
    participant.refresh_from_db(from_queryset=CaseParticipant.objects.select_for_update())


@transaction.atomic
def participant_update_input(*, actor: Any, participant: CaseParticipant, data: Mapping[str, Any]) -> CaseParticipant:
    """A participant's own admins (or the lead) state what it put in; a change reopens confirmation."""
    locked(participant)
    org_id = participant.organization_id
    if not (
        policy.can_edit_organization(actor, org_id)
        or policy.can_edit_organization(actor, participant.case.organization_id)
    ):
        raise Forbidden(_("You may not change this participant's input."))
    specs = {k: PARTICIPANTS[k] for k in ("input_kind", "input_amount", "input_note")}
    problems = unknown_fields(specs, data)
    values, more = coerce_all(specs, data, partial=True)
    problems += more
    if problems:
        raise ValidationFailed(errors_of(problems))
    before = {k: getattr(participant, k) for k in values}
    for k, v in values.items():
        setattr(participant, k, v)
    if not policy.can_edit_organization(actor, org_id) and participant.role != "lead":
        participant.confirmed_at = None  # the partner must agree to what the lead says it put in
    participant.save()
    _audit(
        "input_changed",
        actor,
        participant.case,
        {"organization": org_id, "before": snapshot(before), "after": snapshot(values)},
        organization_id=participant.case.organization_id,
    )
    return participant


@transaction.atomic
def participant_confirm(*, actor: Any, participant: CaseParticipant, seen: str | None = None) -> CaseParticipant:
    """The partner's admins confirm it took part as recorded: only then the case counts for it. With `seen` (the
    participant's `input_seen` as read), a change of the input made since is refused rather than confirmed."""
    locked(participant)
    if seen is not None and seen != participant.input_seen:
        raise Conflict(
            _("What the case says your organization put in changed since you read it: read it again, then confirm."),
            errors={"participant": [_("Changed since you read it.")]},
        )
    if not policy.is_org_admin(actor, participant.organization_id):
        raise Forbidden(_("Only the participant's own admins confirm its participation."))
    if participant.confirmed_at is None:
        participant.confirmed_at = timezone.now()
        participant.save(update_fields=["confirmed_at"])
        _audit("participant_confirmed", actor, participant.case, {"organization": participant.organization_id})
        _audit(
            "participant_confirmed",
            actor,
            participant.case,
            {"organization": participant.organization_id},
            organization_id=participant.organization_id,
        )
        case = participant.case
        # a case may be private, and a short input is easy to guess from a plain digest: the facts go in sealed
        # under the case's key, which its participants see with the case
        key = work_key(case)
        entry_append(
            "profiles.case_participation_confirmed",
            actor=actor,
            acting_org=participant.organization_id,
            sealed_with=key,
            subject=case,
            payload=sealed_facts(
                {
                    "case": case.pk,
                    "lead": case.organization_id,
                    "organization": participant.organization_id,
                    "role": participant.role,
                    "input": digest(
                        snapshot(
                            {k: getattr(participant, f"{k}_id" if k == "organization" else k) for k in PARTICIPANTS}
                        )
                    ),
                },
                key,
            ),
            parties=[case.organization_id, participant.organization_id],
        )
    return participant


@transaction.atomic
def case_rate(*, actor: Any, case: Case, data: Mapping[str, Any]) -> CaseRating:
    """A confirmed participant rates another confirmed participant's part, once."""
    problems = unknown_fields(CASE_RATING, data)
    values, more = coerce_all(CASE_RATING, data)
    problems += more
    if problems:
        raise ValidationFailed(errors_of(problems))
    confirmed = {p.organization_id for p in case.participants.all() if p.confirmed_at}
    raters = [o for o in policy.active_organization_ids(actor) if o in confirmed and policy.is_org_admin(actor, o)]
    if not raters:
        raise Forbidden(_("Only the admins of a confirmed participant rate its partners."))
    rater = min(raters)
    if values["rated"] not in confirmed:
        raise ValidationFailed({"rated": [_("Not a confirmed participant of this case.")]})
    if values["rated"] == rater:
        raise ValidationFailed({"rated": [_("Participants do not rate themselves.")]})
    try:
        with transaction.atomic():
            rating = CaseRating.objects.create(
                case=case, rater_id=rater, **{k: v for k, v in values.items() if k != "rated"}, rated_id=values["rated"]
            )
    except IntegrityError as exc:
        raise Conflict(_("You already rated this participant."), errors={"rated": [_("Already rated.")]}) from exc
    _audit(
        "rated",
        actor,
        case,
        {"rater": rater, "rated": values["rated"], "score": values["score"]},
        organization_id=values["rated"],
    )
    key = work_key(case)
    entry_append(
        "profiles.case_rated",
        actor=actor,
        acting_org=rater,
        sealed_with=key,
        subject=rating,
        payload=sealed_facts(
            {"case": case.pk, "rater": rater, "rated": values["rated"], "score": int(values["score"])}, key
        ),
        parties=[rater, values["rated"]],
    )
    return rating


def participant_get(*, case: Case, pk: int) -> CaseParticipant:
    participant = case.participants.filter(pk=pk).select_related("case").first()
    if participant is None:
        raise NotFound(_("No participant %(id)s in this case.") % {"id": pk})
    return participant
