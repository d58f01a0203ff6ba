"""What the OpenAPI schema publishes about a parameter or field (its codes, its range) is what the API enforces:
every documented bound and code is tried against the running API, just outside and just inside."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agglo.api import api
from tests.market.test_api import two_firms  # noqa: F401 - a fixture
from tests.registry.test_api import bearer, problem

pytestmark = pytest.mark.django_db

BAD_CODE = "no-such-code"


def _schema() -> dict[str, Any]:
    return api.get_openapi_schema(path_prefix="/api/v1")


def _query_operations() -> list[tuple[str, dict[str, Any]]]:
    """GET operations whose only parameters are in the query, with those parameters."""
    found = []
    for path, item in _schema()["paths"].items():
        get = item.get("get")
        if get is None or "{" in path:
            continue
        found.append((path, {p["name"]: p["schema"] for p in get.get("parameters", []) if p["in"] == "query"}))
    return found


def _answer(c: Client, path: str, query: dict[str, Any], users: list[dict[str, str]]) -> Any:
    """The first answer that is not about who asks (a list for members, another for operators)."""
    response = None
    for headers in users:
        response = c.get(path, query, **headers)
        if response.status_code not in (401, 403):
            return response
    return response


def test_every_published_range_of_a_query_parameter_is_enforced(two_firms, operator, english):  # noqa: F811
    owner, *_ = two_firms
    c, users = Client(), [bearer(operator), bearer(owner)]
    tried = 0
    for path, params in _query_operations():
        for name, schema in params.items():
            if "maximum" not in schema:
                continue
            low, high = schema["minimum"], schema["maximum"]
            for outside in (low - 1, high + 1):
                body = problem(_answer(c, path, {name: outside}, users), 422)
                assert f"{low:,}" in body["errors"][name][0] or str(low) in body["errors"][name][0], (path, body)
                assert f"{high:,}" in body["errors"][name][0] or str(high) in body["errors"][name][0], (path, body)
            for inside in (low, high):
                response = _answer(c, path, {name: inside}, users)
                assert response.status_code == 200, (path, name, inside, response.content)
            tried += 1
    assert tried >= 15  # limit and offset of every list, the directory's page and page size


def test_every_published_code_of_a_query_parameter_is_enforced(two_firms, operator, english):  # noqa: F811
    owner, *_ = two_firms
    c, users = Client(), [bearer(operator), bearer(owner)]
    tried = 0
    for path, params in _query_operations():
        for name, schema in params.items():
            if "enum" not in schema:
                continue
            body = problem(_answer(c, path, {name: BAD_CODE}, users), 422)
            assert list(body["errors"]) == [name], (path, body)
            for code in schema["enum"]:
                response = _answer(c, path, {name: code}, users)
                assert response.status_code == 200, (path, name, code, response.content)
            tried += 1
    assert tried >= 8
    # a filter nothing else checks says what it takes, with each code's label
    body = problem(c.get("/api/v1/listings", {"side": "x"}, HTTP_ACCEPT_LANGUAGE="en", **bearer(owner)), 422)
    assert body["errors"] == {"side": ["Choose one of: Need (need), Offer (offer)."]}


def test_a_path_parameter_lists_its_codes(two_firms, operator):  # noqa: F811
    paths = _schema()["paths"]
    for path in ("/api/v1/imports/{kind}", "/api/v1/exports/{kind}"):
        operation = next(iter(paths[path].values()))
        kind = next(p for p in operation["parameters"] if p["name"] == "kind")
        assert kind["schema"]["enum"] == ["organizations", "financials", "ip", "capabilities"]
    c = Client()
    assert c.get("/api/v1/exports/nothing", **bearer(operator)).status_code == 422


def test_a_body_code_outside_the_published_ones_is_refused_by_name(two_firms):  # noqa: F811
    owner, owner_org, *_ = two_firms
    c = Client()
    schemas = _schema()["components"]["schemas"]
    sides = schemas["ListingIn"]["properties"]["side"]["anyOf"][0]["enum"]
    assert sides == ["need", "offer"]
    body = {"side": "demand", "kind": "capacity", "title_zh": "寻找 SMT 贴片代工产能"}
    answer = problem(
        c.post(
            f"/api/v1/organizations/{owner_org.pk}/listings",
            body,
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE="en",
            **bearer(owner),
        ),
        422,
    )
    assert list(answer["errors"]) == ["side"] and "need" in answer["errors"]["side"][0]
    # a published code is taken
    body["side"] = "need"
    created = c.post(
        f"/api/v1/organizations/{owner_org.pk}/listings", body, content_type="application/json", **bearer(owner)
    )
    assert created.status_code == 201, created.content
    assert schemas["ListingOut"]["properties"]["side"]["enum"] == sides


def test_every_code_a_model_field_allows_is_published_for_it():
    """The codes come from the models' own choices, so a code added there is published too (no second list)."""
    from agglo.factory.models import Allocation

    schemas = _schema()["components"]["schemas"]
    assert schemas["AllocationOut"]["properties"]["status"]["enum"] == list(Allocation.Status.values)
    assert schemas["AllocationOut"]["properties"]["receipt"]["enum"] == ["", *Allocation.Receipt.values]
    assert schemas["OfferAnswerIn"]["properties"]["action"]["enum"] == ["accept", "decline", "counter"]


