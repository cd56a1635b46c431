"""The scrape record (what ``recruiter scrape`` prints) and its conversion to the
core's import record.

``site_url`` is the page a feed says it belongs to (its ``<link>``): the catalogue keeps a podcast or blog under
its site's URL, so a scraped feed and the site scraped or imported before merge into one community.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape

KINDS = ("blog", "podcast", "subreddit", "youtube", "newsletter", "forum", "other")
RECORD_FIELDS = (
    "url", "ok", "error", "kind", "name", "title", "site_name", "author", "description", "language",
    "feed_url", "audience_size", "emails", "socials", "items", "site_url",
)
MAX_ITEMS = 50


@dataclass(frozen=True)
class Found:
    """A search result: the community's URL and, when the source described it (an API's name, description,
    counts), that description as a partial record, saved even when its page or feed cannot be read.

    ``authoritative``: the source's data wins over what the page says (an API's subscriber count and name);
    False for a search engine's title and snippet, which only fill what the page leaves empty."""

    url: str
    record: dict | None = field(default=None, compare=False)
    source: str = ""
    authoritative: bool = True

    def as_input(self) -> dict:
        """What a job item stores (JSON): the URL, and the description when there is one."""
        out: dict = {"url": self.url}
        if self.record:
            out["record"] = dict(self.record)
            out["authoritative"] = self.authoritative
        return out


def new_record(url: str) -> dict:
    """An empty record for ``url``; adapters fill it, failures set ``error``."""
    return {
        "url": url, "ok": False, "error": None, "kind": None, "name": None, "title": None, "site_name": None,
        "author": None, "description": None, "language": None, "feed_url": None, "audience_size": None,
        "emails": [], "socials": [], "items": [], "site_url": None,
    }


def failed_record(url: str, error: str) -> dict:
    record = new_record(url)
    record["error"] = error
    return record


def clean_text(value, limit: int | None = None) -> str | None:
    """Whitespace collapsed; None for empty; cut at ``limit`` characters."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    if not text:
        return None
    if limit and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


_TAG = re.compile(r"<[^>]*>")
# Highlighting inside text (Brave's "hello<strong>world</strong>") goes without a trace; other tags part words.
_INLINE_TAG = re.compile(r"</?(?:strong|b|em|i|u|mark|span|a|code|sup|sub|small|abbr)(?:\s[^>]*)?>", re.I)


def plain_text(value) -> str | None:
    """An API's text as a reader sees it: tags dropped (Brave's ``<strong>``, HTML in podcast descriptions),
    entities decoded (``&amp;``, ``&#x27;``), whitespace collapsed; None when nothing is left."""
    if not isinstance(value, str):
        return None
    text = _TAG.sub(" ", _INLINE_TAG.sub("", value)) if "<" in value else value
    text = " ".join(unescape(text).split())
    return text or None


def trimmed(value, limit: int = 1000) -> str | None:
    """Only the ends trimmed: titles keep their inner spacing (NBSP, U+3000, double
    spaces) exactly as Readability reports them; a newline still becomes a space."""
    if value is None:
        return None
    text = str(value).strip()
    if "\n" in text or "\r" in text or "\t" in text:
        text = " ".join(text.split())
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def merge_unique(*lists) -> list:
    out: list = []
    for values in lists:
        for value in values or ():
            if value and value not in out:
                out.append(value)
    return out


def finalize(record: dict) -> dict:
    """Normalise field types and order so every record has the same shape."""
    out = new_record(record.get("url") or "")
    out.update({k: record.get(k) for k in RECORD_FIELDS if k in record})
    for key in ("name", "title", "site_name"):
        out[key] = trimmed(out[key])
    for key in ("author", "language", "feed_url", "site_url"):
        out[key] = clean_text(out[key], 2048 if key.endswith("_url") else 300)
    if out["site_url"] and (not out["site_url"].startswith(("http://", "https://")) or out["site_url"] == out["url"]):
        out["site_url"] = None  # a feed's own <link> to itself, or a relative or odd one, names no other page
    out["description"] = clean_text(out["description"], 2000)
    if out["kind"] not in KINDS and out["kind"] is not None:
        out["kind"] = "other"
    size = out.get("audience_size")
    out["audience_size"] = int(size) if isinstance(size, (int, float)) and not isinstance(size, bool) and size >= 0 else None
    out["emails"] = merge_unique(out["emails"])[:20]
    out["socials"] = merge_unique(out["socials"])[:20]
    items = []
    for item in (out["items"] or [])[:MAX_ITEMS]:
        title = clean_text(item.get("title"), 500)
        url = item.get("url") or None
        items.append({"title": title, "url": url, "published": item.get("published") or None})  # kept even when empty: the feed has it
    out["items"] = items
    if out["ok"]:
        out["error"] = None
        if not out["name"]:
            out["name"] = out["site_name"] or out["title"]
    return {k: out[k] for k in RECORD_FIELDS}


def to_import_record(record: dict) -> dict:
    """The core's import shape: ``items`` become ``recent_posts`` (titles only)."""
    keys = (
        "url", "kind", "name", "title", "description", "language", "audience_size", "emails", "socials",
        "feed_url", "site_name", "author", "site_url",
    )
    out = {k: record.get(k) for k in keys}
    out["recent_posts"] = [item["title"] for item in record.get("items") or [] if item.get("title")]
    return out
