"""The API policy: how a documented API is called, beside the crawl policy of ``scrapers.http``.

robots.txt is for crawlers: it still governs every page, feed and link we fetch. A documented API called with
the user's credentials (Reddit's Data API, the YouTube Data API, Podcast Index, Brave, the user's SearXNG, the
iTunes Search API) is governed by that API's own terms instead, so a call here:

1. waits at the gate under the API's name (``api:reddit``), not the host's, at the API's documented pace
   (`LIMITS`: Reddit 100 a minute, iTunes about 20 a minute, Brave's free plan 1 a second...). The gate is
   the cluster's when workers run, so the pace holds across all of them;
2. is refused before it is sent when the API is held (a window that resets later than we wait) or when it
   would spend quota units beyond the day's budget (YouTube: 100 for a search), saying so in one line;
3. reads the answer's limits: ``Retry-After`` on 429/503 is waited out (up to ``max_retry_after``), and an
   ``X-RateLimit-Remaining`` / ``X-Ratelimit-Remaining`` of 0 holds the API until ``...-Reset``, for everyone;
4. never puts a secret into an error: URLs are shown without ``key=``-like parameters and every message is
   scrubbed of the credentials in force (and of tokens the connectors register).

The connectors (``scrapers.adapters``) build the requests and read the answers; they raise the errors below,
whose ``kind`` is what ``recruiter sources check`` reports: ``bad_key``, ``quota``, ``rate_limited``,
``not_configured``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .http import ConnectionFailed, FetchError, HttpStatusError, PoliteClient, Response, parse_retry_after, reworded

RETRY_STATUSES = {429, 500, 502, 503, 504}
QUOTA_WINDOW = 86400.0  # a wait longer than a day is a spent quota (a monthly plan), not a rate limit
SECRET_PARAMS = {"key", "api_key", "apikey", "token", "access_token", "client_secret", "password", "secret"}


class ApiError(FetchError):
    kind = "api"


class BadCredentials(ApiError):
    """The API refused the key, token or secret (or the project behind it)."""

    kind = "bad_key"


class QuotaExhausted(ApiError):
    kind = "quota"


class RateLimited(ApiError):
    kind = "rate_limited"


class NotConfigured(FetchError):
    """A source needs credentials (or a URL) the user has not set; the message names the variables."""

    kind = "not_configured"


@dataclass(frozen=True)
class ApiLimits:
    name: str  # the gate and ledger key: "reddit"
    title: str  # how messages name it: "Reddit's Data API"
    interval: float  # seconds between two calls, the documented pace


LIMITS: dict[str, ApiLimits] = {
    "reddit": ApiLimits("reddit", "Reddit's Data API", 0.6),  # 100 queries a minute per OAuth client
    "youtube": ApiLimits("youtube", "the YouTube Data API", 0.2),  # a daily unit quota, no pace published
    "podcastindex": ApiLimits("podcastindex", "Podcast Index", 0.5),
    "itunes": ApiLimits("itunes", "Apple's iTunes Search API", 3.0),  # about 20 calls a minute
    "brave": ApiLimits("brave", "the Brave Search API", 1.0),  # the free plan: 1 query a second
    "searxng": ApiLimits("searxng", "your SearXNG instance", 1.0),
}


def display_url(url: str) -> str:
    """``url`` fit for a message: parameters that carry secrets shown as ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an unparseable URL)"
    if not parts.query:
        return url
    query = [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, safe="*@:/"), ""))


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _scrubbed(exc: FetchError, secrets: list[str], prefix: str = "") -> FetchError:
    return reworded(exc, scrub(prefix + str(exc), secrets))


def _numbers(value: str | None) -> list[float]:
    out = []
    for part in (value or "").split(","):
        part = part.strip().split(";")[0]
        try:
            out.append(float(part))
        except ValueError:
            continue
    return out


