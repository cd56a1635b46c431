"""YouTube channels: the YouTube Data API v3 when the user has a key, else the channel page.

youtube.com's robots.txt disallows its search (``/results``) and the ``videos.xml`` feeds, and channel pages word
subscriber counts in the visitor's language. With ``RECRUITER_YOUTUBE_API_KEY`` discovery calls ``search``
(``type=channel``) and then ``channels`` (``part=snippet,statistics,contentDetails``, 50 ids a call) for the full
description and the counts; a channel's latest videos come from its uploads playlist (``playlistItems``).

The quota is counted before each call and kept for the day (``scrapers.cache``): ``search`` draws on a budget
of 100 calls a day (``RECRUITER_YOUTUBE_SEARCH_QUOTA``), everything else on 10,000 units
(``RECRUITER_YOUTUBE_QUOTA``), both reset at midnight Pacific time as Google's are. A call that would overdraw
is not made, and the error says which budget ran out; a ``quotaExceeded`` answer (the key's project may be
shared) closes both budgets for the day.

Counts are strings in the API (``"10700000"``) and absent when the channel hides them. Search results come
HTML-escaped; they are unescaped. Without a key, a channel URL (``/channel/UC...``, ``/@handle``, ``/c/NAME``,
``/user/NAME``) is read from its page, asked for in English.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

from .. import extract
from ..api import Api, ApiResponse, BadCredentials, NotConfigured, QuotaExhausted, RateLimited, api_for
from ..cache import pacific_day
from ..config import ScrapeSettings
from ..htmldoc import parse_html
from ..http import FetchError
from ..records import Found
from . import AdapterError, ScrapeContext
from .feed import parse_response

_CHANNEL_PATH = re.compile(r"^/(channel/UC[\w-]{10,}|@[\w.\-]+|c/[\w.\-]+|user/[\w.\-]+)/?")
_CHANNEL_ID = re.compile(r"UC[\w-]{22}")
_EMBEDDED_ID = re.compile(r'"(?:externalId|channelId|browseId)"\s*:\s*"(UC[\w-]{22})"')
_SUBSCRIBERS = re.compile(r"([\d.,]+)\s*([KMB])?\s+subscribers", re.I)
PUBLIC_BASE = "https://www.youtube.com"
VARIABLES = ("RECRUITER_YOUTUBE_API_KEY",)
SEARCH_BUDGET = "youtube-search"  # search.list: its own daily budget of calls
UNIT_BUDGET = "youtube"  # everything else: units
RESET = "it resets at midnight Pacific time"


def missing(settings: ScrapeSettings) -> list[str]:
    return settings.credentials.missing(*VARIABLES)


def configured(settings: ScrapeSettings) -> bool:
    return not missing(settings)


def channel_path(url: str, settings: ScrapeSettings) -> str | None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    configured_base = urlsplit(settings.base_urls.youtube)
    is_configured = host == (configured_base.hostname or "").lower() and (parts.port == configured_base.port)
    if not (host in ("youtube.com", "www.youtube.com", "m.youtube.com") or is_configured):
        return None
    match = _CHANNEL_PATH.match(parts.path)
    return match.group(1) if match else None


def matches(url: str, settings: ScrapeSettings) -> bool:
    return channel_path(url, settings) is not None


def parse_subscribers(text: str) -> int | None:
    """'1.2M subscribers' -> 1200000."""
    match = _SUBSCRIBERS.search(text)
    if not match:
        return None
    number = match.group(1).replace(",", "")
    try:
        value = float(number)
    except ValueError:
        return None
    scale = {"K": 1e3, "M": 1e6, "B": 1e9}.get((match.group(2) or "").upper(), 1)
    return int(value * scale)


def _count(value) -> int | None:
    """The API's counts are strings ("2290000"); absent or hidden is None."""
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _text(value) -> str | None:
    """The API's text unescaped (search results come as ``&amp;``, ``&#39;``); newlines of a description kept."""
    return (unescape(value).strip() or None) if isinstance(value, str) else None


def channel_url(channel_id: str) -> str:
    return f"{PUBLIC_BASE}/channel/{channel_id}"


