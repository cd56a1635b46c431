"""The one HTTP layer every adapter shares.

``PoliteClient.get(url)`` returns a fully read, size-capped ``Response`` or raises a
``FetchError`` whose message says what went wrong in words a user understands.
What it guarantees, in the order a request meets it:

1. Only ``http``/``https`` URLs with a host; anything else is refused before I/O.
2. robots.txt of the URL's origin is fetched once per client (RFC 9309: 4xx means
   allow all, 5xx means disallow all) and obeyed for the configured User-Agent;
   a refused URL is never requested.
3. Per host (scheme, host, port) one request at a time and ``per_host_delay``
   seconds (or robots.txt's Crawl-delay, up to 30 s, when longer) between the end
   of one request and the start of the next; a global semaphore caps requests in
   flight across hosts. The spacing is kept by a ``HostGate`` the client awaits
   around each request: in-process by default, shared by every worker of a
   cluster when one is passed in (``recruiter.tasks.limiter``).
4. Each attempt runs under connect/read timeouts and a *total* timeout, so neither a
   stall nor a slow trickle of bytes can hold a slot longer than ``total_timeout``.
5. The body is streamed and cut at ``max_bytes`` (declared Content-Length is
   checked first); binary content types and bodies that sniff as binary fail.
6. 429/5xx and connection failures are retried with exponential backoff, honouring
   ``Retry-After`` up to ``max_retry_after``; timeouts are not retried (a stalled
   server would only stall again).
7. Redirects are followed by hand so every hop is checked against robots.txt,
   politeness, the address policy and the ``max_redirects`` limit, and loops are named as loops.
8. A conditional-GET cache (ETag / Last-Modified) turns repeat fetches into 304s.
9. Address policy (SSRF): only origins the caller trusted (``trust(url)``: URLs the user typed, the
   configured service base URLs) may be private; every other connection goes through
   ``scrapers.netguard``, which resolves the host once, refuses loopback, private, link-local, CGNAT,
   reserved and multicast addresses (``RECRUITER_ALLOW_PRIVATE`` lifts that for what it names) and
   connects to the address it checked. A refusal is a ``PrivateAddress`` error naming the host.

Tests inject ``transport=httpx.MockTransport(...)`` (then only literal addresses are checked, before
I/O); nothing here knows about adapters.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from recruiter.core.config import recruiter_home
from recruiter.core.errors import RecruiterError
from recruiter.core.netpolicy import AddressPolicy, normalize_host, parse_ip

from .cache import FileLedger, HttpCache
from .config import ScrapeSettings
from .encoding import decode_body, looks_binary
from .netguard import AddressRefused, GuardedBackend, GuardedTransport

log = logging.getLogger(__name__)
# httpx logs every request line at INFO, query string included: an API key sent as `key=` would reach a worker's
# log. The crawler reports what it fetched itself, in words and without secrets.
for _noisy in ("httpx", "httpcore"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

RETRY_STATUSES = {429, 500, 502, 503, 504}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
ROBOTS_MAX_BYTES = 512 * 1024
MAX_CRAWL_DELAY = 30.0  # a robots.txt asking for more would stall a run; 30 s is polite enough
MEMO_ENTRIES = 256
MEMO_MAX_BODY = 1024 * 1024
CUT_HEADER = "x-recruiter-cut"  # set on a feed whose reading stopped after FEED_ITEMS_KEPT items
FEED_ITEMS_KEPT = 100  # a record keeps 50 items; reading a 20 MB feed to the end would only cost time and memory
ERROR_BODY_MAX = 64 * 1024  # an API's error answer is read (it says why); a page's is not
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:rdf)[\s>/]", re.I)
_ITEM_END = re.compile(rb"</(?:item|entry)\s*>", re.I)
_BINARY_PREFIXES = ("image/", "audio/", "video/", "font/", "model/")
_BINARY_TYPES = {
    "application/octet-stream", "application/pdf", "application/zip", "application/gzip",
    "application/x-gzip", "application/x-tar", "application/vnd.ms-excel", "application/msword",
    "application/x-7z-compressed", "application/x-rar-compressed", "application/wasm",
}


class FetchError(RecruiterError):
    """A URL could not be fetched; ``str(error)`` is the user-facing reason."""

    kind = "fetch"


class InvalidUrl(FetchError):
    kind = "invalid_url"


class RobotsDisallowed(FetchError):
    kind = "robots"


class HttpStatusError(FetchError):
    kind = "http_status"

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class TooManyRedirects(FetchError):
    kind = "redirects"


class BodyTooLarge(FetchError):
    kind = "too_large"


class UnsupportedContent(FetchError):
    kind = "content_type"


class FetchTimeout(FetchError):
    kind = "timeout"


class PrivateAddress(FetchError):
    """The URL's host is (or resolves to) a private address and was not trusted: nothing was sent."""

    kind = "private_address"


