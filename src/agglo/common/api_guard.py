"""What every API operation checks of a request's shape before it runs, so that no router repeats it: a query
parameter it does not declare is refused (a misspelt filter would otherwise return everything), a whole number in
the query must fit the database's integers, and a step that takes no input refuses a body that says something (a
client sending `{"reason": …}` to the wrong step must not have it carried out as if it had sent nothing)."""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from agglo.common.errors import ValidationFailed

BIGGEST = 2**63 - 1  # the databases' integer columns
WHOLE = re.compile(r"\s*[+-]?\d+\s*")
WRITES = frozenset(("POST", "PUT", "PATCH", "DELETE"))
INPUT_SOURCES = frozenset(("body", "form", "file"))
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


@dataclass(frozen=True)
class Shape:
    """What one operation takes: its query parameters (those that are whole numbers apart), and whether it reads
    a body at all."""

    params: frozenset[str]
    whole: frozenset[str]
    takes_input: bool


def _is_whole(annotation: Any) -> bool:
    if annotation is int:
        return True
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return int in typing.get_args(annotation)
    return False


def shape_of(operation: Any) -> Shape:
    params, whole = set(), set()
    for model in operation.models:
        if model.__ninja_param_source__ != "query":
            continue
        for name, field in model.model_fields.items():
            params.add(field.alias or name)
            if _is_whole(field.annotation):
                whole.add(field.alias or name)
    takes_input = any(m.__ninja_param_source__ in INPUT_SOURCES for m in operation.models)
    return Shape(frozenset(params), frozenset(whole), takes_input)


def problems(request: HttpRequest, shape: Shape) -> dict[str, list[str]]:
    """The request's faults of shape, by the parameter or `body` they concern."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(request.GET) - shape.params)
    if unknown:
        said = _("Unknown parameter; allowed: %(allowed)s.") % {"allowed": ", ".join(sorted(shape.params)) or "—"}
        errors.update({name: [said] for name in unknown})
    for name in sorted(shape.whole & set(request.GET)):
        value = request.GET[name]
        if WHOLE.fullmatch(value) and abs(int(value)) > BIGGEST:
            errors[name] = [_("Must be at most %(n)d.") % {"n": BIGGEST}]
    if request.method in WRITES and not shape.takes_input and _says_something(request):
        errors["body"] = [_("This request takes no body; send none, or {}.")]
    return errors


def _says_something(request: HttpRequest) -> bool:
    if request.content_type in FORM_TYPES:
        return bool(request.POST or request.FILES)
    return request.body.strip() not in (b"", b"{}")


def guard(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A "view" decorator for `NinjaAPI.add_decorator`: it wraps each operation's bound `run`, so its operation's
    shape is worked out once, when the API is built."""
    operation = run.__self__  # type: ignore[attr-defined]
    shape = shape_of(operation)

    @functools.wraps(run)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        errors = problems(request, shape)
        if errors:
            message = _("Unknown query parameter.") if set(errors) - shape.params - {"body"} else ""
            return operation.api.on_exception(request, ValidationFailed(errors, message=message))
        return run(request, *args, **kwargs)

    return checked
