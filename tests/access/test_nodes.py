"""Member nodes: RFC 9421 signed requests, key rotation, revocation, and scoped expiring node tokens."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.utils import timezone
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms

from agglo.access import nodes
from agglo.access.models import ApiToken
from agglo.common.errors import Forbidden, ValidationFailed

pytestmark = pytest.mark.django_db


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Message:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


class Keys(HTTPSignatureKeyResolver):
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self.private = private

    def resolve_private_key(self, key_id: str):
        return self.private

    def resolve_public_key(self, key_id: str):
        return self.private.public_key()


def test_rfc9421_appendix_b26_ed25519_vector():
    # RFC 9421 B.1.4 test key and the B.2.6 signature of the B.2 test request: Ed25519 is deterministic.
    private = Ed25519PrivateKey.from_private_bytes(b64url("n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU"))
    assert private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) == b64url(
        "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"
    )
    message = Message(
        "POST",
        "http://example.com/foo?param=Value&Pet=dog",
        {
            "Host": "example.com",
            "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
            "Content-Type": "application/json",
            "Content-Length": "18",
        },
    )
    HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=Keys(private)).sign(
        message,
        key_id="test-key-ed25519",
        created=dt.datetime.fromtimestamp(1618884473, dt.UTC),
        label="sig-b26",
        include_alg=False,
        covered_component_ids=("date", "@method", "@path", "@authority", "content-type", "content-length"),
    )
    assert message.headers["Signature-Input"] == (
        'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");'
        'created=1618884473;keyid="test-key-ed25519"'
    )
    assert message.headers["Signature"] == (
        "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"
    )


class NodeClient:
    """Signs requests as a member system would, and sends them through the Django test client."""

    def __init__(self, client, private: Ed25519PrivateKey) -> None:
        self.client, self.private = client, private
        raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public = base64.b64encode(raw).decode()
        self.key_id = nodes.key_id_of(raw)

    def request(
        self, method: str, path: str, body: dict | None = None, *, created=None, tamper_path=None, nonce=None, **more
    ):
        data = json.dumps(body).encode() if body is not None else b""
        message = Message(method, f"http://testserver{path}", {"Content-Type": "application/json"} if data else {})
        components = ("@method", "@target-uri") + (("content-type", "content-digest") if data else ())
        if "HTTP_IDEMPOTENCY_KEY" in more:  # signed, as the documented client signs it
            message.headers["Idempotency-Key"] = more.pop("HTTP_IDEMPOTENCY_KEY")
            components += ("idempotency-key",)
        HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=Keys(self.private)).sign(
            message,
            key_id=self.key_id,
            created=created or timezone.now(),
            nonce=nonce,
            covered_component_ids=components,
            body=data or None,
        )
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in message.headers.items() if k != "Content-Type"}
        extra.update(more)
        self.sent = (method, tamper_path or path, data, extra)
        return self.again()

    def again(self):
        """The request sent last, sent again byte for byte (its signature too)."""
        method, path, data, extra = self.sent
        send = getattr(self.client, method.lower())
        if data:
            return send(path, data=data, content_type="application/json", **extra)
        return send(path, **extra)


@pytest.fixture
def org_admin(member_of):
    return member_of("node-owner-admin")


@pytest.fixture
def node_client(client, org_admin):
    admin, org = org_admin
    nc = NodeClient(client, Ed25519PrivateKey.generate())
    key = nodes.node_register(actor=admin, organization_id=org.pk, name="erp", public_key=nc.public)
    nc.node = key.node
    return nc


def test_signed_requests_act_as_the_node(node_client, org_admin):
    r = node_client.request("GET", "/api/v1/whoami")
    assert r.status_code == 200, r.content
    assert r.json()["node_id"] == node_client.node.pk and r.json()["organizations"] == [org_admin[1].pk]


def test_unknown_node_is_refused(client):
    stranger = NodeClient(client, Ed25519PrivateKey.generate())
    r = stranger.request("GET", "/api/v1/whoami")  # in the default language, Chinese
    assert r.status_code == 401 and r.json()["detail"] == "签名被拒绝：该密钥不属于已登记的节点，或已被撤销。"


def test_tampered_stale_or_unsigned_body_requests_are_refused(node_client):
    assert node_client.request("GET", "/api/v1/whoami", tamper_path="/api/v1/tokens").status_code == 401
    old = timezone.now() - dt.timedelta(minutes=10)
    assert node_client.request("GET", "/api/v1/whoami", created=old).status_code == 401
    # A body the signature does not cover by its digest is not accepted.
    signed_get = node_client.request("GET", "/api/v1/whoami")
    assert signed_get.status_code == 200
    r = node_client.client.post(
        "/api/v1/nodes/1/keys",
        data=b'{"public_key": "x"}',
        content_type="application/json",
        HTTP_SIGNATURE_INPUT='sig=("@method" "@target-uri");created=1;keyid="x"',
        HTTP_SIGNATURE="sig=:AAAA:",
    )
    assert r.status_code == 401


def test_a_signed_write_sent_again_is_refused_and_not_acted_on_twice(node_client, org_admin):
    """Someone who copies a signed request off the wire cannot make the platform act on it again within the five
    minutes its signature stays fresh (RFC 9421 §7.2.2); reads may be sent again."""
    from agglo.profiles.models import FinancialStatement
    from tests.profiles.conftest import statement

    admin, org = org_admin
    node_client.node.role = "admin"  # an ERP that keeps the organization's figures
    node_client.node.save(update_fields=["role"])
    node_client.node.user.memberships.update(role="admin")
    url = f"/api/v1/organizations/{org.pk}/financials"
    first = node_client.request("POST", url, statement(2024))
    assert first.status_code == 201, first.content
    replayed = node_client.again()
    assert replayed.status_code == 401
    assert replayed.json()["detail"] == (
        "签名被拒绝：这一签名请求此前已收到；请为每个请求重新签名，或附上 Idempotency-Key 以安全重试。"
    )
    assert FinancialStatement.objects.filter(organization=org).count() == 1
    # signed anew (a nonce keeps two like requests in one second apart), it is a request of its own
    second = node_client.request("POST", url, statement(2023), nonce="b8e2c0")
    assert second.status_code == 201, second.content
    assert FinancialStatement.objects.filter(organization=org).count() == 2
    # a read is taken again; a write under a signed Idempotency-Key is answered again as the first time
    node_client.request("GET", "/api/v1/whoami")
    assert node_client.again().status_code == 200
    keyed = node_client.request("POST", url, statement(2022), HTTP_IDEMPOTENCY_KEY='"sync-2022"')
    assert keyed.status_code == 201 and node_client.again().status_code == 201
    assert FinancialStatement.objects.filter(organization=org).count() == 3
    # a copier cannot get round it (review 90): by adding a key of its own, which the signature does not cover ...
    node_client.request("POST", url, statement(2021))
    method, path, data, extra = node_client.sent
    copied = {**extra, "HTTP_IDEMPOTENCY_KEY": '"attacker-1"'}
    assert node_client.client.post(path, data=data, content_type="application/json", **copied).status_code == 401
    # ... nor by renaming the signature's label or adding a parameter to it, which it does not cover either
    label = extra["HTTP_SIGNATURE"].split("=", 1)[0]
    renamed = {
        **extra,
        "HTTP_SIGNATURE": "x=" + extra["HTTP_SIGNATURE"].split("=", 1)[1],
        "HTTP_SIGNATURE_INPUT": "x=" + extra["HTTP_SIGNATURE_INPUT"].split("=", 1)[1],
    }
    assert node_client.client.post(path, data=data, content_type="application/json", **renamed).status_code == 401
    padded = {**extra, "HTTP_SIGNATURE": extra["HTTP_SIGNATURE"] + ";a=1"}
    assert node_client.client.post(path, data=data, content_type="application/json", **padded).status_code == 401
    assert label and FinancialStatement.objects.filter(organization=org).count() == 4
    # a write signed at the end of its five minutes is kept past them, for as long as the verifier may take it
    late = timezone.now() - dt.timedelta(seconds=298)
    assert node_client.request("POST", url, statement(2020), created=late).status_code == 201
    assert node_client.again().status_code == 401
    assert FinancialStatement.objects.filter(organization=org).count() == 5


def test_keys_rotate_without_downtime_and_revoked_keys_stop(node_client, org_admin, client):
    admin, _ = org_admin
    second = NodeClient(client, Ed25519PrivateKey.generate())
    nodes.node_key_add(actor=admin, node=node_client.node, public_key=second.public)
    assert node_client.request("GET", "/api/v1/whoami").status_code == 200
    assert second.request("GET", "/api/v1/whoami").status_code == 200
    old = node_client.node.keys.get(key_id=node_client.key_id)
    nodes.node_key_revoke(actor=admin, key=old)
    assert node_client.request("GET", "/api/v1/whoami").status_code == 401
    assert second.request("GET", "/api/v1/whoami").json()["node_id"] == node_client.node.pk


def test_node_tokens_are_scoped_expiring_and_die_with_the_node(node_client, org_admin, client):
    admin, _ = org_admin
    _, read = nodes.node_token_issue(actor=admin, node=node_client.node, name="reporting", scope="read", days=7)
    token, write = nodes.node_token_issue(actor=admin, node=node_client.node, name="sync", scope="write", days=1)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {read}"}
    assert client.get("/api/v1/whoami", **auth).json()["node_id"] == node_client.node.pk
    r = client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json", **auth)
    assert r.status_code == 403
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get("/api/v1/whoami", HTTP_AUTHORIZATION=f"Bearer {write}").status_code == 401
    nodes.node_revoke(actor=admin, node=node_client.node)
    assert client.get("/api/v1/whoami", **auth).status_code == 401
    assert node_client.request("GET", "/api/v1/whoami").status_code == 401


def test_only_the_organizations_admins_manage_its_nodes(node_client, member_of, org_admin):
    outsider, _ = member_of("outsider-admin")
    with pytest.raises(Forbidden):
        nodes.node_key_add(actor=outsider, node=node_client.node, public_key=node_client.public)
    with pytest.raises(Forbidden):
        nodes.node_register(actor=outsider, organization_id=org_admin[1].pk, name="x", public_key=node_client.public)
    with pytest.raises(ValidationFailed) as exc:
        nodes.node_register(actor=org_admin[0], organization_id=org_admin[1].pk, name="", public_key="nope")
    assert set(exc.value.errors) == {"name", "public_key"}
    with pytest.raises(ValidationFailed) as exc:
        nodes.node_token_issue(actor=org_admin[0], node=node_client.node, name="t", scope="admin", days=900)
    assert set(exc.value.errors) == {"scope", "days"}


def test_admins_manage_nodes_on_their_page(client, org_admin, member_of):
    admin, org = org_admin
    client.force_login(admin)
    client.cookies["django_language"] = "en"
    public = NodeClient(client, Ed25519PrivateKey.generate()).public
    bad = client.post("/account/nodes/", {"organization": org.pk, "name": "", "public_key": "nope", "role": "member"})
    assert bad.status_code == 422 and "public_key" in bad.context["errors"] and "name" in bad.context["errors"]
    r = client.post("/account/nodes/", {"organization": org.pk, "name": "mes", "public_key": public, "role": "member"})
    assert r.status_code == 302
    node = nodes.Node.objects.get(name="mes")
    page = client.get("/account/nodes/")
    assert "<td>mes" in page.content.decode() and nodes.key_id_of(base64.b64decode(public)) in page.content.decode()
    r = client.post(f"/account/nodes/{node.pk}/token/", {"name": "sync", "scope": "write", "days": "7"}, follow=True)
    assert "agg_" in r.content.decode()
    client.post(f"/account/nodes/{node.pk}/revoke/")
    node.refresh_from_db()
    assert node.revoked_at is not None
    # Another organization's admin cannot see or touch it.
    outsider, other = member_of("node-page-outsider")
    client.force_login(outsider)
    assert "<td>mes" not in client.get("/account/nodes/").content.decode()
    assert client.post(f"/account/nodes/{node.pk}/add-key/", {"public_key": public}).status_code == 404
    r = client.post("/account/nodes/", {"organization": org.pk, "name": "x", "public_key": public, "role": "member"})
    assert r.status_code == 422 and "organization" in r.context["errors"]


def test_a_node_uploads_a_signed_import(client, member_of):
    """A signed multipart body is verified over the bytes sent, before anything reads it as a form."""
    import io

    from django.test import Client
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
    from django.utils import timezone
    from http_message_signatures import HTTPMessageSigner, algorithms

    from agglo.access import nodes
    from agglo.profiles.tabular import write_csv

    admin, org = member_of("node-owner-admin")
    nc = NodeClient(client, Ed25519PrivateKey.generate())
    nodes.node_register(actor=admin, organization_id=org.pk, name="erp", public_key=nc.public)
    header = ("uscc", "year", "revenue", "total_assets", "total_liabilities", "equity", "source_note")
    body = encode_multipart(BOUNDARY, {"file": io.BytesIO(write_csv(header, [(org.uscc, 2024, 100, 10, 5, 5, "")]))})
    path = "/api/v1/imports/financials?dry_run=true"
    message = Message("POST", f"http://testserver{path}", {"Content-Type": MULTIPART_CONTENT})
    HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=Keys(nc.private)).sign(
        message,
        key_id=nc.key_id,
        created=timezone.now(),
        covered_component_ids=("@method", "@target-uri", "content-type", "content-digest"),
        body=body,
    )
    signed = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in message.headers.items() if k != "Content-Type"}
    response = Client().generic("POST", path, body, content_type=MULTIPART_CONTENT, **signed)
    assert response.status_code == 200 and response.json()["rows"] == 1, response.content  # read and checked


@pytest.mark.parametrize("value", ["1" * 5000, "99999999999999999999.0", "9999999999_9999999999"])
def test_a_huge_whole_number_however_written_is_refused(org_admin, value):
    from django.test import Client

    from tests.registry.test_api import bearer, problem

    admin, _org = org_admin
    problem(Client().get("/api/v1/listings", {"organization": value}, **bearer(admin)), 422)


def test_a_withdrawn_organizations_nodes_are_revoked_its_peoples_logins_and_own_tokens_keep_working(
    node_client, org_admin, operator, django_capture_on_commit_callbacks
):
    from django.test import Client

    from agglo.access.tokens import api_token_create
    from agglo.common.models import AuditEvent, Notification
    from agglo.registry.services import organization_set_status

    admin, org = org_admin
    node_token, node_clear = nodes.node_token_issue(actor=admin, node=node_client.node, name="sync", scope="read")
    _own, own_clear = api_token_create(actor=admin, user=admin, name="mine")
    with django_capture_on_commit_callbacks(execute=True):  # suspended: the node stands, as the people's rights
        organization_set_status(actor=operator, organization=org, status="suspended")
    assert node_client.request("GET", "/api/v1/whoami").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        organization_set_status(actor=operator, organization=org, status="withdrawn", reason="注销")
    # the node is refused, by signature and by its token; its account is disabled
    assert node_client.request("GET", "/api/v1/whoami").status_code == 401
    assert Client(HTTP_AUTHORIZATION=f"Bearer {node_clear}").get("/api/v1/whoami").status_code == 401
    node = node_client.node
    node.refresh_from_db()
    node.user.refresh_from_db()
    assert node.revoked_at is not None and not node.user.is_active
    assert not node.keys.filter(revoked_at__isnull=True).exists()
    # the history says why, and the admins are told which
    revoked = AuditEvent.objects.get(event="access.node_revoked", organization_id=org.pk)
    assert revoked.payload == {"organization_left": True} and revoked.actor_id == operator.pk
    told = Notification.objects.filter(user=admin, verb="registry.status").order_by("-pk").first()
    assert told is not None and "其节点已被吊销：erp。" in told.text, told.text
    page = Client()
    page.force_login(admin)  # a person still logs in, reads the history, and uses their own token
    history = page.get(f"/organizations/{org.pk}/tab/history/").content.decode()
    assert "节点 · 已吊销" in history and "因其所属机构退出平台" in history
    assert Client(HTTP_AUTHORIZATION=f"Bearer {own_clear}").get("/api/v1/whoami").status_code == 200
    # reinstated, nothing of it comes back by itself: its admins register nodes anew
    with django_capture_on_commit_callbacks(execute=True):
        organization_set_status(actor=operator, organization=org, status="member")
    assert node_client.request("GET", "/api/v1/whoami").status_code == 401


def test_a_node_acting_as_admin_cannot_withdraw_its_organization(node_client, org_admin):
    admin, org = org_admin
    node_client.node.role = "admin"
    node_client.node.save(update_fields=["role"])
    node_client.node.user.memberships.update(role="admin")
    refused = node_client.request("POST", f"/api/v1/organizations/{org.pk}/status", {"status": "withdrawn"})
    assert refused.status_code == 403, refused.content
    assert "节点不能办理其所属机构的退出" in refused.content.decode(), refused.json()
    org.refresh_from_db()
    assert org.status == "member"
    node_client.node.refresh_from_db()
    assert node_client.node.revoked_at is None