class ConnectionFailed(FetchError):
    kind = "connection"

    def __init__(self, message: str, *, during_connect: bool = False):
        super().__init__(message)
        self.during_connect = during_connect  # refused/DNS: retrying would not help


@dataclass
class Response:
    url: str  # as requested
    final_url: str  # after redirects
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    from_cache: bool = False
    _text: str | None = field(default=None, repr=False)
    _encoding: str | None = field(default=None, repr=False)

    @property
    def content_type(self) -> str:
        """The media type alone, lower-case ('' when the server sent none)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        if self._text is None:
            self._text, self._encoding = decode_body(self.body, self.headers.get("content-type"))
        return self._text

    @property
    def encoding(self) -> str:
        _ = self.text  # decoding sets the encoding
        return self._encoding or "utf-8"

    def json(self):
        import json

        return json.loads(self.text)


_BARE_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?::\d{1,5})?(?:[/?#]\S*)?$", re.I)


def validate_url(url: str) -> str:
    """An absolute http(s) URL with a host, else InvalidUrl.

    A bare host such as ``example.com/blog`` gets ``https://`` (the core's canonical
    URLs accept that form too); anything else without a scheme is not a URL.
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidUrl("not a URL: empty string")
    candidate = url.strip()
    if any(ch.isspace() for ch in candidate):
        raise InvalidUrl(f"not a URL: {candidate!r} contains whitespace")
    if _BARE_HOST.match(candidate):
        candidate = "https://" + candidate  # "example.com/blog", as people paste it
    parts = urlsplit(candidate)
    if not parts.scheme or "://" not in candidate:
        if parts.scheme and parts.scheme.lower() not in ("http", "https"):
            raise InvalidUrl(f"unsupported scheme {parts.scheme.lower()!r}: only http and https URLs can be scraped")
        raise InvalidUrl(f"not a URL: {candidate!r} (expected http:// or https://)")
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidUrl(f"unsupported scheme {parts.scheme.lower()!r}: only http and https URLs can be scraped")
    try:
        parsed = httpx.URL(candidate)
    except Exception as exc:  # httpx raises InvalidURL and friends
        raise InvalidUrl(f"not a URL: {candidate!r} ({exc})") from None
    if not parsed.host:
        raise InvalidUrl(f"not a URL: {candidate!r} has no host")
    return candidate


def host_key(url: str) -> tuple[str, str, int]:
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return parsed.scheme, parsed.host, port


def _connect_key(url: str) -> tuple[str, int]:
    """(host, port) as the connection pool names them: the ASCII (IDNA) host, as the address guard sees it."""
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return normalize_host(parsed.raw_host.decode("ascii")), port


def _origin(url: str) -> str:
    scheme, host, port = host_key(url)
    default = 443 if scheme == "https" else 80
    netloc = f"[{host}]" if ":" in host else host
    return f"{scheme}://{netloc}" + ("" if port == default else f":{port}")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def _describe_size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n} bytes"


@dataclass
class _HostSlot:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    crawl_delay: float = 0.0  # from robots.txt; the larger of it and --delay applies


