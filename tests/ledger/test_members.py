"""Members and the log: business events are logged with their parties; a member lists its own entries and
downloads receipts that verify offline; nobody else gets them."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from agglo.ledger import entries, receipt
from agglo.ledger.keys import log_verifier
from agglo.ledger.models import EntryParty, LogEntry
from agglo.market import services as market

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def agreement(member_of):
    """A need published by one member, answered by another, and accepted: a logged agreement."""
    owner, owner_org = member_of("owner-admin")
    peer, peer_org = member_of("peer-admin")
    listing = market.listing_create(
        actor=owner,
        organization=owner_org,
        data={
            "side": "need",
            "kind": "technology",
            "title_zh": "寻求碳化硅器件联合研发伙伴",
            "description_zh": "需要 SiC MOSFET 可靠性测试。",
        },
    )
    market.listing_submit(actor=owner, listing=listing)
    interest = market.interest_express(
        actor=peer, listing=listing, data={"cooperation": "joint_rnd", "message": "我们有可靠性实验室"}
    )
    market.interest_accept(actor=owner, interest=interest)
    entry = LogEntry.objects.get(type="market.interest_accepted")
    return {
        "owner": owner,
        "owner_org": owner_org,
        "peer": peer,
        "peer_org": peer_org,
        "entry": entry,
        "interest": interest,
        "listing": listing,
    }


def test_an_accepted_interest_is_logged_for_both_sides_sealed_under_their_key(agreement, client, member_of):
    """Who accepted whom, on what terms, is the two sides' business (an anonymous owner is named to the accepted
    side only): the public entry holds every fact and the acting organization as keyed digests, which the two
    sides, and nobody else, can check with the key the API and the listing's page show them."""
    entry, interest = agreement["entry"], agreement["interest"]
    interest.refresh_from_db()
    key = interest.text_key
    assert len(key) == 32
    content = entries.decode(bytes(entry.data))
    owner, peer = agreement["owner_org"].pk, agreement["peer_org"].pk
    assert content["actor"] == entries.sealed_ref("party", f"org:{owner}", key)
    assert content["subject"] == entries.sealed_ref("market.interest", f"market.interest:{interest.pk}", key)
    facts = {"listing": agreement["listing"].pk, "organization": peer, "owner": owner}
    assert {k: content["payload"][k] for k in facts} == entries.sealed_facts(facts, key)
    assert content["payload"]["terms"].startswith("hmac-sha256:")
    clear = bytes(entry.data).decode()
    assert f"org:{owner}" not in clear and '"owner":' + str(owner) not in clear
    assert "可靠性实验室" not in bytes(entry.data).decode() and "owner-admin" not in bytes(entry.data).decode()
    assert set(EntryParty.objects.filter(entry=entry).values_list("organization_id", flat=True)) == {
        agreement["owner_org"].pk,
        agreement["peer_org"].pk,
    }
    # the key is the two sides': on the API's interests and the listing page, for them only
    client.force_login(agreement["peer"])
    assert [i["text_key"] for i in client.get("/api/v1/interests").json()] == [key]
    assert key in client.get(f"/market/{agreement['listing'].pk}/").content.decode()
    client.force_login(agreement["owner"])
    board = client.get(f"/api/v1/listings/{agreement['listing'].pk}/interests").json()
    assert [i["text_key"] for i in board] == [key]
    stranger, _org = member_of("stranger-admin")
    client.force_login(stranger)
    assert key not in client.get(f"/market/{agreement['listing'].pk}/").content.decode()


