from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from agglo.common.errors import NotFound
from agglo.registry.models import Region


def region_list(*, level: str | None = None, parent: str | None = None, q: str | None = None) -> QuerySet[Region]:
    """Regions, optionally one level, the children of one region, or matching a name or code."""
    qs = Region.objects.all()
    if level:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent_id=parent)
    if q:
        qs = qs.filter(Q(code__istartswith=q) | Q(name_zh__icontains=q) | Q(name_en__icontains=q))
    return qs


def region_get(code: str) -> Region:
    region = Region.objects.select_related("parent").filter(code=code).first()
    if region is None:
        raise NotFound(_("No region with code %(code)s.") % {"code": code})
    return region
