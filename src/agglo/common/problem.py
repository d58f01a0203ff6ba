"""RFC 9457 problem details: the one error envelope of the API."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse

CONTENT_TYPE = "application/problem+json"


def problem_response(
    status: int,
    title: str,
    *,
    code: str,
    detail: str = "",
    errors: dict[str, list[str]] | None = None,
    instance: str = "",
) -> JsonResponse:
    """A problem+json response; `errors` maps field names to messages (extension member)."""
    body: dict[str, Any] = {"type": f"urn:agglo:problem:{code}", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JsonResponse(body, status=status, content_type=CONTENT_TYPE, json_dumps_params={"ensure_ascii": False})
