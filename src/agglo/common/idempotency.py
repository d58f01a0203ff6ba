"""Requests that act once: the same change sent again gets the first answer instead of being done twice.

Two doors lead here. The API takes an `Idempotency-Key` header on POST and PATCH (the IETF httpapi draft "The
Idempotency-Key HTTP Header Field"): the key names one intended change, and a retry under it replays the stored
answer. A page's form needs no key of its own: the CSRF token Django puts in each form is masked afresh every time
a form is drawn, so a form's body as sent names that one drawing, and the same body sent again (a double click, a
reload that resends it) is the same request.

Only successes are kept (an API answer below 400, a page's redirect that reported no refusal): a request that
failed changed nothing, so sending it again, fixed or not, is safe. An answer that holds a secret shown once (a new
token) is not kept: a retry is told the request was done. A claim whose request never finished (a worker that
died) is taken over after `AGGLO_RESEND_STALE_S`; kept answers are dropped after `KEEP`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any, Literal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from agglo.common.models import SentRequest

KEEP = dt.timedelta(hours=24)
KEY_MAX = 255
BODY_MAX = 2 * 1024 * 1024  # answers larger than this are not kept (the request may then act again)
LOCATION_MAX = 2000
TRIES = 3  # a claim that can neither be inserted nor read (its user deleted meanwhile) is given up after these
SECRET = "agglo_answer_secret"  # a view's mark: `answer_secret`
REPEAT = "agglo_confirm_repeat"  # a view's mark: `confirm_repeat`
REPEAT_WINDOW = dt.timedelta(minutes=10)

Outcome = Literal["new", "replay", "busy", "conflict"]


def confirm_repeat(view: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a page that creates something (an order, a listing): the same content sent again from the form drawn
    anew, soon after (the browser went back and refilled the form), is asked about before it creates a second."""
    setattr(view, REPEAT, True)
    return view


def answer_secret(view: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a view or API operation whose answer holds a secret shown once (a new token, an application's tracking
    address): its answer is not kept, and the same request sent again is told it was done, not given the secret
    again."""
    setattr(view, SECRET, True)
    return view


@dataclasses.dataclass(frozen=True)
class Claim:
    """What to do with a request: run it (`new`; `row` None when it could not be claimed and runs unguarded),
    answer with the first answer (`replay`), wait for or refuse a request still running (`busy`), or refuse a key
    reused for another request (`conflict`)."""

    outcome: Outcome
    row: SentRequest | None


def key_parsed(header: str) -> str | None:
    """The key of an `Idempotency-Key` header, or None if it is not one. The draft makes it a structured-field
    string (`"8e03978e-…"`); a bare token is taken too, as most clients send one."""
    value = header.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if not 1 <= len(value) <= KEY_MAX or any(not " " <= c <= "~" for c in value):
        return None
    return value


def fingerprint(request: HttpRequest) -> str:
    """SHA-256 of what the request asks: method, path, query, content type and body. The body counts by its bytes;
    a multipart form, whose bytes the parser has consumed (and whose boundary a client may change on a retry), by
    its fields and files."""
    digest = hashlib.sha256()
    digest.update(f"{request.method}\0{request.get_full_path()}\0{request.content_type}\0".encode())
    if request.content_type == "multipart/form-data":
        _fields_into(digest, request, leave_out=())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                digest.update(f"{name}\0{upload.name}\0{upload.size}\0".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def content_print(request: HttpRequest, leave_out: tuple[str, ...]) -> str:
    """SHA-256 of a form's path and fields, without `leave_out` (the drawing's token): what the form says."""
    digest = hashlib.sha256(f"{request.method}\0{request.get_full_path()}\0".encode())
    _fields_into(digest, request, leave_out)
    return digest.hexdigest()


def _fields_into(digest: Any, request: HttpRequest, leave_out: tuple[str, ...]) -> None:
    for name, values in sorted(request.POST.lists()):
        if name not in leave_out:
            for value in values:
                digest.update(f"{name}\0{value}\0".encode())


def sent_lately(user: Any, content: str, but: SentRequest | None) -> SentRequest | None:
    """The user's latest request with this content within `REPEAT_WINDOW`, kept or still running, other than
    `but`."""
    found = SentRequest.objects.filter(
        user=user, content=content, withheld=False, started_at__gte=timezone.now() - REPEAT_WINDOW
    )
    if but is not None:
        found = found.exclude(pk=but.pk)
    return found.order_by("-started_at").first()


def content_claimed(row: SentRequest, content: str) -> None:
    """Say what a claimed send's form says, while it runs: a refilled form sent meanwhile is asked about too."""
    SentRequest.objects.filter(pk=row.pk).update(content=content)


