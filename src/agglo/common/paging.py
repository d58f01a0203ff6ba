"""Long lists in the API: `limit` rows from `offset`, the whole count in the `X-Total-Count` header, so that a list
never stops short without a word and every row can be reached."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from pydantic import WithJsonSchema

from agglo.common.errors import ValidationFailed

MOST_OFFSET = 10_000_000


def between(low: int, high: int) -> WithJsonSchema:
    """A whole-number parameter's range as the schema publishes it (`limit: Annotated[int, between(1, 500)] = 200`);
    the view checks it, naming the parameter and both ends."""
    return WithJsonSchema({"type": "integer", "minimum": low, "maximum": high})


# What most lists take; a few long ones (a policy's matches, the log) take up to 1,000 rows a page.
Limit = Annotated[int, between(1, 500)]
LongLimit = Annotated[int, between(1, 1000)]
Offset = Annotated[int, between(0, MOST_OFFSET)]


def page(
    rows: Any, response: HttpResponse, *, limit: int, offset: int, most: int = 500, narrow: bool = False
) -> list[Any]:
    """`rows` (a queryset or a list) from `offset`, at most `limit` (1 to `most`) of them. `narrow`: the page's ids
    are found first and only their rows read whole (see `ids_first`)."""
    errors: dict[str, list[str]] = {}
    if not 1 <= limit <= most:
        errors["limit"] = [_("Must be between 1 and %(n)d.") % {"n": most}]
    if not 0 <= offset <= MOST_OFFSET:
        errors["offset"] = [_("Must be between 0 and %(n)s.") % {"n": f"{MOST_OFFSET:,}"}]
    if errors:
        raise ValidationFailed(errors)
    total = len(rows) if isinstance(rows, list) else rows.count()
    response["X-Total-Count"] = str(total)
    if not isinstance(rows, list):
        rows = _settled(rows)
        if narrow:
            return ids_first(rows, offset, limit)
    return list(rows[offset : offset + limit])


def ids_first(rows: Any, offset: int, limit: int) -> list[Any]:
    """A page of a long queryset of wide rows: the ids sorted and cut first, then only those rows read (perf review
    58: sorting 80,000 listings whole, texts and joins, to keep 20 took a second). Not for a DISTINCT queryset,
    whose ordering PostgreSQL wants selected."""
    return rows_of(rows, list(rows.values_list("pk", flat=True)[offset : offset + limit]))


def rows_of(rows: Any, ids: list[Any]) -> list[Any]:
    """The rows of a queryset with these ids, in their order (one gone meanwhile is left out)."""
    found = {x.pk: x for x in rows.filter(pk__in=ids).order_by()}
    return [found[pk] for pk in ids if pk in found]


def _settled(rows: Any) -> Any:
    """The queryset in an order every page agrees on: rows that tie on the list's own order (two created in the
    same instant) are told apart by their id, so that none repeats or goes missing between pages."""
    order = list(rows.query.order_by) or list(rows.model._meta.ordering)
    named = {o for o in order if isinstance(o, str)}
    if named & {"pk", "-pk", "id", "-id"}:
        return rows
    return rows.order_by(*order, "pk")
