"""Podcasts through Podcast Index (podcastindex.org), the open podcast directory's API.

Every call is signed: ``X-Auth-Key`` (the key), ``X-Auth-Date`` (now, Unix seconds; the server accepts a few
minutes of clock skew), ``Authorization`` (the hex SHA-1 of key + secret + date) and a ``User-Agent``. Keys are
the user's own (``RECRUITER_PODCASTINDEX_KEY`` and ``_SECRET``): Podcast Index's terms forbid shipping them.

``search/byterm`` answers with the feeds themselves: title, description, author, language, the RSS URL and the
show's site, so a result is a podcast community before its feed is read. The answer's quirks are taken as they
come: ``status`` is the string ``"true"``, ``categories`` a dict keyed by numeric strings or null, descriptions
may be empty or carry HTML.
"""

from __future__ import annotations

import hashlib
import time

from ..api import Api, ApiError, BadCredentials, NotConfigured, api_for
from ..config import ScrapeSettings
from ..records import Found, plain_text
from . import ScrapeContext

VARIABLES = ("RECRUITER_PODCASTINDEX_KEY", "RECRUITER_PODCASTINDEX_SECRET")


def missing(settings: ScrapeSettings) -> list[str]:
    return settings.credentials.missing(*VARIABLES)


def configured(settings: ScrapeSettings) -> bool:
    return not missing(settings)


def auth_headers(key: str, secret: str, now: float | None = None) -> dict[str, str]:
    date = str(int(time.time() if now is None else now))
    signature = hashlib.sha1((key + secret + date).encode("utf-8")).hexdigest()
    return {"X-Auth-Key": key, "X-Auth-Date": date, "Authorization": signature}


def _api(ctx: ScrapeContext) -> Api:
    return api_for(ctx.client, "podcastindex")


async def _get(ctx: ScrapeContext, path: str, params: dict[str, object], what: str) -> dict:
    settings = ctx.settings
    if not configured(settings):
        raise NotConfigured(f"Podcast Index needs a key and secret: set {' and '.join(missing(settings))}")
    c = settings.credentials
    api = _api(ctx)
    url = settings.base_urls.podcastindex.rstrip("/") + path
    # Signed when the call leaves the gate (a queue of calls, or a Retry-After, must not age the date).
    response = await api.call("GET", url, params=params, headers={"User-Agent": settings.user_agent},
                              sign=lambda: auth_headers(c.podcastindex_key, c.podcastindex_secret))
    if response.status in (401, 403):
        raise api.error(BadCredentials, f"Podcast Index refused the key and secret (HTTP {response.status}: "
                                        f"{api.error_text(response) or 'no reason given'}); check "
                                        f"{' and '.join(VARIABLES)} and this machine's clock")
    if response.status != 200:
        raise api.fail(response, what)
    payload = response.json()
    if not isinstance(payload, dict) or str(payload.get("status", "true")).lower() != "true":
        said = payload.get("description") if isinstance(payload, dict) else None
        raise api.error(ApiError, f"Podcast Index did not answer the search ({said or 'status false'})")
    return payload


def feed_record(feed: dict) -> dict | None:
    """A partial record from one of Podcast Index's feeds."""
    feed_url = feed.get("url") or feed.get("originalUrl")
    if not isinstance(feed_url, str) or not feed_url.startswith(("http://", "https://")):
        return None
    categories = feed.get("categories") if isinstance(feed.get("categories"), dict) else {}
    description = plain_text(feed.get("description"))
    if not description and categories:
        description = "Podcast about " + ", ".join(str(v) for v in categories.values())
    link = feed.get("link") if isinstance(feed.get("link"), str) else None
    return {
        "ok": True,
        "kind": "podcast",
        "url": feed_url,
        "name": plain_text(feed.get("title")),
        "title": plain_text(feed.get("title")),
        "author": plain_text(feed.get("author")) or plain_text(feed.get("ownerName")),
        "description": description,
        "language": (feed.get("language") or None) if isinstance(feed.get("language"), str) else None,
        "feed_url": feed_url,
        "site_url": link if link and link.startswith(("http://", "https://")) else None,
        "items": [],
    }


async def search(ctx: ScrapeContext, query: str, limit: int = 25) -> list[Found]:
    """Podcasts matching ``query`` (title, author or owner), each with its feed and description."""
    payload = await _get(ctx, "/search/byterm", {"q": query, "max": min(max(limit, 1), 1000)},
                         f"searching podcasts for {query!r}")
    found: list[Found] = []
    for feed in payload.get("feeds") or []:
        if not isinstance(feed, dict) or feed.get("dead") in (1, True):
            continue
        record = feed_record(feed)
        if record:
            found.append(Found(url=record["url"], record=record, source="podcasts"))
    return found[:limit]


async def check(ctx: ScrapeContext) -> str:
    payload = await _get(ctx, "/search/byterm", {"q": "podcast", "max": 1}, "checking the key")
    return f"key ok; a search answered ({payload.get('count', 0)} feed{'' if payload.get('count') == 1 else 's'})"