class HostGate:
    """Politeness per host, awaited around every request: ``enter`` returns when a request to ``host`` may
    start (no other request to it in flight, ``interval`` seconds since the last one ended) and ``leave``
    records its end; ``robots_get``/``robots_put`` share robots.txt answers. This one holds for one client; a
    cluster passes one that holds for all its workers."""

    def __init__(self) -> None:
        self._next_start: dict[str, float] = {}

    async def enter(self, host: str, interval: float) -> object:
        wait = self._next_start.get(host, 0.0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        return None

    async def leave(self, host: str, ticket: object, interval: float) -> None:
        self._next_start[host] = time.monotonic() + interval

    async def robots_get(self, origin: str) -> str | None:
        """A robots.txt another client of the gate already fetched ('' = none there), or None."""
        return None

    async def robots_put(self, origin: str, text: str) -> None:
        """Share a fetched robots.txt with the gate's other clients (the client keeps its own copy anyway)."""

    # What documented APIs allow (`scrapers.api`): quota units per period and "not before" times, per API.
    # This gate keeps them in $RECRUITER_HOME, so every process of this machine (and the next command) sees
    # them; a cluster's gate keeps them in Redis.

    def _ledger(self) -> FileLedger:
        ledger = getattr(self, "_file_ledger", None)
        if ledger is None:
            ledger = self._file_ledger = FileLedger(recruiter_home() / "api-usage.json")
        return ledger

    async def quota_spend(self, api: str, units: int, limit: int, period: str) -> int | None:
        """Spend ``units`` of ``api``'s quota if they fit under ``limit``: the units used then, else None."""
        return await asyncio.to_thread(self._ledger().spend, api, units, limit, period)

    async def quota_exhaust(self, api: str, limit: int, period: str) -> None:
        await asyncio.to_thread(self._ledger().exhaust, api, limit, period)

    async def hold(self, api: str, until: float) -> None:
        """No call to ``api`` before ``until`` (epoch seconds): a window that resets later than we wait."""
        await asyncio.to_thread(self._ledger().hold, api, until)

    async def held_until(self, api: str) -> float:
        return await asyncio.to_thread(self._ledger().held_until, api)


def _parse_robots(text: str) -> Protego | None:
    if not text.strip():
        return None
    try:
        return Protego.parse(text)
    except Exception:
        return None  # unparseable robots.txt: treat as absent


def gate_key(url: str) -> str:
    """The host a gate spaces requests for: scheme, host and port (one politeness slot each)."""
    scheme, host, port = host_key(url)
    return f"{scheme}://{host}:{port}"


class PoliteClient:
    """Shared, polite HTTP client; use as ``async with PoliteClient(settings) as client``."""

    def __init__(
        self,
        settings: ScrapeSettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: AddressPolicy | None = None,
        gate: HostGate | None = None,
    ):
        self.settings = settings or ScrapeSettings()
        self._gate = gate or HostGate()
        s = self.settings
        self.policy = policy if policy is not None else AddressPolicy.from_env()
        # (host, port) of origins the user named: connections there are not address-checked.
        self._trusted: set[tuple[str, int]] = set()
        for base in s.base_urls.all():
            self.trust(base)
        limits = httpx.Limits(max_connections=max(s.global_concurrency, 1) * 2, max_keepalive_connections=32)
        if transport is None:
            transport = GuardedTransport(GuardedBackend(self.policy, trusted=self._trusted), limits=limits)
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            timeout=httpx.Timeout(connect=s.connect_timeout, read=s.read_timeout, write=s.read_timeout, pool=None),
            headers={
                "User-Agent": s.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
                "application/xml;q=0.9,application/json;q=0.8,*/*;q=0.5",
                "Accept-Encoding": "gzip, deflate",
                "Accept-Language": s.accept_language,
            },
            limits=limits,
            trust_env=False,
        )
        self._global = asyncio.Semaphore(max(s.global_concurrency, 1))
        self._hosts: dict[tuple[str, str, int], _HostSlot] = {}
        self._robots: dict[str, Protego | FetchError | None] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._cache = HttpCache(s.resolved_cache_dir()) if s.use_cache else None
        self.requested: list[str] = []  # every URL actually sent, in order (tests, stats)
        # Shared fetches (feeds, about pages) many pages of one site link to: fetched once per client.
        self._memo: dict[str, asyncio.Future] = {}
        # What the layers above keep for the life of this client (the API policy's tokens and locks).
        self.state: dict[str, object] = {}

    async def __aenter__(self) -> PoliteClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for future in self._memo.values():
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # mark retrieved so asyncio does not log it
        await self._client.aclose()

    # -- public -------------------------------------------------------------------------

    def trust(self, url: str) -> None:
        """Let ``url``'s origin be fetched whatever address it has: for URLs the user named, never derived ones."""
        try:
            self._trusted.add(_connect_key(validate_url(url)))
        except (InvalidUrl, httpx.InvalidURL):
            return

    def is_trusted(self, url: str) -> bool:
        return _connect_key(url) in self._trusted

    @property
    def gate(self) -> HostGate:
        """The politeness gate this client waits at (shared by a cluster's workers when one was passed in)."""
        return self._gate

    async def send_once(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                        content: bytes | None = None, max_bytes: int | None = None) -> Response:
        """One request as it is, for a documented API (``scrapers.api`` keeps that API's own limits): the address
        policy and the global cap apply; robots.txt, the host gate, retries, redirects and the cache do not.

        Any status comes back (an API's error body says why, read up to 64 KB); failures to get an answer
        raise FetchError like ``get``."""
        url = validate_url(url)
        self._check_address(url)
        async with self._global:
            status, resp_headers, body = await self._send(url, dict(headers or {}), max_bytes or self.settings.max_bytes,
                                                          False, method=method, content=content, error_body=True,
                                                          allow_feed=False)
        return Response(url, url, status, resp_headers, body)

    async def get(self, url: str, *, headers: dict[str, str] | None = None, use_cache: bool = True) -> Response:
        """Fetch ``url`` politely, following redirects; raise FetchError on any failure."""
        url = validate_url(url)
        current = url
        seen = {current}
        for _hop in range(self.settings.max_redirects + 1):
            try:
                self._check_address(current)
                await self._check_robots(current)
                response, location = await self._fetch_one(current, headers, use_cache=use_cache)
            except PrivateAddress as exc:
                if current == url:
                    raise
                raise PrivateAddress(f"{exc} (redirected there from {url})") from None
            if location is None:
                response.url = url
                return response
            nxt = urljoin(current, location)
            try:
                nxt = validate_url(nxt)
            except InvalidUrl as exc:
                raise InvalidUrl(f"redirect to an unusable location {location!r}: {exc}") from None
            if nxt in seen:
                raise TooManyRedirects(f"redirect loop: {current} redirects back to {nxt}")
            seen.add(nxt)
            current = nxt
        raise TooManyRedirects(f"too many redirects (more than {self.settings.max_redirects})")

    async def get_shared(self, url: str) -> Response:
        """Like ``get`` but fetched at most once per client, failures included.

        For resources many pages point at (a site's feed, its about page): the
        second page of a site reuses the first page's fetch instead of asking again.
        """
        future = self._memo.get(url)
        if future is None:
            if len(self._memo) >= MEMO_ENTRIES:
                self._memo.pop(next(iter(self._memo)))
            future = self._memo[url] = asyncio.ensure_future(self.get(url))
        response = await asyncio.shield(future)
        if len(response.body) > MEMO_MAX_BODY and self._memo.get(url) is future:
            del self._memo[url]  # big bodies are not kept around: memory beats a rare refetch
        return response

    async def get_json(self, url: str, **kwargs):
        response = await self.get(url, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise UnsupportedContent(f"expected JSON from {url}, got {response.content_type or 'untyped'} ({exc})") from None

    async def allowed_by_robots(self, url: str) -> bool:
        try:
            await self._check_robots(validate_url(url))
        except RobotsDisallowed:
            return False
        return True

    def _check_address(self, url: str) -> None:
        """Refuse a literal private address before any I/O (names are checked where they are connected to)."""
        _scheme, host, _port = host_key(url)
        ip = parse_ip(host)
        if ip is None or self.is_trusted(url):
            return
        refusal = self.policy.refusal(host, ip)
        if refusal is not None:
            raise PrivateAddress(refusal)

    # -- robots.txt ---------------------------------------------------------------------

    async def _check_robots(self, url: str) -> None:
        if not self.settings.obey_robots:
            return
        origin = _origin(url)
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self._robots:
                rules = self._robots[origin] = await self._load_robots(origin)
                if isinstance(rules, Protego):
                    delay = rules.crawl_delay(self.settings.user_agent)
                    if delay:
                        self._slot(url).crawl_delay = min(float(delay), MAX_CRAWL_DELAY)
        rules = self._robots[origin]
        if isinstance(rules, FetchError):
            raise _with_context(rules, "")
        if rules is None:
            return
        if not rules.can_fetch(url, self.settings.user_agent):
            raise RobotsDisallowed(f"disallowed by robots.txt at {origin}/robots.txt for user agent {self._ua_token()!r}")

    def _ua_token(self) -> str:
        return self.settings.user_agent.split("/")[0].split()[0]

    async def _load_robots(self, origin: str) -> Protego | FetchError | None:
        """Rules for an origin; None allows everything; a FetchError fails every URL there.

        A definite answer (the file, or "none": 4xx) is shared through the gate, so a cluster asks each site
        for its robots.txt once, not once per worker process."""
        shared = await self._gate.robots_get(origin)
        if shared is not None:
            return _parse_robots(shared)
        rules, text = await self._fetch_robots(origin)
        if text is not None:
            await self._gate.robots_put(origin, text)
        return rules

    async def _fetch_robots(self, origin: str) -> tuple[Protego | FetchError | None, str | None]:
        """(rules, the text worth sharing: '' for "allow all", None for answers not to share)."""
        robots_url = origin + "/robots.txt"
        current = robots_url
        for _ in range(5):
            try:
                response, location = await self._fetch_one(
                    current, None, use_cache=False, max_bytes=ROBOTS_MAX_BYTES, check_type=False, retries=1,
                    allow_feed=False,
                )
            except HttpStatusError as exc:
                if 400 <= exc.status < 500:
                    return None, ""  # no robots.txt: everything is allowed
                return RobotsDisallowed(
                    f"robots.txt at {robots_url} answered HTTP {exc.status}; treated as disallow-all (RFC 9309)"
                ), None
            except (BodyTooLarge, UnsupportedContent):
                return None, ""
            except PrivateAddress as exc:
                # The origin itself is refused: so is the page, for the same reason. A robots.txt that
                # redirects to a private address counts as absent (nothing is fetched there); neither is shared.
                return (exc, None) if current == robots_url else (None, None)
            except FetchError as exc:
                return _with_context(exc, f"(while fetching {robots_url})"), None
            if location is None:
                return _parse_robots(response.text), response.text
            current = urljoin(current, location)
            if urlsplit(current).scheme not in ("http", "https"):
                return None, None
            try:
                self._check_address(validate_url(current))
            except FetchError:
                return None, None  # as above: redirected somewhere private or unusable, so absent
        return None, None

    # -- one request --------------------------------------------------------------------

    def _slot(self, url: str) -> _HostSlot:
        key = host_key(url)
        slot = self._hosts.get(key)
        if slot is None:
            slot = self._hosts[key] = _HostSlot()
        return slot

    async def _fetch_one(
        self,
        url: str,
        headers: dict[str, str] | None,
        *,
        use_cache: bool,
        max_bytes: int | None = None,
        check_type: bool = True,
        retries: int | None = None,
        allow_feed: bool = True,
    ) -> tuple[Response, str | None]:
        """One URL, no redirect following: (response, redirect location or None)."""
        s = self.settings
        retries = s.max_retries if retries is None else retries
        cached = self._cache.get(url) if (self._cache and use_cache) else None
        request_headers = dict(headers or {})
        if cached is not None:
            if cached.etag:
                request_headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                request_headers["If-Modified-Since"] = cached.last_modified
        slot = self._slot(url)
        gate_host = gate_key(url)
        attempt = 0
        async with slot.lock:
            while True:
                interval = max(s.per_host_delay, slot.crawl_delay)
                ticket = await self._gate.enter(gate_host, interval)
                try:
                    async with self._global:
                        status, resp_headers, body = await self._send(
                            url, request_headers, max_bytes or s.max_bytes, check_type, allow_feed=allow_feed
                        )
                except BaseException as exc:
                    await asyncio.shield(self._gate.leave(gate_host, ticket, interval))
                    if isinstance(exc, ConnectionFailed) and attempt < retries and not exc.during_connect:
                        attempt += 1
                        await asyncio.sleep(self.backoff(attempt))
                        continue
                    raise
                delay = parse_retry_after(resp_headers.get("retry-after")) if status in RETRY_STATUSES else None
                if delay is not None and delay > s.max_retry_after:
                    await asyncio.shield(self._gate.leave(gate_host, ticket, interval))
                    raise HttpStatusError(
                        f"HTTP {status}; server asks to retry after {delay:.0f} s, more than the "
                        f"{s.max_retry_after:.0f} s limit",
                        status,
                    )
                # A Retry-After holds the host for every client of the gate (a cluster's workers too).
                await asyncio.shield(self._gate.leave(gate_host, ticket, max(interval, delay or 0.0)))
                if status in RETRY_STATUSES and attempt < retries:
                    attempt += 1
                    if delay is None:
                        await asyncio.sleep(self.backoff(attempt))
                    continue
                break
        if status == 304 and cached is not None:
            merged = dict(cached.headers)
            return Response(url, cached.final_url, 200, merged, cached.body, from_cache=True), None
        if status in REDIRECT_STATUSES:
            location = resp_headers.get("location")
            if not location:
                raise HttpStatusError(f"HTTP {status} redirect without a Location header", status)
            return Response(url, url, status, resp_headers, b""), location
        if status >= 400 or status < 200:
            reason = httpx.codes.get_reason_phrase(status) or "error"
            suffix = f" after {attempt + 1} attempts" if attempt else ""
            raise HttpStatusError(f"HTTP {status} {reason}{suffix}", status)
        if check_type and looks_binary(body):
            raise UnsupportedContent("binary content, not a web page or feed")
        if self._cache and use_cache and status == 200:
            self._cache.put(url, url, status, resp_headers, body)
        return Response(url, url, status, resp_headers, body), None

    def backoff(self, attempt: int) -> float:
        """The pause before retry ``attempt`` (exponential, with jitter): for this client and the API policy."""
        base = self.settings.backoff_base * (2 ** (attempt - 1))
        return base + random.uniform(0, base / 2)

    async def _read_body(self, resp: httpx.Response, headers: dict[str, str], max_bytes: int,
                         allow_feed: bool = True) -> bytes:
        """The body, streamed: cut at ``max_bytes``, except a feed (by its content type, or by its first
        element when the type says little), which may run to ``feed_max_bytes`` and whose reading stops once
        FEED_ITEMS_KEPT items have arrived: the body then ends after that item, and CUT_HEADER says so."""
        feed_cap = max(max_bytes, self.settings.feed_max_bytes)
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        maybe_feed = allow_feed and (not media or any(word in media for word in ("xml", "rss", "atom", "text/plain")))
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > (feed_cap if maybe_feed else max_bytes):
            raise BodyTooLarge(f"body too large: {_describe_size(int(declared))} declared, limit "
                               f"{_describe_size(feed_cap if maybe_feed else max_bytes)}")
        chunks: list[bytes] = []
        size = 0
        limit = feed_cap if maybe_feed else max_bytes
        is_feed: bool | None = None if maybe_feed else False  # None: not decided yet (its first 4 KB decide)
        head = b""
        items = 0
        tail = b""
        async for chunk in resp.aiter_bytes():
            size += len(chunk)
            chunks.append(chunk)
            if is_feed is None:
                head = (head + chunk)[:4096]
                if len(head) >= 4096 or _FEED_ROOT.search(head):
                    is_feed = bool(_FEED_ROOT.search(head))
                    limit = feed_cap if is_feed else max_bytes
            if size > limit:
                raise BodyTooLarge(f"body too large: cut at the {_describe_size(limit)} limit")
            if is_feed:
                window = tail + chunk
                for match in _ITEM_END.finditer(window):
                    if match.end() <= len(tail):
                        continue  # counted with the previous chunk
                    items += 1
                    if items >= FEED_ITEMS_KEPT:
                        cut = size - len(chunk) + (match.end() - len(tail))
                        headers[CUT_HEADER] = f"items={FEED_ITEMS_KEPT}"
                        return b"".join(chunks)[:cut]
                tail = window[-16:]
        if is_feed is None and size > max_bytes:  # a short body the first 4 KB never showed to be a feed
            raise BodyTooLarge(f"body too large: cut at the {_describe_size(max_bytes)} limit")
        return b"".join(chunks)

    async def _send(
        self, url: str, headers: dict[str, str], max_bytes: int, check_type: bool, *, method: str = "GET",
        content: bytes | None = None, error_body: bool = False, allow_feed: bool = True,
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request under the total timeout and read at most ``max_bytes`` (a feed: ``feed_max_bytes``,
        and only its first FEED_ITEMS_KEPT items); an error's body only when ``error_body``."""
        s = self.settings
        self.requested.append(url)
        try:
            async with asyncio.timeout(s.total_timeout):
                async with self._client.stream(method, url, headers=headers, content=content) as resp:
                    resp_headers = {k.lower(): v for k, v in resp.headers.items()}
                    status = resp.status_code
                    if status in REDIRECT_STATUSES or status == 304 or status >= 400:
                        if not (error_body and status >= 400):
                            return status, resp_headers, b""  # the body is of no use; don't read it
                        return status, resp_headers, await _read_capped(resp, ERROR_BODY_MAX)
                    if check_type:
                        _check_content_type(resp_headers.get("content-type", ""))
                    return status, resp_headers, await self._read_body(resp, resp_headers, max_bytes, allow_feed)
        except AddressRefused as exc:
            raise PrivateAddress(str(exc)) from None
        except TimeoutError:
            raise FetchTimeout(f"timed out: no complete response within {s.total_timeout:g} s") from None
        except httpx.ConnectTimeout:
            raise FetchTimeout(f"connect timeout after {s.connect_timeout:g} s") from None
        except httpx.ReadTimeout:
            raise FetchTimeout(f"read timeout: server sent nothing for {s.read_timeout:g} s") from None
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"timed out ({type(exc).__name__})") from None
        except httpx.ConnectError as exc:
            raise ConnectionFailed(
                f"cannot connect to {_origin(url)} (refused, unreachable or unknown host): {_reason(exc)}",
                during_connect=True,
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise ConnectionFailed(f"connection broken while reading {url}: {_reason(exc)}") from None
        except httpx.DecodingError as exc:
            raise UnsupportedContent(f"cannot decode the response body: {_reason(exc)}") from None
        except httpx.TooManyRedirects as exc:  # defensive: we follow redirects ourselves
            raise TooManyRedirects(str(exc)) from None
        except httpx.InvalidURL as exc:
            raise InvalidUrl(f"not a URL: {url!r} ({exc})") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__}: {_reason(exc)}") from None


async def _read_capped(resp: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.aiter_bytes():
        chunks.append(chunk[: max(0, limit - size)])
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)


def reworded(exc: FetchError, message: str) -> FetchError:
    """A fresh copy of ``exc`` (same type and attributes, a status included) saying ``message`` instead. Built
    without calling the class (``copy.copy`` would call it with the message alone, which an error needing a
    status cannot take)."""
    clone = exc.__class__.__new__(exc.__class__)
    clone.__dict__.update(exc.__dict__)
    clone.args = (message,)
    return clone


def _with_context(exc: FetchError, suffix: str) -> FetchError:
    """A fresh copy of ``exc`` with ``suffix`` appended."""
    return reworded(exc, f"{exc} {suffix}".rstrip())


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 200 else text[:197] + "..."


def _check_content_type(content_type: str) -> None:
    media = content_type.split(";")[0].strip().lower()
    if not media:
        return  # sniffed after reading
    if media.startswith(_BINARY_PREFIXES) or media in _BINARY_TYPES:
        raise UnsupportedContent(f"unsupported content type {media}: not a web page or feed")
