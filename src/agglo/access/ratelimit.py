"""Rate limits per client address, user, token and node: token buckets kept in the database (the default,
shared by every process), in process memory (one process only), or in Redis when AGGLO_REDIS_URL is set.

`check(kind, key)` takes one token or raises RateLimited with the seconds to wait (sent as Retry-After)."""

from __future__ import annotations

import logging
import math
import threading
import time
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection

from agglo.access.bucket import Decision, Limit, take
from agglo.access.models import RateBucket

logger = logging.getLogger("agglo.access")

KINDS = ("ip", "user", "token", "node", "reset")


class RateLimited(Exception):
    """Too many requests; `retry_after` is whole seconds to wait, `said` (optional, translatable) what the reader
    is told instead of the plain "try again in … seconds" (a daily limit names itself and when it resets)."""

    def __init__(self, kind: str, retry_after: float, said: Any = None) -> None:
        super().__init__(f"rate limit per {kind} exceeded")
        self.kind = kind
        self.retry_after = max(1, math.ceil(retry_after))
        self.said = said


def limits() -> dict[str, Limit]:
    """{kind: Limit} from AGGLO_RATE_LIMITS ({kind: [requests per minute, burst]})."""
    return {
        kind: Limit(rate=per_minute / 60.0, burst=burst)
        for kind, (per_minute, burst) in settings.AGGLO_RATE_LIMITS.items()
    }


class MemoryBuckets:
    """Process-local buckets: right for one process (development, tests), wrong for several workers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str, limit: Limit, now: float) -> Decision:
        with self._lock:
            tokens, updated = self._state.get(key, (None, None))
            decision = take(limit, tokens, updated, now)
            self._state[key] = (decision.tokens, now)
            return decision


class DatabaseBuckets:
    """One row per bucket, refilled and taken by a single upsert: one statement per request, correct across
    processes on SQLite (3.35+) and PostgreSQL. The row remembers whether the last request was allowed."""

    def take(self, key: str, limit: Limit, now: float) -> Decision:
        table = RateBucket._meta.db_table
        least = "MIN" if connection.vendor == "sqlite" else "LEAST"
        greatest = "MAX" if connection.vendor == "sqlite" else "GREATEST"
        refilled = f"{least}(%(burst)s, {table}.tokens + {greatest}(0, %(now)s - {table}.updated) * %(rate)s)"
        sql = (
            f'INSERT INTO {table} ("key", tokens, updated, allowed) VALUES (%(key)s, %(burst)s - 1, %(now)s, TRUE) '
            f'ON CONFLICT ("key") DO UPDATE SET '
            f"tokens = CASE WHEN {refilled} >= 1 THEN {refilled} - 1 ELSE {refilled} END, "
            f"allowed = {refilled} >= 1, updated = %(now)s "
            f"RETURNING tokens, allowed"
        )
        params = {"key": key, "burst": float(limit.burst), "rate": limit.rate, "now": now}
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            tokens, allowed = cursor.fetchone()
        if allowed:
            return Decision(True, tokens, 0.0)
        return Decision(False, tokens, (1 - tokens) / limit.rate)


# Refill and take atomically inside Redis; returns {allowed, tokens*1000, retry_after*1000}.
_LUA = """
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then tokens = burst else
  tokens = math.min(burst, tokens + math.max(0, now - updated) * rate) end
local allowed, wait = 0, 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'updated', now)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return {allowed, math.floor(tokens * 1000), math.ceil(wait * 1000)}
"""


class RedisBuckets:
    """Buckets in Redis. While Redis cannot be reached, the database's buckets stand in (shared by every process
    too), and an error is logged once a minute: a Redis outage answered every request with a 500 (review 53 F6)."""

    WARN_EVERY_S = 60.0

    def __init__(self, url: str) -> None:
        import redis

        self._errors: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError)
        # short timeouts: a Redis that does not answer must not hold every request
        self._client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self._script = self._client.register_script(_LUA)
        self._stand_in = DatabaseBuckets()
        self._warned_at = -math.inf

    def take(self, key: str, limit: Limit, now: float) -> Decision:
        try:
            allowed, tokens, wait = self._script(keys=[f"agglo:rl:{key}"], args=[limit.rate, limit.burst, now])
        except self._errors as exc:
            if time.monotonic() - self._warned_at > self.WARN_EVERY_S:
                self._warned_at = time.monotonic()
                logger.error("rate limits: Redis unreachable (%s); the database's buckets stand in", exc)
            return self._stand_in.take(key, limit, now)
        return Decision(bool(allowed), tokens / 1000, wait / 1000)


@cache
def backend() -> Any:
    if settings.AGGLO_REDIS_URL:
        return RedisBuckets(settings.AGGLO_REDIS_URL)
    return MemoryBuckets() if settings.AGGLO_RATE_BACKEND == "memory" else DatabaseBuckets()


def check(kind: str, key: str) -> None:
    """Take one request from the bucket of (kind, key), or raise RateLimited."""
    limit = limits().get(kind)
    if limit is None or not settings.AGGLO_RATE_LIMITING:
        return
    decision = backend().take(f"{kind}:{key}"[:200], limit, time.time())
    if not decision.allowed:
        raise RateLimited(kind, decision.retry_after)
