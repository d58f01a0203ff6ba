"""Token buckets: a pure function from (tokens, last refill, now) to the new state and the answer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    rate: float  # tokens added per second
    burst: float  # bucket size: requests allowed at once after a quiet spell

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a limit needs rate > 0 and burst ≥ 1")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    tokens: float  # left after this request
    retry_after: float  # seconds until one token is back (0 when allowed)


def take(limit: Limit, tokens: float | None, updated: float | None, now: float, cost: float = 1.0) -> Decision:
    """Refill since `updated`, then take `cost` tokens if there are enough. A new bucket starts full."""
    if tokens is None or updated is None:
        current = limit.burst
    else:
        current = min(limit.burst, tokens + max(0.0, now - updated) * limit.rate)
    if current >= cost:
        return Decision(True, current - cost, 0.0)
    return Decision(False, current, (cost - current) / limit.rate)
