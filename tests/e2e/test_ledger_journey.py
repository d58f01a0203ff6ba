"""A member whose agreement was logged opens its entries in the browser, downloads the receipt and verifies it
offline with nothing but the log's verifier key; a forged copy fails. The page runs under the strict CSP."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from playwright.sync_api import expect

from agglo.demo.ledger import demo_agreement_ensure
from tests.e2e.test_admission_journey import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_download_a_receipt_and_verify_it_offline(live_server, page, member_of, tmp_path, capsys):
    buyer, buyer_org = member_of("ledger-buyer")
    factory, _ = member_of("ledger-factory")
    buyer.set_password("Buyer-pass-2026")
    buyer.save()
    assert demo_agreement_ensure(buyer, factory) is not None
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    base = live_server.url
    page.goto(f"{base}/ledger/")
    key = page.locator("#verifier-key").inner_text()
    expect(page.locator("#checkpoint-note")).to_contain_text(key.split("+")[0])
    login(page, base, "ledger-buyer", "Buyer-pass-2026")
    page.goto(f"{base}/ledger/mine/")
    row = page.locator("#entries tr", has_text="market.interest_accepted")
    expect(row).to_have_count(1)
    # the sealed entry names its record for its parties and links to where it is shown
    expect(row.locator("a:not([download])")).to_have_attribute("href", re.compile(r"^/market/\d+/#interest-\d+$"))
    with page.expect_download() as download:
        row.locator("a[download]").click()
    path = tmp_path / "receipt.json"
    download.value.save_as(path)
    # Offline: only the file and the key someone published.
    call_command("ledger", "receipt", str(path), "--key", key)
    assert "VALID: entry" in capsys.readouterr().out
    data = json.loads(path.read_text())
    data["index"] += 1
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError, match="INVALID"):
        call_command("ledger", "receipt", str(path), "--key", key)
    assert not [e for e in errors if "Content Security Policy" in e], errors
