"""The client's address as rate limits and lockouts see it: REMOTE_ADDR, or the address a trusted proxy saw."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    hops = settings.AGGLO_PROXY_HOPS
    if hops:
        # Each trusted proxy appends the address it saw; the client is `hops` from the right.
        forwarded = [p.strip() for p in request.headers.get("X-Forwarded-For", "").split(",") if p.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops][:64]
    return str(request.META.get("REMOTE_ADDR", ""))[:64] or "unknown"


def client_network(ip: str) -> str:
    """The network a client address belongs to (IPv4 /24, IPv6 /48): one household or office, for limits that
    should not let strangers elsewhere use up a member's allowance."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