def channel_record(item: dict) -> dict | None:
    """A partial record from a ``channels`` item (``part=snippet,statistics``)."""
    channel_id = item.get("id")
    if not isinstance(channel_id, str) or not channel_id:
        return None
    snippet = item.get("snippet") or {}
    statistics = item.get("statistics") or {}
    description = _text(snippet.get("description"))
    handle = snippet.get("customUrl") or ""
    socials = [f"{PUBLIC_BASE}/{handle}"] if isinstance(handle, str) and handle.startswith("@") else []
    hidden = statistics.get("hiddenSubscriberCount") is True
    return {
        "ok": True,
        "kind": "youtube",
        "url": channel_url(channel_id),
        "name": _text(snippet.get("title")),
        "title": _text(snippet.get("title")),
        "site_name": "YouTube",
        "description": description,
        "language": snippet.get("defaultLanguage") or None,
        "audience_size": None if hidden else _count(statistics.get("subscriberCount")),
        "feed_url": f"{PUBLIC_BASE}/feeds/videos.xml?channel_id={channel_id}",
        "emails": extract.emails_in(description or ""),
        "socials": socials,
        "items": [],
        "uploads": ((item.get("contentDetails") or {}).get("relatedPlaylists") or {}).get("uploads"),
    }


def search_record(item: dict) -> dict | None:
    """A partial record from a ``search`` result alone (its description is cut by the server)."""
    channel_id = (item.get("id") or {}).get("channelId") if isinstance(item.get("id"), dict) else None
    snippet = item.get("snippet") or {}
    channel_id = channel_id or snippet.get("channelId")
    if not channel_id:
        return None
    return {
        "ok": True, "kind": "youtube", "url": channel_url(channel_id), "name": _text(snippet.get("title")),
        "title": _text(snippet.get("title")), "site_name": "YouTube", "description": _text(snippet.get("description")),
        "feed_url": f"{PUBLIC_BASE}/feeds/videos.xml?channel_id={channel_id}", "items": [],
    }


# --- the Data API -------------------------------------------------------------------------------------------

def spent_message(label: str) -> str:
    """One sentence for "no more today", whether YouTube said quotaExceeded or our count got there first."""
    return f"the YouTube Data API's daily quota is spent ({label}); {RESET}"


def _api(ctx: ScrapeContext) -> Api:
    return api_for(ctx.client, "youtube")


def _reasons(response: ApiResponse) -> list[str]:
    try:
        error = (response.json() or {}).get("error") or {}
    except Exception:
        return []
    if not isinstance(error, dict):
        return []
    return [str(e.get("reason")) for e in error.get("errors") or [] if isinstance(e, dict) and e.get("reason")]


async def _call(ctx: ScrapeContext, endpoint: str, params: dict[str, object], *, budget: str,
                what: str) -> dict:
    settings = ctx.settings
    key = settings.credentials.youtube_api_key
    if not key:
        raise NotConfigured("the YouTube Data API needs a key: set RECRUITER_YOUTUBE_API_KEY")
    api = _api(ctx)
    limit = settings.youtube_search_quota if budget == SEARCH_BUDGET else settings.youtube_daily_quota
    day = pacific_day()
    label = "search calls" if budget == SEARCH_BUDGET else "quota units"

    async def spend() -> None:  # every call this connector makes costs one of its budget
        if await ctx.client.gate.quota_spend(budget, 1, limit, day) is None:
            raise api.error(QuotaExhausted, spent_message(label))

    url = settings.base_urls.youtube_api.rstrip("/") + "/" + endpoint
    response = await api.call("GET", url, params={**params, "key": key}, spend=spend)
    if response.status == 200:
        payload = response.json()
        return payload if isinstance(payload, dict) else {}
    reasons = _reasons(response)
    said = api.error_text(response)
    if {"quotaExceeded", "dailyLimitExceeded"} & set(reasons):
        # The project's quota is spent for every method: no more calls of either budget today, from any process.
        await ctx.client.gate.quota_exhaust(SEARCH_BUDGET, settings.youtube_search_quota, day)
        await ctx.client.gate.quota_exhaust(UNIT_BUDGET, settings.youtube_daily_quota, day)
        raise api.error(QuotaExhausted, spent_message(label))
    if {"rateLimitExceeded", "userRateLimitExceeded"} & set(reasons):
        raise api.error(RateLimited, f"the YouTube Data API is rate-limiting us ({said}) while {what}")
    key_problem = set(reasons) & {"keyInvalid", "keyExpired", "accessNotConfigured", "ipRefererBlocked",
                                  "forbidden"} or "api key" in said.lower()
    if response.status in (400, 401, 403) and key_problem:
        raise api.error(BadCredentials, f"the YouTube Data API refused the key (HTTP {response.status}"
                                        f"{', ' + ', '.join(reasons) if reasons else ''}: {said}); check "
                                        f"RECRUITER_YOUTUBE_API_KEY and that the YouTube Data API v3 is enabled "
                                        f"for its project")
    if response.status in (403, 404):
        raise AdapterError(f"the YouTube Data API answered HTTP {response.status} "
                           f"({', '.join(reasons) or said or 'no reason given'}) while {what}")
    raise api.fail(response, what)


