"""Politeness across the cluster: one request at a time per host and the per-host delay, for all workers.

`RedisHostGate` is the shared implementation of the scrapers' `HostGate` hook. Each host has two keys:
a lease (who is requesting it now; it expires on its own, so a worker killed mid-request blocks the host for
at most `lease` seconds) and the earliest time the next request may start (the end of the last request plus
the interval). Both are read and written by Lua scripts that run atomically in Redis, on Redis's own clock, so
workers on machines whose clocks disagree still space their requests correctly. A waiter polls no sooner than
the host could be free, with jitter so waiters do not move in lockstep.

robots.txt answers are shared too (for an hour): the cluster asks a site for it once, and every worker obeys
the same rules and Crawl-delay.
"""

from __future__ import annotations

import asyncio
import random
import secrets

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
