"""RSS 0.9x/1.0/2.0, Atom and podcast (iTunes) feeds, parsed with feedparser.

feedparser is lenient on purpose (real feeds are often not well-formed XML), so a
feed fails only when nothing feed-like comes out of it or when it is visibly cut
off: the root element's end tag is missing, which is what a truncated download
looks like.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime

import feedparser

from ..http import CUT_HEADER, Response
from . import AdapterError, ScrapeContext

_ROOT_END = {"rss": b"</rss>", "feed": b"</feed>", "rdf:rdf": b"</rdf:rdf>", "rdf": b"</rdf>"}
_FIRST_TAG = re.compile(rb"<([A-Za-z_][\w:.-]*)")
_AUDIO_TYPES = ("audio/", "video/")


def first_element_name(body: bytes) -> str | None:
    """Name of the document's first element, skipping prolog, comments and doctype."""
    head = body[:8192]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    pos = 0
    while True:
        start = head.find(b"<", pos)
        if start < 0 or start + 1 >= len(head):
            return None
        nxt = head[start + 1 : start + 2]
        if nxt == b"?":
            end = head.find(b"?>", start)
        elif head.startswith(b"<!--", start):
            end = head.find(b"-->", start)
        elif nxt == b"!":
            end = head.find(b">", start)
        else:
            match = _FIRST_TAG.match(head, start)
            return match.group(1).decode("ascii", "ignore").lower() if match else None
        if end < 0:
            return None
        pos = end + 1


def looks_like_feed(body: bytes) -> bool:
    return first_element_name(body) in _ROOT_END


def _iso(parsed_time, raw: str | None) -> str | None:
    if parsed_time:
        try:
            return datetime.fromtimestamp(calendar.timegm(parsed_time), tz=UTC).isoformat()
        except (OverflowError, ValueError, TypeError):
            pass
    return raw or None


# Namespaces only podcast feeds use: the Podcast Index's `podcast:` tags and Google Play's podcast tags.
_PODCAST_NAMESPACES = ("podcastindex.org/namespace", "google.com/schemas/play-podcasts")


def _is_podcast(parsed) -> bool:
    """A podcast when the feed uses the iTunes or Podcast Index namespace (an element of it on the channel or an
    episode), or carries audio/video enclosures. A declared iTunes namespace with no element of it is not
    enough: some blog platforms declare it on every feed."""
    feed = parsed.feed
    namespaces = " ".join(str(v) for v in (parsed.get("namespaces") or {}).values()).lower()
    if any(ns in namespaces for ns in _PODCAST_NAMESPACES):
        return True
    if any(key.startswith(("itunes_", "podcast_", "googleplay_")) for key in feed) or any(
        "itunes" in str(tag.get("scheme") or "") for tag in feed.get("tags") or []
    ):
        return True
    for entry in parsed.entries[:10]:
        if any(key.startswith(("itunes_", "podcast_")) for key in entry):
            return True
        for enclosure in entry.get("enclosures") or []:
            if str(enclosure.get("type") or "").startswith(_AUDIO_TYPES):
                return True
    return False


_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.I)


def show_note_links(entries, site_url: str, max_entries: int = 20, limit: int = 50) -> list[str]:
    """Links to other sites in the entries' HTML (show notes name guests, posts cite peers)."""
    from ..extract import absolute, same_site, social_kind

    links: list[str] = []
    for entry in entries[:max_entries]:
        blobs = [c.get("value") or "" for c in entry.get("content") or []] + [entry.get("summary") or ""]
        for blob in blobs:
            for href in _HREF.findall(blob):
                link = absolute(site_url, href)
                if link and not same_site(link, site_url) and not social_kind(link) and link not in links:
                    links.append(link)
                    if len(links) >= limit:
                        return links
    return links


_CLOSING = {"rss": b"</channel></rss>", "feed": b"</feed>", "rdf:rdf": b"</rdf:RDF>", "rdf": b"</rdf>"}


def parse_feed(body: bytes, url: str, content_type: str | None = None, *, cut: bool = False) -> dict:
    """A partial record from feed bytes; AdapterError when it is not a usable feed.

    ``cut``: the HTTP layer stopped reading a long feed after an item on purpose (``CUT_HEADER``); the document
    is closed here instead of being taken for a truncated download."""
    root = first_element_name(body)
    end_tag = _ROOT_END.get(root or "")
    if cut and end_tag:
        body = body + _CLOSING[root or ""]
    elif end_tag and end_tag not in body[-4096:].lower():
        raise AdapterError(f"truncated feed: the document ends before its closing {end_tag.decode()} tag")
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    feed = parsed.feed
    if not parsed.get("version") and not parsed.entries and not feed.get("title"):
        reason = getattr(parsed.get("bozo_exception"), "getMessage", lambda: "")() or str(parsed.get("bozo_exception") or "")
        raise AdapterError("not a feed: no RSS/Atom structure found" + (f" ({reason})" if reason else ""))
    emails: list[str] = []
    owner = feed.get("itunes_owner") or feed.get("publisher_detail") or {}
    for detail in (owner, feed.get("author_detail")):
        email = (detail.get("email") or "").strip().lower() if isinstance(detail, dict) else ""
        if email and email not in emails:
            emails.append(email)
    categories = []
    for tag in feed.get("tags") or []:
        term = tag.get("term")
        if term and term not in categories:
            categories.append(term)
    items = []
    for entry in parsed.entries:
        items.append(
            {
                "title": entry.get("title"),
                "url": entry.get("link") or (entry.get("id") if str(entry.get("id", "")).startswith("http") else None),
                "published": _iso(entry.get("published_parsed") or entry.get("updated_parsed"), entry.get("published") or entry.get("updated")),
            }
        )
    podcast = _is_podcast(parsed)
    author = feed.get("author") or feed.get("itunes_author")
    site = feed.get("link") or url
    if not author and isinstance(owner, dict):
        author = owner.get("name")
    return {
        "kind": "podcast" if podcast else "blog",
        "title": feed.get("title"),
        "name": feed.get("title"),
        "description": feed.get("subtitle") or feed.get("description") or feed.get("summary"),
        "site_name": None,
        "author": author,
        "language": feed.get("language"),
        "feed_url": url,
        "site_url": feed.get("link"),
        "categories": categories,
        "emails": emails,
        "items": items,
        "outbound_links": show_note_links(parsed.entries, site),  # guests' sites etc., for discovery
    }


def parse_response(response: Response) -> dict:
    """``parse_feed`` of a fetched feed (closed again when the HTTP layer stopped reading it early)."""
    return parse_feed(response.body, response.final_url, response.headers.get("content-type"),
                      cut=bool(response.headers.get(CUT_HEADER)))


async def scrape(ctx: ScrapeContext, url: str, response: Response | None = None) -> dict:
    response = response or await ctx.client.get(url)
    record = parse_response(response)
    record["feed_url"] = response.final_url
    record["ok"] = True
    return record
