"""One adapter per kind of source. Each module exposes ``async def scrape(ctx, url,
response=None) -> dict`` (a partial record) and, when it can be chosen by URL
shape alone, ``def matches(url, settings) -> bool``.

``scrapers.scrape`` picks the adapter: URL shape first (Reddit, YouTube, Apple
Podcasts, Substack), then the fetched content (feed, OPML, HTML page).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import ScrapeSettings
from ..http import PoliteClient


class AdapterError(Exception):
    """The URL was fetched but is not what the adapter needs; the message says why."""


@dataclass
class ScrapeContext:
    client: PoliteClient
    settings: ScrapeSettings = field(default_factory=ScrapeSettings)
    follow_about_pages: bool = True
    fetch_feeds: bool = True
