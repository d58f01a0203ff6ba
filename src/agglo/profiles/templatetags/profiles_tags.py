"""Small display helpers for the profile pages."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from django import template
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy, pgettext_lazy

from agglo.access.selectors import public_name
from agglo.profiles.messages import FIELD_LABELS, label, word_stored
from agglo.profiles.models import Source
from agglo.registry.models.bilingual import in_language

register = template.Library()


@register.filter
def yuan(value: Any) -> str:
    """An amount in CNY yuan shown in 10k yuan (万元), the unit Chinese statements use."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value) / 10000:,.2f}"


@register.filter
def public(user: Any) -> str:
    """A person as other members read them: their platform role or organization, not their login."""
    return public_name(user)


@register.filter
def percent(value: Any) -> str:
    return "—" if value is None else f"{Decimal(value) * 100:.1f}%"


@register.filter
def field_label(name: str) -> str:
    """A changed field's name as the forms label it: facts' fields, then the profile's own."""
    from agglo.registry.forms import OrganizationEditForm

    if name in FIELD_LABELS:
        return label(name)
    if name in FIELD_EXTRA:
        return str(FIELD_EXTRA[name])
    field = OrganizationEditForm.base_fields.get(name)
    return str(field.label) if field is not None else name


# fields other records name in the history (a listing answered, the cooperation proposed)
FIELD_EXTRA = {
    "file": gettext_lazy("From the file"),
    "was": gettext_lazy("Before"),
    "process": gettext_lazy("Process"),
    "listing": gettext_lazy("Listing"),
    "cooperation": gettext_lazy("Kind of cooperation"),
    "subkind": gettext_lazy("Subtype"),
    # the facts of log entries (ledger/mine), by the names the entries give them
    "owner": gettext_lazy("Listing owner"),
    "terms": gettext_lazy("Terms"),
    "case": gettext_lazy("Case"),
    "lead": gettext_lazy("Lead organization"),
    "input": gettext_lazy("Input"),
    "policy": gettext_lazy("Policy"),
    "amount": gettext_lazy("Amount (yuan)"),
    "automatic": gettext_lazy("Without application"),
    "rule": gettext_lazy("Eligibility rule"),
    "decision": gettext_lazy("Decision"),
    "order": gettext_lazy("Order"),
    "buyer": gettext_lazy("Buyer"),
    "factory": gettext_lazy("Factory"),
    "upheld": gettext_lazy("Upheld"),
    "ruling": gettext_lazy("Reasons for the ruling"),
    "listing_closed": gettext_lazy("Because the listing was closed"),
    "responder_left": gettext_lazy("Because the responder left the platform"),
    "organization_left": gettext_lazy("Because its organization left the platform"),
    "target": gettext_lazy("Organization it names"),
    "by_target": gettext_lazy("Taken down by the organization it names"),
    # a status change's (a member suspended, withdrawn or reinstated), recorded as plain values
    "before": gettext_lazy("Before"),
    "after": gettext_lazy("After"),
    "reason": gettext_lazy("Reason"),
    # a record the periodic check of standing left (`agglo sweep_standing`), for a change made around the services
    "swept": gettext_lazy("Found by the periodic check of standing"),
}


@register.filter
def field_value(value: Any) -> str:
    """A history value as a reader reads it: lists joined, yes or no, a dash for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(gettext_lazy("yes") if value else gettext_lazy("no"))
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def _model_of(event: str) -> Any:
    """The model an event's record is of ("market.listing_created" → Listing), where there is one."""
    from django.apps import apps

    from agglo.profiles.kinds import KINDS

    app, _dot, name = event.partition(".")
    subject = next((s for s in sorted(SUBJECTS, key=len, reverse=True) if name.startswith(s + "_")), "")
    if app == "profiles" and subject in KINDS:  # a fact's kind names its model: "ip" is IPAsset
        return KINDS[subject].model
    try:
        return apps.get_model(app, subject) if subject else None
    except (LookupError, ValueError):
        return None


def _model_field(event: str, name: str) -> Any:
    model = _model_of(event)
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - not a field of that model (FieldDoesNotExist), or a relation's reverse side
        return None


