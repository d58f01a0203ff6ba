"""Writes of applications: apply, decide, and grant to every eligible member without application (免申即享).

Every grant is appended to the transparency log with the agency and the member as parties."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from agglo.access import policy as access
from agglo.access.services import sensitive_views_record
from agglo.common.audit import record
from agglo.common.errors import Conflict, Forbidden, ValidationFailed
from agglo.common.language import Phrase
from agglo.common.notify import notify
from agglo.common.numbers import grouped
from agglo.common.uploads import check_documents, files_removed_on_failure, store_upload
from agglo.ledger.entries import digest
from agglo.ledger.services import entries_append, entry_made
from agglo.policy.facts import covers
from agglo.policy.grants import grant_for, withheld_basis
from agglo.policy.models import Application, ApplicationDocument, Policy, PolicyMatch
from agglo.policy.selectors.facts import facts_for
from agglo.policy.services import locked, logged_amount, yuan
from agglo.registry.models.bilingual import Bilingual


def formula_amounts(actor: Any, policy: Policy, organization_ids: list[int]) -> dict[int, Decimal]:
    """What the policy's formula grants each of these members, for those it can reckon (a member without the
    figure, or whose figure comes to nothing, is left out). A sum reckoned on a figure its member may withhold
    tells the figure to the agency that reads it: each member's access log says so (review 96), as for the
    figures a list of matches shows."""
    assert policy.grant_basis and policy.grant_rate is not None
    facts = facts_for(organization_ids)
    out = {}
    for org in organization_ids:
        amount = grant_for(policy.grant_basis, policy.grant_rate, policy.grant_cap, facts.get(org, {}))
        if amount is not None:
            out[org] = amount
    if group := withheld_basis(policy.grant_basis):
        sensitive_views_record(viewer=actor, owner_ids=list(out), groups=[group], channel="formula")
    return out


def _amounts(actor: Any, policy: Policy, amount: Any, organization_ids: list[int]) -> Mapping[int, Decimal | None]:
    """Each member's grant: by the policy's formula, or the one amount the agency names (checked as any grant)."""
    if not policy.grant_basis:
        value = _amount(amount, policy)
        return dict.fromkeys(organization_ids, value)
    if amount not in (None, ""):
        raise ValidationFailed({"amount": [_("The policy's formula reckons each amount: leave this empty.")]})
    return formula_amounts(actor, policy, organization_ids)


def _amount(value: Any, policy: Policy) -> Decimal | None:
    """A grant's amount. A policy with a budget counts every grant against it, so each must say how much; one
    without (a qualification, a tax treatment) may grant no sum."""
    errors: dict[str, list[str]] = {}
    amount = yuan(value, "amount", errors)
    if not errors and amount is None and policy.budget is not None:
        errors["amount"] = [
            _("Required: this policy has a budget of %(budget)s yuan, which every grant counts against.")
            % {"budget": grouped(policy.budget)}
        ]
    elif not errors and amount == 0 and policy.budget is not None:  # a grant no payment could ever be made on
        errors["amount"] = [_("A grant from a budget is a sum above 0 yuan; where there is none, reject instead.")]
    if errors:
        raise ValidationFailed(errors)
    return amount


MAX_DOCUMENTS = 10  # an application's materials: a form, a few certificates and statements


def _documents_checked(files: Sequence[UploadedFile], errors: dict[str, list[str]], *, held: int = 0) -> None:
    check_documents(files, errors, field="files", max_count=MAX_DOCUMENTS, held=held)


def _documents_stored(actor: Any, application: Application, files: Sequence[UploadedFile]) -> list[Any]:
    """Keep checked files as the application's materials, on the audit trail by name and digest; files written
    before a failure are taken away again."""
    saved: list[ApplicationDocument] = []
    with files_removed_on_failure(saved):
        for f in files:
            document = ApplicationDocument(application=application)
            saved.append(document)
            store_upload(document, f, default_name="material")
        record(
            "policy.application_documents_added",
            actor=actor,
            subject=application,
            payload={"files": [{"name": d.original_name, "sha256": d.sha256} for d in saved]},
            organization_id=application.organization_id,
        )
    return saved


@transaction.atomic
def application_submit(
    *, actor: Any, policy: Policy, organization_id: int, note: str = "", files: Sequence[UploadedFile] = ()
) -> Application:
    """A member organization's admin applies, once per policy, with its materials (`files`: PDF, PNG or JPEG,
    recognised from their bytes, at most MAX_DOCUMENTS); nothing is kept if the note or a file is wrong."""
    if not access.is_org_admin(actor, organization_id):
        raise Forbidden(_("Only the organization's admins apply for it."))
    # read again (not locked: a decision locks an application before its policy), so a closed policy takes none
    policy = Policy.objects.select_related("issuer").get(pk=policy.pk)
    if policy.auto_grant:
        raise ValidationFailed({"policy": [_("This benefit is granted without application.")]})
    if policy.status == Policy.Status.CLOSED:
        raise ValidationFailed({"policy": [_("The policy is closed: it takes no more applications.")]})
    if policy.status != Policy.Status.PUBLISHED:
        raise ValidationFailed({"policy": [_("The policy is not open.")]})
    if policy.ended:
        raise ValidationFailed({"policy": [_("The policy has ended.")]})
    if not policy.begun:
        raise ValidationFailed({"policy": [_("Applications open on %(day)s.") % {"day": policy.starts_on.isoformat()}]})
    if not covers(policy.region_scope or (), facts_for([organization_id]).get(organization_id, {})):
        raise ValidationFailed(
            {
                "organization": [
                    _("This policy applies only in its regions, and the organization is registered elsewhere.")
                ]
            }
        )
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if len(note) > 2000:
        errors["note"] = [_("At most %(max)d characters (has %(n)d).") % {"max": 2000, "n": len(note)}]
    _documents_checked(files, errors)
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction.atomic():
            application = Application.objects.create(policy=policy, organization_id=organization_id, note=note)
    except IntegrityError:
        raise Conflict(_("You have applied already."), errors={"policy": [_("Already applied.")]}) from None
    record("policy.applied", actor=actor, subject=application, organization_id=organization_id)
    saved = _documents_stored(actor, application, files) if files else []
    with files_removed_on_failure(saved):
        notify(
            access.organization_admins(policy.issuer_id),
            verb="policy.applied",
            text=Phrase(
                gettext_lazy("A new application for “%(title)s”."), title=Bilingual(policy.title_zh, policy.title_en)
            ),
            link=f"/policies/{policy.pk}/",
        )
    return application


@transaction.atomic
def application_documents_add(*, actor: Any, application: Application, files: Sequence[UploadedFile]) -> list[Any]:
    """The applicant's admins send more materials while the application waits for its decision (after it, the
    file stays as the agency decided on it); all or none are kept, and the agency is told."""
    application = Application.objects.select_for_update(of=("self",)).select_related("policy").get(pk=application.pk)
    if not access.is_org_admin(actor, application.organization_id):
        raise Forbidden(_("Only the organization's admins send its application's materials."))
    errors: dict[str, list[str]] = {}
    if application.status != Application.Status.SUBMITTED:
        errors["status"] = [_("The application is decided: its materials stay as they were when it was.")]
    if not files:
        errors["files"] = [_("Attach at least one file.")]
    _documents_checked(files, errors, held=application.documents.count())
    if errors:
        raise ValidationFailed(errors)
    saved = _documents_stored(actor, application, files)
    policy = application.policy
    with files_removed_on_failure(saved):
        notify(
            access.organization_admins(policy.issuer_id),
            verb="policy.application_documents",
            text=Phrase(
                ngettext_lazy(
                    "An applicant for “%(title)s” sent %(n)d more file.",
                    "An applicant for “%(title)s” sent %(n)d more files.",
                    "n",
                ),
                title=Bilingual(policy.title_zh, policy.title_en),
                n=len(saved),
            ),
            link=f"/policies/{policy.pk}/",
        )
    return saved


def _within_budget(policy: Policy, amount: Decimal, grants: int = 1) -> None:
    """Refuse grants beyond what the policy's budget has left (no budget: no limit). The policy row is locked, so
    that two decisions at once cannot both spend the last of it. A sum a formula reckons on a figure its member may
    withhold is not named: the refusal writes nothing, not even the access log's line (review 97)."""
    budget = Policy.objects.select_for_update().values_list("budget", flat=True).get(pk=policy.pk)
    if budget is None:
        return
    spent = Application.objects.filter(policy=policy, status=Application.Status.GRANTED).aggregate(s=Sum("amount"))["s"]
    left = budget - (spent or Decimal(0))
    if amount * grants > left:
        said = (
            _("The policy's budget has %(left)s yuan left, less than these grants come to.")
            if withheld_basis(policy.grant_basis)
            else _("The policy's budget has %(left)s yuan left, and this would grant %(total)s.")
        )
        raise ValidationFailed({"amount": [said % {"left": grouped(left), "total": grouped(amount * grants)}]})


