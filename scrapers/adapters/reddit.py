"""Reddit subreddits, through Reddit's OAuth Data API when the user has an app, else the public JSON pages.

Since mid-2024 reddit.com's robots.txt disallows every crawler and its ``.json`` pages answer scripts with 403.
The documented way in is the Data API: an app-only token (client credentials) from
``{RECRUITER_REDDIT_BASE}/api/v1/access_token``, reused until it expires, then ``/subreddits/search``,
``/r/NAME/about`` and ``/r/NAME/top`` on ``RECRUITER_REDDIT_OAUTH_BASE`` with ``raw_json=1``, at Reddit's pace
(100 calls a minute; ``scrapers.api``). Without ``RECRUITER_REDDIT_CLIENT_ID`` and ``_SECRET`` a subreddit URL
is crawled like any page (``about.json``, ``top.json``): robots.txt decides, and on reddit.com it says no, which
the error then explains.

A subreddit's subscribers become ``audience_size`` (null for a private one); Reddit's text arrives with HTML
entities when ``raw_json`` is ignored, so it is always unescaped.
"""

from __future__ import annotations

import asyncio
import base64
import re
import threading
import time
from datetime import UTC, datetime
from html import unescape
from urllib.parse import urlsplit

from ..api import Api, ApiError, BadCredentials, NotConfigured, api_for
from ..config import VERSION, ScrapeSettings, contact
from ..http import FetchError, HttpStatusError, RobotsDisallowed, reworded
from ..records import Found
from . import AdapterError, ScrapeContext

_SUBREDDIT_PATH = re.compile(r"^/r/([A-Za-z0-9_]{2,21})(?:/|$)")
PUBLIC_BASE = "https://www.reddit.com"
VARIABLES = ("RECRUITER_REDDIT_CLIENT_ID", "RECRUITER_REDDIT_CLIENT_SECRET")
TOKEN_MARGIN = 60.0  # a token is renewed this long before Reddit says it expires

