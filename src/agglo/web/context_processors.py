from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from agglo.access import policy


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Roles the navigation bar needs to decide which links to show."""
    user = request.user
    return {
        "nav_is_operator": policy.is_operator(user),
        "nav_roles": sorted(policy.platform_roles(user)),
    }