def _log_grant(actor: Any, application: Application) -> None:
    entry, orgs, record = _grant_entry(actor, application)
    entries_append([(entry, orgs)], records=[record])


def _grant_entry(actor: Any, application: Application) -> tuple[Any, list[int], str]:
    policy = application.policy
    return entry_made(
        "policy.granted",
        actor=actor,
        acting_org=policy.issuer_id,
        subject=application,
        payload={
            "policy": policy.pk,
            "organization": application.organization_id,
            "amount": logged_amount(application, application.amount),
            "automatic": application.automatic,
            "rule": digest(policy.rule.encode()),
        },
        parties=[policy.issuer_id, application.organization_id],
    )


@transaction.atomic
def application_decide(
    *, actor: Any, application: Application, grant: bool, reason: str = "", amount: Any = None
) -> Application:
    """The agency grants (logged) or rejects (with a reason the member reads). The application is read again under
    its lock: of two decisions at once (a double click, two officers) the second finds it decided. The policy is
    locked first (as every write to it does) and its terms in force reckon the sum: a change of rate committed
    while the decision waited is the one paid (review 99). Before it, the agency's and the applicant's standing are
    held: a suspension of either committed while this waited is seen (review 114)."""
    policy = locked(
        application.policy,
        actor=actor,
        refusal=_("Only the issuing agency decides applications."),
        members=[application.organization_id],
    )
    application = (
        Application.objects.select_for_update(of=("self",)).select_related("organization").get(pk=application.pk)
    )
    application.policy = policy
    if application.status != Application.Status.SUBMITTED:
        raise ValidationFailed({"status": [_("This application is decided already.")]})
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise ValidationFailed(
            {"reason": [_("At most %(max)d characters (has %(n)d).") % {"max": 2000, "n": len(reason)}]}
        )
    if not grant and not reason:
        raise ValidationFailed({"reason": [_("Say why, for the applicant.")]})
    if grant:  # its standing, read under the lock `locked` holds: a suspension committed while this waited is seen
        _in_good_standing(application.organization)
    if grant and amount in (None, "") and policy.grant_basis:  # the formula's sum, where it reckons one
        amount = formula_amounts(actor, policy, [application.organization_id]).get(application.organization_id)
    application.amount = _amount(amount, policy) if grant else None
    if application.amount:
        _within_budget(policy, application.amount)
    application.status = Application.Status.GRANTED if grant else Application.Status.REJECTED
    application.reason, application.decided_at = reason, timezone.now()
    application.save()
    record(
        f"policy.{application.status}", actor=actor, subject=application, organization_id=application.organization_id
    )
    if grant:
        _log_grant(actor, application)
    notify(
        access.organization_admins(application.organization_id),
        verb=f"policy.{application.status}",
        text=Phrase(
            gettext_lazy("Your application for “%(title)s” was granted.")
            if grant
            else gettext_lazy("Your application for “%(title)s” was rejected: %(reason)s"),
            title=Bilingual(policy.title_zh, policy.title_en),
            reason=reason,
        ),
        link=f"/policies/{policy.pk}/",
    )
    return application


