"""Scrape many URLs at once: pick the adapter per URL, run them concurrently under
the shared polite client, and return one finalized record per URL in input order.

Every failure — invalid URL, robots.txt, HTTP status, timeout, malformed content,
or a bug in an adapter — becomes that URL's ``error``; the other URLs go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

import httpx

from .adapters import AdapterError, ScrapeContext, apple_podcasts, feed, newsletter, opml, reddit, website, youtube
from .config import ScrapeSettings
from .http import FetchError, PoliteClient, PrivateAddress, Response, validate_url
from .records import failed_record, finalize, merge_unique, new_record

log = logging.getLogger(__name__)

# Adapters chosen by URL shape alone, tried in this order.
URL_ADAPTERS = (reddit, youtube, apple_podcasts, newsletter)


def adapter_for_url(url: str, settings: ScrapeSettings):
    for module in URL_ADAPTERS:
        if module.matches(url, settings):
            return module
    return None


async def scrape_by_content(ctx: ScrapeContext, url: str, response: Response) -> dict:
    """Choose feed, OPML or website by what the server sent."""
    root_name = feed.first_element_name(response.body)
    if root_name == "opml":
        return await opml.scrape(ctx, url, response)
    if feed.looks_like_feed(response.body):
        return await feed.scrape(ctx, url, response)
    media = response.content_type
    if "html" in media or root_name in ("html", "head", "body") or (not media and b"<" in response.body[:1024]):
        if newsletter.looks_like_newsletter(response):
            return await newsletter.scrape(ctx, url, response)
        return await website.scrape(ctx, url, response)
    if media.endswith("xml") or media.endswith("+xml"):
        raise AdapterError(f"XML document with root <{root_name or '?'}> is neither a feed nor OPML")
    raise AdapterError(f"unsupported content: {media or 'no content type'} is not a web page, feed or OPML file")


async def scrape_partial(ctx: ScrapeContext, url: str) -> dict:
    """The partial record of a valid URL: its adapter by URL shape, else by what the server sends."""
    module = adapter_for_url(url, ctx.settings)
    if module is not None:
        return await module.scrape(ctx, url)
    return await scrape_by_content(ctx, url, await ctx.client.get(url))


async def scrape_one_with_links(ctx: ScrapeContext, url: str) -> tuple[dict, list[str]]:
    """(finalized record, links to other sites found on it); never raises (except cancellation).

    The links feed discovery's snowballing; a failed URL has none. The record's
    ``url`` is the input as given, so callers can match records to their inputs.
    """
    given = url.strip() if isinstance(url, str) else url
    try:
        url = validate_url(url)
        partial = await scrape_partial(ctx, url)
    except (FetchError, AdapterError) as exc:
        return finalize(failed_record(given, str(exc))), []
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # an adapter bug must not take the other URLs down
        log.exception("scraping %s failed", url)
        return finalize(failed_record(given, f"internal error while scraping: {type(exc).__name__}: {exc}")), []
    links = list(partial.pop("outbound_links", None) or [])
    record = new_record(given)
    record.update(partial)
    record["url"] = given
    return finalize(record), links


def merge(known: dict, scraped: dict, *, authoritative: bool) -> dict:
    """One record from what a source said (``known``) and what its page or feed says (``scraped``).

    The side that is authoritative (an API's data; else the page over a search engine's snippet) wins each
    field it fills; the other fills the rest. Contacts are pooled; the posts are the page's or feed's."""
    primary, secondary = (known, scraped) if authoritative else (scraped, known)
    out = dict(secondary)
    for key, value in primary.items():
        if value not in (None, "", []):
            out[key] = value
    for key in ("emails", "socials"):
        out[key] = merge_unique(primary.get(key), secondary.get(key))
    out["items"] = scraped.get("items") or known.get("items") or []
    out["url"] = known.get("url") or scraped.get("url")
    out["ok"] = True
    return out


async def enrich(ctx: ScrapeContext, url: str, known: dict, *, authoritative: bool = True,
                 source: str = "the search") -> tuple[dict, list[str], str | None]:
    """A search result made whole: ``(finalized record, links to other sites, warning)``.

    ``known`` is what the source said (a partial record). Its page or feed is read for more (posts, contact
    emails, links): a subreddit's top posts and a channel's videos through their APIs, a podcast's feed, a web
    result's page. When that fails the result is kept as the source described it, with a warning saying what
    could not be read, except when the address policy refused it (a result pointing into a private network is
    dropped, not saved). The record's ``url`` is ``url`` as given."""
    given = url.strip()
    target = "its page"

    def kept(why: str) -> tuple[dict, list[str], str]:
        record = new_record(given)
        record.update({k: v for k, v in known.items() if k in record})
        record.update(url=given, ok=True)
        return finalize(record), [], f"kept what {source} said; reading {target} failed: {why}"

    try:
        url = validate_url(url)
        module = adapter_for_url(url, ctx.settings)
        if authoritative and module is not None and hasattr(module, "enrich"):
            target = "its posts"
            partial = await module.enrich(ctx, url, known)
        elif known.get("kind") == "podcast" and known.get("feed_url"):
            target = "its feed"
            partial = await feed.scrape(ctx, known["feed_url"])
        else:
            partial = await scrape_partial(ctx, url)
    except PrivateAddress as exc:
        return finalize(failed_record(given, str(exc))), [], None
    except (FetchError, AdapterError) as exc:
        return kept(str(exc))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # an adapter bug must not lose the result
        log.exception("enriching %s failed", url)
        return kept(f"{type(exc).__name__}: {exc}")
    links = list(partial.pop("outbound_links", None) or [])
    record = new_record(given)
    record.update(merge({**known, "url": given}, partial, authoritative=authoritative))
    record["url"] = given
    return finalize(record), links, None


async def scrape_one(ctx: ScrapeContext, url: str) -> dict:
    """One finalized record; never raises (except cancellation)."""
    record, _links = await scrape_one_with_links(ctx, url)
    return record


async def scrape_urls(
    urls: Iterable[str],
    *,
    settings: ScrapeSettings | None = None,
    client: PoliteClient | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    on_done: Callable[[int, dict], None] | None = None,
) -> list[dict]:
    """Records for ``urls`` in input order; ``on_done(index, record)`` as each finishes."""
    urls = list(urls)
    settings = settings or (client.settings if client else ScrapeSettings())
    own_client = client is None
    client = client or PoliteClient(settings, transport=transport)
    if settings.trust_given_urls:
        for url in urls:  # what the user typed may be on their own network; what those pages link to may not
            if isinstance(url, str):
                client.trust(url)
    ctx = ScrapeContext(client=client, settings=settings)
    results: list[dict | None] = [None] * len(urls)
    # The same URL given twice is scraped once; each position still gets its record.
    positions: dict[str, list[int]] = {}
    for index, url in enumerate(urls):
        positions.setdefault(url.strip() if isinstance(url, str) else url, []).append(index)

    async def run(url: str, indexes: list[int]) -> None:
        record = await scrape_one(ctx, url)
        for index in indexes:
            results[index] = dict(record, url=record["url"])
            if on_done:
                on_done(index, results[index])

    try:
        await asyncio.gather(*(run(u, idx) for u, idx in positions.items()))
    finally:
        if own_client:
            await client.aclose()
    return [r if r is not None else finalize(failed_record(u, "not scraped")) for r, u in zip(results, urls, strict=True)]
