"""A fact's answer to a write says `stale` as every read does: an old year's statement with a newer one on file is
history, not stale, from the moment it is recorded (review 29)."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from agglo.profiles import services
from tests.profiles.conftest import statement


def test_create_update_and_read_agree_on_stale(org_admin):
    admin, org = org_admin
    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(dt.date.today().year - 1))
    client = Client()
    client.force_login(admin)
    old = statement(dt.date.today().year - 5)
    r = client.post(f"/api/v1/organizations/{org.pk}/financials", old, content_type="application/json")
    assert r.status_code == 201 and r.json()["stale"] is False
    read = client.get(f"/api/v1/financials/{r.json()['id']}").json()
    assert read["stale"] is False
    r = client.patch(f"/api/v1/financials/{read['id']}", {"source_note": "年报"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["stale"] is False and r.json()["source_note"] == "年报"
