"""Errors that services raise and every interface turns into a clear, field-level message.

DomainError                 a rule of the domain was broken (HTTP 400 by default)
├── ValidationFailed        one or more fields are bad: {field: [messages]}  (HTTP 422)
├── Conflict                the write collides with existing data, e.g. a duplicate (HTTP 409)
├── NotFound                nothing the actor may see has that id (HTTP 404)
└── Forbidden               the actor may see it but not do this (HTTP 403)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class DomainError(Exception):
    status = 400
    code = "domain_error"

    def __init__(self, message: str, *, errors: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: dict[str, list[str]] = {k: [str(m) for m in v] for k, v in (errors or {}).items()}

    def summary(self) -> str:
        """One line for a flash message or a command's error: "field: message; …", else the message."""
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items()) or self.message


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"

    def __init__(self, errors: Mapping[str, Sequence[str]], message: str = "") -> None:
        from django.utils.translation import gettext as _

        super().__init__(str(message or _("The input is not valid.")), errors=errors)


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PreconditionFailed(DomainError):
    """An `If-Match` that no longer names the record's version: someone changed it since the caller read it."""

    status = 412
    code = "precondition_failed"

    def __init__(self, message: str, *, current: str = "") -> None:
        super().__init__(message)
        self.current = current  # the record's version now, for a page to draw its form with


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class LoginRequired(DomainError):
    """Nobody is logged in, and the answer depends on who asks: 401, so that a client knows to authenticate."""

    status = 401
    code = "unauthenticated"


def errors_from_django(exc: Exception) -> dict[str, list[str]]:
    """Field errors of a django ValidationError as {field: [messages]} ('__all__' for non-field ones)."""
    from django.core.exceptions import ValidationError

    assert isinstance(exc, ValidationError)
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for e in errs for m in e.messages] for field, errs in exc.error_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def labelled_errors(errors: Mapping[str, Sequence[Any]], labels: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, line) for each bad field: its errors after its label as the form shows it, with the reader's colon
    (a full-width one in Chinese); a field the form does not label (the record's status…) gives the message alone."""
    from django.utils.translation import gettext as _

    lines = []
    for key, texts in errors.items():
        said = " ".join(map(str, texts))
        lines.append(
            (key, _("%(field)s: %(message)s") % {"field": labels[key], "message": said} if key in labels else said)
        )
    return lines