@register.simple_tag
def history_field(event: str, name: str) -> str:
    """A changed field's name in an event: as the facts' and the profile's forms label it, else as the event's own
    record (a listing, an interest, a case) names it."""
    if name in FIELD_LABELS or name in FIELD_EXTRA:
        return capfirst(field_label(name))
    field = _model_field(event, name)
    if field is not None and getattr(field, "verbose_name", None):
        return capfirst(str(field.verbose_name))
    return capfirst(field_label(name))


# why an order was planned (again), as its history says it (`factory.services.replan`'s reasons)
PLAN_REASONS = {
    "plan": gettext_lazy("planned by the buyer"),
    "amended": gettext_lazy("the buyer changed the terms"),
    "counter": gettext_lazy("a counter-offer was taken"),
    "declined": gettext_lazy("a factory declined its part"),
    "delayed": gettext_lazy("a factory reported a delay"),
    "expired": gettext_lazy("an offer was not answered in time"),
    "withdrawn": gettext_lazy("a factory gave back accepted work"),
    "left": gettext_lazy("a factory was suspended or left the platform"),
}
# what an event keeps for the platform, not for its readers (the solver's objective is a number in fen)
UNSHOWN = {"factory.order_planned": frozenset({"objective"})}


@functools.lru_cache(maxsize=64)
def _process_names(code: str) -> tuple[str, str]:
    """A factory process's names (Chinese, English) by its code; the catalogue is fixed, so kept per process."""
    from django.apps import apps

    found = apps.get_model("factory", "Process").objects.filter(code=code).values_list("name_zh", "name_en").first()
    return found or (code, code)


@register.filter
def diffed(entry: Any) -> bool:
    """Whether an entry records fields before and after (shown as a change of each), not one value changed."""
    return any(isinstance(entry.payload.get(side), dict) for side in ("before", "after"))


@register.filter
def shown_items(entry: Any) -> list[tuple[str, Any]]:
    """A history entry's facts a reader is shown, with a value."""
    hidden = UNSHOWN.get(entry.event, frozenset())
    return [(k, v) for k, v in entry.payload.items() if k not in hidden and v != "" and v is not None]


@register.simple_tag
def history_value(entry: Any, name: str, value: Any) -> str:
    """A value in a history entry as a reader reads it: a choice by its label, files by their names, another
    organization by its name (`entry.org_names`, gathered by the selector in one query)."""
    event = entry.event
    if event == "factory.order_planned" and name == "reason" and value in PLAN_REASONS:
        return str(PLAN_REASONS[value])
    if event.startswith("factory.") and name == "process" and isinstance(value, str):
        return in_language(*_process_names(value))
    if isinstance(value, list | tuple) and value and all(isinstance(v, dict) and "name" in v for v in value):
        return ", ".join(str(v["name"]) for v in value)
    if isinstance(value, dict) and "name" in value:
        return str(value["name"])
    if name in ("organization", "rated", "rater") and isinstance(value, int):  # an organization by its name
        return str(getattr(entry, "org_names", {}).get(value, value))
    # a status change recorded as plain values ("suspended" → "member"), worded as the record's status is
    field = _model_field(event, "status" if name in ("before", "after") and isinstance(value, str) else name)
    choices = dict(field.flatchoices) if field is not None and getattr(field, "choices", None) else {}
    if not choices and name in ("role", "input_kind"):  # a case participant's, on the case's events
        from agglo.profiles.models import CaseParticipant

        choices = dict(CaseParticipant._meta.get_field(name).flatchoices)
    if name == "source":
        choices = dict(Source.choices)
    elif name == "visibility" and not choices:
        from agglo.profiles.models.disclosure import VISIBILITY_CHOICES

        choices = dict(VISIBILITY_CHOICES)
    if choices and isinstance(value, str) and value in choices:
        return str(choices[value])
    if choices and isinstance(value, list | tuple):
        return ", ".join(str(choices.get(v, v)) for v in value) or "—"
    return field_value(value)


@register.filter
def attr(obj: Any, name: str) -> Any:
    return getattr(obj, name, None)


@register.filter
def worded(warnings: list[dict[str, Any]]) -> list[str]:
    """A record's warnings, each after the field it is about (a list of records shows no form to point at)."""
    return [
        str(gettext_lazy("%(field)s: %(message)s")) % {"field": capfirst(label(w["field"])), "message": word_stored(w)}
        if w.get("field") in FIELD_LABELS
        else word_stored(w)
        for w in warnings or []
    ]


@register.inclusion_tag("profiles/partials/provenance.html")
def provenance(fact: Any) -> dict[str, Any]:
    return {"fact": fact, "source_label": dict(Source.choices).get(fact.source, fact.source)}


