"""OPML files of feeds: the outline's title and, as items, the feeds it lists.

``parse_opml`` is the reusable part (discovery and imports expand an OPML into
its feeds); ``scrape`` makes one record for the OPML URL itself.
"""

from __future__ import annotations

from lxml import etree

from ..http import Response
from . import AdapterError, ScrapeContext

_PARSER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)


def parse_opml(body: bytes) -> tuple[str | None, list[dict]]:
    """(title, feeds) where each feed is {title, xml_url, html_url, category}."""
    try:
        root = etree.fromstring(body, parser=_PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise AdapterError(f"malformed OPML: {exc}") from None
    if root is None or etree.QName(root).localname.lower() != "opml":
        raise AdapterError("not an OPML document")
    title_node = root.find("head/title")
    title = title_node.text.strip() if title_node is not None and title_node.text else None
    feeds: list[dict] = []
    seen = set()
    for outline in root.iter("outline"):
        xml_url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not xml_url or xml_url in seen:
            continue
        seen.add(xml_url)
        parent = outline.getparent()
        category = parent.get("text") or parent.get("title") if parent is not None and parent.tag == "outline" else None
        feeds.append(
            {
                "title": (outline.get("title") or outline.get("text") or "").strip() or None,
                "xml_url": xml_url,
                "html_url": (outline.get("htmlUrl") or "").strip() or None,
                "category": category,
            }
        )
    return title, feeds


async def scrape(ctx: ScrapeContext, url: str, response: Response | None = None) -> dict:
    response = response or await ctx.client.get(url)
    title, feeds = parse_opml(response.body)
    if not feeds:
        raise AdapterError("OPML file lists no feeds (no outline has an xmlUrl)")
    return {
        "ok": True,
        "kind": "other",
        "name": title or url,
        "title": title,
        "description": f"OPML list of {len(feeds)} feeds",
        "items": [{"title": f["title"], "url": f["xml_url"], "published": None} for f in feeds],
    }
