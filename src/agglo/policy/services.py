"""Writes of the policy app: draft and publish policies, and match them against the members."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.access import policy as access
from agglo.access.models import DailyQuota
from agglo.access.quotas import quota_consume, quota_refused
from agglo.access.ratelimit import RateLimited
from agglo.access.services import sensitive_views_record
from agglo.common.audit import record
from agglo.common.days import iso_day
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.lines import ONE_LINE, is_one_line
from agglo.common.numbers import grouped
from agglo.common.uploads import check_documents, store_upload
from agglo.common.versions import version_check
from agglo.ledger.entries import sealed
from agglo.ledger.services import work_key
from agglo.policy.facts import FACT_GROUPS, FACTS
from agglo.policy.grants import BASES, withheld_basis
from agglo.policy.matching import policy_match
from agglo.policy.models import Application, Policy, PolicyDocument, PolicyMatch
from agglo.policy.rule_errors import rule_error_text
from agglo.policy.rule_values import unknown_values
from agglo.policy.rules import Rule, RuleError, parse
from agglo.profiles.messages import date_fault
from agglo.registry.models import Organization, Region
from agglo.registry.services.standing import standing_held

FIELDS = (
    "kind",
    "title_zh",
    "title_en",
    "summary_zh",
    "summary_en",
    "region_scope",
    "starts_on",
    "ends_on",
    "budget",
    "rule",
    "auto_grant",
    "grant_basis",
    "grant_rate",
    "grant_cap",
)


def can_issue(actor: Any, issuer: Organization) -> bool:
    """Government agencies' admins publish policies (operators may help them)."""
    if issuer.kind != "government":
        return False
    return access.is_operator(actor) or access.is_org_admin(actor, issuer.pk)


def rule_of(text: str, *, stored: bool = False) -> Rule:
    """The parsed rule, or ValidationFailed naming the position and the reason. `stored`: the rule as saved before,
    held to the limits it was accepted under (a change of another field must not refuse it)."""
    try:
        return parse(text or "", FACTS, stored=stored)
    except RuleError as exc:
        raise ValidationFailed({"rule": [rule_error_text(exc)]}) from None


def yuan(raw: Any, field: str, errors: dict[str, list[str]]) -> Decimal | None:
    """An amount in yuan to the fen, as a budget or a grant column holds it (14 digits before the point); None when
    empty or wrong, the reason under `field` in `errors`."""
    if raw in (None, ""):
        return None
    try:
        amount = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        errors[field] = [_("Must be an amount in yuan, such as 50000.")]
    elif amount < 0:
        errors[field] = [_("Must be 0 or more.")]
    elif amount >= Decimal(10) ** 14:
        errors[field] = [_("Must be less than 100,000,000,000,000 yuan.")]
    elif amount != amount.quantize(Decimal("0.01")):
        errors[field] = [_("At most 2 decimal places (fen).")]
    else:
        return amount.quantize(Decimal("0.01"))
    return None


def _formula_clean(values: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """The grant formula (`grants.py`): a basis from BASES, a rate above 0 (a percentage of a sum of money, or yuan
    per unit of a count, to four decimals), and an optional cap in yuan; none of them without a basis."""
    basis = str(values.get("grant_basis") or "").strip()
    values["grant_basis"] = basis
    if basis and basis not in BASES:
        errors["grant_basis"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(BASES)}]
    raw = values.get("grant_rate")
    rate = None
    if raw not in (None, ""):
        try:
            rate = Decimal(str(raw).strip().replace(",", ""))
        except InvalidOperation:
            rate = None
        if rate is None or not rate.is_finite() or rate <= 0 or rate >= Decimal(10) ** 9:
            errors["grant_rate"] = [_("Must be a number above 0, such as 10 (percent) or 5000 (yuan a unit).")]
            rate = None
        elif rate != rate.quantize(Decimal("0.0001")):
            errors["grant_rate"] = [_("At most 4 decimal places.")]
            rate = None
    values["grant_rate"] = rate
    values["grant_cap"] = yuan(values.get("grant_cap"), "grant_cap", errors)
    if basis and rate is None and "grant_rate" not in errors:
        errors["grant_rate"] = [_("Required with a basis: the percentage, or the yuan a unit, that each grant pays.")]
    if not basis and (raw not in (None, "") or values["grant_cap"] is not None):
        errors["grant_basis"] = [_("Choose what the rate and the cap apply to, or leave them empty.")]


