"""Admission (准入): apply, review (approve / reject / ask for more), and the applicant's answers."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.access.models import Membership
from agglo.common.audit import record
from agglo.common.errors import Conflict, Forbidden, ValidationFailed
from agglo.common.language import Phrase, language_remember, language_valid
from agglo.common.notify import notify
from agglo.common.uploads import check_documents, kept_name, sniff
from agglo.ledger.entries import sealed
from agglo.ledger.services import entry_append, work_key
from agglo.registry import search_index
from agglo.registry.accounts import email_in_use
from agglo.registry.dedupe import name_similarity
from agglo.registry.models import Admission, AdmissionDocument, AdmissionEvent, Organization
from agglo.registry.validation import STATUS_RULE, clean_organization

MAX_DOCUMENTS = 5
# The fields an application carries, as the form and the API receive them.
APPLICATION_ORG_FIELDS = (
    "name_zh",
    "name_en",
    "kind",
    "region",
    "uscc",
    "foreign_registry_id",
    "founded_year",
    "headcount",
    "website",
    "description",
    "tags",
)
APPLICATION_CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone")
OPEN = (Admission.Status.SUBMITTED, Admission.Status.NEEDS_INFO)


def _check_documents(documents: Sequence[UploadedFile], errors: dict[str, list[str]], *, required: bool) -> None:
    if required and not documents:
        errors["documents"] = [_("Attach at least one document, such as the business licence.")]
    check_documents(documents, errors, max_count=MAX_DOCUMENTS)


def _contact(data: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, str]:
    out = {}
    for field, limit, required in (
        ("contact_name", 100, True),
        ("contact_email", 254, True),
        ("contact_phone", 40, False),
    ):
        value = data.get(field) or ""
        if not isinstance(value, str):
            errors[field] = [_("Must be text.")]
            continue
        value = value.strip()
        if required and not value:
            errors[field] = [_("This field is required.")]
        elif len(value) > limit:
            errors[field] = [_("At most %(max)d characters (has %(n)d).") % {"max": limit, "n": len(value)}]
        out[field] = value
    if out.get("contact_email") and "contact_email" not in errors:
        try:
            validate_email(out["contact_email"])
            out["contact_email"] = out["contact_email"].lower()
        except ValidationError:
            errors["contact_email"] = [_("Enter a valid email address.")]
    # The e-mail becomes the admin's login, so it must not hand an existing account to someone else. The public
    # form does not say whether an address has an account or an open application (anyone could test addresses
    # with it; review 49 F6): the operator is told on the review page and approval is refused (`email_in_use`).
    return out


def possible_duplicates(org: Organization) -> list[dict[str, Any]]:
    """Other organizations with the same credit code or a near-identical name in the same region."""
    flags: list[dict[str, Any]] = []
    if org.uscc:
        for other in Organization.objects.filter(uscc=org.uscc).exclude(pk=org.pk).only("id", "name_zh"):
            flags.append({"organization": other.pk, "name": other.name_zh, "reason": "same_code", "similarity": 1.0})
    nearby = Organization.objects.filter(region_id=org.region_id).exclude(pk=org.pk).only("id", "name_zh", "name_en")
    for other in nearby.iterator(2000):
        zh = name_similarity(org.name_zh, other.name_zh)
        en = name_similarity(org.name_en, other.name_en) if org.name_en and other.name_en else 0.0
        score = max(zh, en)
        if score >= 0.88 and all(f["organization"] != other.pk for f in flags):
            flags.append(
                {
                    "organization": other.pk,
                    "name": other.name_zh,
                    "reason": "similar_name",
                    "similarity": round(score, 3),
                    # which names are alike: two different Chinese names may share an English one
                    "matched": "zh" if zh >= en else "en",
                    "matched_name": other.name_zh if zh >= en else other.name_en,
                }
            )
    return flags


def admission_apply(
    *,
    actor: Any,
    organization: dict[str, Any],
    contact: dict[str, Any],
    password: str,
    message: str = "",
    documents: Sequence[UploadedFile] = (),
) -> Admission:
    """Submit an application: validates everything first, then writes the applicant organization and files."""
    errors, org_fields, contact_fields = admission_check(
        organization=organization, contact=contact, password=password, message=message, documents=documents
    )
    if errors:
        raise ValidationFailed(errors)
    saved_files: list[str] = []
    try:
        return _apply(actor, org_fields, contact_fields, password, message or "", documents, saved_files)
    except Exception:
        from django.core.files.storage import default_storage

        for name in saved_files:  # nothing half-saved: files of a rolled-back application go too
            default_storage.delete(name)
        raise


def admission_check(
    *,
    organization: dict[str, Any],
    contact: dict[str, Any],
    password: str,
    message: str = "",
    documents: Sequence[UploadedFile] = (),
) -> tuple[dict[str, list[str]], dict[str, Any], dict[str, Any]]:
    """Every rule an application must meet, writing nothing: (errors by field, the organization's and the
    contact's cleaned fields). The form page asks it too when its own checks fail, so that one answer names every
    problem."""
    errors: dict[str, list[str]] = {}
    try:
        org_fields = clean_organization(organization)
    except ValidationFailed as exc:
        org_fields = {}
        errors.update(exc.errors)
    contact_fields = _contact(contact, errors)
    if not isinstance(password, str) or not password:
        errors["password"] = [_("Choose a password for the organization's admin account.")]
    else:
        # checked against the account it will open (the login is the contact's e-mail), as a reset would be
        account = get_user_model()(
            username=contact_fields.get("contact_email", ""),
            email=contact_fields.get("contact_email", ""),
            first_name=str(contact_fields.get("contact_name", ""))[:150],
        )
        try:
            validate_password(password, account)
        except ValidationError as exc:
            errors["password"] = [str(m) for m in exc.messages]
    if len(message or "") > 2000:
        errors["message"] = [_("At most %(max)d characters (has %(n)d).") % {"max": 2000, "n": len(message)}]
    _check_documents(documents, errors, required=True)
    return errors, org_fields, contact_fields


@transaction.atomic
def _apply(actor, org_fields, contact_fields, password, message, documents, saved_files) -> Admission:
    code = org_fields.get("uscc")
    existing = Organization.objects.select_for_update().filter(uscc=code).first() if code else None
    if existing is not None:
        # Names are not echoed: the caller may not be allowed to see the organization holding the code.
        taken = Conflict(
            _("An organization with this credit code is already registered or has applied."),
            # one wording whatever the holder's state (registered, under review, or turned down): none is told
            errors={
                "uscc": [
                    _(
                        "The platform knows this credit code already: contact the platform operator (an applicant "
                        "turned down may apply again from the contact address it used)."
                    )
                ]
            },
        )
        last = existing.admissions.order_by("-created_at").first()
        if existing.status != Organization.Status.APPLICANT or last is None or last.status in OPEN:
            raise taken
        # A rejected applicant applies again, from the same contact address: the same record is refreshed.
        if last.contact_email.lower() != contact_fields["contact_email"]:
            raise taken
        for field, value in org_fields.items():
            setattr(existing, field, value)
        org = existing
    else:
        org = Organization(**org_fields, status=Organization.Status.APPLICANT)
    org.contact_name = contact_fields["contact_name"]
    org.contact_email = contact_fields["contact_email"]
    org.contact_phone = contact_fields.get("contact_phone", "")
    org.search_text = search_index.tokens_for(org, search_index.place_words(org.region))
    try:
        with transaction.atomic():
            org.save()
    except IntegrityError as exc:  # the same code applied for at the same moment
        raise Conflict(
            _("An organization with this credit code is already registered or has applied."),
            errors={"uscc": [_("Already registered or under review; contact the platform operator.")]},
        ) from exc
    search_index.index_organizations([(org.pk, org.search_text)])
    admission = Admission.objects.create(
        organization=org,
        tracking_token=secrets.token_urlsafe(32),
        admin_password_hash=make_password(password),
        message=message,
        duplicate_flags=possible_duplicates(org),
        language=get_language() if language_valid(get_language()) else "",
        **contact_fields,
    )
    AdmissionEvent.objects.create(
        admission=admission, status=Admission.Status.SUBMITTED, by_applicant=True, note=message
    )
    _store(admission, documents, saved_files)
    record(
        "registry.admission_submitted",
        actor=actor,
        subject=admission,
        payload={"organization": org.pk, "name": org.name_zh, "duplicates": len(admission.duplicate_flags)},
    )
    _notify(admission)  # the private status link by mail too: a closed tab does not lose the application
    _tell_reviewers(admission, gettext_lazy("A new application for admission: %(name)s."))
    return admission


def _tell_reviewers(admission: Admission, what: Any) -> None:
    """The operators learn of an application waiting for them, in the app and by mail."""
    notify(
        policy.operators(),
        verb="registry.admission_waiting",
        text=Phrase(what, name=admission.organization.name_zh),
        link=reverse("registry:review_detail", args=[admission.pk]),
    )


def _store(admission: Admission, documents: Sequence[UploadedFile], saved_files: list[str]) -> None:
    for upload in documents:
        upload.seek(0)
        body = upload.read()
        kind = sniff(body[:16]) or "application/octet-stream"
        doc = AdmissionDocument(
            admission=admission,
            original_name=kept_name(upload.name or "document"),
            content_type=kind,
            extension=settings.AGGLO_UPLOAD_TYPES.get(kind, ""),
            size=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
        )
        upload.seek(0)
        doc.file.save(doc.sha256[:16] + doc.extension, upload, save=False)
        saved_files.append(doc.file.name)
        doc.save()


def _review(actor: Any, admission: Admission) -> Admission:
    if not policy.can_review_admissions(actor):
        raise Forbidden(_("Only platform operators review admissions."))
    locked = Admission.objects.select_for_update().select_related("organization").get(pk=admission.pk)
    if locked.status not in OPEN:
        raise Conflict(
            _("This application was already decided (%(status)s).") % {"status": locked.get_status_display()}
        )
    return locked


def _notify(admission: Admission) -> None:
    """Email the applicant its status link, on submission and once each decision is committed (a task, so a
    slow mail server delays no one)."""
    from agglo.registry.tasks import admission_notify

    url = settings.AGGLO_BASE_URL.rstrip("/") + reverse("registry:admission_status", args=[admission.tracking_token])
    transaction.on_commit(lambda: admission_notify.enqueue(admission.pk, url))


def _reason(text: str, field: str = "reason") -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed({field: [_("Say why, so the applicant knows what to do.")]})
    if len(text) > 2000:
        raise ValidationFailed({field: [_("At most %(max)d characters (has %(n)d).") % {"max": 2000, "n": len(text)}]})
    return text


@transaction.atomic
def admission_approve(*, actor: Any, admission: Admission, note: str = "") -> Admission:
    """Admit the applicant: the organization becomes a member and its contact gets the admin account."""
    admission = _review(actor, admission)
    org = admission.organization
    if org.status != Organization.Status.APPLICANT:  # written around the services: approving must not reinstate it
        raise Conflict(
            _(
                "The organization is no longer an applicant (its status is %(status)s): an admission admits "
                "applicants only; a member's standing changes by suspending, reinstating or withdrawing it."
            )
            % {"status": org.get_status_display()},
            errors={"status": [str(STATUS_RULE)]},
        )
    if org.uscc and Organization.objects.filter(uscc=org.uscc).exclude(pk=org.pk).exists():
        raise Conflict(_("Another organization holds this credit code."))
    now = timezone.now()
    org.status = Organization.Status.MEMBER
    org.joined_at = now
    org.save(update_fields=["status", "joined_at", "updated_at"])
    User = get_user_model()
    taken = Conflict(
        _("An account with the contact e-mail exists already; ask the applicant for another address."),
        errors={"contact_email": [_("Already used by an account.")]},
    )
    if email_in_use(admission.contact_email):
        raise taken
    user = User(
        username=admission.contact_email, email=admission.contact_email, first_name=admission.contact_name[:150]
    )
    user.password = admission.admin_password_hash
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # another application with the address approved at the same moment
        raise taken from exc
    Membership.objects.get_or_create(user=user, organization=org, defaults={"role": Membership.Role.ADMIN})
    if admission.language:
        language_remember(user, admission.language)
    admission.status = Admission.Status.APPROVED
    admission.decided_at, admission.decided_by, admission.reason = now, actor, (note or "").strip()[:2000]
    admission.admin_user = user
    admission.admin_password_hash = ""
    admission.save()
    AdmissionEvent.objects.create(admission=admission, status=admission.status, note=admission.reason, actor=actor)
    record(  # on the new member's own history too; the admin's login stays in the review's records only
        "registry.admission_approved",
        actor=actor,
        subject=admission,
        payload={"organization": org.pk},
        organization_id=org.pk,
    )
    _log_decision(actor, admission)
    _notify(admission)
    return admission


@transaction.atomic
def admission_reject(*, actor: Any, admission: Admission, reason: str) -> Admission:
    """Turn the application down with a reason the applicant can read."""
    reason = _reason(reason)
    admission = _review(actor, admission)
    admission.status = Admission.Status.REJECTED
    admission.decided_at, admission.decided_by, admission.reason = timezone.now(), actor, reason
    admission.admin_password_hash = ""
    admission.save()
    AdmissionEvent.objects.create(admission=admission, status=admission.status, note=reason, actor=actor)
    record("registry.admission_rejected", actor=actor, subject=admission, payload={"reason": reason})
    _log_decision(actor, admission)
    _notify(admission)
    return admission


def _log_decision(actor: Any, admission: Admission) -> None:
    """Admission decisions go on the transparency log; the reason only sealed under a key the applicant holds."""
    key = work_key(admission)
    entry_append(
        f"registry.admission_{admission.status}",
        actor=actor,
        subject=admission,
        payload={
            "organization": admission.organization_id,
            "decision": admission.status,
            "reason": sealed(admission.reason, key),
        },
        parties=[admission.organization_id],
    )


@transaction.atomic
def admission_request_info(*, actor: Any, admission: Admission, note: str) -> Admission:
    """Ask the applicant for more information or documents."""
    note = _reason(note, "note")
    admission = _review(actor, admission)
    admission.status = Admission.Status.NEEDS_INFO
    admission.reason = note
    admission.save(update_fields=["status", "reason", "updated_at"])
    AdmissionEvent.objects.create(admission=admission, status=admission.status, note=note, actor=actor)
    record("registry.admission_info_requested", actor=actor, subject=admission, payload={"note": note})
    _notify(admission)
    return admission


def admission_respond(*, admission: Admission, note: str, documents: Sequence[UploadedFile] = ()) -> Admission:
    """The applicant answers a request for information (with the tracking link); back to the review queue."""
    errors: dict[str, list[str]] = {}
    note = (note or "").strip()
    if not note:
        errors["note"] = [_("Write an answer to the reviewer's request.")]
    elif len(note) > 2000:
        errors["note"] = [_("At most %(max)d characters (has %(n)d).") % {"max": 2000, "n": len(note)}]
    _check_documents(documents, errors, required=False)
    if errors:
        raise ValidationFailed(errors)
    saved: list[str] = []
    try:
        return _respond(admission, note, documents, saved)
    except Exception:
        from django.core.files.storage import default_storage

        for name in saved:
            default_storage.delete(name)
        raise


@transaction.atomic
def _respond(admission: Admission, note: str, documents: Sequence[UploadedFile], saved: list[str]) -> Admission:
    admission = Admission.objects.select_for_update().get(pk=admission.pk)
    if admission.status != Admission.Status.NEEDS_INFO:
        raise Conflict(_("The reviewer has not asked for more information."))
    admission.status = Admission.Status.SUBMITTED
    admission.save(update_fields=["status", "updated_at"])
    AdmissionEvent.objects.create(admission=admission, status=admission.status, note=note, by_applicant=True)
    _store(admission, documents, saved)
    record("registry.admission_answered", actor=None, subject=admission, payload={"documents": len(documents)})
    _tell_reviewers(admission, gettext_lazy("An applicant answered your request for information: %(name)s."))
    return admission
