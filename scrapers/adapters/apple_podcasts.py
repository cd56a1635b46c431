"""Apple Podcasts through the iTunes Search and Lookup APIs.

``search(term)`` turns a term into podcasts with their feed URLs (discovery);
``scrape(url)`` looks an ``.../id123`` podcast page up and then reads its feed.
The base URL is ``settings.base_urls.itunes``.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from ..config import ScrapeSettings
from ..http import FetchError
from . import AdapterError, ScrapeContext
from .feed import parse_feed

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


async def search(ctx: ScrapeContext, term: str, limit: int = 25) -> list[dict]:
    """Podcasts matching ``term``: dicts with name, author, feed_url, url, genres."""
    base = ctx.settings.base_urls.itunes.rstrip("/")
    payload = await ctx.client.get_json(f"{base}/search?media=podcast&entity=podcast&term={quote(term)}&limit={min(limit, 200)}")
    return [_podcast(r) for r in (payload or {}).get("results") or [] if r.get("feedUrl")][:limit]


async def lookup(ctx: ScrapeContext, itunes_id: str) -> dict | None:
    base = ctx.settings.base_urls.itunes.rstrip("/")
    payload = await ctx.client.get_json(f"{base}/lookup?id={itunes_id}&entity=podcast")
    results = (payload or {}).get("results") or []
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
            feed_response = await ctx.client.get(podcast["feed_url"])
            feed = parse_feed(feed_response.body, feed_response.final_url, feed_response.headers.get("content-type"))
            record.update(
                description=feed.get("description"), language=feed.get("language"),
                emails=feed.get("emails") or [], items=feed.get("items") or [],
            )
            record["author"] = record["author"] or feed.get("author")
        except (FetchError, AdapterError):
            pass  # the lookup alone is a usable record
    return record
