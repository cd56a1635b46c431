"""Fake APIs for the discovery tests: Reddit's OAuth API, YouTube, Podcast Index, Brave and iTunes on a
`FakeWeb` (httpx transport), answering from the project's fixtures or from `../shared/datasets/apis` when a test
asks for the recorded responses."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from scrape_helpers import FakeWeb, fixture_bytes

from scrapers.api import LIMITS
from scrapers.config import Credentials
from scrapers.loopback import send

SHARED_APIS = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "apis"
TOKEN = "reddit-token-5b1e"
KEYS = Credentials(reddit_client_id="client-id-4f2a", reddit_client_secret="client-secret-9c7d",
                   youtube_api_key="yt-key-0a8b3c5d7e", podcastindex_key="PIKEY2468ACE",
                   podcastindex_secret="pi-secret-13579bdf", brave_api_key="brave-key-8642fdb")


def recorded(path: str) -> bytes:
    """A recorded API answer from the shared datasets (tests skip without them)."""
    return (SHARED_APIS / path).read_bytes()


def api_settings(settings, **changes):
    """Test settings with every API's credentials and no pacing."""
    return settings.with_(credentials=KEYS, api_intervals=dict.fromkeys(LIMITS, 0.0), **changes)


def json_response(payload, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return httpx.Response(status, content=body, headers={"content-type": "application/json", **(headers or {})})


def add_reddit(web: FakeWeb, *, search: bytes | None = None, tokens: list | None = None) -> None:
    """The token endpoint (each request logged in ``tokens``) and the OAuth API's search/about/top."""
    def token(request: httpx.Request) -> httpx.Response:
        if tokens is not None:
            tokens.append(request)
        if request.headers.get("authorization") != "Basic " + __import__("base64").b64encode(
                f"{KEYS.reddit_client_id}:{KEYS.reddit_client_secret}".encode()).decode():
            return json_response({"message": "Unauthorized", "error": 401}, 401)
        return json_response({"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600, "scope": "*"})

    def authed(body: bytes):
        def answer(request: httpx.Request) -> httpx.Response:
            if request.headers.get("authorization") != f"bearer {TOKEN}":
                return json_response({"message": "Unauthorized", "error": 401}, 401)
            return json_response(body)
        return answer

    web.pages["https://www.reddit.com/api/v1/access_token"] = token
    web.pages["https://oauth.reddit.com/subreddits/search"] = authed(search or fixture_bytes("reddit_search.json"))
    web.pages["https://oauth.reddit.com/r/trailrunning/about"] = authed(fixture_bytes("reddit_about.json"))
    web.pages["https://oauth.reddit.com/r/trailrunning/top"] = authed(fixture_bytes("reddit_top.json"))


# --- Fake APIs on loopback servers (tests/scrapers/test_api_connectors.py) -------------------------------------
# Each fake plays one documented API on a LoopbackServer (port 0): it checks what the real service checks (a key,
# a bearer token, a signature), answers from the recorded responses, and logs every request it received as a
# `Seen`, so a test can prove what was sent, when, and that nothing was sent at all.

def need_recordings() -> None:
    """Skip the calling test when the shared recorded API answers are not on this machine."""
    if not SHARED_APIS.is_dir():
        pytest.skip(f"the recorded API answers are not here ({SHARED_APIS}); see SOURCES.md in the shared datasets")


def recorded_json(path: str):
    return json.loads(recorded(path).decode("utf-8"))


def with_bases(settings, **bases):
    """``settings`` with some service base URLs pointed elsewhere (a loopback server)."""
    return settings.with_(base_urls=replace(settings.base_urls, **bases))


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Seen:
    """One request a fake API received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float  # time.monotonic() when it arrived
    answered: float | None = None  # time.monotonic() once the answer was written


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    content_type: str | None = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def reply_json(payload, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Reply(status, body, "application/json; charset=utf-8", dict(headers or {}))


class FakeApi:
    """A loopback server whose routes take a `Seen` and return a `Reply` (or None after writing the answer
    themselves through ``seen.request``)."""

    def __init__(self, start: Callable, routes: dict[str, Callable[[Seen], Reply | None]]):
        self.seen: list[Seen] = []
        self.server = start({path: self._wrap(fn) for path, fn in routes.items()})

    def _wrap(self, fn):
        def handle(request) -> None:
            parts = urlsplit(request.path)
            seen = Seen(request.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                        {k.lower(): v for k, v in request.headers.items()}, getattr(request, "body", b""),
                        time.monotonic())
            seen.request = request
            self.seen.append(seen)
            reply = fn(seen)
            if reply is not None:
                send(request, reply.status, reply.body, reply.content_type, reply.headers)
            seen.answered = time.monotonic()
        return handle

    @property
    def origin(self) -> str:
        return self.server.origin

    def calls(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]


class FakeReddit(FakeApi):
    """Reddit: ``POST /api/v1/access_token`` (HTTP Basic with the app's id and secret, client_credentials) hands
    out tokens; ``/subreddits/search``, ``/r/NAME/about`` and ``/r/NAME/top`` want ``Authorization: bearer TOKEN``.

    ``refused``: tokens the API answers 401 to although the token endpoint issued them (expired early);
    ``refuse_all``: the API refuses every token."""

    TOKEN_PATH = "/api/v1/access_token"

    def __init__(self, start, *, search: bytes = b"", abouts: dict[str, bytes] | None = None,
                 top: bytes | None = None, refuse_first: bool = False, refuse_all: bool = False,
                 search_reply: Callable[[Seen], Reply | None] | None = None):
        self.issued: list[str] = []
        self.refuse_first = refuse_first
        self.refuse_all = refuse_all
        routes = {self.TOKEN_PATH: self._token, "/subreddits/search": self._authed(search_reply or (
            lambda seen: reply_json(search)))}
        for name, body in (abouts or {}).items():
            routes[f"/r/{name}/about"] = self._authed(lambda seen, body=body: reply_json(body))
            routes[f"/r/{name}/top"] = self._authed(lambda seen: reply_json(
                top if top is not None else {"kind": "Listing", "data": {"children": [], "after": None}}))
        super().__init__(start, routes)

    @staticmethod
    def basic(client_id: str, secret: str) -> str:
        return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()

    def _token(self, seen: Seen) -> Reply:
        form = dict(parse_qsl(seen.body.decode()))
        if seen.method != "POST" or form.get("grant_type") != "client_credentials":
            return reply_json({"error": "unsupported_grant_type"})
        if seen.headers.get("authorization") != self.basic(KEYS.reddit_client_id, KEYS.reddit_client_secret):
            # Reddit's answer to a wrong app, here also echoing what it got (a careless proxy would).
            sent = base64.b64decode(seen.headers.get("authorization", "Basic ")[6:] or b"").decode(errors="replace")
            return reply_json({"message": f"Unauthorized ({sent})", "error": 401}, 401)
        token = TOKEN if not self.issued else f"{TOKEN}-{len(self.issued) + 1}"
        self.issued.append(token)
        return reply_json({"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"})

    def _authed(self, answer: Callable[[Seen], Reply | None]):
        def route(seen: Seen) -> Reply | None:
            valid = set(self.issued)
            if self.refuse_all:
                valid = set()
            elif self.refuse_first and self.issued:
                valid.discard(self.issued[0])
            token = next((t for t in valid if seen.headers.get("authorization") == f"bearer {t}"), None)
            if token is None:
                return reply_json({"message": "Unauthorized", "error": 401}, 401,
                                  {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'})
            return answer(seen)
        return route

    def api_calls(self) -> list[Seen]:
        return [s for s in self.seen if s.path != self.TOKEN_PATH]

    def settings(self, settings):
        return with_bases(api_settings(settings), reddit=self.origin, reddit_oauth=self.origin)


YOUTUBE_KEY_INVALID_2016 = {"error": {"errors": [{"domain": "usageLimits", "reason": "keyInvalid",
                                                  "message": "Bad Request"}], "code": 400, "message": "Bad Request"}}
YOUTUBE_KEY_INVALID = {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                 "errors": [{"message": "API key not valid. Please pass a valid API key.",
                                             "domain": "global", "reason": "badRequest"}],
                                 "status": "INVALID_ARGUMENT",
                                 "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                              "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                                              "metadata": {"service": "youtube.googleapis.com"}}]}}
YOUTUBE_QUOTA_EXCEEDED = {"error": {"code": 403, "message": "The request cannot be completed because you have "
                                    "exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.",
                                    "errors": [{"message": "The request cannot be completed because you have "
                                                "exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota"
                                                "</a>.", "domain": "youtube.quota", "reason": "quotaExceeded"}]}}


class FakeYouTube(FakeApi):
    """The YouTube Data API v3 under ``/youtube/v3``: every call needs ``key=``; ``quota`` makes every call
    answer 403 quotaExceeded; ``invalid_key_body`` is what a wrong key gets."""

    BASE = "/youtube/v3"

    def __init__(self, start, *, search=None, channels=None, playlist=None, quota: bool = False,
                 invalid_key_body=YOUTUBE_KEY_INVALID, channels_reply=None):
        self.quota = quota
        self.invalid_key_body = invalid_key_body
        empty = {"kind": "youtube#searchListResponse", "items": [], "pageInfo": {"totalResults": 0,
                                                                                "resultsPerPage": 0}}
        routes = {
            f"{self.BASE}/search": self._keyed(lambda seen: reply_json(
                search if search is not None and "pageToken" not in seen.query else empty)),
            f"{self.BASE}/channels": self._keyed(channels_reply or (lambda seen: reply_json(
                channels if channels is not None else {"kind": "youtube#channelListResponse", "items": []}))),
            f"{self.BASE}/playlistItems": self._keyed(lambda seen: reply_json(playlist or {"items": []})),
        }
        super().__init__(start, routes)

    def _keyed(self, answer):
        def route(seen: Seen) -> Reply | None:
            if seen.query.get("key") != KEYS.youtube_api_key:
                return reply_json(self.invalid_key_body, 400)
            if self.quota:
                return reply_json(YOUTUBE_QUOTA_EXCEEDED, 403)
            return answer(seen)
        return route

    def settings(self, settings, **changes):
        return with_bases(api_settings(settings, **changes), youtube_api=self.origin + self.BASE)


class FakePodcastIndex(FakeApi):
    """Podcast Index under ``/api/1.0``: a call must carry X-Auth-Key, an X-Auth-Date within 3 minutes of now,
    ``Authorization`` = sha1(key + secret + date) and a User-Agent, else 401."""

    BASE = "/api/1.0"
    SKEW = 180

    def __init__(self, start, *, byterm: bytes):
        self.refusals: list[str] = []
        super().__init__(start, {f"{self.BASE}/search/byterm": self._signed(lambda seen: reply_json(byterm))})

    def problem(self, seen: Seen) -> str | None:
        h = seen.headers
        if not h.get("user-agent"):
            return "a User-Agent is required"
        if h.get("x-auth-key") != KEYS.podcastindex_key:
            return "unknown X-Auth-Key"
        date = h.get("x-auth-date", "")
        if not date.isdigit() or abs(int(date) - time.time()) > self.SKEW:
            return "X-Auth-Date missing or more than 3 minutes off"
        expected = hashlib.sha1((KEYS.podcastindex_key + KEYS.podcastindex_secret + date).encode()).hexdigest()
        if h.get("authorization") != expected:
            return "Authorization header not valid"
        return None

    def _signed(self, answer):
        def route(seen: Seen) -> Reply | None:
            problem = self.problem(seen)
            if problem:
                self.refusals.append(problem)
                return reply_json({"status": "false", "description": problem}, 401)
            return answer(seen)
        return route

    def settings(self, settings, **changes):
        return with_bases(api_settings(settings, **changes), podcastindex=self.origin + self.BASE)


class FakeItunes(FakeApi):
    """iTunes Search and Lookup, answering as Apple does (``text/javascript``, blank lines first), behind a
    robots.txt that disallows everything (an API is not crawled, so it must never be read)."""

    def __init__(self, start, *, search: bytes, lookups: dict[str, bytes]):
        none = b"\n\n\n{\n \"resultCount\":0,\n \"results\": []\n}\n\n\n"
        js = "text/javascript; charset=utf-8"
        super().__init__(start, {
            "/robots.txt": lambda seen: Reply(200, "User-agent: *\nDisallow: /\n", "text/plain"),
            "/search": lambda seen: Reply(200, search, js),
            "/lookup": lambda seen: Reply(200, lookups.get(seen.query.get("id", ""), none), js),
        })

    def settings(self, settings):
        return with_bases(api_settings(settings), itunes=self.origin)


BRAVE_TOKEN_INVALID = {"type": "ErrorResponse", "error": {
    "id": "9d0b4c6e-2f57-4a8e-9e64-3f1f4b0b6a51", "status": 422, "code": "SUBSCRIPTION_TOKEN_INVALID",
    "detail": "The provided subscription token is invalid.", "meta": {"component": "authentication"}},
    "time": 1735600000}


class FakeBrave(FakeApi):
    """The Brave Search API under ``/res/v1``: ``X-Subscription-Token`` must be the key (else 422
    SUBSCRIPTION_TOKEN_INVALID). ``answers`` (optional) are replies served first, in order; then ``body`` for
    the first page and, for ``offset`` >= 1, a last page without a ``web`` block."""

    BASE = "/res/v1"

    def __init__(self, start, *, body: bytes, answers: list[Reply] | None = None):
        self.answers = list(answers or [])
        super().__init__(start, {f"{self.BASE}/web/search": self._search(body)})

    def _search(self, body: bytes):
        def route(seen: Seen) -> Reply:
            if seen.headers.get("x-subscription-token") != KEYS.brave_api_key:
                return reply_json(BRAVE_TOKEN_INVALID, 422)
            if self.answers:
                return self.answers.pop(0)
            if seen.query.get("offset", "0") != "0":
                return reply_json({"type": "search", "query": {"original": seen.query.get("q"),
                                                               "more_results_available": False}})
            return reply_json(body)
        return route

    def settings(self, settings, **changes):
        return with_bases(api_settings(settings, web_search="brave", **changes), brave=self.origin + self.BASE)


class FakeSearxng(FakeApi):
    """A SearXNG instance: ``/search?format=json`` answers ``payload`` (page 1; later pages are empty), or 403
    when ``json`` is not among its ``search.formats``."""

    def __init__(self, start, *, payload: dict, json_allowed: bool = True):
        def search(seen: Seen) -> Reply:
            if seen.query.get("format") == "json" and not json_allowed:
                return Reply(403, "<!DOCTYPE html><title>403 Forbidden</title><h1>Forbidden</h1>", "text/html")
            if seen.query.get("pageno", "1") != "1":
                return reply_json({**payload, "results": [], "number_of_results": 0})
            return reply_json(payload)
        super().__init__(start, {"/search": search})

    def settings(self, settings):
        return with_bases(settings.with_(web_search="searxng"), searxng=self.origin)


class FakeDuckDuckGo(FakeApi):
    """DuckDuckGo's HTML endpoint at ``/html/``, answering ``page`` with ``status``."""

    def __init__(self, start, *, page: str, status: int = 200):
        super().__init__(start, {"/html/": lambda seen: Reply(status, page, "text/html; charset=UTF-8")})

    def settings(self, settings):
        return with_bases(settings.with_(web_search="duckduckgo"), web_search=self.origin + "/html/")
