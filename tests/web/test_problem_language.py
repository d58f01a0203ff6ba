"""The API's own problems (a NUL in the request, a method not allowed, a body too large) speak the caller's
language like every other error: zh-Hans by default, English on Accept-Language: en (review 29)."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "nul", "method"),
    [
        ("", "请求中含有 NUL 字符。", "不允许使用该方法。"),
        ("en", "The request contains a NUL character.", "Method not allowed."),
    ],
)
def test_the_apis_own_problems_follow_accept_language(language, nul, method):
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    client = Client(**headers)
    r = client.get("/api/v1/organizations?q=a%00b")
    assert r.status_code == 400 and r.json()["title"] == nul
    r = client.delete("/api/v1/chains")
    assert r.status_code == 405 and r.json()["title"] == method


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_a_body_too_large_is_said_in_chinese_by_default(client):
    r = client.post("/api/v1/tokens", "x" * 500, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 413 and r.json()["title"] == "请求体过大。"
