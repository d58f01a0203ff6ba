from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from agglo.access import policy
from agglo.access.models import PlatformRole
from agglo.common.notify import notification_list


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the navigation bar needs: roles to decide which links to show, the unread notifications."""
    # an error met before authentication ran (a Host header not allowed) has no user: the page is drawn for a
    # visitor rather than failing again (review 49 F9)
    user = getattr(request, "user", None) or AnonymousUser()
    return {
        "nav_is_operator": policy.is_operator(user),
        # shown beside the user's name in the reader's language ("平台运营人员"), not as their codes
        "nav_roles": [PlatformRole.Role(r).label for r in sorted(policy.platform_roles(user))],
        "nav_unread": notification_list(user=user, unread=True).count() if user.is_authenticated else 0,
        # the user's own organization (the first, for people of several): its page is one click away
        "nav_org": min(policy.organization_ids(user), default=None) if user.is_authenticated else None,
    }
