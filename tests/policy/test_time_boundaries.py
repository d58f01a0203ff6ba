"""Policy needs at a month's edge: the platform's months are Beijing's, not UTC's (review 105)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import pytest
from django.core.cache import cache

from agglo.policy.models import PolicyNeed
from agglo.policy.needs import DIMENSIONS, need_dashboard

pytestmark = pytest.mark.django_db

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")


def test_a_need_filed_early_on_the_first_of_a_month_counts_in_that_month_in_every_chart(member_of) -> None:
    admin, _agency = member_of("agency-admin", kind="government", name_zh="深圳市科技创新局")
    _firm_admin, firm = member_of("needy-firm")
    vector = np.ones(DIMENSIONS, dtype=np.float32).tobytes()  # the same words: one group
    for text in ("首台套设备贷款难", "首台套设备贷款太难"):
        PolicyNeed.objects.create(organization=firm, topic="financing", area=firm.area, text=text, embedding=vector)
    # 07:00 on New Year's Day in Beijing is still 31 December in UTC
    PolicyNeed.objects.update(created_at=dt.datetime(2027, 1, 1, 7, 0, tzinfo=BEIJING))
    cache.clear()  # the groups are cached by the needs' count and last id, which another test may have had
    board = need_dashboard(actor=admin)
    assert board["by_month"] == [("2027-01", 2)]
    assert [g["months"] for g in board["clusters"]] == [{"2027-01": 2}]
    assert board["trend"]["months"] == ["2027-01"] and board["trend"]["series"][0]["data"] == [2]


def test_a_policy_window_on_a_day_the_calendar_has_not_is_named_as_such(member_of) -> None:
    from agglo.common.errors import ValidationFailed
    from agglo.policy.services import policy_create
    from tests.policy.test_services import policy_data

    admin, agency = member_of("agency-admin", kind="government", name_zh="深圳市科技创新局")
    with pytest.raises(ValidationFailed) as refused:
        policy_create(actor=admin, issuer=agency, data=policy_data(starts_on="2027-02-29", ends_on="2027-13-01"))
    said = "日历上没有 2027-02-29 这一天：该月没有这么多天（2 月 29 日只在闰年才有）。"
    assert refused.value.errors["starts_on"] == [said]
    assert refused.value.errors["ends_on"] == ["必须是日期，例如 2026-12-31。"]
