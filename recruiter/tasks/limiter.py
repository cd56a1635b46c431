"""Politeness across the cluster: one request at a time per host and the per-host delay, for all workers.

`RedisHostGate` is the shared implementation of the scrapers' `HostGate` hook. Each host has two keys:
a lease (who is requesting it now; it expires on its own, so a worker killed mid-request blocks the host for
at most `lease` seconds) and the earliest time the next request may start (the end of the last request plus
the interval). Both are read and written by Lua scripts that run atomically in Redis, on Redis's own clock, so
workers on machines whose clocks disagree still space their requests correctly. A waiter polls no sooner than
the host could be free, with jitter so waiters do not move in lockstep.

robots.txt answers are shared too (for an hour): the cluster asks a site for it once, and every worker obeys
the same rules and Crawl-delay. So are the documented APIs' limits (`scrapers.api`): each API's pace is a gate
key of its own (`api:reddit`), its daily quota a counter per period spent by a Lua script that never overdraws,
and a long rate-limit window a "held until" time.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time

from scrapers.http import HostGate

PREFIX = "recruiter:host:"
ROBOTS_TTL = 3600  # a robots.txt is shared for an hour (RFC 9309 allows caching up to a day)

# KEYS: lease, next start. ARGV: token, lease ms, interval ms. Returns 0 when the lease is ours, else the
# milliseconds to wait before asking again.
_ENTER = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 1 then
  return math.max(tonumber(ARGV[3]), 10)
end
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if now < nxt then
  return nxt - now
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 0
"""

# KEYS: lease, next start. ARGV: token, interval ms. The next start only ever moves later.
_LEAVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
local nxt = now + tonumber(ARGV[2])
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
if nxt > cur then
  redis.call('SET', KEYS[2], nxt, 'PX', tonumber(ARGV[2]) + 60000)
end
return nxt
"""


# KEYS: the period's counter. ARGV: units, limit, ttl s. Returns the units used after spending, or -1 when they do
# not fit (nothing spent).
_SPEND = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local units = tonumber(ARGV[1])
if used + units > tonumber(ARGV[2]) then
  return -1
end
used = redis.call('INCRBY', KEYS[1], units)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return used
"""

# KEYS: the period's counter. ARGV: limit, ttl s. The counter only ever goes up.
_EXHAUST = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
end
return 1
"""
QUOTA_TTL = 3 * 86400  # a day's counter outlives its day, whatever the clocks say


class GateUnavailable(RuntimeError):
    """Redis could not be asked: no request was sent (or its end could not be recorded)."""


class RedisHostGate(HostGate):
    """Per-host spacing shared by every process that talks to the same Redis (`redis://host:port/db`)."""

    def __init__(self, url: str, *, lease: float = 60.0, max_poll: float = 1.0) -> None:
        super().__init__()
        import redis.asyncio as aioredis

        self._redis = aioredis.Redis.from_url(url)
        self._enter = self._redis.register_script(_ENTER)
        self._leave = self._redis.register_script(_LEAVE)
        self._spend = self._redis.register_script(_SPEND)
        self._exhaust = self._redis.register_script(_EXHAUST)
        self.lease = lease
        self.max_poll = max_poll
        self.error: GateUnavailable | None = None

    @staticmethod
    def _keys(host: str) -> list[str]:
        return [f"{PREFIX}{host}:lease", f"{PREFIX}{host}:next"]

    async def enter(self, host: str, interval: float) -> object:
        token = secrets.token_hex(8)
        keys = self._keys(host)
        while True:
            try:
                wait_ms = int(await self._enter(keys=keys, args=[token, int(self.lease * 1000),
                                                                 int(interval * 1000)]))
            except Exception as exc:
                raise self._broken(exc) from exc
            if wait_ms <= 0:
                return token
            # Never before the host could be free; a little jitter so waiters spread out.
            await asyncio.sleep(min(wait_ms / 1000.0, self.max_poll) + random.uniform(0.002, 0.02))

    async def leave(self, host: str, ticket: object, interval: float) -> None:
        try:
            await self._leave(keys=self._keys(host), args=[str(ticket), int(interval * 1000)])
        except Exception as exc:
            raise self._broken(exc) from exc

    async def robots_get(self, origin: str) -> str | None:
        try:
            value = await self._redis.get(f"{PREFIX}{origin}:robots")
        except Exception as exc:
            raise self._broken(exc) from exc
        return None if value is None else value.decode("utf-8", "replace")

    async def robots_put(self, origin: str, text: str) -> None:
        try:
            await self._redis.set(f"{PREFIX}{origin}:robots", text.encode("utf-8"), ex=ROBOTS_TTL)
        except Exception as exc:
            raise self._broken(exc) from exc

    # The APIs' quotas and holds, for every worker (`scrapers.api`): the same numbers the in-process gate keeps
    # in a file.

    async def quota_spend(self, api: str, units: int, limit: int, period: str) -> int | None:
        try:
            used = int(await self._spend(keys=[f"{PREFIX}api:{api}:used:{period}"], args=[units, limit, QUOTA_TTL]))
        except Exception as exc:
            raise self._broken(exc) from exc
        return None if used < 0 else used

    async def quota_exhaust(self, api: str, limit: int, period: str) -> None:
        try:
            await self._exhaust(keys=[f"{PREFIX}api:{api}:used:{period}"], args=[limit, QUOTA_TTL])
        except Exception as exc:
            raise self._broken(exc) from exc

    async def hold(self, api: str, until: float) -> None:
        seconds = int(until - time.time()) + 1
        if seconds <= 0:
            return
        try:
            current = float(await self._redis.get(f"{PREFIX}api:{api}:held") or 0)
            if until > current:
                await self._redis.set(f"{PREFIX}api:{api}:held", str(until), ex=seconds)
        except Exception as exc:
            raise self._broken(exc) from exc

    async def held_until(self, api: str) -> float:
        try:
            return float(await self._redis.get(f"{PREFIX}api:{api}:held") or 0)
        except Exception as exc:
            raise self._broken(exc) from exc

    def _broken(self, exc: Exception) -> GateUnavailable:
        self.error = GateUnavailable(f"the shared politeness limiter (Redis) is unavailable: {exc}")
        return self.error

    def take_error(self) -> GateUnavailable | None:
        """The last failure to reach Redis, once: the scraper reports it as the URL's error, but the URL did not
        fail, the cluster did, so the task is retried instead of the item being failed."""
        error, self.error = self.error, None
        return error

    async def aclose(self) -> None:
        await self._redis.aclose()
