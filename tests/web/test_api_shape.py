"""Every API operation checks a request's shape the same way: parameters it does not declare, numbers the database
cannot hold, a body sent to a step that takes none, and NUL characters however the body is sent."""

from __future__ import annotations

import io

import pytest
from django.test import Client

from agglo.profiles.models import FinancialStatement
from agglo.profiles.tabular import write_csv
from agglo.registry.models import Organization
from tests.market.test_api import two_firms  # noqa: F401 - a fixture
from tests.registry.test_api import bearer, problem

pytestmark = pytest.mark.django_db


def _listing(c: Client, owner, owner_org) -> int:
    body = {"side": "need", "kind": "capacity", "title_zh": "寻找 SMT 贴片代工产能", "segments": ["ic-packaging"]}
    response = c.post(
        f"/api/v1/organizations/{owner_org.pk}/listings", body, content_type="application/json", **bearer(owner)
    )
    assert response.status_code == 201, response.content
    listing_id = response.json()["id"]
    assert c.post(f"/api/v1/listings/{listing_id}/submit", **bearer(owner)).status_code == 200
    return listing_id


def _interest(c: Client, listing_id: int, who) -> int:
    answer = {"cooperation": "supply", "message": "我们有两条 SMT 产线空余"}
    response = c.post(
        f"/api/v1/listings/{listing_id}/interests", answer, content_type="application/json", **bearer(who)
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_a_misspelt_filter_is_refused_everywhere_not_only_in_the_directory(two_firms, english):  # noqa: F811
    owner, owner_org, other, _ = two_firms
    c = Client()
    _listing(c, owner, owner_org)
    body = problem(c.get("/api/v1/listings", {"sidee": "need"}, HTTP_ACCEPT_LANGUAGE="en", **bearer(other)), 422)
    assert list(body["errors"]) == ["sidee"] and "side" in body["errors"]["sidee"][0]
    assert body["title"] == "Unknown query parameter."
    problem(c.get("/api/v1/factory/jobs", {"statuss": "x"}, **bearer(other)), 422)
    problem(c.get("/api/v1/notifications", {"limt": "5"}, **bearer(other)), 422)
    problem(c.get(f"/api/v1/organizations/{owner_org.pk}", {"foo": "1"}), 422)
    # the declared ones still work
    assert len(c.get("/api/v1/listings", {"side": "need"}, **bearer(other)).json()) == 1


def test_a_number_too_large_for_the_database_is_refused_not_a_server_error(two_firms, operator, english):  # noqa: F811
    owner, owner_org, other, _ = two_firms
    c = Client()
    big = {"organization": "1" + "0" * 20}
    body = problem(c.get("/api/v1/listings", big, HTTP_ACCEPT_LANGUAGE="en", **bearer(other)), 422)
    assert body["errors"] == {"organization": ["Must be at most 9223372036854775807."]}
    small = problem(c.get("/api/v1/ledger/checkpoints", {"after": "-" + "9" * 20}, HTTP_ACCEPT_LANGUAGE="en"), 422)
    assert small["errors"] == {"after": ["Must be at least -9223372036854775807."]}  # review 49 L3: not "at most"
    problem(c.get("/api/v1/factory/disputes", {"offset": str(2**63)}, **bearer(operator)), 422)
    assert c.get("/api/v1/factory/disputes", {"offset": "1000000"}, **bearer(operator)).status_code == 200
    # a search for a long number is text, not a number
    assert c.get("/api/v1/organizations", {"q": "1" * 30}).status_code == 200


def test_a_step_that_takes_no_input_refuses_a_body_that_says_something(two_firms, english):  # noqa: F811
    owner, owner_org, other, _ = two_firms
    c = Client()
    listing_id = _listing(c, owner, owner_org)
    interest_id = _interest(c, listing_id, other)
    body = problem(
        c.post(
            f"/api/v1/interests/{interest_id}/accept",
            {"reason": "no"},
            content_type="application/json",
            **bearer(owner),
        ),
        422,
    )
    assert list(body["errors"]) == ["body"]
    assert c.get(f"/api/v1/listings/{listing_id}/interests", **bearer(owner)).json()[0]["status"] != "accepted"
    # nothing, or an empty object, is what such a step takes
    accepted = c.post(f"/api/v1/interests/{interest_id}/accept", {}, content_type="application/json", **bearer(owner))
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"


def test_a_nul_is_refused_however_the_body_is_sent(org_admin):
    admin, org = org_admin
    c = Client()
    # JSON labelled as plain text, which django-ninja parses all the same: the escaped NUL is named by its field
    said = problem(
        c.patch(
            f"/api/v1/organizations/{org.pk}",
            '{"description": "nul\\u0000here"}',
            content_type="text/plain",
            **bearer(admin),
        ),
        422,
    )
    assert list(said["errors"]) == ["description"]
    problem(
        c.patch(
            f"/api/v1/organizations/{org.pk}",
            b'{"description": "nul\x00here"}',
            content_type="text/plain",
            **bearer(admin),
        ),
        400,
    )
    org.refresh_from_db()
    assert "\x00" not in org.description
    # a multipart form's field (an admission): refused naming it, once the form is otherwise whole
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import PDF, make_uscc

    before = Organization.objects.count()
    form = {
        "name_zh": "成都蓉芯\x00半导体有限公司",
        "kind": "tech_sme",
        "region": "510100",
        "uscc": make_uscc("510100", "MA6CCCC01"),
        "contact_name": "李强",
        "contact_email": "li@rx.example",
        "password": "Rongxin-pass-2026",
        "documents": [SimpleUploadedFile("licence.pdf", PDF, "application/pdf")],
    }
    said = problem(c.post("/api/v1/admissions", form), 422)
    assert list(said["errors"]) == ["name_zh"], said
    assert Organization.objects.count() == before
    # a NUL in the path
    problem(c.get("/api/v1/regions/44%0000"), 400)
    # a CSV cell in an import
    header = ("uscc", "year", "revenue", "total_assets", "total_liabilities", "equity", "source_note")
    cells = write_csv(header, [(org.uscc, 2024, 1, 10, 5, 5, "a\x00b"), (org.uscc, 2023, -1, 10, 5, 5, "")])
    response = c.post("/api/v1/imports/financials", {"file": io.BytesIO(cells)}, **bearer(admin))
    assert response.status_code == 422, response.content
    # the NUL's row named with its column, and every other bad row as well
    said = [(e["row"], e["column"], e["rule"]) for e in response.json()["errors"]]
    assert said == [(2, "source_note", "nul"), (3, "revenue", "min")]
    assert not FinancialStatement.objects.filter(organization=org).exists()


def test_a_path_no_operation_answers_is_the_apis_own_not_found(english):
    for path in ("/api/v1/nonexistent", "/api/v1/ledger/entries/-1", "/api/v1/applications/None/decide"):
        body = problem(Client().get(path, HTTP_ACCEPT_LANGUAGE="en"), 404)
        assert body["type"] == "urn:agglo:problem:not_found" and body["title"] == "Not found.", body


def test_whole_numbers_and_booleans_are_jsons_own_in_every_body():
    """`true` is no score of 1 and `"yes"` no flag: each is refused naming its field, whichever app takes it."""
    from pydantic import ValidationError

    from agglo.market.schemas import ListingIn
    from agglo.policy.schemas import DecisionIn
    from agglo.profiles.schemas import CaseRatingIn

    for schema, body, field in (
        (CaseRatingIn, {"rated": 1, "score": True}, "score"),
        (CaseRatingIn, {"rated": "1", "score": 5}, "rated"),
        (ListingIn, {"anonymous": "yes"}, "anonymous"),
        (DecisionIn, {"grant": "yes"}, "grant"),
    ):
        with pytest.raises(ValidationError) as exc:
            schema.model_validate(body)
        assert field in {e["loc"][0] for e in exc.value.errors()}, (schema, exc.value.errors())
    assert CaseRatingIn.model_validate({"rated": 1, "score": 5}).score == 5


def test_long_lists_page_with_their_whole_count(two_firms, english):  # noqa: F811
    owner, owner_org, other, _ = two_firms
    c = Client()
    ids = sorted(_listing(c, owner, owner_org) for _ in range(3))
    first = c.get("/api/v1/listings", {"limit": 2}, **bearer(other))
    assert first["X-Total-Count"] == "3" and len(first.json()) == 2
    rest = c.get("/api/v1/listings", {"limit": 2, "offset": 2}, **bearer(other)).json()
    assert sorted(r["id"] for r in first.json() + rest) == ids
    body = problem(c.get("/api/v1/listings", {"limit": 0}, HTTP_ACCEPT_LANGUAGE="en", **bearer(other)), 422)
    assert body["errors"] == {"limit": ["Must be between 1 and 500."]}
    assert c.get("/api/v1/interests", **bearer(other))["X-Total-Count"] == "0"


def test_type_errors_name_their_field_in_the_readers_words(two_firms, org_admin):  # noqa: F811
    owner, owner_org, other, _ = two_firms
    c = Client()
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    body = {"side": "need", "kind": "capital", "title_zh": "融资", "segments": ["ic-packaging"], "amount_min": "NaN"}
    said = problem(
        c.post(
            f"/api/v1/organizations/{owner_org.pk}/listings",
            body,
            content_type="application/json",
            **en,
            **bearer(owner),
        ),
        422,
    )
    assert said["errors"]["amount_min"] == ["Must be a finite number."], said
    admin, _org = org_admin
    said = problem(c.post("/api/v1/imports/financials", {}, **en, **bearer(admin)), 422)
    assert list(said["errors"]) == ["file"], said


def test_an_interest_another_may_not_act_on_is_not_found_as_an_interest(two_firms):  # noqa: F811
    owner, owner_org, other, _ = two_firms
    c = Client()
    listing_id = _listing(c, owner, owner_org)
    interest_id = _interest(c, listing_id, other)
    said = problem(c.post(f"/api/v1/interests/{interest_id}/accept", HTTP_ACCEPT_LANGUAGE="en", **bearer(other)), 404)
    assert said["title"] == f"No interest with id {interest_id}.", said


def test_strictness_reaches_lists_and_spares_mixed_types():
    from pydantic import ValidationError

    from agglo.common.schemas import StrictIn
    from agglo.factory.schemas import OperationIn

    with pytest.raises(ValidationError):
        OperationIn.model_validate({"process": "cnc", "quantity": 5, "after": [True]})
    assert OperationIn.model_validate({"process": "cnc", "quantity": 5, "after": [1]}).after == [1]

    class Mixed(StrictIn):  # a number or a code: left as it is, not made unusable
        value: int | str

    assert Mixed.model_validate({"value": "A1"}).value == "A1"
