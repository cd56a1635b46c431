"""Apple Podcasts through the iTunes Search and Lookup APIs (documented by Apple, no key needed).

itunes.apple.com's robots.txt disallows ``/search*`` for crawlers, but this is Apple's documented Search API, so it
is called as an API (``scrapers.api``): at Apple's pace of about 20 calls a minute, never through robots.txt.
``search(term)`` turns a term into podcasts with their feed URLs (the ``itunes`` discovery source);
``scrape(url)`` looks an ``.../id123`` podcast page up (``lookup?id=``) and then reads its feed. The base URL is
``settings.base_urls.itunes``. Answers start with blank lines and come as ``text/javascript``: parsed as JSON
whatever the type says.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..api import Api, api_for
from ..config import ScrapeSettings
from ..http import FetchError
from ..records import Found
from . import AdapterError, ScrapeContext
from .feed import parse_response

_ID = re.compile(r"/id(\d{3,})")


def podcast_id(url: str, settings: ScrapeSettings) -> str | None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    configured = (urlsplit(settings.base_urls.itunes).hostname or "").lower()
    if host not in ("podcasts.apple.com", "itunes.apple.com") and host != configured:
        return None
    if host == configured and "/podcast" not in parts.path and host not in ("podcasts.apple.com", "itunes.apple.com"):
        return None
    match = _ID.search(parts.path)
    return match.group(1) if match else None


def matches(url: str, settings: ScrapeSettings) -> bool:
    return podcast_id(url, settings) is not None


def _podcast(result: dict) -> dict:
    return {
        "name": result.get("collectionName") or result.get("trackName"),
        "author": result.get("artistName"),
        "feed_url": result.get("feedUrl"),
        "url": result.get("collectionViewUrl") or result.get("trackViewUrl"),
        "genres": [g for g in result.get("genres") or [] if g != "Podcasts"],
        "episode_count": result.get("trackCount"),
        "itunes_id": result.get("collectionId"),
    }


def _api(ctx: ScrapeContext) -> Api:
    return api_for(ctx.client, "itunes")


async def _get(ctx: ScrapeContext, path: str, params: dict[str, object], what: str) -> dict:
    api = _api(ctx)
    response = await api.call("GET", ctx.settings.base_urls.itunes.rstrip("/") + path, params=params,
                              headers={"Accept": "application/json, text/javascript;q=0.9, */*;q=0.5"})
    if response.status != 200:
        raise api.fail(response, what)
    payload = response.json()
    if not isinstance(payload, dict):
        raise AdapterError(f"Apple's iTunes Search API answered something other than a result list while {what}")
    return payload


async def search_podcasts(ctx: ScrapeContext, term: str, limit: int = 25) -> list[dict]:
    """Podcasts matching ``term``: dicts with name, author, feed_url, url, genres."""
    payload = await _get(ctx, "/search", {"media": "podcast", "entity": "podcast", "term": term,
                                          "limit": min(max(limit, 1), 200)}, f"searching podcasts for {term!r}")
    return [_podcast(r) for r in payload.get("results") or [] if isinstance(r, dict) and r.get("feedUrl")][:limit]


def record_of(podcast: dict) -> dict:
    """A partial record from a search or lookup result: the podcast, keyed by its feed."""
    description = ", ".join(podcast["genres"]) if podcast.get("genres") else None
    return {
        "ok": True, "kind": "podcast", "url": podcast["feed_url"], "name": podcast["name"], "title": podcast["name"],
        "site_name": "Apple Podcasts", "author": podcast["author"], "feed_url": podcast["feed_url"],
        "description": f"Podcast ({description})" if description else None, "items": [],
    }


async def search(ctx: ScrapeContext, term: str, limit: int = 25) -> list[Found]:
    """The ``itunes`` discovery source: podcasts with their feeds (each read afterwards for its episodes)."""
    found = []
    for podcast in await search_podcasts(ctx, term, limit):
        record = record_of(podcast)
        found.append(Found(url=podcast["feed_url"], record=record, source="itunes"))
    return found


async def lookup(ctx: ScrapeContext, itunes_id: str) -> dict | None:
    payload = await _get(ctx, "/lookup", {"id": itunes_id, "entity": "podcast"}, f"looking up podcast {itunes_id}")
    results = [r for r in payload.get("results") or [] if isinstance(r, dict)]
    return _podcast(results[0]) if results else None


async def scrape(ctx: ScrapeContext, url: str, response=None) -> dict:
    itunes_id = podcast_id(url, ctx.settings)
    if not itunes_id:
        raise AdapterError("not an Apple Podcasts URL (expected .../id123456)")
    podcast = await lookup(ctx, itunes_id)
    if not podcast:
        raise AdapterError(f"Apple Podcasts has no podcast with id {itunes_id}")
    record = {
        "ok": True,
        "kind": "podcast",
        "name": podcast["name"],
        "title": podcast["name"],
        "site_name": "Apple Podcasts",
        "author": podcast["author"],
        "feed_url": podcast["feed_url"],
        "items": [],
    }
    if podcast["feed_url"]:
        try:
            feed = parse_response(await ctx.client.get(podcast["feed_url"]))
            record.update(
                description=feed.get("description"), language=feed.get("language"),
                emails=feed.get("emails") or [], items=feed.get("items") or [],
            )
            record["author"] = record["author"] or feed.get("author")
        except (FetchError, AdapterError):
            pass  # the lookup alone is a usable record
    return record


async def check(ctx: ScrapeContext) -> str:
    """One cheap call: a lookup by id (allowed to crawlers too)."""
    payload = await _get(ctx, "/lookup", {"id": "1584274529", "entity": "podcast"}, "looking up a podcast")
    return f"the lookup answered ({payload.get('resultCount', 0)} result{'' if payload.get('resultCount') == 1 else 's'})"
