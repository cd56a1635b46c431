"""Web search for discovery: result links from an HTML search page.

The default is DuckDuckGo's HTML endpoint (``settings.base_urls.web_search``),
queried with ``?q=``; result anchors (``a.result__a``, or any external link when the
page has none of those) are unwrapped from redirect links (``uddg=``). robots.txt
applies here as everywhere: a search engine that disallows crawling yields an
error naming robots.txt, not results.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

from .. import extract
from ..htmldoc import parse_html
from . import ScrapeContext

_SEARCH_HOSTS = ("duckduckgo.com", "google.", "bing.com", "yahoo.com", "startpage.com")


def _unwrap(href: str) -> str | None:
    parts = urlsplit(href)
    target = parse_qs(parts.query).get("uddg") or parse_qs(parts.query).get("u")
    return target[0] if target else href


def result_links(html: str, page_url: str, limit: int) -> list[str]:
    root = parse_html(html)
    anchors = [a for a in root.iter("a") if "result__a" in (a.get("class") or "")] or list(root.iter("a"))
    urls: list[str] = []
    for anchor in anchors:
        url = extract.absolute(page_url, _unwrap(anchor.get("href") or "") or "")
        if not url or any(h in (urlsplit(url).hostname or "") for h in _SEARCH_HOSTS):
            continue
        if extract.same_site(url, page_url) or url in urls:
            continue
        urls.append(url)
        if len(urls) >= limit:
            break
    return urls


async def search(ctx: ScrapeContext, query: str, limit: int = 25) -> list[str]:
    base = ctx.settings.base_urls.web_search
    separator = "&" if "?" in base else "?"
    page = await ctx.client.get(f"{base}{separator}q={quote(query)}")
    return result_links(page.text, page.final_url, limit)
