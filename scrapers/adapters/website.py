"""Websites and blogs: Readability-style metadata, feed autodiscovery, recent posts,
contact emails, social profiles and the about/contact pages one level deep.

Only the page itself must succeed; the feed and the about/contact pages are extras
whose failures are ignored (a site without a working feed is still a site).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re

from .. import extract
from ..htmldoc import parse_html
from ..http import FetchError, Response
from ..readability import extract_article_metadata
from ..records import merge_unique
from . import AdapterError, ScrapeContext
from .feed import looks_like_feed, parse_response

log = logging.getLogger(__name__)

_FORUM_GENERATORS = re.compile(r"discourse|phpbb|vbulletin|xenforo|invision|mybb|flarum|nodebb|smf", re.I)
_NEWSLETTER_GENERATORS = re.compile(r"substack|beehiiv|buttondown|ghost|convertkit|revue|mailchimp", re.I)


def _kind(root, has_feed: bool) -> str:
    generator = extract.meta_content(root, "generator") or ""
    if _FORUM_GENERATORS.search(generator):
        return "forum"
    if re.search(r"substack|beehiiv|buttondown", generator, re.I):
        return "newsletter"
    return "blog" if has_feed else "other"


def _first_paragraph(root, minimum: int = 60) -> str | None:
    """Readability's excerpt fallback, roughly: the first substantial paragraph."""
    for paragraph in root.iter("p"):
        text = " ".join("".join(paragraph.itertext()).split())
        if len(text) >= minimum:
            return text
    return None


def page_record(html: str, url: str) -> tuple[dict, object]:
    """A partial record from one HTML page, and its parsed tree (for more extraction)."""
    root = parse_html(html)
    if root.find("body") is None and root.find("head") is None:
        raise AdapterError("not an HTML page")
    working = copy.deepcopy(root)  # Readability's walk removes nodes; keep the original
    meta = extract_article_metadata(working)
    record = {
        "title": meta.title,
        "site_name": meta.site_name,
        "author": meta.byline,
        "description": meta.excerpt or extract.meta_content(root, "description") or _first_paragraph(root),
        "language": meta.lang or extract.language(root),
        "emails": extract.emails(root),
        "socials": extract.socials(root, url),
        "items": extract.recent_post_links(root, url),
        "outbound_links": extract.outbound_links(root, url),  # for discovery; not part of the record
    }
    return record, root


async def _fetch_feed(ctx: ScrapeContext, feed_url: str) -> dict | None:
    try:
        response = await ctx.client.get_shared(feed_url)
        if not looks_like_feed(response.body):
            return None
        return parse_response(response)
    except (FetchError, AdapterError) as exc:
        log.info("feed %s skipped: %s", feed_url, exc)
        return None


async def _fetch_about(ctx: ScrapeContext, about_url: str) -> tuple[list[str], list[str]]:
    try:
        response = await ctx.client.get_shared(about_url)
        if "html" not in response.content_type and response.content_type:
            return [], []
        root = parse_html(response.text)
        return extract.emails(root), extract.socials(root, response.final_url)
    except FetchError as exc:
        log.info("about page %s skipped: %s", about_url, exc)
        return [], []


async def scrape(ctx: ScrapeContext, url: str, response: Response | None = None) -> dict:
    response = response or await ctx.client.get(url)
    page_url = response.final_url
    record, root = page_record(response.text, page_url)
    feeds = extract.feed_links(root, page_url)
    record["feed_url"] = feeds[0] if feeds else None
    tasks = []
    if ctx.fetch_feeds and feeds:
        tasks.append(_fetch_feed(ctx, feeds[0]))
    about = extract.about_links(root, page_url, limit=2) if ctx.follow_about_pages else []
    tasks.extend(_fetch_about(ctx, link) for link in about)
    results = await asyncio.gather(*tasks) if tasks else []
    feed = results[0] if ctx.fetch_feeds and feeds else None
    for emails, socials in results[1 if ctx.fetch_feeds and feeds else 0 :]:
        record["emails"] = merge_unique(record["emails"], emails)
        record["socials"] = merge_unique(record["socials"], socials)
    if feed:
        if feed.get("items"):
            record["items"] = feed["items"]
        record["emails"] = merge_unique(record["emails"], feed.get("emails"))
        if not record.get("description"):
            record["description"] = feed.get("description")
        if not record.get("language"):
            record["language"] = feed.get("language")
    record["kind"] = "podcast" if feed and feed.get("kind") == "podcast" else _kind(root, bool(feeds))
    record["name"] = record.get("site_name") or (feed or {}).get("title") or record.get("title")
    record["ok"] = True
    return record
