"""What every API operation checks of a request's shape before its view runs, so that no router repeats it: a
query parameter it does not declare is refused (a misspelt filter would otherwise return everything), and so is one
sent twice where it takes one value (only the last would be read and checked); a whole number must fit the
database's integers; a step that takes no input refuses a body that says something (a client sending
`{"reason": …}` to the wrong step must not have it carried out as if it had sent nothing); a form's fields and
file names hold no NUL; and no text of a body holds what no column stores (a NUL, half a character).

The checks run once the caller is authenticated and the parameters are parsed: a stranger's upload is refused (401)
before it is read, and a number is judged as the view would receive it (written `1_0…0` or `N.0` included).
`mark` ("view" mode) tells each request which operation it reached; `guard` ("operation" mode) checks it."""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BaseModel

from agglo.common.errors import ValidationFailed
from agglo.common.schemas import WHOLE

BIGGEST = 2**63 - 1  # the databases' integer columns
WRITES = frozenset(("POST", "PUT", "PATCH", "DELETE"))
INPUT_SOURCES = frozenset(("body", "form", "file"))
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
# text no database column stores: a NUL, or half of a character (a surrogate code point alone)
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
NOT_NUL = gettext_lazy("Remove the NUL character: it cannot be stored.")
NOT_HALF = gettext_lazy("Must be valid Unicode text: an unpaired surrogate (\\ud800–\\udfff) is not.")


@dataclass(frozen=True)
class Shape:
    """What one operation takes: its query parameters (by the name a client sends), and whether it reads a body."""

    params: frozenset[str]
    takes_input: bool
    aliases: tuple[tuple[str, str], ...] = ()  # (the view's name, the name a client sends) where they differ
    lists: frozenset[str] = frozenset()  # parameters that take several values (`?tag=a&tag=b`)


def shape_of(operation: Any) -> Shape:
    query = [
        (name, field.alias or name, typing.get_origin(field.annotation) is list)
        for model in operation.models
        if model.__ninja_param_source__ == "query"
        for name, field in model.model_fields.items()
    ]
    takes_input = any(m.__ninja_param_source__ in INPUT_SOURCES for m in operation.models)
    aliases = tuple((name, alias) for name, alias, _many in query if alias != name)
    lists = frozenset(alias for _name, alias, many in query if many)
    return Shape(frozenset(alias for _name, alias, _many in query), takes_input, aliases, lists)


def problems(request: HttpRequest, shape: Shape, values: dict[str, Any]) -> dict[str, list[str]]:
    """The request's faults of shape, by the parameter or field they concern; `values` are the view's arguments."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(request.GET) - shape.params)
    if unknown:
        said = _("Unknown parameter; allowed: %(allowed)s.") % {"allowed": ", ".join(sorted(shape.params)) or "—"}
        errors.update({name: [said] for name in unknown})
    # a parameter that takes one value, sent twice: the view would read only the last, unchecked the others
    for name in sorted(shape.params - shape.lists):
        if len(request.GET.getlist(name)) > 1:
            errors[name] = [_("Give this parameter once.")]
    sent_as = dict(shape.aliases)
    for key, argument in values.items():
        # a body or form is named by its fields (`headcount`), a parameter as the client sends it (`from`)
        top = "" if isinstance(argument, BaseModel) else sent_as.get(key, key)
        for name, value in _numbers(argument, top):
            if value > BIGGEST:
                errors[name] = [_("Must be at most %(n)d.") % {"n": BIGGEST}]
            elif value < -BIGGEST:
                errors[name] = [_("Must be at least %(n)d.") % {"n": -BIGGEST}]
        errors |= unstorable(argument, top)
    if request.method in WRITES and not shape.takes_input and _says_something(request):
        errors["body"] = [_("This request takes no body; send none, or {}.")]
    if request.content_type in FORM_TYPES and request.method == "POST":
        fields = {key: value for key, values in request.POST.lists() for value in values}
        names = {key: f.name or "" for key, files in request.FILES.lists() for f in files}
        for key in sorted(k for k, v in (fields | names).items() if "\x00" in k or "\x00" in v):
            errors[key.replace("\x00", "")] = [str(NOT_NUL)]
    return errors


def _numbers(value: Any, name: str = "") -> typing.Iterator[tuple[str, int]]:
    """Every whole number in the view's arguments, named as the errors name fields (`operations[2].quantity`)."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield name, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, f"{name}.{key}" if name else str(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value, start=1):
            yield from _numbers(item, f"{name}[{i}]")
    elif isinstance(value, BaseModel):
        for key, field in type(value).model_fields.items():
            if WHOLE in field.metadata:  # the service checks its range, and names the field's own rule
                continue
            sent = field.alias or key
            yield from _numbers(getattr(value, key), f"{name}.{sent}" if name else sent)


def _says_something(request: HttpRequest) -> bool:
    if request.content_type in FORM_TYPES and request.method == "POST":
        return bool(request.POST or request.FILES)
    return b"".join(request.body.split()) not in (b"", b"{}")  # `{ }` and `{\n}` are `{}` too


def mark(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A "view" decorator: it wraps each operation's bound `run`, so the operation's shape is worked out once, when
    the API is built, and handed to `guard` on the request."""
    shape = shape_of(run.__self__)  # type: ignore[attr-defined]

    @functools.wraps(run)
    def marked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.agglo_shape = shape  # type: ignore[attr-defined]
        return run(request, *args, **kwargs)

    return marked


def guard(view: Callable[..., Any]) -> Callable[..., Any]:
    """An "operation" decorator: between authentication and parsing, and the view."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        shape = getattr(request, "agglo_shape", None)
        if shape is not None and (errors := problems(request, shape, kwargs)):
            unknown = set(request.GET) - shape.params
            raise ValidationFailed(errors, message=_("Unknown query parameter.") if unknown else "")
        return view(request, *args, **kwargs)

    return checked


def unstorable(value: Any, name: str = "") -> dict[str, list[str]]:
    """The fields of a parsed body whose text no database stores: a NUL, or half of a character (`\\ud800` escaped
    alone, which JSON allows and UTF-8 cannot encode; a pair is one character). Named as the API names fields
    (`tags[2]`, `terms.note`)."""
    if isinstance(value, str):
        if found := UNSTORABLE.search(value):
            return {name or "body": [str(NOT_NUL if found[0] == "\x00" else NOT_HALF)]}
        return {}
    errors: dict[str, list[str]] = {}
    if isinstance(value, dict):
        for key, item in value.items():  # a key is a field's name: the schema has refused unknown ones
            errors |= unstorable(item, f"{name}.{key}" if name else str(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value, start=1):
            errors |= unstorable(item, f"{name}[{i}]")
    elif isinstance(value, BaseModel):
        for key, field in type(value).model_fields.items():
            sent = field.alias or key
            errors |= unstorable(getattr(value, key), f"{name}.{sent}" if name else sent)
    return errors


FLAG_WORDS = {"true": True, "1": True, "on": True, "yes": True, "false": False, "0": False, "off": False, "no": False}


def upload_flag(request: HttpRequest, name: str, given: bool) -> bool:
    """A yes/no an upload takes in its query (`given`) or, as `curl -F dry_run=true` sends it, as a field of its
    multipart form: either way it counts (recheck 46 F1: the form field was ignored and a "check" wrote)."""
    sent = request.POST.get(name)
    if sent is None:
        return given
    flag = FLAG_WORDS.get(sent.strip().lower())
    if flag is None:
        raise ValidationFailed({name: [_("Must be true or false.")]})
    return given or flag