def test_member_downloads_a_receipt_that_verifies_offline(agreement, client, tmp_path, english):
    client.force_login(agreement["peer"])
    client.cookies["django_language"] = "en"
    page = client.get("/ledger/mine/")
    assert page.status_code == 200 and "market.interest_accepted" in page.content.decode()
    index = agreement["entry"].index
    response = client.get(f"/ledger/receipts/{index}.json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    verified = receipt.verify(data, log_verifier().encode())
    assert verified.entry["type"] == "market.interest_accepted"
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(data))
    from io import StringIO

    out = StringIO()
    call_command("ledger", "receipt", str(path), "--key", log_verifier().encode(), stdout=out)
    assert out.getvalue().startswith(f"VALID: entry {index}")
    # Any change to the entry breaks it, as does a different log key or a stricter witness policy.
    forged = dict(data, entry=base64.b64encode(base64.b64decode(data["entry"]).replace(b"market", b"mArket")).decode())
    with pytest.raises(receipt.ReceiptError):
        receipt.verify(forged, log_verifier().encode())
    path.write_text(json.dumps(forged))
    with pytest.raises(CommandError, match="INVALID receipt"):
        call_command("ledger", "receipt", str(path), "--key", log_verifier().encode())
    with pytest.raises(receipt.ReceiptError, match="cosignatures"):
        receipt.verify(data, log_verifier().encode(), min_cosignatures=1)
    assert index in (0, 1), index  # the fixture's entry comes first: its index reads as false or true in Python
    with pytest.raises(receipt.ReceiptError, match="whole numbers"):  # JSON's true or false is no index
        receipt.verify(dict(data, index=bool(index)), log_verifier().encode())


def test_others_get_no_receipt_and_no_list(agreement, client, member_of):
    stranger, _ = member_of("stranger-admin")
    client.force_login(stranger)
    index = agreement["entry"].index
    assert client.get(f"/ledger/receipts/{index}.json").status_code == 404
    assert client.get(f"/api/v1/ledger/receipts/{index}").status_code == 404
    assert "market.interest_accepted" not in client.get("/ledger/mine/").content.decode()
    assert client.get("/api/v1/ledger/mine").json() == []
    client.logout()
    assert client.get(f"/ledger/receipts/{index}.json").status_code == 302
    assert client.get(f"/api/v1/ledger/receipts/{index}").status_code == 401


def test_public_overview_page(agreement, client):
    client.cookies["django_language"] = "en"
    page = client.get("/ledger/")
    assert page.status_code == 200
    text = page.content.decode()
    assert log_verifier().encode() in text and "Transparency log" in text


def test_my_entries_link_back_to_the_record_even_when_sealed(agreement, client, english):
    """A party's list names the record a sealed entry is about and links to where it is shown; the public bytes
    stay sealed, and the API gives the same name."""
    entry, interest, listing = agreement["entry"], agreement["interest"], agreement["listing"]
    entry.refresh_from_db()
    assert entry.record == f"market.interest:{interest.pk}"
    logged = bytes(entry.data).decode()
    assert f'"{entry.record}"' not in logged and f'"organization":{agreement["peer_org"].pk}' not in logged
    assert entries.decode(bytes(entry.data))["subject"] == entry.subject != entry.record
    client.force_login(agreement["peer"])
    client.cookies["django_language"] = "en"
    page = client.get("/ledger/mine/").content.decode()
    assert f'<a href="/market/{listing.pk}/#interest-{interest.pk}">Interest #{interest.pk}</a>' in page
    mine = client.get("/api/v1/ledger/mine").json()
    assert [(e["subject"], e["record"]) for e in mine] == [(entry.subject, entry.record)]


def test_the_migration_names_records_of_entries_logged_before_it(agreement):
    """Entries logged before `record` existed get it from the migration: a clear subject as it is, a sealed one
    found again by its keyed digest among its kind's rows."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("agglo.ledger.migrations.0003_entry_record")
    entry = agreement["entry"]
    LogEntry.objects.update(record="")
    migration.records_named(apps, None)
    entry.refresh_from_db()
    assert entry.record == f"market.interest:{agreement['interest'].pk}"
    for other in LogEntry.objects.exclude(subject__startswith="market.interest:"):
        assert other.record == other.subject
