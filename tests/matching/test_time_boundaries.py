"""The matching index dates things by the platform's day, as the ranking counts today (review 105)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from agglo.market import services as market
from agglo.matching.models import MatchDocument
from agglo.matching.services import documents_refresh

pytestmark = pytest.mark.django_db

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")


def test_a_listing_published_before_eight_in_the_morning_is_of_that_day(org_admin, monkeypatch) -> None:
    admin, org = org_admin
    at = dt.datetime(2026, 12, 8, 7, 0, tzinfo=BEIJING)  # still 7 December in UTC
    monkeypatch.setattr(timezone, "now", lambda: at.astimezone(dt.UTC))
    listing = market.listing_create(
        actor=admin, organization=org, data={"side": "offer", "kind": "technology", "title_zh": "碳化硅器件代工"}
    )
    market.listing_submit(actor=admin, listing=listing)
    documents_refresh(listing_ids=[listing.pk])
    features = MatchDocument.objects.get(source="listing", object_id=listing.pk).features
    # the ranking counts its age from today, 8 December: it was taken for a day old, less fresh than it is
    assert features["published"] == dt.date(2026, 12, 8).toordinal() == timezone.localdate().toordinal()
