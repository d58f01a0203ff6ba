"""An organization's history pages evenly: each page holds exactly what the reader may see, newest first, on the
profile tab and in the API alike, and a case hidden from the reader leaves no gap or trace in any page."""

from __future__ import annotations

import re

import pytest

from agglo.common.models import AuditEvent
from agglo.profiles import selectors, services
from agglo.profiles.views import profile as views
from tests.profiles.test_api_and_pages import login


@pytest.fixture
def busy(org_admin, member_of):
    """An organization with open capability changes, one case for members and one private case; a peer reader."""
    admin, org = org_admin
    for term in ("iso-9001", "iso-14001", "iatf-16949"):
        services.fact_create(actor=admin, organization=org, kind="capabilities", data={"term": term})
    shared = {"title": "联合研发", "kind": "joint_rnd", "started_on": "2024-01-01"}
    services.case_create(actor=admin, organization=org, data=shared)
    hidden = services.case_create(
        actor=admin, organization=org, data={**shared, "title": "保密项目", "visibility": "private"}
    )
    peer, _ = member_of("peer")
    return admin, org, peer, hidden


def test_the_history_tab_pages_exactly_what_the_reader_sees(busy, monkeypatch):
    _, org, peer, hidden = busy
    assert AuditEvent.objects.filter(organization_id=org.pk, group="cases", subject_id=str(hidden.pk)).exists()
    expected = [e.pk for e in selectors.history_list(actor=peer, organization=org)]
    assert len(expected) >= 4
    assert str(hidden.pk) not in {
        e.subject_id for e in selectors.history_list(actor=peer, organization=org) if e.group == "cases"
    }
    monkeypatch.setattr(views, "TAB_PAGE", 2)
    client = login(peer)
    pages = -(-len(expected) // 2)
    for number in range(1, pages + 1):
        html = client.get(f"/organizations/{org.pk}/tab/history/?page={number}").content.decode()
        table = html.split('id="history"')[1].split("</table>")[0]
        found = re.findall(r"<tr><td>", table)
        assert len(found) == (2 if number < pages else len(expected) - 2 * (pages - 1))  # no page short
        assert "保密项目" not in table
        assert f"第 {number} 页，共 {pages} 页" in html.split('id="history-pages"')[1]


def test_the_history_api_pages_with_the_total(busy):
    admin, org, peer, hidden = busy
    expected = [e.pk for e in selectors.history_list(actor=peer, organization=org)]
    client = login(peer)
    got: list[int] = []
    for offset in range(0, len(expected), 3):
        r = client.get(f"/api/v1/organizations/{org.pk}/history?limit=3&offset={offset}")
        assert r.status_code == 200 and r["X-Total-Count"] == str(len(expected))
        got += [row["id"] for row in r.json()]
    assert got == expected
    r = client.get(f"/api/v1/organizations/{org.pk}/history?offset=-1")
    assert r.status_code == 422 and "offset" in r.json()["errors"]
    owner_total = login(admin).get(f"/api/v1/organizations/{org.pk}/history")["X-Total-Count"]
    assert int(owner_total) > len(expected)  # the private case's changes are the owner's to read