def test_null_in_a_code_field_means_left_out_as_the_schema_allows(two_firms):  # noqa: F811
    """Review 37: some code fields refused null, others took it and reset the stored value."""
    owner, owner_org, *_ = two_firms
    c = Client()
    body = {"side": "need", "kind": "capacity", "title_zh": "寻找 SMT 贴片代工产能", "region_rule": "exclude"}
    body["regions"] = ["510000"]
    created = c.post(
        f"/api/v1/organizations/{owner_org.pk}/listings", body, content_type="application/json", **bearer(owner)
    )
    assert created.status_code == 201, created.content
    listing = created.json()
    changed = c.patch(
        f"/api/v1/listings/{listing['id']}",
        {"side": None, "region_rule": None, "visibility": None, "title_zh": "寻找 SMT 贴片产能"},
        content_type="application/json",
        **bearer(owner),
    )
    assert changed.status_code == 200, changed.content
    after = changed.json()
    assert (after["side"], after["region_rule"], after["visibility"]) == ("need", "exclude", listing["visibility"])
    assert after["title_zh"] == "寻找 SMT 贴片产能"
    before = c.get(f"/api/v1/organizations/{owner_org.pk}", **bearer(owner)).json()["contacts_visibility"]
    org = c.patch(
        f"/api/v1/organizations/{owner_org.pk}",
        {"contacts_visibility": None, "size_class": None},
        content_type="application/json",
        **bearer(owner),
    )
    assert org.status_code == 200, org.content
    assert org.json()["contacts_visibility"] == before
    # a field the schema publishes as required refuses null as it refuses leaving it out
    schemas = _schema()["components"]["schemas"]
    assert "kind" in schemas["PolicyIn"]["required"] and "null" not in str(schemas["PolicyIn"]["properties"]["kind"])
    assert "topic" in schemas["NeedIn"]["required"]


def test_a_parameter_that_takes_one_value_is_refused_when_sent_twice(two_firms, english):  # noqa: F811
    owner, *_ = two_firms
    c = Client()
    for query in ("side=bogus&side=need", "side=need&side=need"):
        body = problem(c.get(f"/api/v1/listings?{query}", HTTP_ACCEPT_LANGUAGE="en", **bearer(owner)), 422)
        assert body["errors"] == {"side": ["Give this parameter once."]}
    body = problem(c.get("/api/v1/regions?limit=100000&limit=1", HTTP_ACCEPT_LANGUAGE="en"), 422)
    assert body["errors"] == {"limit": ["Give this parameter once."]}
    assert c.get("/api/v1/regions?limit=1").status_code == 200


def test_codes_a_request_can_never_use_are_not_published():
    schemas = _schema()["components"]["schemas"]
    assert schemas["ParticipantIn"]["properties"]["role"]["enum"] == ["partner"]  # the lead is whoever declared it
    assert schemas["ParticipantOut"]["properties"]["role"]["enum"] == ["lead", "partner"]
    assert schemas["VerifyIn"]["properties"]["source"]["enum"] == ["operator_verified", "bank_verified"]
    assert schemas["StatementVerifyIn"]["properties"]["source"]["enum"][-1] == "audited"  # statements only
    paths = _schema()["paths"]
    verify = paths["/api/v1/financials/{fact_id}/verify"]["post"]["requestBody"]["content"]["application/json"]
    assert verify["schema"]["$ref"].endswith("/StatementVerifyIn")
    assert schemas["MeOut"]["properties"]["platform_roles"]["items"]["enum"] == ["operator", "government", "auditor"]


def test_what_a_new_record_must_give_is_published_and_a_change_requires_nothing(two_firms, operator):  # noqa: F811
    """A create body and its change body share their fields; the create body publishes as required exactly the
    fields its service refuses when left out, and the change body (`…Patch`) none."""
    owner, owner_org, *_ = two_firms
    c = Client()
    schema = _schema()
    schemas = schema["components"]["schemas"]
    creates = {
        f"/api/v1/organizations/{owner_org.pk}/{name}": body
        for name, body in (
            ("financials", "FinancialsIn"),
            ("ratings", "RatingsIn"),
            ("ip", "IpIn"),
            ("capabilities", "CapabilitiesIn"),
            ("cases", "CaseIn"),
            ("listings", "ListingIn"),
        )
    }
    creates["/api/v1/organizations"] = "OrganizationIn"
    for path, body in creates.items():
        who = bearer(operator if path == "/api/v1/organizations" else owner)
        refused = problem(c.post(path, {}, content_type="application/json", **who), 422)["errors"]
        published = schemas[body]["required"]
        assert set(published) <= set(refused), (body, published, refused)
        # what is refused but not published is refused for another reason than absence alone
        assert set(refused) - set(published) <= {"title_zh", "uscc"}, (body, refused)
        patch = body.removesuffix("In") + "Patch"
        assert "required" not in schemas[patch] and schemas[patch]["properties"] == schemas[body]["properties"]
    changes = [op for item in schema["paths"].values() if (op := item.get("patch"))]
    for operation in changes:
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert not schemas[ref].get("required"), (operation["operationId"], ref)