def _clean(data: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    unknown = sorted(set(data) - set(FIELDS))
    errors: dict[str, list[str]] = {name: [_("Unknown field.")] for name in unknown}
    values = {**(current or {}), **{k: v for k, v in data.items() if k in FIELDS}}
    if values.get("kind") not in Policy.Kind.values:
        errors["kind"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(Policy.Kind.values)}]
    for name in ("title_zh", "title_en"):
        values[name] = str(values.get(name) or "").strip()
        if len(values[name]) > 200:
            errors[name] = [_("At most 200 characters.")]
        elif not is_one_line(values[name]):
            errors[name] = [str(ONE_LINE)]
    if not values["title_zh"] and not values["title_en"]:
        errors["title_zh"] = [_("Give a title in Chinese or English.")]
    for name in ("summary_zh", "summary_en"):
        values[name] = str(values.get(name) or "").strip()
        if len(values[name]) > 5000:  # said, not cut: a cut summary would read as whole
            errors[name] = [_("At most %(max)d characters (has %(n)d).") % {"max": 5000, "n": len(values[name])}]
    for name in ("starts_on", "ends_on"):
        raw = values.get(name)
        if raw in (None, "") and name == "ends_on":
            values[name] = None
            continue
        if raw in (None, ""):
            errors[name] = [_("This field is required.")]
            continue
        values[name] = iso_day(raw)
        if values[name] is None:
            errors[name] = [date_fault(raw)]
    start, end = values.get("starts_on"), values.get("ends_on")
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        errors["ends_on"] = [_("Must not be before the start.")]
    values["budget"] = yuan(values.get("budget"), "budget", errors)
    _formula_clean(values, errors)
    scope = values.get("region_scope") or []
    if isinstance(scope, str):
        scope = [c.strip() for c in scope.replace("，", ",").split(",") if c.strip()]
    known = set(Region.objects.filter(code__in=scope).values_list("code", flat=True))
    if set(scope) - known:
        errors["region_scope"] = [
            _("Unknown region codes: %(codes)s.") % {"codes": ", ".join(sorted(set(scope) - known))}
        ]
    values["region_scope"] = sorted(set(scope))
    values["auto_grant"] = bool(values.get("auto_grant"))
    try:
        text = str(values.get("rule") or "")
        # the rule as saved, sent back by a form (whose text box ends lines with \r\n): read as it was accepted
        saved = str((current or {}).get("rule") or "")
        stored = current is not None and text.replace("\r\n", "\n") == saved.replace("\r\n", "\n")
        rule = rule_of(text, stored=stored)
        values["rule"] = rule.text
        if not stored and (unknown := unknown_values(rule)):  # a rule saved before is not refused for them now
            errors["rule"] = unknown
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return values


@transaction.atomic
def policy_create(*, actor: Any, issuer: Organization, data: Mapping[str, Any]) -> Policy:
    """Draft a policy for a government agency; nothing is saved if any field or the rule is wrong."""
    if not can_issue(actor, issuer):
        raise Forbidden(_("Only a government agency's admins publish its policies."))
    policy = Policy.objects.create(issuer=issuer, **_clean(data))
    record("policy.created", actor=actor, subject=policy, payload={"rule": policy.rule}, organization_id=issuer.pk)
    return policy


class _OverLimit(Exception):
    """A matching refused at the day's limit: raised inside the write's transaction so that it rolls back, and
    turned into the field error by `_refusal_told` outside it."""

    def __init__(self, error: ValidationFailed) -> None:
        super().__init__(error.message)
        self.error = error


def _matching_counted(actor: Any, field: str) -> None:
    """Count one matching of the members against a new rule (a publication, or a published rule changed) towards
    the user's daily limit. Whether a member matches is what an agency reads, also where the member keeps the
    figure from it; a rule changed again and again would narrow that figure down. Called last, so that a refused
    write and its count roll back together."""
    try:
        quota_consume(actor=actor, kind=DailyQuota.Kind.POLICY_MATCH)
    except RateLimited:
        text = _(
            "You have matched rules against the members %(limit)d times today, the daily limit; try again tomorrow."
        )
        text %= {"limit": settings.AGGLO_DAILY_LIMITS[DailyQuota.Kind.POLICY_MATCH]}
        raise _OverLimit(ValidationFailed({field: [text]}, text)) from None


