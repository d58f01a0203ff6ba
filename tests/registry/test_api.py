import json

import pytest
from django.test import Client

from agglo.access.models import Membership
from agglo.access.tokens import api_token_create
from agglo.registry.models import Admission, Organization
from tests.conftest import PDF, make_uscc, user

pytestmark = pytest.mark.django_db


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:agglo:problem:")
    return body


def bearer(u):
    _, clear = api_token_create(actor=u, user=u, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {clear}"}


def test_directory_search_with_facets(make_org, client):
    make_org(name_zh="深圳华芯集成电路设计有限公司", tags=["芯片"])
    make_org(
        name_zh="苏州博远生物医药有限公司",
        region="320500",
        uscc=make_uscc("320500", "MA1BBBBB1"),
        tags=["抗体"],
        kind="enterprise",
    )
    body = client.get("/api/v1/organizations", {"q": "集成电路"}).json()
    assert body["count"] == 1 and body["items"][0]["name_zh"] == "深圳华芯集成电路设计有限公司"
    assert body["facets"]["kind"] == [{"value": "tech_sme", "label": "科技型中小企业", "count": 1}]
    body = client.get("/api/v1/organizations", {"area": "320000"}).json()
    assert [i["name_zh"] for i in body["items"]] == ["苏州博远生物医药有限公司"]
    body = client.get("/api/v1/organizations", {"q": "Suzhou"}).json()  # place names are searchable
    assert body["count"] == 1


def test_unknown_filter_and_bad_values_are_field_errors(ref, client):
    body = problem(client.get("/api/v1/organizations", {"colour": "red"}), 422)
    assert "colour" in body["errors"]
    body = problem(client.get("/api/v1/organizations", {"kind": "pirate", "chain": "nope"}), 422)
    assert set(body["errors"]) == {"kind", "chain"}
    body = problem(client.get("/api/v1/organizations", {"page": "abc"}), 422)
    assert "page" in body["errors"]


def test_malformed_json_is_a_problem_not_a_trace(operator):
    client = Client()
    client.force_login(operator)
    body = problem(
        client.post("/api/v1/organizations", "{not json", content_type="application/json", **bearer(operator)),
        400,
    )
    assert body["errors"]["body"]


def test_bearer_token_authenticates_and_bad_token_is_401(operator, client):
    assert client.get("/api/v1/me", **bearer(operator)).json()["platform_roles"] == ["operator"]
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer agg_wrong")
    problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_session_writes_need_csrf(org_admin):
    admin, org = org_admin
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    problem(
        client.patch(f"/api/v1/organizations/{org.pk}", json.dumps({"name_en": "X"}), content_type="application/json"),
        401,
    )


def test_operator_registers_member_and_errors_name_fields(operator, ref, client):
    headers = bearer(operator)
    body = problem(
        client.post(
            "/api/v1/organizations",
            {"name_zh": "丁", "kind": "tech_sme", "region": "440300", "uscc": "91440300MA5DXXXX01"},
            content_type="application/json",
            **headers,
        ),
        422,
    )
    assert "N" in body["errors"]["uscc"][0] and "GB 32100-2015" in body["errors"]["uscc"][0]  # expected check char
    assert not Organization.objects.filter(name_zh="丁").exists()
    response = client.post(
        "/api/v1/organizations",
        {"name_zh": "丁", "kind": "tech_sme", "region": "440300", "uscc": make_uscc()},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 201 and response.json()["status"] == "member"
    problem(
        client.post(
            "/api/v1/organizations",
            {"name_zh": "丁二", "kind": "tech_sme", "region": "440300", "uscc": make_uscc()},
            content_type="application/json",
            **headers,
        ),
        409,
    )


def test_members_cannot_change_other_members(org_admin, make_org, client):
    admin, _ = org_admin
    other = make_org()
    problem(
        client.patch(
            f"/api/v1/organizations/{other.pk}",
            {"name_en": "Mine now"},
            content_type="application/json",
            **bearer(admin),
        ),
        403,
    )
    other.refresh_from_db()
    assert other.name_en != "Mine now"


def test_contacts_hidden_from_anonymous_and_applicants_invisible(make_org, client, operator):
    org = make_org()
    Organization.objects.filter(pk=org.pk).update(contact_email="boss@firm.example")
    assert client.get(f"/api/v1/organizations/{org.pk}").json()["contact_email"] is None
    member = user("member-elsewhere")
    Membership.objects.create(user=member, organization=make_org())
    assert (
        client.get(f"/api/v1/organizations/{org.pk}", **bearer(member)).json()["contact_email"] == "boss@firm.example"
    )
    Organization.objects.filter(pk=org.pk).update(status="applicant")
    problem(client.get(f"/api/v1/organizations/{org.pk}"), 404)
    assert client.get(f"/api/v1/organizations/{org.pk}", **bearer(operator)).status_code == 200


def test_positions_and_relations_round_trip(org_admin, make_org, client):
    admin, org = org_admin
    other = make_org()
    headers = bearer(admin)
    response = client.post(
        f"/api/v1/organizations/{org.pk}/positions",
        {"segment": "ic-design", "role": "produces"},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 201 and response.json()["chain"] == "ic"
    body = problem(
        client.post(
            f"/api/v1/organizations/{org.pk}/positions",
            {"segment": "zz", "role": "produces"},
            content_type="application/json",
            **headers,
        ),
        422,
    )
    assert "segment" in body["errors"]
    response = client.post(
        f"/api/v1/organizations/{org.pk}/relations",
        {"target": other.pk, "kind": "supplier_of"},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 201
    assert [r["kind"] for r in client.get(f"/api/v1/organizations/{other.pk}/relations").json()] == ["supplier_of"]
    map_ = client.get("/api/v1/chains/ic/map").json()
    design = next(s for s in map_["segments"] if s["segment"] == "ic-design")
    assert design["roles"] == {"produces": 1} and not design["gap"]
    assert "ic-eda" in map_["gaps"]


def test_regions_and_chains(ref, client):
    body = client.get("/api/v1/regions", {"parent": "440000", "limit": 500}).json()
    assert body["count"] == 21 and any(r["code"] == "440300" for r in body["items"])
    problem(client.get("/api/v1/regions", {"level": "galaxy"}), 422)
    problem(client.get("/api/v1/regions/XX9"), 404)
    chain = client.get("/api/v1/chains/ic").json()
    assert ["ic-eda", "ic-design"] in chain["links"]


def test_admission_through_the_api(ref, operator, client):
    form = {
        "name_zh": "成都蓉芯半导体有限公司",
        "kind": "tech_sme",
        "region": "510100",
        "uscc": make_uscc("510100", "MA6CCCC01"),
        "contact_name": "李强",
        "contact_email": "li@rx.example",
        "password": "Rongxin-pass-2026",
        "tags": "功率器件,SiC",
    }
    body = problem(client.post("/api/v1/admissions", {**form, "uscc": "123"}), 422)
    assert {"uscc", "documents"} <= set(body["errors"])
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/api/v1/admissions",
        {**form, "documents": [SimpleUploadedFile("licence.pdf", PDF, "application/pdf")]},
    )
    assert response.status_code == 201, response.content
    token = response.json()["tracking_token"]
    assert client.get(f"/api/v1/admissions/track/{token}").json()["status"] == "submitted"
    problem(client.get("/api/v1/admissions"), 403)
    queue = client.get("/api/v1/admissions", {"status": "submitted"}, **bearer(operator)).json()
    admission_id = queue[0]["id"]
    body = problem(
        client.post(
            f"/api/v1/admissions/{admission_id}/reject",
            {"reason": ""},
            content_type="application/json",
            **bearer(operator),
        ),
        422,
    )
    assert "reason" in body["errors"]
    approved = client.post(
        f"/api/v1/admissions/{admission_id}/approve",
        {"note": "ok"},
        content_type="application/json",
        **bearer(operator),
    ).json()
    assert approved["status"] == "approved"
    assert Admission.objects.get(pk=admission_id).organization.status == "member"
    assert client.login(username="li@rx.example", password="Rongxin-pass-2026")


def test_openapi_schema_is_served(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/organizations" in schema["paths"]
    # every operation documents the one error envelope
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            refused = operation["responses"]["4XX"]["content"]["application/problem+json"]["schema"]
            assert refused == problem_ref, (method, path)
    assert set(schema["components"]["schemas"]["Problem"]["required"]) == {"type", "title", "status"}
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.content.decode() and "/static/ninja/swagger-ui-bundle.js" in docs.content.decode()


def test_every_api_schema_has_a_name_of_its_own():
    """The OpenAPI document names a component by its class: two schemas of one name would document one app's body
    under another's endpoint (a factory's offer answer was shown as a policy answer)."""
    import importlib
    import pkgutil

    from ninja import Schema

    import agglo

    seen: dict[str, str] = {}
    clashes = []
    for module in pkgutil.walk_packages(agglo.__path__, "agglo."):
        if module.name.endswith(".schemas"):
            for name, obj in vars(importlib.import_module(module.name)).items():
                if isinstance(obj, type) and issubclass(obj, Schema) and obj.__module__ == module.name:
                    if name in seen:
                        clashes.append(f"{name}: {seen[name]} and {module.name}")
                    seen[name] = module.name
    assert len(seen) > 50 and not clashes


def test_hostile_requests_are_client_errors(ref, client, settings):
    many = "&".join(f"f{i}=1" for i in range(1200))
    problem(client.get(f"/api/v1/organizations?{many}"), 400)
    problem(client.post("/api/v1/admissions", b"--x\r\n", content_type="multipart/form-data; boundary="), 400)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    problem(client.post("/api/v1/tokens", "{" + '"name": "' + "x" * 500 + '"}', content_type="application/json"), 413)


def test_wrong_method_and_nul_characters_are_problems(operator, client):
    response = client.put("/api/v1/me")
    problem(response, 405)
    assert "GET" in response["Allow"]
    problem(client.get("/api/v1/organizations", {"area": "44\x000000"}), 400)
    headers = bearer(operator)
    # escaped in JSON it reaches the parser, which names the field
    said = problem(
        client.post("/api/v1/tokens", '{"name": "a\\u0000b"}', content_type="application/json", **headers), 422
    )
    assert list(said["errors"]) == ["name"]


def test_the_organization_a_one_sided_claim_names_may_take_it_down(org_admin, member_of, operator, client):
    from agglo.registry.models import Relation
    from agglo.registry.services import relation_add

    admin, org = org_admin
    named_admin, named = member_of("named-admin")
    stranger, _stranger_org = member_of("claim-stranger")
    claim = relation_add(actor=admin, source=org, target_id=named.pk, kind="partner")
    checked = relation_add(
        actor=operator, source=org, target_id=named.pk, kind="supplier_of", origin="operator_verified"
    )
    client.force_login(stranger)
    assert client.delete(f"/api/v1/relations/{claim.pk}").status_code == 403
    client.force_login(named_admin)
    page = client.get(f"/organizations/{named.pk}/").content.decode()
    assert f"/organizations/{named.pk}/relations/{claim.pk}/remove/" in page
    assert f"/relations/{checked.pk}/remove/" not in page  # a verified relation is not one side's word
    assert client.delete(f"/api/v1/relations/{checked.pk}").status_code == 403
    r = client.post(f"/organizations/{named.pk}/relations/{claim.pk}/remove/", follow=True)
    assert r.status_code == 200 and not Relation.objects.filter(pk=claim.pk).exists()
    assert Relation.objects.filter(pk=checked.pk).exists()