def _in_good_standing(organization: Any) -> None:
    """A grant goes to a member in good standing: one the operators suspended may be granted once reinstated (its
    application waits, or is rejected), one that left only rejected."""
    if organization.status in access.PUBLIC_ORG_STATUSES:
        return
    name = Bilingual(organization.name_zh, organization.name_en)
    if organization.status == organization.Status.SUSPENDED:
        said = _(
            "%(org)s is suspended by the platform's operators: it may be granted once reinstated, or rejected now."
        )
    else:
        said = _("%(org)s has left the platform: its application may only be rejected.")
    raise ValidationFailed({"organization": [said % {"org": name}]})


@transaction.atomic
def policy_grant_eligible(*, actor: Any, policy: Policy, amount: Any = None) -> int:
    """免申即享: grant the benefit to every eligible member that has none yet; returns how many. Under the policy's
    lock, on its terms in force, read once: two runs at once grant each member once, within the budget. The
    agency's standing and that of the members eligible when it began are held first (`locked`): a member suspended
    while this waited is granted nothing, one suspended after sees the grant, and an agency suspended meanwhile
    grants none."""
    ungranted = (
        PolicyMatch.objects.in_good_standing()
        .filter(policy=policy, eligible=True)
        .exclude(organization_id__in=Application.objects.filter(policy=policy).values("organization_id"))
    )
    held = list(ungranted.values_list("organization_id", flat=True))
    policy = locked(policy, actor=actor, refusal=_("Only the issuing agency grants its policy."), members=held)
    if not policy.auto_grant or policy.status != Policy.Status.PUBLISHED:
        raise ValidationFailed({"policy": [_("Only a published policy marked as benefit without application.")]})
    if policy.ended:
        raise ValidationFailed({"policy": [_("The policy has ended.")]})
    if not policy.begun:  # as applications: grants go on the log for good, so not before the period (review 47)
        raise ValidationFailed(
            {"policy": [_("Benefits are granted from %(day)s.") % {"day": policy.starts_on.isoformat()}]}
        )
    done = set(Application.objects.filter(policy=policy).values_list("organization_id", flat=True))
    # read again under the locks: a member suspended meanwhile is granted nothing, even where its match was kept
    # (`in_good_standing`); one eligible only since the first read, its standing not held, waits for the next run
    matches = PolicyMatch.objects.in_good_standing().filter(policy=policy, eligible=True, organization_id__in=held)
    eligible = list(matches.exclude(organization_id__in=done))
    amounts = _amounts(actor, policy, amount, [m.organization_id for m in eligible])
    eligible = [m for m in eligible if m.organization_id in amounts]  # a member the formula cannot reckon waits
    total = sum((a for a in amounts.values() if a), Decimal(0))
    if total:
        _within_budget(policy, total)
    now = timezone.now()
    count, entries = 0, []
    for match in eligible:
        application = Application.objects.create(
            policy=policy,
            organization_id=match.organization_id,
            status=Application.Status.GRANTED,
            amount=amounts[match.organization_id],
            automatic=True,
            decided_at=now,
        )
        entries.append(_grant_entry(actor, application))
        notify(
            access.organization_admins(match.organization_id),
            verb="policy.granted",
            text=Phrase(
                gettext_lazy("You receive “%(title)s” without applying."),
                title=Bilingual(policy.title_zh, policy.title_en),
            ),
            link=f"/policies/{policy.pk}/",
        )
        count += 1
    record(
        "policy.granted_eligible",
        actor=actor,
        subject=policy,
        # the agency's history is read by all its members: no sum that would tell a withheld figure (review 97)
        payload={"count": count, **({} if withheld_basis(policy.grant_basis) else {"total": str(total)})},
        organization_id=policy.issuer_id,
    )
    # all at once and last: the log's head, which every appender waits for, is held only until the commit
    entries_append([(e, orgs) for e, orgs, _r in entries], records=[r for _e, _o, r in entries])
    return count