async def channels(ctx: ScrapeContext, *, ids: list[str] | None = None, handle: str | None = None,
                   username: str | None = None) -> list[dict]:
    """Channel records from ``channels`` (1 unit a call, 50 ids at most)."""
    params: dict[str, object] = {"part": "snippet,statistics,contentDetails", "maxResults": 50}
    if ids:
        params["id"] = ",".join(ids[:50])
    elif handle:
        params["forHandle"] = handle
    elif username:
        params["forUsername"] = username
    payload = await _call(ctx, "channels", params, budget=UNIT_BUDGET, what="reading channels")
    records = [channel_record(item) for item in payload.get("items") or [] if isinstance(item, dict)]
    return [r for r in records if r]


async def search(ctx: ScrapeContext, query: str, limit: int = 25) -> list[Found]:
    """Channels matching ``query``: ``search`` (type=channel) pages, then ``channels`` for their statistics."""
    results: list[dict] = []
    page_token = None
    while len(results) < limit:
        params: dict[str, object] = {"part": "snippet", "type": "channel", "q": query,
                                     "maxResults": min(50, limit - len(results))}
        if page_token:
            params["pageToken"] = page_token
        payload = await _call(ctx, "search", params, budget=SEARCH_BUDGET,
                              what=f"searching channels for {query!r}")
        page = [r for r in (search_record(item) for item in payload.get("items") or [] if isinstance(item, dict)) if r]
        results.extend(page)
        page_token = payload.get("nextPageToken")
        if not page_token or not page:
            break
    ordered: dict[str, dict] = {}
    for record in results[:limit]:
        ordered.setdefault(record["url"], record)
    ids = [url.rsplit("/", 1)[1] for url in ordered]
    for start in range(0, len(ids), 50):
        for record in await channels(ctx, ids=ids[start:start + 50]):
            # The channel's own answer (full description, counts) replaces the search snippet; a channel the
            # answer names that search did not (an id that moved) is kept too.
            ordered[record["url"]] = record
    return [Found(url=url, record=record, source="youtube") for url, record in ordered.items()]


async def _uploads(ctx: ScrapeContext, playlist: str) -> list[dict]:
    payload = await _call(ctx, "playlistItems", {"part": "snippet", "playlistId": playlist, "maxResults": 15},
                          budget=UNIT_BUDGET, what="reading a channel's latest videos")
    items = []
    for entry in payload.get("items") or []:
        snippet = (entry or {}).get("snippet") or {}
        video = (snippet.get("resourceId") or {}).get("videoId")
        items.append({"title": _text(snippet.get("title")), "url": f"{PUBLIC_BASE}/watch?v={video}" if video else None,
                      "published": snippet.get("publishedAt") or None})
    return items


