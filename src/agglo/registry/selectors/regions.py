from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from agglo.common.errors import NotFound
from agglo.registry import uscc
from agglo.registry.models import Organization, Region


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


def region_names(codes: list[str]) -> list[str]:
    """Provinces and countries by their names in the reader's language (the code where none is known)."""
    names = {r.code: r.name for r in Region.objects.filter(code__in=codes)}
    return [names.get(code, code) for code in codes]


def region_get(code: str) -> Region:
    region = Region.objects.select_related("parent").filter(code=code).first()
    if region is None:
        raise NotFound(_("No region with code %(code)s.") % {"code": code})
    return region


def code_issued_elsewhere(organization: Organization) -> bool:
    """Whether the credit code was registered in another province than the region declared (no query)."""
    issued = uscc.province_of(organization.uscc or "")
    declared = organization.region_id or ""
    return issued is not None and len(declared) == 6 and declared.isdigit() and declared[:2] != issued[:2]


def code_province_mismatch(organization: Organization) -> Region | None:
    """The province that registered the organization's credit code, when it is not the province of the region the
    organization declares (an application from Shenzhen with a code issued in Guangzhou is fine; one from
    Shenzhen with a code issued in Beijing asks a question). None when they agree, or either is unknown."""
    if not code_issued_elsewhere(organization):
        return None
    return Region.objects.filter(code=uscc.province_of(organization.uscc or "")).first()