P = ParamSpec("P")
R = TypeVar("R")


def _refusal_told(write: Callable[P, R]) -> Callable[P, R]:
    """Around a transaction that may count a matching: once a refusal at the limit has rolled it back, the
    operators are alerted (what the refused write recorded went with it) and the field error is raised."""

    @functools.wraps(write)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return write(*args, **kwargs)
        except _OverLimit as refused:
            quota_refused(actor=kwargs["actor"], kind=DailyQuota.Kind.POLICY_MATCH)
            raise refused.error from None

    return run


def locked(policy: Policy, *, actor: Any, refusal: str, members: Iterable[int] = ()) -> Policy:
    """The policy read again under its row lock: a write checks and uses the terms in force, not those of a copy
    read before someone else's edit, publication or closing. First the issuer's standing is held, with that of the
    `members` a grant goes to, in one sweep (`standing_held`): of the write and a change of standing, the later
    sees the other's result. Only the policy's row is locked after: its issuer's too, a full lock taken after the
    members' standing, deadlocked with a member accepting the agency's response (review 114). The actor's rights
    are checked before any lock (one without them holds nobody's rows) and again under the locks, refused with
    `refusal`."""
    if not can_issue(actor, policy.issuer):
        raise Forbidden(refusal)
    standing_held([policy.issuer_id, *members], actor=actor)
    policy = Policy.objects.select_for_update(of=("self",)).select_related("issuer").get(pk=policy.pk)
    if not can_issue(actor, policy.issuer):  # a right or an agency's standing lost while this waited
        raise Forbidden(refusal)
    return policy


@_refusal_told
@transaction.atomic
def policy_update(*, actor: Any, policy: Policy, data: Mapping[str, Any], if_match: str | None = None) -> Policy:
    """Change a policy's terms (the fields given). Read again under its lock, so that a copy read before someone
    published or closed it neither reverts that nor changes a closed policy. A published policy is matched again,
    and the members it newly makes eligible (or near misses) are told, as on publishing. `if_match`: the version
    the caller read (`common.versions`); one changed since is not changed."""
    policy = locked(policy, actor=actor, refusal=_("Only a government agency's admins publish its policies."))
    version_check(policy, if_match)
    if policy.status == Policy.Status.CLOSED:
        raise ValidationFailed({"status": [_("A closed policy cannot be changed.")]})
    values = _clean(data, {name: getattr(policy, name) for name in FIELDS})
    granted = Application.objects.filter(policy=policy, status=Application.Status.GRANTED).aggregate(s=Sum("amount"))
    if values["budget"] is not None and granted["s"] and values["budget"] < granted["s"]:
        raise ValidationFailed(
            {
                "budget": [
                    _("Must not be below the %(granted)s yuan already granted.") % {"granted": grouped(granted["s"])}
                ]
            }
        )
    if all(values[name] == getattr(policy, name) for name in FIELDS):
        return policy  # nothing changed: no write, no new version, no matching (review 92)
    # the same rule laid out otherwise (a form sends its line breaks as \r\n) is no new matching
    if policy.status == Policy.Status.PUBLISHED and values["rule"].split() != policy.rule.split():
        _matching_counted(actor, "rule")
    for name, value in values.items():
        setattr(policy, name, value)
    policy.save(update_fields=[*FIELDS, "updated_at"])
    record(
        "policy.updated", actor=actor, subject=policy, payload={"rule": policy.rule}, organization_id=policy.issuer_id
    )
    if policy.status == Policy.Status.PUBLISHED:
        # an ended policy is matched again for the record, but nobody is told of what they can no longer get
        policy_match(policy, tell=not policy.ended)
    return policy


@_refusal_told
@transaction.atomic
def policy_publish(*, actor: Any, policy: Policy) -> Policy:
    """Publish, then find every eligible member and the near misses by the rule in force, and tell them; once,
    even from two pages."""
    policy = locked(policy, actor=actor, refusal=_("Only a government agency's admins publish its policies."))
    if policy.status != Policy.Status.DRAFT:
        raise ValidationFailed({"status": [_("Only a draft can be published.")]})
    if policy.ended:  # members would be told of what they cannot get
        raise ValidationFailed(
            {"ends_on": [_("The policy ended on %(date)s: change its end date first.") % {"date": policy.ends_on}]}
        )
    _matching_counted(actor, "status")
    policy.status, policy.published_at = Policy.Status.PUBLISHED, timezone.now()
    policy.save(update_fields=["status", "published_at", "updated_at"])
    record("policy.published", actor=actor, subject=policy, organization_id=policy.issuer_id)
    policy_match(policy, tell=True)
    return policy


