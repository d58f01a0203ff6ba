"""The cross-tenant matrix, generated from the API's OpenAPI schema and the page URL patterns.

Tenant A owns one object of every kind, with secret markers in what only A may see. Every API operation and
every page is tried with A's ids by each outsider role: B's admin and B's member (sessions), B's node (a write
token), a government officer, an anonymous visitor, and for writes an auditor. Reads must not contain any marker;
writes aimed at A's objects must be refused and leave every table exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from agglo.access import nodes
from agglo.access.tokens import api_token_create
from agglo.api import api
from agglo.factory.models import Allocation
from agglo.factory.services.orders import order_create
from agglo.ledger.models import LogEntry
from agglo.market import services as market
from agglo.policy.applications import application_submit
from agglo.policy.needs import need_submit
from agglo.policy.services import policy_create, policy_publish
from agglo.profiles import services as profiles
from agglo.registry.models import Organization
from agglo.registry.services import position_add, relation_add
from agglo.registry.services.admission import admission_apply
from tests.conftest import user
from tests.factory.conftest import order_data
from tests.profiles.conftest import statement
from tests.registry.test_admission_services import application

pytestmark = [pytest.mark.long, pytest.mark.django_db(transaction=True)]

SECRETS = (
    "secret-contacts-a@matrix.test",
    "secret-a-invitee@matrix.test",
    "SECRET-A-PARTNERS",
    "SECRET-A-DRAFT",
    "SECRET-A-ORDER",
    "SECRET-A-INTEREST",
    "SECRET-A-NODE",
    "SECRET-A-TOKEN",
    "SECRET-A-CASE",
    "SECRET-A-POLICY",
    "SECRET-A-APPLICATION",
    "SECRET-A-POLICYDOC",
)
# Rows that reads legitimately add or that only count traffic: not business data.
VOLATILE = {
    "access.ratebucket",
    "access.loginthrottle",
    "access.dailyquota",
    "access.accesslogentry",
    "access.profileview",  # who looked at an organization: reads add these
    "matching.matchevent",
    "sessions.session",
    "django_tasks_db.dbtaskresult",
    "admin.logentry",
}
VOLATILE_FIELDS = {"last_used_at", "last_login"}


def _public_key() -> str:
    import base64

    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


@pytest.fixture
def world(cluster, member_of, make_org, operator):
    """A = the buyer of the factory cluster, with one object of every kind; B = another member; C = a third."""
    a_admin, a = cluster["people"]["buyer"], cluster["orgs"]["buyer"]
    Organization.objects.filter(pk=a.pk).update(
        contact_email="secret-contacts-a@matrix.test", contacts_visibility="private"
    )
    c_admin, c = cluster["people"]["sz"], cluster["orgs"]["sz"]
    b_admin, b = member_of("b-admin")
    b_member, _ = member_of("b-member", role="member")
    from agglo.access.models import Membership

    Membership.objects.filter(user=b_member).update(organization=b)
    b_node = nodes.node_register(actor=b_admin, organization_id=b.pk, name="b-erp", public_key=_public_key()).node
    _, b_token = nodes.node_token_issue(actor=b_admin, node=b_node, name="b-sync", scope="write", days=1)

    listing = market.listing_create(
        actor=a_admin,
        organization=a,
        data={
            "side": "need",
            "kind": "technology",
            "title_zh": "SECRET-A-PARTNERS 联合研发",
            "visibility": "partners",
            "description_zh": "只给伙伴看",
        },
    )
    market.listing_submit(actor=a_admin, listing=listing)
    draft = market.listing_create(
        actor=a_admin,
        organization=a,
        data={"side": "offer", "kind": "equipment", "title_zh": "SECRET-A-DRAFT 设备共享", "description_zh": "草稿"},
    )
    c_listing = market.listing_create(
        actor=c_admin,
        organization=c,
        data={"side": "offer", "kind": "technology", "title_zh": "C 的技术转让", "description_zh": "公开"},
    )
    market.listing_submit(actor=c_admin, listing=c_listing)
    interest = market.interest_express(
        actor=a_admin, listing=c_listing, data={"cooperation": "licensing", "message": "SECRET-A-INTEREST"}
    )
    order = order_create(actor=a_admin, data=order_data(product="SECRET-A-ORDER 网关外壳", buyer=a.pk))
    allocation = Allocation.objects.filter(order=order).first()
    fact = profiles.fact_create(actor=a_admin, organization=a, kind="financials", data=statement(2025))
    profiles.disclosure_set(actor=a_admin, organization=a, data={"financials_visibility": "private"})
    rating = profiles.fact_create(
        actor=operator,
        organization=a,
        kind="ratings",
        data={
            "grade": "AA",
            "rating_body": "platform",
            "method_version": "v1",
            "as_of": dt.date.today().isoformat(),
            "valid_until": (dt.date.today() + dt.timedelta(days=365)).isoformat(),
        },
    )
    capability_fact = profiles.fact_create(
        actor=a_admin, organization=a, kind="capabilities", data={"term": "iso-9001"}
    )
    case = profiles.case_create(
        actor=a_admin,
        organization=a,
        data={
            "title": "SECRET-A-CASE 联合实验室",
            "kind": "alliance",
            "started_on": "2024-05-01",
            "visibility": "private",
        },
    )
    participant = profiles.participant_add(
        actor=a_admin,
        case=case,
        data={"organization": c.pk, "role": "partner", "input_kind": "equipment", "input_amount": "1000"},
    )
    a_node_key = nodes.node_register(
        actor=a_admin, organization_id=a.pk, name="SECRET-A-NODE", public_key=_public_key()
    )
    a_token, _ = api_token_create(actor=a_admin, user=a_admin, name="SECRET-A-TOKEN")
    position = position_add(actor=a_admin, organization=a, segment_code="ic-design", role="produces")
    relation = relation_add(actor=a_admin, source=a, target_id=c.pk, kind="supplier_of")
    admission = admission_apply(actor=None, **application("matrix-applicant@apply.test"))
    agency_admin, agency = member_of("matrix-agency", kind="government", name_zh="矩阵测试科技局")
    draft_policy = policy_create(  # a draft: the library must not show it to anyone but its agency
        actor=agency_admin,
        issuer=agency,
        data={"kind": "subsidy", "title_zh": "SECRET-A-POLICY 补贴草案", "starts_on": "2026-01-01", "rule": "tech_sme"},
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    from agglo.policy.services import policy_documents_add

    (draft_document,) = policy_documents_add(
        actor=agency_admin,
        policy=draft_policy,
        files=[SimpleUploadedFile("notice.pdf", b"%PDF-1.4 SECRET-A-POLICYDOC %%EOF", "application/pdf")],
    )
    open_policy = policy_create(
        actor=agency_admin,
        issuer=agency,
        data={"kind": "voucher", "title_zh": "创新券", "starts_on": "2026-01-01", "rule": "headcount >= 0"},
    )
    policy_publish(actor=agency_admin, policy=open_policy)
    # Government reads every need by design, so the need carries no marker; only writes are checked.
    a_need = need_submit(
        actor=a_admin, organization_id=a.pk, data={"topic": "tax", "text": "研发费用加计扣除申报流程复杂"}
    )
    a_application = application_submit(
        actor=a_admin,
        policy=open_policy,
        organization_id=a.pk,
        note="SECRET-A-APPLICATION 申请说明",
        files=[SimpleUploadedFile("materials.pdf", b"%PDF-1.4 SECRET-A-APPLICATION %%EOF", "application/pdf")],
    )
    from agglo.factory.models import Capability
    from tests.conftest import upload

    (a_evidence,) = profiles.evidence_add(actor=a_admin, statement=fact, files=[upload("audit.pdf")])
    from agglo.access import people

    # A's people: a member, and an invitation not yet accepted (its address must not show to others)
    a_clerk = Membership.objects.create(user=user("a-clerk"), organization=a, role="member")
    a_invitation = people.invitation_create(
        actor=a_admin, organization_id=a.pk, data={"email": "secret-a-invitee@matrix.test", "name": "Invitee"}
    )
    ids = {
        "invitation_id": a_invitation.pk,
        "membership_id": a_clerk.pk,
        "org_id": a.pk,
        "listing_id": listing.pk,
        "interest_id": interest.pk,
        "order_id": order.pk,
        "allocation_id": allocation.pk if allocation else 0,
        "capability_id": Capability.objects.filter(organization=c).first().pk,
        "case_id": case.pk,
        "participant_id": participant.pk,
        "node_id": a_node_key.node_id,
        "key_id": a_node_key.key_id,
        "token_id": a_token.pk,
        "position_id": position.pk,
        "relation_id": relation.pk,
        "admission_id": admission.pk,
        "token": "not-the-applicants-token",
        "index": LogEntry.objects.order_by("index").values_list("index", flat=True).first() or 0,
        "code": "iso-9001",
        "kind": "financials",
        "policy_id": open_policy.pk,  # published: its applications and matches must stay private
        "application_id": a_application.pk,
        "need_id": a_need.pk,
        "document_id": draft_document.pk,  # a draft's file: only its agency may read or remove it
        "evidence_id": a_evidence.pk,  # the report behind A's statement: only A's admins may remove it
    }
    fact_ids = {"financials": fact.pk, "ratings": rating.pk, "capabilities": capability_fact.pk, "ip": fact.pk}
    # Drafts and the interest board are also reached through listing ids on pages.
    ids["draft_id"] = draft.pk
    gov, auditor = user("matrix-gov", role="government"), user("matrix-auditor", role="auditor")
    return {
        "ids": ids,
        "fact_ids": fact_ids,
        "b_admin": b_admin,
        "b_member": b_member,
        "b_token": b_token,
        "gov": gov,
        "auditor": auditor,
    }


@functools.cache
def _row_queries() -> list[tuple[str, str]]:
    """One plain SELECT per business table, ordered by key (the ORM compiling a hundred querysets for every
    fingerprint was most of its time)."""
    quote = connection.ops.quote_name
    out = []
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label_lower):
        if model._meta.label_lower in VOLATILE or not model._meta.managed:
            continue
        columns = [f.column for f in model._meta.concrete_fields if f.attname not in VOLATILE_FIELDS]
        table, key = quote(model._meta.db_table), quote(model._meta.pk.column)
        out.append((model._meta.label_lower, f"SELECT {', '.join(map(quote, columns))} FROM {table} ORDER BY {key}"))
    return out


def fingerprint() -> str:
    """A digest of every business table's rows."""
    digest = hashlib.sha256()
    with connection.cursor() as cursor:
        for label, sql in _row_queries():
            cursor.execute(sql)
            for row in cursor.fetchall():
                digest.update(repr((label, row)).encode())
    return digest.hexdigest()


