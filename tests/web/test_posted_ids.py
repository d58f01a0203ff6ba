"""Ids and counts posted by forms and links are checked, not trusted: "²" and "①" pass str.isdigit() but not int(),
and a forty-digit number is no row's id. Each gets an answer, never a server error."""

from __future__ import annotations

import pytest

from agglo.common.numbers import posted_id
from tests.conftest import user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("12", 12),
        (" 7 ", 7),
        ("²", None),
        ("①", None),
        ("٣", None),
        ("-3", None),
        ("9" * 12, None),
        ("", None),
        (None, None),
    ],
)
def test_a_posted_id_is_ascii_digits_of_sane_length(raw, value):
    assert posted_id(raw) == value


@pytest.mark.parametrize("bad", ["²", "①", "9" * 40])
def test_bad_ids_in_links_and_forms_get_an_answer_not_a_500(client, bad):
    client.raise_request_exception = False
    client.force_login(user("poster"))
    answers = {
        "open": client.get("/matching/open/", {"item": bad}).status_code,
        "open_rank": client.get("/matching/open/", {"item": "-1", "rank": bad}).status_code,
        "node": client.post("/account/nodes/", {"organization": bad, "name": "n", "public_key": "k"}).status_code,
        "capacity": client.get("/factory/capacity/", {"edit": bad}).status_code,
        "people": client.post("/account/people/", {"organization": bad, "email": "a@b.example"}).status_code,
        "invitation": client.get(f"/invitations/{bad}/").status_code,
    }
    assert 500 not in answers.values(), answers
    assert answers["open"] == 404