SUBJECTS = {
    "financials": gettext_lazy("Financial statement"),
    "ratings": gettext_lazy("Credit rating"),
    "ip": gettext_lazy("IP asset"),
    "capabilities": gettext_lazy("Capability"),
    "case": gettext_lazy("Case"),
    "organization": gettext_lazy("Profile"),
    "position": gettext_lazy("Chain position"),
    "relation": gettext_lazy("Relation"),
    "disclosure": gettext_lazy("Disclosure"),
    "reminder": gettext_lazy("Reminder"),
    "demo": gettext_lazy("Demo data"),
    # the virtual factory's events
    "capability": gettext_lazy("Production capability"),
    "capacity": gettext_lazy("Capacity calendar"),
    "allocation": gettext_lazy("Job"),
    "order": gettext_lazy("Order"),
    # the market's and the policy desk's events on the organization's record
    "interest": gettext_lazy("Interest"),
    "listing": gettext_lazy("Listing"),
    "need": gettext_lazy("Policy need"),
    "admission": gettext_lazy("Admission"),
}
ACTIONS = {
    "created": gettext_lazy("created"),
    "updated": gettext_lazy("changed"),
    "changed": gettext_lazy("changed"),
    "deleted": gettext_lazy("deleted"),
    "imported": gettext_lazy("imported"),
    "verified": gettext_lazy("verified"),
    "evidence_added": gettext_lazy("evidence attached"),
    "evidence_removed": gettext_lazy("evidence removed"),
    "marked_audited": gettext_lazy("marked audited by its owner"),
    "audited_mark_dropped": gettext_lazy("audited mark dropped (no file left)"),
    "added": gettext_lazy("added"),
    "removed": gettext_lazy("removed"),
    "status_changed": gettext_lazy("status changed"),
    "participant_added": gettext_lazy("participant added"),
    "participant_confirmed": gettext_lazy("participation confirmed"),
    "participation_confirmed": gettext_lazy("participation confirmed"),
    "input_changed": gettext_lazy("input changed"),
    "rated": gettext_lazy("rated"),
    "sent": gettext_lazy("sent"),
    "loaded": gettext_lazy("loaded"),
    "declared": gettext_lazy("declared"),
    "saved": gettext_lazy("changed"),
    "set": gettext_lazy("week set"),
    "accepted": gettext_lazy("accepted"),
    "declined": gettext_lazy("declined"),
    "countered": gettext_lazy("counter-offered"),
    "counter_taken": gettext_lazy("counter-offer taken"),
    "withdrawn": gettext_lazy("withdrawn"),
    "delayed": gettext_lazy("reported late"),
    "progress": gettext_lazy("progress reported"),
    "delivered": gettext_lazy("delivered"),
    "received": gettext_lazy("receipt confirmed"),
    "disputed": gettext_lazy("delivery disputed"),
    "dispute_answered": gettext_lazy("dispute answered"),
    "dispute_referred": gettext_lazy("dispute referred to the platform"),
    "dispute_ruled": gettext_lazy("dispute ruled on by the platform"),
    "planned": gettext_lazy("planned"),
    "amended": gettext_lazy("terms changed"),
    "cancelled": gettext_lazy("cancelled"),
    "called_off": gettext_lazy("called off (its buyer left the platform)"),
    "reduced": gettext_lazy("reduced by a re-plan"),
    "unsolved": gettext_lazy("not re-planned in time"),
    "infeasible": gettext_lazy("found infeasible"),
    "expressed": gettext_lazy("expressed"),
    "submit": gettext_lazy("submitted"),
    "expire": gettext_lazy("expired"),
    "renew": gettext_lazy("renewed"),
    "close": gettext_lazy("closed"),
    "approve": gettext_lazy("approved"),
    "approved": gettext_lazy("approved"),
    "rejected": gettext_lazy("rejected"),
    "info_requested": gettext_lazy("more information asked for"),
    "submitted": gettext_lazy("submitted"),
    "send_back": gettext_lazy("sent back"),
    "filed": pgettext_lazy("a need filed with the government", "filed"),  # not a patent's filing (申请)
    "answered": gettext_lazy("answered"),
    "documents_added": gettext_lazy("files attached"),
    "document_removed": gettext_lazy("file removed"),
}
# events whose name carries no subject
WHOLE_EVENTS = {
    "policy.applied": gettext_lazy("Policy · applied"),
    "policy.granted": gettext_lazy("Policy · granted"),
    "policy.paid": gettext_lazy("Policy · paid"),
    "policy.rejected": gettext_lazy("Policy · rejected"),
    "policy.created": gettext_lazy("Policy · created"),
    "policy.published": gettext_lazy("Policy · published"),
    "policy.closed": gettext_lazy("Policy · closed"),
    "policy.documents_added": gettext_lazy("Policy · files attached"),
    "policy.document_removed": gettext_lazy("Policy · file removed"),
    "policy.application_documents_added": gettext_lazy("Policy · files attached to an application"),
    "policy.granted_eligible": gettext_lazy("Policy · granted without application"),
    "access.daily_limit_exceeded": gettext_lazy("Access · daily limit of reads reached"),
    "access.invited": gettext_lazy("People · invited"),
    "access.invitation_accepted": gettext_lazy("People · invitation accepted"),
    "access.invitation_revoked": gettext_lazy("People · invitation withdrawn"),
    "access.member_left": gettext_lazy("People · member left"),
    "access.member_removed": gettext_lazy("People · member removed"),
    "access.member_role_changed": gettext_lazy("People · role changed"),
    "access.node_registered": gettext_lazy("Node · registered"),
    "access.node_revoked": gettext_lazy("Node · revoked"),
    "access.node_key_added": gettext_lazy("Node · key added"),
    "access.node_key_revoked": gettext_lazy("Node · key revoked"),
    "access.password_changed": gettext_lazy("Account · password changed"),
    "access.password_reset": gettext_lazy("Account · password reset"),
    "access.token_created": gettext_lazy("API token · created"),
    "access.token_revoked": gettext_lazy("API token · revoked"),
    "access.totp_enrolled": gettext_lazy("Account · two-factor login set up"),
    "access.totp_reset": gettext_lazy("Account · two-factor login reset"),
    "factory.offers_expired": gettext_lazy("Job · offers expired unanswered"),
    "factory.factories_left": gettext_lazy("Job · work of factories no longer members taken back"),
    "ledger.witness_registered": gettext_lazy("Transparency log · witness registered"),
    "registry.chain_link_added": gettext_lazy("Industry chain · link added"),
    "registry.organization_status_changed": gettext_lazy("Membership · status changed"),
}


