"""Logging in: lockout after repeated failures, and TOTP two-factor (RFC 6238, via pyotp).

Every refusal gives the same answer whether or not the account exists, is locked, or the password was wrong.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.access.models import LoginThrottle, Membership, TotpDevice
from agglo.common.audit import record
from agglo.common.errors import ValidationFailed

ISSUER = "Agglo"


class LoginRefused(Exception):
    """Wrong credentials, or a lock: the message is the same for both."""


def refusal() -> str:
    # the rule, not whether it applied: the answer must not tell a locked account from a wrong password
    return _(
        "The username or password is wrong, or too many attempts were made: after %(n)d failed attempts, logging "
        "in is paused for %(minutes)d minutes. Check the password, or wait and try again."
    ) % {"n": settings.AGGLO_LOGIN_MAX_FAILURES, "minutes": settings.AGGLO_LOGIN_LOCK_MINUTES}


def _keys(username: str, ip: str) -> list[tuple[str, int]]:
    return [
        (f"user:{username.strip().lower()[:150]}", settings.AGGLO_LOGIN_MAX_FAILURES),
        (f"ip:{ip}", settings.AGGLO_LOGIN_MAX_FAILURES_PER_IP),
    ]


@transaction.atomic
def _claim(keys: list[tuple[str, int]], now: dt.datetime) -> bool:
    """Count an attempt before its password is checked, and say whether it may be checked: not while a key is
    locked, nor once a key's attempts in the window (failed, or still being checked) reach its limit, which then
    locks it. Counted after the check, attempts sent at once all got checked before any failure was counted."""
    window = dt.timedelta(minutes=settings.AGGLO_LOGIN_LOCK_MINUTES)
    rows = [(LoginThrottle.objects.select_for_update().get_or_create(key=key)[0], limit) for key, limit in keys]
    if any(row.locked_until and row.locked_until > now for row, _limit in rows):
        # refused unchecked, and counted nowhere: a locked account's owner retrying must not lock the office's
        # address, nor a locked address its colleagues' accounts (recheck 54 N4)
        return False
    for row, _limit in rows:
        if row.first_failure_at is None or now - row.first_failure_at > window:
            row.failures, row.first_failure_at = 0, now
    full = [row for row, limit in rows if row.failures >= limit]
    for row in full:  # the limit's attempts are all failed or being checked: this one is not, and the key locks
        row.locked_until = now + window
        row.failures, row.first_failure_at = 0, None
    for row, _limit in rows:
        if not full:
            row.failures += 1
        row.save()
    return not full


@transaction.atomic
def _failed(keys: list[tuple[str, int]], now: dt.datetime) -> None:
    """A checked attempt failed (it is counted already): a key at its limit locks."""
    window = dt.timedelta(minutes=settings.AGGLO_LOGIN_LOCK_MINUTES)
    for key, limit in keys:
        row = LoginThrottle.objects.select_for_update().filter(key=key).first()
        if row is not None and row.failures >= limit and not (row.locked_until and row.locked_until > now):
            row.locked_until = now + window
            row.failures, row.first_failure_at = 0, None
            row.save()


@transaction.atomic
def _succeeded(keys: list[tuple[str, int]], now: dt.datetime) -> None:
    """The account's (or this browser's) count starts again, unless attempts beside this one locked it meanwhile;
    the address's gives back the attempt, so that an office's colleagues logging in are not counted against it."""
    (account, _limit), (address, _ip_limit) = keys
    LoginThrottle.objects.filter(key=account).exclude(locked_until__gt=now).delete()
    row = LoginThrottle.objects.select_for_update().filter(key=address).first()
    if row is not None and row.failures > 0:
        row.failures -= 1
        row.save(update_fields=["failures"])


# A browser its user signed in on before: the lock on the username does not hold it, so that anyone who sends
# five wrong passwords cannot keep the account's owner out (review 49 F4); it has a lock of its own instead.
DEVICE_COOKIE = "agglo_device"
DEVICE_DAYS = 180
_DEVICE_SALT = "agglo.access.login.device"


def device_token(user: Any) -> str:
    """What the browser keeps after a full login (password and, where set up, the code): signed, names the user."""
    return signing.dumps(user.pk, salt=_DEVICE_SALT)


def _device_key(request: Any, username: str) -> str | None:
    """The throttle key of this browser, if it is a known device of the account `username` names."""
    raw = getattr(request, "COOKIES", {}).get(DEVICE_COOKIE, "") if request is not None else ""
    if not raw:
        return None
    try:
        pk = signing.loads(raw, salt=_DEVICE_SALT, max_age=dt.timedelta(days=DEVICE_DAYS))
    except signing.BadSignature:
        return None
    if not get_user_model().objects.filter(pk=pk, username__iexact=username.strip()).exists():
        return None
    return "device:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def authenticate_password(request: Any, *, username: str, password: str, ip: str) -> Any:
    """The user for these credentials, or LoginRefused; counts failures and honours locks. From a browser the
    account signed in on before, that browser's own count stands in for the username's."""
    now = timezone.now()
    keys = _keys(username, ip)
    device = _device_key(request, username)
    if device:
        keys[0] = (device, settings.AGGLO_LOGIN_MAX_FAILURES)
    if not _claim(keys, now):
        raise LoginRefused(refusal())
    user = authenticate(request, username=username, password=password)
    if user is None:
        _failed(keys, now)
        raise LoginRefused(refusal())
    _succeeded(keys, now)
    return user


def totp_required(user: Any) -> bool:
    """Operators and organization admins must use a second factor where the platform requires it."""
    if not settings.AGGLO_TOTP_REQUIRED or not getattr(user, "is_authenticated", False):
        return False
    if hasattr(user, "node"):
        return False
    return policy.is_operator(user) or Membership.objects.filter(user=user, role=Membership.Role.ADMIN).exists()


def totp_enrolled(user: Any) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def totp_begin(user: Any) -> tuple[str, str]:
    """A new (unconfirmed) secret and its otpauth:// URI for an authenticator app."""
    device, _created = TotpDevice.objects.get_or_create(user=user, defaults={"secret": pyotp.random_base32()})
    if device.confirmed_at is None and not _created:
        device.secret = pyotp.random_base32()
        device.save(update_fields=["secret"])
    if device.confirmed_at is not None:
        raise ValidationFailed({"code": [_("Two-factor login is already set up.")]})
    uri = pyotp.TOTP(device.secret).provisioning_uri(name=user.get_username(), issuer_name=ISSUER)
    return device.secret, uri