@transaction.atomic
def policy_close(*, actor: Any, policy: Policy) -> Policy:
    """Close a published policy before its end date (its budget spent, or withdrawn): it takes no applications or
    grants to every eligible member any more, is matched no more and cannot be changed; applications already in
    are still decided, and the grants stay listed (policy review 58 M4)."""
    policy = locked(policy, actor=actor, refusal=_("Only a government agency's admins close its policies."))
    if policy.status != Policy.Status.PUBLISHED:
        raise ValidationFailed({"status": [_("Only a published policy can be closed.")]})
    policy.status = Policy.Status.CLOSED
    policy.save(update_fields=["status", "updated_at"])
    record("policy.closed", actor=actor, subject=policy, organization_id=policy.issuer_id)
    return policy


MAX_DOCUMENTS = 10


@transaction.atomic
def policy_documents_add(*, actor: Any, policy: Policy, files: Sequence[UploadedFile]) -> list[PolicyDocument]:
    """The agency attaches files (PDF, PNG or JPEG, recognised from their bytes); all or none are kept."""
    if not can_issue(actor, policy.issuer):
        raise Forbidden(_("Only a government agency's admins publish its policies."))
    errors: dict[str, list[str]] = {}
    if policy.status == Policy.Status.CLOSED:
        errors["status"] = [_("A closed policy cannot be changed.")]
    if not files:
        errors["files"] = [_("Attach at least one file.")]
    check_documents(files, errors, field="files", max_count=MAX_DOCUMENTS, held=policy.documents.count())
    if errors:
        raise ValidationFailed(errors)
    saved = [store_upload(PolicyDocument(policy=policy), f, default_name="document") for f in files]
    record(
        "policy.documents_added",
        actor=actor,
        subject=policy,
        payload={"files": [{"name": d.original_name, "sha256": d.sha256} for d in saved]},
        organization_id=policy.issuer_id,
    )
    return saved


@transaction.atomic
def policy_document_remove(*, actor: Any, document: PolicyDocument) -> None:
    policy = document.policy
    if not can_issue(actor, policy.issuer):
        raise Forbidden(_("Only a government agency's admins publish its policies."))
    if policy.status == Policy.Status.CLOSED:
        raise ValidationFailed({"status": [_("A closed policy cannot be changed.")]})
    record(
        "policy.document_removed",
        actor=actor,
        subject=policy,
        payload={"name": document.original_name, "sha256": document.sha256},
        organization_id=policy.issuer_id,
    )
    document.file.delete(save=False)
    document.delete()


def matches_viewed(*, viewer: Any, matches: Sequence[PolicyMatch], channel: str, missing_only: bool = False) -> None:
    """Write to each member's access log the sensitive groups whose values a list of matches gave the viewer
    (`selectors.explain`; `missing_only`: only those beside a clause the member misses, all a page prints), and
    those whose clauses' outcomes it gave with their figures withheld. The member's own people are not logged."""
    given = "disclosed_missing" if missing_only else "disclosed"
    for group in sorted(set(FACT_GROUPS.values())):
        owners = [m.organization_id for m in matches if group in getattr(m, given, ())]
        sensitive_views_record(viewer=viewer, owner_ids=owners, groups=[group], channel=channel)
        # whether a clause holds, the figure withheld, is shown for every row: a threshold moved again and again
        # would narrow the figure down, so the member sees each time it was read (policy review 58 H2)
        screened = [m.organization_id for m in matches if group in getattr(m, "screened", ())]
        sensitive_views_record(viewer=viewer, owner_ids=screened, groups=[group], channel="screened")


def logged_amount(application: Application, amount: Decimal | None) -> str | None:
    """A sum of the application's as the public log holds it: in the clear, or sealed under the application's key
    where the policy reckons it on a figure its member may withhold (`grants.withheld_basis`): the formula is
    public, so the sum would tell the figure to anyone, for good."""
    if amount is None:
        return None
    # sealed once, sealed always: a formula dropped or changed later does not unseal the grant's payments (review 97)
    if withheld_basis(application.policy.grant_basis) or application.text_key:
        return sealed(f"amount:{amount}", work_key(application))
    return str(amount)