def scoped(kind: str, key: str) -> str:
    """The stored key: the client's key or a form's fingerprint, hashed within its kind (`api`, `page`)."""
    return hashlib.sha256(f"{kind}\0{key}".encode()).hexdigest()


def claim(user: Any, key: str, print_: str) -> Claim:
    """Claim `key` for this user's request with fingerprint `print_`, or say why not."""
    for _try in range(TRIES):
        now = timezone.now()
        try:
            with transaction.atomic():  # a savepoint inside a caller's transaction: the clash does not spoil it
                return Claim("new", SentRequest.objects.create(user=user, key=key, fingerprint=print_, started_at=now))
        except IntegrityError:
            pass
        row = SentRequest.objects.filter(user=user, key=key).first()
        if row is None:  # released between the insert and the read (or the user is gone): try again
            continue
        stale = KEEP if row.done else dt.timedelta(seconds=settings.AGGLO_RESEND_STALE_S)
        if now - row.started_at > stale:  # expired, or abandoned by a worker that died: take it over
            SentRequest.objects.filter(pk=row.pk, started_at=row.started_at).delete()  # if no one took it first
            continue
        if row.fingerprint != print_:
            return Claim("conflict", row)
        return Claim("replay" if row.done else "busy", row)
    return Claim("new", None)


def settle(
    row: SentRequest | None,
    *,
    status: int,
    location: str = "",
    content_type: str = "",
    body: bytes = b"",
    notes: list[tuple[int, str]] | None = None,
    withheld: bool = False,
    standing: str,
) -> None:
    """Keep the answer a claimed request got, for the same request sent again; `withheld`: only that it was done.
    `standing` sums up the sender's rights once it was done (`access.policy.standing`): see `replayable`."""
    if row is None:
        return
    if len(location) > LOCATION_MAX or len(body) > BODY_MAX:  # not kept whole: the request may act again
        release(row)
        return
    kept = {"location": location, "content_type": content_type, "body": body, "notes": notes or []}
    SentRequest.objects.filter(pk=row.pk).update(
        done=True, status=status, withheld=withheld, standing=standing, **({} if withheld else kept)
    )


def replayable(row: SentRequest, standing: str) -> bool:
    """Whether a kept answer may be given again to its sender, whose rights now sum up to `standing`. Not once
    they changed (a role taken away, an organization suspended): the answer may hold what the sender may no
    longer see, and acting on the request again could act twice. The change that the request itself made to
    them (an application that made its sender a member) was kept with the answer and does not count. An answer
    kept before rights were noted (none) is given again, as it was then (recheck 46 F10)."""
    return row.standing in ("", standing)


def acted(request: HttpRequest) -> None:
    """Tells the pages' guard that this request did act although it reports an error (an order saved, then not
    planned): the same form sent again must not act again."""
    request.agglo_acted = True  # type: ignore[attr-defined]


def release(row: SentRequest | None) -> None:
    """Forget a claim whose request failed: sending it again is a new try."""
    if row is not None:
        SentRequest.objects.filter(pk=row.pk, done=False).delete()


def refreshed(row: SentRequest) -> SentRequest | None:
    """The claim as it is now (None once released), while waiting for a request still running."""
    return SentRequest.objects.filter(pk=row.pk).first()


def sent_requests_expire(now: dt.datetime | None = None) -> int:
    """Drop kept answers older than `KEEP` and claims abandoned longer than that; returns how many."""
    cutoff = (now or timezone.now()) - KEEP
    return SentRequest.objects.filter(started_at__lt=cutoff).delete()[0]