def rate_limit_wait(headers: dict[str, str], now: float | None = None) -> float | None:
    """Seconds until a window whose remaining count is 0 resets (the longest such window), else None.

    Reddit sends ``X-Ratelimit-Remaining: 0.0`` / ``X-Ratelimit-Reset: 412`` (seconds); Brave one value per
    window, ``X-RateLimit-Remaining: 0, 1423`` / ``X-RateLimit-Reset: 1, 1419112``; some APIs give the reset as
    a Unix time, which is read as such when it is later than 2001."""
    remaining = _numbers(headers.get("x-ratelimit-remaining"))
    resets = _numbers(headers.get("x-ratelimit-reset"))
    if not remaining or not resets:
        return None
    now = time.time() if now is None else now
    waits = []
    for left, reset in zip(remaining, resets, strict=False):
        if left > 0:
            continue
        waits.append(max(0.0, reset - now) if reset > 1_000_000_000 else reset)
    return max(waits) if waits else None


def human_wait(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str  # for messages: secrets already masked

    def json(self):
        """The body as JSON (leading whitespace allowed: iTunes answers with three newlines first)."""
        try:
            return json.loads(self.body.decode("utf-8-sig", errors="replace").strip() or "null")
        except (ValueError, RecursionError) as exc:  # not JSON, or JSON nested past any real answer
            raise ApiError(f"expected JSON from {self.url}, got something else ({type(exc).__name__})") from None

    def error_text(self, limit: int = 200) -> str:
        """What the API said about an error, in a line: its JSON message when there is one."""
        text = self.body.decode("utf-8", errors="replace").strip()
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            error = data.get("error")
            for candidate in (
                error.get("message") if isinstance(error, dict) else None,
                error.get("detail") if isinstance(error, dict) else None,
                data.get("message"), data.get("description"), error if isinstance(error, str) else None,
            ):
                if candidate:
                    text = str(candidate)
                    break
        text = " ".join(re.sub(r"<[^>]+>", " ", text).split())
        return text if len(text) <= limit else text[: limit - 1] + "…"


class Api:
    """Calls to one API through one client, under that API's limits (shared by every client of the gate)."""

    def __init__(self, client: PoliteClient, limits: ApiLimits) -> None:
        self.client = client
        self.limits = limits
        settings = client.settings
        override = (settings.api_intervals or {}).get(limits.name)
        self.interval = limits.interval if override is None else float(override)
        self.secrets = settings.credentials.secrets()
        # One call at a time per API from this client (the gate spaces them; a cluster's gate also leases).
        self._turn = asyncio.Lock()

    def add_secret(self, value: str) -> None:
        """A value obtained at run time (an access token) that messages must never show either."""
        if value and value not in self.secrets:
            self.secrets.append(value)
            self.secrets.sort(key=len, reverse=True)

    @property
    def gate_key(self) -> str:
        return f"api:{self.limits.name}"

    def error(self, cls: type[FetchError], message: str) -> FetchError:
        return cls(scrub(message, self.secrets))

    async def check_held(self) -> None:
        until = await self.client.gate.held_until(self.limits.name)
        left = until - time.time()
        if left > QUOTA_WINDOW:
            raise self.error(QuotaExhausted, f"{self.limits.title}: the quota of this key is spent; it resets in "
                                             f"{human_wait(left)}")
        if left > 0:
            raise self.error(RateLimited, f"{self.limits.title} asked us to wait: its rate limit resets in "
                                          f"{human_wait(left)}")

    async def call(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        spend=None,
        sign=None,
    ) -> ApiResponse:
        """Send one call and return the answer, whatever its status (the connector reads errors); retry 429
        and 5xx answers (``Retry-After`` waited out when it is at most ``max_retry_after``) and broken
        connections. ``spend`` is an async callable run at the gate, just before sending (the quota check);
        ``sign`` returns headers made at that moment (a signature over the time)."""
        settings = self.client.settings
        if params:
            query = urlencode([(k, v) for k, v in params.items() if v is not None], doseq=True)
            url = url + ("&" if "?" in url else "?") + query
        shown = display_url(url)
        content = urlencode(data).encode() if data is not None else None
        request_headers = dict(headers or {})
        if data is not None:
            request_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request_headers.setdefault("Accept", "application/json")
        attempt = 0
        retries = max(settings.max_retries, 2)
        while True:
            async with self._turn:
                await self.check_held()
                ticket = await self.client.gate.enter(self.gate_key, self.interval)
                try:
                    if spend is not None:
                        await spend()
                    sent_headers = {**request_headers, **(sign() if sign is not None else {})}
                    response = await self.client.send_once(method, url, headers=sent_headers, content=content)
                except FetchError as exc:
                    await asyncio.shield(self.client.gate.leave(self.gate_key, ticket, self.interval))
                    error = exc
                except BaseException:
                    await asyncio.shield(self.client.gate.leave(self.gate_key, ticket, self.interval))
                    raise
                else:
                    error = None
                    hold = await self._read_limits(response, ticket)
            if error is not None:
                if isinstance(error, ConnectionFailed) and not error.during_connect and attempt < retries:
                    attempt += 1
                    await asyncio.sleep(self.client.backoff(attempt))
                    continue
                worded = isinstance(error, ApiError | NotConfigured)  # already names the API
                raise _scrubbed(error, self.secrets, "" if worded else f"{self.limits.title}: ") from None
            if response.status in RETRY_STATUSES and attempt < retries:
                attempt += 1
                if hold is None:  # else the gate holds the API until the wait is over, for every client
                    await asyncio.sleep(self.client.backoff(attempt))
                continue
            return ApiResponse(response.status, response.headers, response.body, shown)

    async def _read_limits(self, response: Response, ticket: object) -> float | None:
        """Leave the gate holding the API as long as the answer asks; the wait when it is one we keep."""
        settings = self.client.settings
        retry_after = (parse_retry_after(response.headers.get("retry-after"))
                       if response.status in RETRY_STATUSES else None)
        window = rate_limit_wait(response.headers)
        wait = max(retry_after or 0.0, window or 0.0)
        if wait > settings.max_retry_after:
            await asyncio.shield(self.client.gate.leave(self.gate_key, ticket, self.interval))
            await self.client.gate.hold(self.limits.name, time.time() + wait)
            if response.status in RETRY_STATUSES and wait > QUOTA_WINDOW:
                raise self.error(QuotaExhausted, f"{self.limits.title}: the quota of this key is spent (HTTP "
                                                 f"{response.status}); it resets in {human_wait(wait)}")
            if response.status in RETRY_STATUSES:
                raise self.error(RateLimited, f"{self.limits.title} is rate-limiting us (HTTP {response.status}): "
                                              f"it asks to wait {human_wait(wait)}, longer than we wait "
                                              f"({settings.max_retry_after:.0f} s)")
            return None
        await asyncio.shield(self.client.gate.leave(self.gate_key, ticket, max(self.interval, wait)))
        return retry_after if retry_after is not None else (window if response.status in RETRY_STATUSES else None)

    def fail(self, response: ApiResponse, what: str) -> FetchError:
        """The error for an answer the connector did not expect: bad credentials, a rate limit or the status."""
        said = self.error_text(response)
        if response.status in (401, 403):
            return self.error(BadCredentials, f"{self.limits.title} refused the credentials (HTTP {response.status}"
                                              f"{': ' + said if said else ''}) while {what}")
        if response.status == 429:
            return self.error(RateLimited, f"{self.limits.title} is rate-limiting us (HTTP 429"
                                           f"{': ' + said if said else ''}) while {what}")
        return HttpStatusError(scrub(f"{self.limits.title} answered HTTP {response.status}"
                                     f"{': ' + said if said else ''} while {what}", self.secrets),
                               response.status)

    def error_text(self, response: ApiResponse) -> str:
        return scrub(response.error_text(), self.secrets)


def api_for(client: PoliteClient, name: str) -> Api:
    """The one `Api` of this client for ``name`` (its tokens and locks live as long as the client)."""
    key = f"api:{name}"
    api = client.state.get(key)
    if not isinstance(api, Api):
        api = client.state[key] = Api(client, LIMITS[name])
    return api