@register.filter
def event_label(event: str) -> str:
    """ "profiles.financials_updated" → "Financial statement · changed", in the user's language."""
    if event in WHOLE_EVENTS:
        return str(WHOLE_EVENTS[event])
    name = event.split(".", 1)[-1]
    for subject, subject_label in SUBJECTS.items():
        if name.startswith(subject + "_"):
            action = name[len(subject) + 1 :]
            return f"{subject_label} · {ACTIONS.get(action, action)}"
    return str(ACTIONS.get(name, name))


@register.filter
def role_labels(roles: str) -> list[str]:
    """An access-log entry's platform roles ("auditor,government") in the reader's language."""
    from agglo.access.models import PlatformRole

    names = dict(PlatformRole.Role.choices)
    return [str(names.get(r, r)) for r in (roles or "").split(",") if r]


@register.filter
def level_label(level: str) -> str:
    """A visibility level in the user's language."""
    from agglo.profiles.models.disclosure import VISIBILITY_CHOICES

    return str(dict(VISIBILITY_CHOICES).get(level, level))


@register.filter
def subject_label(ref: str) -> str:
    """A log entry's subject ("market.interest:2") as a reader names it ("Interest #2"); a sealed one as it is."""
    kind, _colon, pk = str(ref).partition(":")
    app, _dot, model = kind.partition(".")
    if not pk or not model or kind.startswith("hmac-sha256"):
        return str(ref)
    from django.apps import apps

    named = SUBJECTS.get(model)
    if named is None:
        try:
            named = capfirst(apps.get_model(app, model)._meta.verbose_name)
        except (LookupError, ValueError):
            return str(ref)
    return f"{named} #{pk}"


@register.filter
def breakable(text: str) -> str:
    """Code that may wrap only after its dots and colons ("market.interest:2"), not in the middle of a word."""
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    return mark_safe(escape(str(text)).replace(".", ".<wbr>").replace(":", ":<wbr>"))  # noqa: S308 - escaped above
