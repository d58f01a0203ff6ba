"""A factory's capability declaration has a version, as other records do (`common.versions`): an ERP and a person
changing one declaration do not overwrite each other unseen, over the API or on the capacity page."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agglo.factory.models import Capability
from agglo.factory.services.capacity import capability_save
from tests.factory.conftest import signed_in
from tests.registry.test_api import problem
from tests.web.test_form_versions import drawn

pytestmark = pytest.mark.django_db


def _put(client: Any, org_id: int, data: dict[str, Any], **headers: Any) -> Any:
    url = f"/api/v1/factory/organizations/{org_id}/capabilities"
    return client.put(url, json.dumps(data), content_type="application/json", **headers)


def test_a_declaration_changed_since_it_was_read_is_not_changed(cluster: dict[str, Any]) -> None:
    su, org = cluster["people"]["su"], cluster["orgs"]["su"]
    cap = Capability.objects.get(organization=org, process_id="cnc")
    client = signed_in(su)
    read = client.get(f"/api/v1/factory/capabilities/{cap.pk}")
    tag = read["ETag"]
    assert read.status_code == 200 and tag.startswith('"') and read.json()["updated_at"]
    first = _put(client, org.pk, {"process": "cnc", "unit_cost": "13.50"}, HTTP_IF_MATCH=tag)
    assert first.status_code == 200, first.content
    assert first["ETag"] != tag and first["ETag"] == client.get(f"/api/v1/factory/capabilities/{cap.pk}")["ETag"]
    stale = _put(client, org.pk, {"process": "cnc", "weekly_capacity": 10}, HTTP_IF_MATCH=tag)
    assert tag in problem(stale, 412)["title"]
    cap.refresh_from_db()
    assert (str(cap.unit_cost), cap.weekly_capacity) == ("13.50", 250)  # the stale change wrote nothing
    # the same terms again change nothing, not even the version (an ERP syncing every hour)
    same = _put(client, org.pk, {"process": "cnc", "unit_cost": "13.50"}, HTTP_IF_MATCH=first["ETag"])
    assert same.status_code == 200 and same["ETag"] == first["ETag"]
    # without If-Match, a change goes through whatever the version, as before
    assert _put(client, org.pk, {"process": "cnc", "weekly_capacity": 300}).status_code == 200
    assert Capability.objects.get(pk=cap.pk).weekly_capacity == 300


def test_a_version_of_a_declaration_that_is_not_there_declares_nothing(cluster: dict[str, Any]) -> None:
    su, org = cluster["people"]["su"], cluster["orgs"]["su"]
    cap = Capability.objects.get(organization=org, process_id="cnc")
    tag = signed_in(su).get(f"/api/v1/factory/capabilities/{cap.pk}")["ETag"]
    data = {"process": "pcb", "weekly_capacity": 100, "unit_cost": "8"}
    refused = _put(signed_in(su), org.pk, data, HTTP_IF_MATCH=tag)
    assert "尚未声明此工序的能力" in problem(refused, 412)["title"]
    assert not Capability.objects.filter(organization=org, process_id="pcb").exists()


def test_another_members_capability_is_not_found(cluster: dict[str, Any]) -> None:
    cap = Capability.objects.get(organization=cluster["orgs"]["su"], process_id="cnc")
    assert signed_in(cluster["people"]["cd"]).get(f"/api/v1/factory/capabilities/{cap.pk}").status_code == 404


def test_the_capacity_page_draws_a_stale_change_again_as_a_merge(cluster: dict[str, Any]) -> None:
    su, org = cluster["people"]["su"], cluster["orgs"]["su"]
    cap = Capability.objects.get(organization=org, process_id="cnc")
    client = signed_in(su)
    url = f"/factory/capacity/?edit={cap.pk}"
    form = drawn(client.get(url), "capability-form")
    assert form["version"].startswith('"') and form["editing"] == str(cap.pk)
    # the ERP changes the unit cost after the form was drawn; the person changes the weekly capacity
    capability_save(actor=su, organization_id=org.pk, data={"process": "cnc", "unit_cost": "14.00"})
    refused = client.post("/factory/capacity/", {**form, "weekly_capacity": "180"})
    assert refused.status_code == 400
    assert "在您打开此表单之后，有人修改了这条记录" in refused.content.decode()
    cap.refresh_from_db()
    assert (cap.weekly_capacity, str(cap.unit_cost)) == (250, "14.00")  # nothing written
    again = drawn(refused, "capability-form")
    # the person's entry is kept, the field they left alone holds the ERP's value, the version is the one now
    assert again["weekly_capacity"] == "180" and again["unit_cost"] == "14.00"
    assert again["version"] != form["version"]
    saved = client.post("/factory/capacity/", again)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    cap.refresh_from_db()
    assert (cap.weekly_capacity, str(cap.unit_cost)) == (180, "14.00")