# App-only tokens by (token URL, client id, digest of the secret): every client of this process reuses them.
_tokens: dict[tuple[str, str, int], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def forget_tokens() -> None:
    """Drop every cached token (a process that changed its credentials; tests)."""
    with _tokens_lock:
        _tokens.clear()


def missing(settings: ScrapeSettings) -> list[str]:
    return settings.credentials.missing(*VARIABLES)


def configured(settings: ScrapeSettings) -> bool:
    return not missing(settings)


def _hosts(settings: ScrapeSettings) -> set[str]:
    hosts = {"reddit.com"}
    for base in (settings.base_urls.reddit, settings.base_urls.reddit_oauth):
        configured_base = urlsplit(base)
        hosts.add((configured_base.hostname or "").lower() + (f":{configured_base.port}" if configured_base.port else ""))
    return hosts


def subreddit_name(url: str, settings: ScrapeSettings) -> str | None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    netloc = host + (f":{parts.port}" if parts.port else "")
    if not (host == "reddit.com" or host.endswith(".reddit.com") or netloc in _hosts(settings)):
        return None
    match = _SUBREDDIT_PATH.match(parts.path)
    return match.group(1) if match else None


def matches(url: str, settings: ScrapeSettings) -> bool:
    return subreddit_name(url, settings) is not None


def _iso(timestamp) -> str | None:
    try:
        return datetime.fromtimestamp(float(timestamp), tz=UTC).isoformat()
    except (TypeError, ValueError, OverflowError):
        return None


def _text(value) -> str | None:
    return unescape(value) if isinstance(value, str) and value else None


def community(data: dict, fallback_name: str = "") -> dict:
    """A partial record from a subreddit's ``t5`` data (search results and ``about`` share the shape)."""
    name = data.get("display_name") or fallback_name
    display = _text(data.get("display_name_prefixed")) or f"r/{name}"
    subscribers = data.get("subscribers")
    return {
        "ok": True,
        "kind": "subreddit",
        "url": f"{PUBLIC_BASE}/r/{name}/",
        "name": display,
        "title": _text(data.get("title")) or display,
        "site_name": "Reddit",
        "description": _text(data.get("public_description")) or _text(data.get("description")),
        "language": data.get("lang") or None,
        "audience_size": subscribers if isinstance(subscribers, int) and not isinstance(subscribers, bool) else None,
        "feed_url": f"{PUBLIC_BASE}/r/{name}/.rss",
        "items": [],
    }


def _posts(listing) -> tuple[list[dict], list[str]]:
    """(recent posts, the sites they link to: snowball candidates for discovery)."""
    items: list[dict] = []
    linked: list[str] = []
    children = ((listing or {}).get("data") or {}).get("children") or [] if isinstance(listing, dict) else []
    for child in children:
        post = (child or {}).get("data") or {}
        permalink = post.get("permalink") or ""
        target = unescape(post.get("url") or "")
        host = (urlsplit(target).hostname or "").lower()
        if target.startswith("http") and not host.endswith(("reddit.com", "redd.it", "imgur.com")) and target not in linked:
            linked.append(target)
        items.append({
            "title": _text(post.get("title")),
            "url": (PUBLIC_BASE + permalink) if permalink.startswith("/") else target or None,
            "published": _iso(post.get("created_utc")),
        })
    return items, linked


# --- the Data API -------------------------------------------------------------------------------------------

def _api(ctx: ScrapeContext) -> Api:
    return api_for(ctx.client, "reddit")


def user_agent() -> str:
    """Reddit asks for ``<platform>:<app ID>:<version> (by ...)``; generic agents are throttled."""
    reach = contact()
    return f"python:recruiter:{VERSION} (affiliate partner research{'; by ' + reach if reach else ''})"


async def _token(ctx: ScrapeContext, *, renew: bool = False) -> str:
    settings = ctx.settings
    c = settings.credentials
    if not configured(settings):
        raise NotConfigured(f"Reddit's Data API needs an app: set {' and '.join(missing(settings))}")
    token_url = settings.base_urls.reddit.rstrip("/") + "/api/v1/access_token"
    key = (token_url, c.reddit_client_id, hash(c.reddit_client_secret))
    api = _api(ctx)
    lock = ctx.client.state.setdefault("reddit:token-lock", asyncio.Lock())
    async with lock:  # many searches start at once: one token request serves them all
        with _tokens_lock:
            cached = _tokens.get(key)
            if cached and renew and cached[0] == ctx.client.state.get("reddit:stale"):
                _tokens.pop(key, None)
                cached = None
        if cached and cached[1] > time.monotonic():
            api.add_secret(cached[0])
            return cached[0]
        basic = base64.b64encode(f"{c.reddit_client_id}:{c.reddit_client_secret}".encode()).decode()
        response = await api.call("POST", token_url, data={"grant_type": "client_credentials"},
                                  headers={"Authorization": f"Basic {basic}", "User-Agent": user_agent()})
        if response.status in (400, 401, 403):
            raise api.error(BadCredentials, f"Reddit refused the app's credentials (HTTP {response.status}: "
                                            f"{api.error_text(response) or 'no reason given'}); check "
                                            f"{' and '.join(VARIABLES)}")
        if response.status != 200:
            raise api.fail(response, "asking for an access token")
        payload = response.json()
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not token:
            reason = (payload or {}).get("error") if isinstance(payload, dict) else None
            raise api.error(BadCredentials, f"Reddit gave no access token ({reason or 'no reason given'}); check "
                                            f"{' and '.join(VARIABLES)}")
        api.add_secret(token)
        try:
            lifetime = float(payload.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        with _tokens_lock:
            _tokens[key] = (token, time.monotonic() + max(30.0, lifetime - TOKEN_MARGIN))
        return token


async def api_get(ctx: ScrapeContext, path: str, params: dict[str, object], what: str):
    """GET on the OAuth API with the app's token (renewed once when Reddit says it is no longer valid)."""
    api = _api(ctx)
    url = ctx.settings.base_urls.reddit_oauth.rstrip("/") + path
    for attempt in range(2):
        token = await _token(ctx, renew=attempt > 0)
        response = await api.call("GET", url, params={**params, "raw_json": 1},
                                  headers={"Authorization": f"bearer {token}", "User-Agent": user_agent()})
        if response.status == 401:
            if attempt == 0:
                ctx.client.state["reddit:stale"] = token
                continue
            raise api.error(BadCredentials, "Reddit refused a fresh access token; check "
                                            + " and ".join(VARIABLES))
        if response.status in (403, 404) and path.startswith("/r/"):
            raise AdapterError(f"r/{path.split('/')[2]} is private, banned or does not exist (Reddit answered "
                               f"HTTP {response.status})")
        if response.status != 200:
            raise api.fail(response, what)
        return response.json()
    raise AssertionError("unreachable: the second attempt returns or raises")


async def search(ctx: ScrapeContext, query: str, limit: int = 25) -> list[Found]:
    """Subreddits matching ``query`` (Reddit's order), each with its API data; NSFW ones and user profiles left out."""
    payload = await api_get(ctx, "/subreddits/search", {"q": query, "limit": min(max(limit, 1), 100)},
                            f"searching subreddits for {query!r}")
    found: list[Found] = []
    for child in ((payload or {}).get("data") or {}).get("children") or [] if isinstance(payload, dict) else []:
        if not isinstance(child, dict) or child.get("kind", "t5") != "t5":
            continue
        data = child.get("data") or {}
        if data.get("over18") is True or data.get("subreddit_type") == "user" or not data.get("display_name"):
            continue
        record = community(data)
        found.append(Found(url=record["url"], record=record, source="reddit"))
    return found[:limit]


async def _top_posts(ctx: ScrapeContext, name: str) -> tuple[list[dict], list[str]]:
    if configured(ctx.settings):
        listing = await api_get(ctx, f"/r/{name}/top", {"t": "month", "limit": 25}, f"reading r/{name}'s top posts")
    else:
        listing = await ctx.client.get_json(f"{ctx.settings.base_urls.reddit.rstrip('/')}/r/{name}/top.json?t=month&limit=25")
    return _posts(listing)


async def enrich(ctx: ScrapeContext, url: str, known: dict) -> dict:
    """More than a search result says: the month's top posts (and the sites they link to)."""
    name = subreddit_name(url, ctx.settings)
    if not name:
        raise AdapterError("not a subreddit URL (expected /r/NAME)")
    items, linked = await _top_posts(ctx, name)
    return {**known, "items": items, "outbound_links": linked}


def _no_crawling_hint(exc: FetchError) -> FetchError:
    if isinstance(exc, RobotsDisallowed) or (isinstance(exc, HttpStatusError) and exc.status == 403):
        return reworded(exc, f"{exc}. Reddit does not allow crawling: set {' and '.join(VARIABLES)} to read "
                             "subreddits through its Data API (README: Discovery sources)")
    return exc


async def scrape(ctx: ScrapeContext, url: str, response=None) -> dict:
    name = subreddit_name(url, ctx.settings)
    if not name:
        raise AdapterError("not a subreddit URL (expected /r/NAME)")
    if configured(ctx.settings):
        about = await api_get(ctx, f"/r/{name}/about", {}, f"reading r/{name}")
    else:
        base = ctx.settings.base_urls.reddit.rstrip("/")
        try:
            about = await ctx.client.get_json(f"{base}/r/{name}/about.json")
        except HttpStatusError as exc:
            if exc.status == 404:
                raise AdapterError(f"r/{name} is private, banned or does not exist ({exc})") from None
            raise _no_crawling_hint(exc) from None
        except FetchError as exc:
            raise _no_crawling_hint(exc) from None
    if not isinstance(about, dict) or about.get("kind") != "t5" or not isinstance(about.get("data"), dict):
        raise AdapterError(f"r/{name} does not exist (Reddit returned no subreddit data)")
    data = about["data"]
    answered = str(data.get("display_name") or "")
    if answered and answered.lower() != name.lower():
        raise AdapterError(f"Reddit answered about r/{answered} when asked about r/{name}")
    record = community(data, name)
    record.pop("url")
    try:
        record["items"], record["outbound_links"] = await _top_posts(ctx, name)
    except (FetchError, AdapterError, ApiError, AttributeError, ValueError):
        pass  # posts are a bonus; the subreddit itself was found
    return record


async def check(ctx: ScrapeContext) -> str:
    """One cheap call: a token, then a one-result search."""
    found = await search(ctx, "podcast", 1)
    return f"token ok; a search answered ({len(found)} result{'' if len(found) == 1 else 's'})"
