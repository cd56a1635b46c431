"""Reddit subreddits through Reddit's public JSON: ``/r/NAME/about.json`` for the
community (subscribers become ``audience_size``) and ``/r/NAME/top.json`` for posts.

The base URL is ``settings.base_urls.reddit``; URLs on reddit.com (any subdomain)
or on the configured base are recognised.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from ..config import ScrapeSettings
from ..http import FetchError, HttpStatusError
from . import AdapterError, ScrapeContext

_SUBREDDIT_PATH = re.compile(r"^/r/([A-Za-z0-9_]{2,21})(?:/|$)")
PUBLIC_BASE = "https://www.reddit.com"


def _hosts(settings: ScrapeSettings) -> set[str]:
    configured = urlsplit(settings.base_urls.reddit)
    return {"reddit.com", (configured.hostname or "").lower() + (f":{configured.port}" if configured.port else "")}


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


async def scrape(ctx: ScrapeContext, url: str, response=None) -> dict:
    name = subreddit_name(url, ctx.settings)
    if not name:
        raise AdapterError("not a subreddit URL (expected /r/NAME)")
    base = ctx.settings.base_urls.reddit.rstrip("/")
    try:
        about = await ctx.client.get_json(f"{base}/r/{name}/about.json")
    except HttpStatusError as exc:
        if exc.status in (403, 404):
            raise AdapterError(f"r/{name} is private, banned or does not exist ({exc})") from None
        raise
    if not isinstance(about, dict) or about.get("kind") != "t5" or not isinstance(about.get("data"), dict):
        raise AdapterError(f"r/{name} does not exist (Reddit returned no subreddit data)")
    data = about["data"]
    items = []
    linked: list[str] = []  # sites the community shares: snowball candidates for discovery
    try:
        top = await ctx.client.get_json(f"{base}/r/{name}/top.json?t=month&limit=25")
        for child in (top.get("data") or {}).get("children") or []:
            post = child.get("data") or {}
            permalink = post.get("permalink") or ""
            target = post.get("url") or ""
            host = (urlsplit(target).hostname or "").lower()
            if target.startswith("http") and not host.endswith(("reddit.com", "redd.it", "imgur.com")) and target not in linked:
                linked.append(target)
            items.append(
                {
                    "title": post.get("title"),
                    "url": (PUBLIC_BASE + permalink) if permalink.startswith("/") else post.get("url"),
                    "published": _iso(post.get("created_utc")),
                }
            )
    except (FetchError, AttributeError, ValueError):
        pass  # posts are a bonus; the subreddit itself was found
    display = data.get("display_name_prefixed") or f"r/{data.get('display_name') or name}"
    subscribers = data.get("subscribers")
    return {
        "ok": True,
        "kind": "subreddit",
        "name": display,
        "title": data.get("title") or display,
        "site_name": "Reddit",
        "description": data.get("public_description") or data.get("description"),
        "language": data.get("lang") or None,
        "audience_size": subscribers if isinstance(subscribers, int) else None,
        "feed_url": f"{PUBLIC_BASE}/r/{data.get('display_name') or name}/.rss",
        "items": items,
        "outbound_links": linked,
    }


async def search(ctx: ScrapeContext, query: str, limit: int = 25) -> list[str]:
    """Subreddit URLs matching ``query``, best first (Reddit's order)."""
    base = ctx.settings.base_urls.reddit.rstrip("/")
    payload = await ctx.client.get_json(f"{base}/subreddits/search.json?q={quote(query)}&limit={min(limit, 100)}")
    urls = []
    for child in ((payload or {}).get("data") or {}).get("children") or []:
        data = child.get("data") or {}
        if data.get("over18"):
            continue
        name = data.get("display_name")
        if name:
            urls.append(f"{PUBLIC_BASE}/r/{name}/")
    return urls[:limit]
