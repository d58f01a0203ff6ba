"""The signing client in docs/api.md, run as written against a live server: an integrator copies it verbatim
(review 56: the old snippet named things it never defined)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agglo.access import nodes
from agglo.market.models import Listing

pytestmark = pytest.mark.django_db(transaction=True)

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def documented_client() -> dict[str, Any]:
    text = API_DOC.read_text(encoding="utf-8")
    after = text.index("Signing with the `http-message-signatures` package")
    block = re.search(r"```python\n(.*?)```", text[after:], re.S)
    assert block is not None
    code = "\n".join(line.removeprefix("  ") for line in block.group(1).splitlines())  # indented in its list
    namespace: dict[str, Any] = {"__name__": "documented_client"}
    exec(compile(code, str(API_DOC), "exec"), namespace)  # noqa: S102 - our own docs, run as a reader would
    return namespace


def test_the_documented_client_signs_reads_and_writes(live_server, member_of) -> None:
    client = documented_client()
    admin, org = member_of("docs-node-admin")
    key = Ed25519PrivateKey.generate()
    registered = nodes.node_register(
        actor=admin, organization_id=org.pk, name="erp", public_key=client["public_key_b64"](key), role="admin"
    )
    call, key_id = client["call"], registered.key_id

    status, me = call("GET", f"{live_server.url}/api/v1/whoami", key, key_id)
    assert status == 200 and me["node_id"] == registered.node_id, me
    status, refused = call("GET", f"{live_server.url}/api/v1/whoami", Ed25519PrivateKey.generate(), key_id)
    assert status == 401 and refused["type"].startswith("urn:agglo:problem:"), refused

    # a write sent twice with its signed Idempotency-Key acts once
    body = {"side": "need", "kind": "capacity", "title_zh": "寻找贴片代工产能"}
    url = f"{live_server.url}/api/v1/organizations/{org.pk}/listings"
    once = {"Idempotency-Key": "erp-2026-0001"}
    answers = [call("POST", url, key, key_id, body=body, headers=once) for _ in range(2)]
    assert [status for status, _ in answers] == [201, 201], answers
    assert answers[0][1]["id"] == answers[1][1]["id"]
    assert Listing.objects.filter(organization=org).count() == 1
    # two like writes at once, without a key, are two requests: each signature is new (its nonce), so neither is
    # taken for a copy of the other
    twice = [call("POST", url, key, key_id, body=body | {"title_zh": "寻找注塑产能"}) for _ in range(2)]
    assert [status for status, _ in twice] == [201, 201], twice
    assert Listing.objects.filter(organization=org).count() == 3
