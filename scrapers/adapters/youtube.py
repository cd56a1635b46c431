"""YouTube channels: the channel page's metadata plus the channel's ``videos.xml`` feed.

Channel URLs are ``/channel/UC...``, ``/@handle``, ``/c/NAME`` or ``/user/NAME`` on
youtube.com or on ``settings.base_urls.youtube``. The channel id comes from the
URL or from the page (``<meta itemprop="channelId">``, the RSS ``<link>``, or the
page's embedded JSON); the feed gives the latest videos.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from .. import extract
from ..config import ScrapeSettings
from ..htmldoc import parse_html
from ..http import FetchError
from . import AdapterError, ScrapeContext
from .feed import parse_feed

_CHANNEL_PATH = re.compile(r"^/(channel/UC[\w-]{10,}|@[\w.\-]+|c/[\w.\-]+|user/[\w.\-]+)/?")
_CHANNEL_ID = re.compile(r"UC[\w-]{22}")
_EMBEDDED_ID = re.compile(r'"(?:externalId|channelId|browseId)"\s*:\s*"(UC[\w-]{22})"')
_SUBSCRIBERS = re.compile(r"([\d.,]+)\s*([KMB])?\s+subscribers", re.I)
PUBLIC_BASE = "https://www.youtube.com"


def channel_path(url: str, settings: ScrapeSettings) -> str | None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    configured = urlsplit(settings.base_urls.youtube)
    is_configured = host == (configured.hostname or "").lower() and (parts.port == configured.port)
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


async def scrape(ctx: ScrapeContext, url: str, response=None) -> dict:
    path = channel_path(url, ctx.settings)
    if not path:
        raise AdapterError("not a YouTube channel URL (expected /channel/ID, /@handle, /c/NAME or /user/NAME)")
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
        feed_response = await ctx.client.get(feed_url)
        feed = parse_feed(feed_response.body, feed_url, feed_response.headers.get("content-type"))
        record["items"] = feed.get("items") or []
        record["title"] = record.get("title") or feed.get("title")
        record["author"] = feed.get("author") or feed.get("title")
    except (FetchError, AdapterError) as exc:
        if page_error:
            raise AdapterError(f"channel page failed ({page_error}) and so did its feed ({exc})") from None
    record["name"] = record.get("title")
    return record


async def search(ctx: ScrapeContext, query: str, limit: int = 25) -> list[str]:
    """Channel URLs from YouTube's search results page (channels filter)."""
    base = ctx.settings.base_urls.youtube.rstrip("/")
    page = await ctx.client.get(f"{base}/results?search_query={quote(query)}&sp=EgIQAg%253D%253D")
    urls: list[str] = []
    for match in _EMBEDDED_ID.finditer(page.text):
        url = f"{PUBLIC_BASE}/channel/{match.group(1)}"
        if url not in urls:
            urls.append(url)
        if len(urls) >= limit:
            break
    return urls
