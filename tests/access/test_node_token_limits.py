"""A node's tokens are its admins' to issue and revoke: a node cannot mint itself a lasting token, and each of its
tokens can be revoked on its own, on the nodes page and through the API (review 28, F2)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from agglo.access import nodes
from agglo.access.models import ApiToken
from tests.access.test_nodes import NodeClient, node_client  # noqa: F401  (node_client: a fixture)


def test_a_node_cannot_issue_itself_a_token_by_token_or_signature(node_client, org_admin, client):  # noqa: F811
    admin, _ = org_admin
    _, write = nodes.node_token_issue(actor=admin, node=node_client.node, name="sync", scope="write", days=1)
    r = client.post(
        "/api/v1/tokens", {"name": "forever"}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {write}"
    )
    assert r.status_code == 403 and "节点" in r.json()["title"], r.json()
    assert node_client.request("POST", "/api/v1/tokens", {"name": "forever"}).status_code == 403
    assert not ApiToken.objects.filter(user=node_client.node.user, node__isnull=True).exists()


def test_admins_see_and_revoke_one_node_token(node_client, org_admin, member_of):  # noqa: F811
    admin, _ = org_admin
    keep, kept = nodes.node_token_issue(actor=admin, node=node_client.node, name="report", scope="read", days=7)
    gone, clear = nodes.node_token_issue(actor=admin, node=node_client.node, name="sync", scope="write", days=1)
    api = Client()
    api.force_login(admin)
    (listed,) = api.get("/api/v1/nodes").json()
    assert sorted(t["name"] for t in listed["tokens"]) == ["report", "sync"]
    # another organization's admin cannot reach the node's tokens
    outsider, _ = member_of("outsider-admin")
    other = Client()
    other.force_login(outsider)
    assert other.delete(f"/api/v1/nodes/{node_client.node.pk}/tokens/{gone.pk}").status_code == 404
    assert api.delete(f"/api/v1/nodes/{node_client.node.pk}/tokens/{gone.pk}").status_code == 204
    assert Client().get("/api/v1/whoami", HTTP_AUTHORIZATION=f"Bearer {clear}").status_code == 401
    assert Client().get("/api/v1/whoami", HTTP_AUTHORIZATION=f"Bearer {kept}").status_code == 200
    assert [t["name"] for t in api.get("/api/v1/nodes").json()[0]["tokens"]] == ["report"]
    assert api.delete(f"/api/v1/nodes/{node_client.node.pk}/tokens/999999").status_code == 404
    # and on the nodes page
    page = api.get("/account/nodes/").content.decode()
    assert "report" in page and f'name="token" value="{keep.pk}"' in page
    api.post(f"/account/nodes/{node_client.node.pk}/revoke-token/", {"token": keep.pk})
    assert Client().get("/api/v1/whoami", HTTP_AUTHORIZATION=f"Bearer {kept}").status_code == 401
    r = api.post(f"/account/nodes/{node_client.node.pk}/revoke-token/", {"token": "①"}, follow=True)
    assert "此节点没有该令牌" in r.content.decode()


def test_an_admin_node_manages_no_nodes_tokens_or_keys(org_admin, client):
    """A node acting as its organization's admin still manages nothing (review 30): a leaked one-day token could
    otherwise issue its node a year-long token, add a key that never expires, or register a new node."""
    admin, org = org_admin
    erp = NodeClient(client, Ed25519PrivateKey.generate())
    node = nodes.node_register(
        actor=admin, organization_id=org.pk, name="erp", public_key=erp.public, role="admin"
    ).node
    _, short = nodes.node_token_issue(actor=admin, node=node, name="one-day", scope="write", days=1)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {short}")
    thief = NodeClient(client, Ed25519PrivateKey.generate())
    attempts = {
        "token": api.post(
            f"/api/v1/nodes/{node.pk}/tokens",
            {"name": "a year", "scope": "write", "days": 365},
            content_type="application/json",
        ),
        "key": api.post(f"/api/v1/nodes/{node.pk}/keys", {"public_key": thief.public}, content_type="application/json"),
        "node": api.post(
            f"/api/v1/organizations/{org.pk}/nodes",
            {"name": "mine", "public_key": thief.public, "role": "admin"},
            content_type="application/json",
        ),
        "revoke": api.delete(f"/api/v1/nodes/{node.pk}/keys/{erp.key_id}"),
    }
    assert {name: r.status_code for name, r in attempts.items()} == dict.fromkeys(attempts, 403)
    assert ApiToken.objects.filter(node=node).count() == 1 and node.keys.count() == 1
    assert nodes.Node.objects.filter(organization=org).count() == 1
    # the node still does its work as the admin it acts as
    assert api.get("/api/v1/whoami").json()["node_id"] == node.pk


def test_a_node_token_cannot_revoke_its_nodes_other_tokens(node_client, org_admin):  # noqa: F811
    """Review 31: a leaked token must not cut off the organization's integration either."""
    admin, _ = org_admin
    _, leaked = nodes.node_token_issue(actor=admin, node=node_client.node, name="short", scope="write", days=1)
    other, kept = nodes.node_token_issue(actor=admin, node=node_client.node, name="erp", scope="write", days=30)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {leaked}")
    assert api.delete(f"/api/v1/nodes/{node_client.node.pk}/tokens/{other.pk}").status_code in (403, 404)
    assert api.delete(f"/api/v1/tokens/{other.pk}").status_code == 403
    assert node_client.request("DELETE", f"/api/v1/tokens/{other.pk}").status_code == 403
    assert Client().get("/api/v1/whoami", HTTP_AUTHORIZATION=f"Bearer {kept}").status_code == 200


def test_a_token_lasts_a_whole_number_of_days(node_client, org_admin):  # noqa: F811
    """`true`, 5.5 or an infinity is no number of days (review 33: 1e400 was a 500, `true` a one-day token)."""
    admin, _ = org_admin
    api = Client()
    api.force_login(admin)
    url = f"/api/v1/nodes/{node_client.node.pk}/tokens"
    for days in ("true", "5.5", "1e400", "-1e400", "0", "366"):
        r = api.post(url, f'{{"name": "t", "days": {days}}}', content_type="application/json")
        assert r.status_code == 422 and list(r.json()["errors"]) == ["days"], (days, r.content)
    assert not ApiToken.objects.filter(node=node_client.node, name="t").exists()
    r = api.post(url, {"name": "t", "days": 5}, content_type="application/json")
    assert r.status_code == 201