async def enrich(ctx: ScrapeContext, url: str, known: dict) -> dict:
    """A channel's latest videos: from its uploads playlist through the API (1 unit), else its page."""
    path = channel_path(url, ctx.settings)
    if not path:
        raise AdapterError("not a YouTube channel URL")
    if not configured(ctx.settings):
        page = await scrape(ctx, url)
        return {**page, **{k: v for k, v in known.items() if v not in (None, "", [])}, "items": page.get("items") or []}
    channel_id = path.split("/", 1)[1] if path.startswith("channel/") else None
    playlist = known.get("uploads") or (("UU" + channel_id[2:]) if channel_id else None)
    if not playlist:
        raise AdapterError("no uploads playlist known for this channel")
    return {**known, "items": await _uploads(ctx, playlist)}


async def _scrape_api(ctx: ScrapeContext, path: str) -> dict:
    kind, _, value = path.partition("/")
    if path.startswith("channel/"):
        found = await channels(ctx, ids=[value])
    elif path.startswith("@"):
        found = await channels(ctx, handle=path)
    elif kind == "user":
        found = await channels(ctx, username=value)
    else:
        return {}
    if not found:
        raise AdapterError(f"YouTube has no channel {path}")
    record = found[0]
    try:
        if record.get("uploads"):
            record["items"] = await _uploads(ctx, record["uploads"])
    except (FetchError, AdapterError):
        pass  # the videos are a bonus; the channel was found
    record.pop("url", None)
    return record


async def scrape(ctx: ScrapeContext, url: str, response=None) -> dict:
    path = channel_path(url, ctx.settings)
    if not path:
        raise AdapterError("not a YouTube channel URL (expected /channel/ID, /@handle, /c/NAME or /user/NAME)")
    if configured(ctx.settings):
        record = await _scrape_api(ctx, path)
        if record:
            return record  # a /c/NAME URL has no API lookup: its page is read instead
    base = ctx.settings.base_urls.youtube.rstrip("/")
    channel_id = path.split("/", 1)[1] if path.startswith("channel/") else None
    record: dict = {"ok": True, "kind": "youtube", "site_name": "YouTube", "items": []}
    page_error: FetchError | None = None
    try:
        page = await ctx.client.get(f"{base}/{path}")
        html = page.text
        root = parse_html(html)
        record["title"] = extract.meta_content(root, "og:title", "title") or None
        record["description"] = extract.meta_content(root, "og:description", "description")
        record["socials"] = extract.socials(root, page.final_url)
        record["emails"] = extract.emails(root)
        record["audience_size"] = parse_subscribers(html)
        if not channel_id:
            meta_id = extract.meta_content(root, "channelId", "identifier", "og:url")
            feeds = extract.feed_links(root, page.final_url)
            feeds += [link.get("href") or "" for link in root.iter("link") if link.get("rel") == "canonical"]
            found = _CHANNEL_ID.search(meta_id or "") or next(
                (m for m in (_CHANNEL_ID.search(f) for f in feeds) if m), None
            ) or _EMBEDDED_ID.search(html)
            if found:
                channel_id = found.group(1) if found.groups() else found.group(0)
    except FetchError as exc:
        page_error = exc
    if not channel_id:
        if page_error:
            raise page_error
        raise AdapterError("no channel id found on the channel page")
    feed_url = f"{base}/feeds/videos.xml?channel_id={channel_id}"
    record["feed_url"] = f"{PUBLIC_BASE}/feeds/videos.xml?channel_id={channel_id}"
    try:
        feed = parse_response(await ctx.client.get(feed_url))
        record["items"] = feed.get("items") or []
        record["title"] = record.get("title") or feed.get("title")
        record["author"] = feed.get("author") or feed.get("title")
    except (FetchError, AdapterError) as exc:
        if page_error:
            raise AdapterError(f"channel page failed ({page_error}) and so did its feed ({exc})") from None
    record["name"] = record.get("title")
    return record


async def check(ctx: ScrapeContext) -> str:
    """One cheap call (1 unit): the Google for Developers channel."""
    found = await channels(ctx, ids=["UC_x5XG1OV2P6uZZ5FSM9Ttw"])
    return f"key ok; channels answered ({len(found)} channel{'' if len(found) == 1 else 's'})"