def _accept(device: TotpDevice, code: str, now: dt.datetime) -> bool:
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(device.secret)
    for drift in (0, -1, 1):  # one step either way for clock skew
        moment = now + dt.timedelta(seconds=30 * drift)
        step = totp.timecode(moment)
        if step > device.last_step and totp.verify(code, for_time=moment):
            device.last_step = step
            device.save(update_fields=["last_step", "confirmed_at"])
            return True
    return False


@transaction.atomic
def totp_confirm(user: Any, code: str) -> None:
    device = TotpDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=True).first()
    if device is None:
        raise ValidationFailed({"code": [_("Start the set-up first.")]})
    now = timezone.now()
    device.confirmed_at = now
    if not _accept(device, code, now):
        raise ValidationFailed({"code": [_("The code is not valid; enter the 6 digits your app shows now.")]})
    record("access.totp_enrolled", actor=user, subject=device)


def totp_check(user: Any, code: str, *, ip: str) -> None:
    """Check a login's second factor; attempts count toward the lock like passwords (counted before the check)."""
    now = timezone.now()
    keys = _keys(user.get_username(), ip)
    accepted = False
    if _claim(keys, now):
        with transaction.atomic():
            device = TotpDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
            accepted = device is not None and _accept(device, code, now)
        if not accepted:
            _failed(keys, now)
    if not accepted:
        raise LoginRefused(_("The code is not valid, or too many attempts were made."))
    _succeeded(keys, now)


@transaction.atomic
def totp_reset(user: Any, *, by: str) -> bool:
    """Take away the user's second factor (a lost phone), so that it is set up again at the next login (operators
    and organization admins must). Its sessions end and its failed-login count starts again. Returns whether
    there was one. `by` says who did it, for the audit trail."""
    from django.contrib.sessions.models import Session

    removed, _kinds = TotpDevice.objects.filter(user=user).delete()
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
    LoginThrottle.objects.filter(key=f"user:{user.get_username().lower()[:150]}").delete()
    record("access.totp_reset", actor=None, subject=user, payload={"by": by, "had_device": bool(removed)})
    return bool(removed)
