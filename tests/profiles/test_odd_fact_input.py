"""Facts on odd input: every problem said once, nothing raised, and a good field not judged against a bad one."""

from __future__ import annotations

import datetime as dt

import pytest

from agglo.common.errors import ValidationFailed
from agglo.profiles import services
from agglo.profiles.kinds import KINDS
from agglo.profiles.services.facts import prepare
from tests.profiles.conftest import statement

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 5)


def test_a_bad_as_of_does_not_make_a_good_valid_until_wrong(english):
    """financials: as_of is refused as a date, so prepare() puts in its default (31 Dec of the year) and then
    judges the (good) valid_until against that made-up date."""
    data = statement(2024, as_of="31/12/2024", valid_until="2024-09-30")
    _values, errors, _w = prepare(KINDS["financials"], data, today=TODAY)
    fields = sorted(p.field for p in errors)
    assert fields == ["as_of"], [(p.field, p.rule) for p in errors]


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("financials", {}),
        ("financials", {"year": None, "revenue": None}),
        ("financials", {"year": "2024", "as_of": 5, "valid_until": [], "revenue": {"a": 1}}),
        ("financials", {"year": 10**30}),
        ("ratings", {}),
        ("ratings", {"rating_body": "agency", "agency_name": 7, "as_of": "x", "valid_until": None}),
        ("ip", {}),
        ("ip", {"kind": "invention_patent", "number": None, "status": "granted"}),
        ("ip", {"kind": "nope", "number": 12345, "status": "granted", "granted_on": "x"}),
        ("capabilities", {}),
        ("capabilities", {"term": None, "as_of": "2099-01-01", "valid_until": "2000-01-01"}),
    ],
)
def test_prepare_takes_odd_input_without_a_crash(kind, data):
    _values, errors, _w = prepare(KINDS[kind], data, today=TODAY, terms={})
    assert errors


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("financials", {"year": "2024", "revenue": "x", "total_assets": None}),
        ("financials", {"year": "99999999999999999999999", "revenue": "1"}),
        ("ratings", {"grade": "AAA", "rating_body": "agency", "method_version": "v1", "as_of": "2024-01-01"}),
        ("ip", {"kind": "invention_patent", "number": "ZL202310000001.X", "title": "x", "status": "bogus"}),
        ("capabilities", {"term": "no-such-term"}),
    ],
)
def test_fact_create_takes_odd_input_without_a_crash(org_admin, kind, data):
    admin, org = org_admin
    with pytest.raises(ValidationFailed):
        services.fact_create(actor=admin, organization=org, kind=kind, data=data)