def sample_body(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    """A plausible value for a JSON schema: required fields filled, so requests reach the permission check."""
    if "$ref" in schema:
        return sample_body(components[schema["$ref"].rsplit("/", 1)[1]], components, depth)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return sample_body(schema[key][0], components, depth)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 3:
            return {}
        props = schema.get("properties", {})
        return {name: sample_body(props[name], components, depth + 1) for name in props}
    if kind == "array":
        return []
    if kind == "integer":
        return 1
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    if "enum" in schema:
        return schema["enum"][0]
    return "2026-01-05" if schema.get("format") == "date" else "x"


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = api.get_openapi_schema()
    out = []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            out.append((method.upper(), path, op))
    return out


def fill(path: str, ids: dict[str, Any], fact_ids: dict[str, int]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "fact_id":
            prefix = path.split("/")[3]
            return str(fact_ids[prefix])
        assert name in ids, f"the matrix has no id for {{{name}}} in {path}: add one to the world"
        return str(ids[name])

    return re.sub(r"{(\w+)}", value, path)


def outsiders(world: dict[str, Any], *, writes: bool = False) -> dict[str, tuple[Client, dict[str, str]]]:
    """The roles that are not A: B's people and node, a government officer, anonymous; for writes also an auditor,
    who may read everything but change nothing."""
    clients = {}
    for role in ("b_admin", "b_member", "gov") + (("auditor",) if writes else ()):
        clients[role.replace("_", "-")] = Client()
        clients[role.replace("_", "-")].force_login(world[role])
    return {
        **{role: (client, {}) for role, client in clients.items()},
        "b-node": (Client(), {"HTTP_AUTHORIZATION": f"Bearer {world['b_token']}"}),
        "anonymous": (Client(), {}),
    }


# Unsafe operations on the actor's own scope (no id of A in the path): creating one's own things is allowed.
OWN_SCOPE = re.compile(r"^[^{}]*$")
# Public by design: entries, proofs and checkpoints of the transparency log, and cosignatures by witness keys.
PUBLIC = ("/api/v1/ledger/",)


def body_of(response: Any) -> bytes:
    """What a client read: a download streamed (an export, a file) read whole."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_every_api_operation_refuses_outsiders(world, settings):
    settings.AGGLO_RATE_LIMITING = False
    schema = api.get_openapi_schema()
    components = schema.get("components", {}).get("schemas", {})
    problems: list[str] = []
    tried = 0
    refusals: dict[int, int] = {}
    before = fingerprint()  # a refused write leaves it as it was, so the next write's "before" is this one's "after"
    for method, template, op in operations():
        path = fill(template, world["ids"], world["fact_ids"])
        query = {p["name"]: 1 for p in op.get("parameters", []) if p["in"] == "query" and p.get("required")}
        if "size" in query:
            query["size"] = 1
        body_schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        body = sample_body(body_schema, components) if body_schema else {}
        for role, (client, extra) in outsiders(world, writes=method != "GET").items():
            tried += 1
            if method == "GET":
                r = client.get(path, query, **extra)
                leaked = [s for s in SECRETS if s.encode() in body_of(r)]
                if leaked:
                    problems.append(f"{role} GET {template}: leaks {leaked}")
                if r.status_code >= 500:
                    problems.append(f"{role} GET {template}: {r.status_code}")
                continue
            if OWN_SCOPE.match(template) or template.startswith(PUBLIC):
                continue
            url = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
            r = getattr(client, method.lower())(url, data=body, content_type="application/json", **extra)
            refusals[r.status_code] = refusals.get(r.status_code, 0) + 1
            if r.status_code < 400:
                problems.append(f"{role} {method} {template}: answered {r.status_code}, expected a refusal")
            if r.status_code >= 500:
                problems.append(f"{role} {method} {template}: {r.status_code}")
            after = fingerprint()
            if after != before:
                problems.append(f"{role} {method} {template}: changed stored data")
                before = after
    assert tried > 300
    # Most refusals must come from the permission checks, not from bodies that fail validation first.
    assert refusals.get(401, 0) + refusals.get(403, 0) + refusals.get(404, 0) > 2 * refusals.get(422, 0), refusals
    assert not problems, "\n".join(problems)


def _page_patterns(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    resolver = resolver or get_resolver()
    out = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith(("api/", "admin/", "i18n/")):
                continue
            out.extend(_page_patterns(entry, route))
        elif isinstance(entry, URLPattern):
            out.append(route)
    return out


PAGE_IDS = {"pk": "org_id", "index": "index", "token": "token", "kind": "kind", "code": "code"}


def test_every_page_refuses_outsiders(world, settings):
    settings.AGGLO_RATE_LIMITING = False
    problems: list[str] = []
    ids = {
        **world["ids"],
        "fact_id": world["fact_ids"]["financials"],
        "action": "accept",
        "tab": "finances",
        "format": "csv",
        "path": "0/000",
    }
    tried = 0
    before = fingerprint()
    for route in _page_patterns():
        if "(?P<" in route or route.startswith("^"):
            continue
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids.get(PAGE_IDS.get(m.group(1), m.group(1)), 1)), route)
        for role, (client, extra) in outsiders(world).items():
            tried += 1
            r = client.get(path, **extra)
            leaked = [s for s in SECRETS if s.encode() in body_of(r)]
            if leaked:
                problems.append(f"{role} GET /{route}: leaks {leaked}")
            if r.status_code >= 500:
                problems.append(f"{role} GET /{route}: {r.status_code}")
            if not names or route in ("logout/", "login/", "login/code/", "account/two-factor/"):
                continue
            r = client.post(path, {"action": "accept", "reason": "x", "status": "closed"}, **extra)
            if r.status_code >= 500:
                problems.append(f"{role} POST /{route}: {r.status_code}")
            after = fingerprint()
            if after != before:
                problems.append(f"{role} POST /{route}: changed stored data")
                before = after
    assert tried > 100
    assert not problems, "\n".join(problems)
