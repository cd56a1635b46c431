"""Substack and other newsletters: the publication page (as a website) and its feed.

Substack publications are recognised by host (``*.substack.com``) or, for custom
domains, by the page itself (Substack/beehiiv/Buttondown/Ghost markers). When the
page does not advertise a feed, ``/feed`` (Substack, Ghost, beehiiv) is tried.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..config import ScrapeSettings
from ..http import FetchError, Response
from . import AdapterError, ScrapeContext, website
from .feed import looks_like_feed, parse_response

_MARKERS = re.compile(rb"substackcdn\.com|substack\.com/api|content=\"Substack\"|beehiiv|buttondown\.(email|com)|content=\"Ghost", re.I)
_SUBSCRIBER_COUNT = re.compile(r"(?:over|join)\s+([\d,.]+)\s*([kKmM])?\+?\s+(?:other\s+)?subscribers", re.I)


def matches(url: str, settings: ScrapeSettings) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host.endswith(".substack.com") and host != "www.substack.com"


def looks_like_newsletter(response: Response) -> bool:
    return bool(_MARKERS.search(response.body[:200_000]))


def _subscribers(text: str) -> int | None:
    match = _SUBSCRIBER_COUNT.search(text)
    if not match:
        return None
    try:
        value = float(match.group(1).replace(",", ""))
    except ValueError:
        return None
    return int(value * {"k": 1e3, "m": 1e6}.get((match.group(2) or "").lower(), 1))


async def scrape(ctx: ScrapeContext, url: str, response: Response | None = None) -> dict:
    response = response or await ctx.client.get(url)
    if "html" not in response.content_type and response.content_type:
        raise AdapterError(f"expected the newsletter's web page, got {response.content_type}")
    record = await website.scrape(ctx, url, response)
    record["kind"] = "newsletter"
    record["audience_size"] = _subscribers(response.text)
    if not record.get("feed_url"):
        parts = urlsplit(response.final_url)
        guess = f"{parts.scheme}://{parts.netloc}/feed"
        try:
            feed_response = await ctx.client.get(guess)
            if looks_like_feed(feed_response.body):
                feed = parse_response(feed_response)
                record["feed_url"] = guess
                record["items"] = feed.get("items") or record.get("items")
                record["description"] = record.get("description") or feed.get("description")
        except (FetchError, AdapterError):
            pass
    return record
