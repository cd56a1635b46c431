"""Web search for discovery, pluggable: the user's SearXNG, the Brave Search API, or DuckDuckGo's HTML page.

``RECRUITER_WEB_SEARCH=searxng|brave|duckduckgo`` chooses; unset, the first one configured wins (SearXNG when
``RECRUITER_SEARXNG_URL`` is set, then Brave with ``RECRUITER_BRAVE_API_KEY``), else DuckDuckGo, which needs no
key.

- **SearXNG**: the JSON API of the user's own instance (``/search?q=...&format=json``; the instance must list
  ``json`` in ``search.formats``, else it answers 403, which the error says).
- **Brave**: ``/web/search`` with the key in ``X-Subscription-Token``, 20 results a page; its descriptions carry
  ``<strong>`` and entities, which are removed.
- **DuckDuckGo**: the HTML endpoint, fetched as a page (robots.txt applies). Scripts often get HTTP 202 or a
  CAPTCHA ("anomaly") page instead of results, and a page without results markup is not "no results": each of
  these is an error that says so.

A result is a lead, not yet a community: its page is read afterwards. The engine's title and snippet come with
it (`Found.record`, not authoritative), so a result whose page cannot be read is still kept.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

from .. import extract
from ..api import Api, BadCredentials, NotConfigured, QuotaExhausted, RateLimited, api_for
from ..config import ScrapeSettings
from ..htmldoc import parse_html, text_content
from ..http import FetchError
from ..records import Found, plain_text
from . import ScrapeContext

ENGINES = ("searxng", "brave", "duckduckgo")
_SEARCH_HOSTS = ("duckduckgo.com", "google.", "bing.com", "yahoo.com", "startpage.com", "search.brave.com")
_CHALLENGE_MARKERS = ("challenge-form", "anomaly-modal", "anomaly.js", "bots use duckduckgo too")
BRAVE_PAGE = 20
BRAVE_MAX_OFFSET = 9
SEARXNG_PAGES = 5


class SearchBlocked(FetchError):
    """The search engine answered with a rate-limit notice or a CAPTCHA instead of results."""

    kind = "rate_limited"


def engine(settings: ScrapeSettings) -> str:
    """The engine in use (the chosen one, even when it lacks what it needs: `missing` says so)."""
    chosen = (settings.web_search or "").strip().lower()
    if chosen:
        return chosen
    if settings.base_urls.searxng:
        return "searxng"
    if settings.credentials.brave_api_key:
        return "brave"
    return "duckduckgo"


def engine_missing(settings: ScrapeSettings, name: str) -> list[str]:
    if name == "searxng":
        return [] if settings.base_urls.searxng else ["RECRUITER_SEARXNG_URL"]
    if name == "brave":
        return [] if settings.credentials.brave_api_key else ["RECRUITER_BRAVE_API_KEY"]
    return []


def missing(settings: ScrapeSettings) -> list[str]:
    name = engine(settings)
    if name not in ENGINES:
        return ["RECRUITER_WEB_SEARCH"]
    return engine_missing(settings, name)


def configured(settings: ScrapeSettings) -> bool:
    return not missing(settings)


def not_configured_reason(settings: ScrapeSettings) -> str:
    name = engine(settings)
    if name not in ENGINES:
        return f"RECRUITER_WEB_SEARCH={name!r} is not an engine: use {', '.join(ENGINES)}"
    return f"RECRUITER_WEB_SEARCH={name} needs {' and '.join(engine_missing(settings, name))}"


def _kept(url: str | None, seen: list[str], page_url: str = "") -> bool:
    if not url or not url.startswith(("http://", "https://")) or url in seen:
        return False
    host = (urlsplit(url).hostname or "").lower()
    if any(h in host for h in _SEARCH_HOSTS):
        return False
    return not (page_url and extract.same_site(url, page_url))


def lead(url: str, title, description, source: str) -> Found:
    """A result with the engine's title and snippet (kept when its page cannot be read)."""
    name = plain_text(title)
    text = plain_text(description)
    record = {"ok": True, "url": url, "name": name, "title": name, "description": text, "items": []} \
        if name and text else None
    return Found(url=url, record=record, source=source, authoritative=False)


def leads(results, text_key: str, limit: int, seen: list[str]) -> list[Found]:
    """An engine's JSON results (``url``, ``title`` and the snippet under ``text_key``) as leads, skipping the
    engines' own pages and what ``seen`` already holds (which grows with what is kept)."""
    found: list[Found] = []
    for result in results or []:
        if not isinstance(result, dict):
            continue
        url = result.get("url")
        if not _kept(url, seen):
            continue
        seen.append(url)
        found.append(lead(url, result.get("title"), result.get(text_key), "web"))
        if len(found) >= limit:
            break
    return found


# --- DuckDuckGo (a page, crawled) ------------------------------------------------------------------------

def _unwrap(href: str) -> str | None:
    parts = urlsplit(href)
    target = parse_qs(parts.query).get("uddg") or parse_qs(parts.query).get("u")
    return target[0] if target else href


def _result_box(anchor):
    for ancestor in anchor.iterancestors():
        classes = f" {ancestor.get('class') or ''} "
        if " result " in classes or " web-result " in classes or " result--" in classes:
            return ancestor
    return None


def parse_duckduckgo(html: str, page_url: str, limit: int) -> list[Found]:
    """Results of DuckDuckGo's HTML page, with their snippets; an error for a page that is not a result page."""
    lowered = html.lower()
    if any(marker in lowered for marker in _CHALLENGE_MARKERS):
        raise SearchBlocked("DuckDuckGo answered with a CAPTCHA (its bot check) instead of results: it is "
                            "rate-limiting searches from this machine. Wait, or use the Brave Search API "
                            "(RECRUITER_BRAVE_API_KEY) or your own SearXNG (RECRUITER_SEARXNG_URL)")
    root = parse_html(html)
    anchors = [a for a in root.iter("a") if "result__a" in (a.get("class") or "")]
    if not anchors:
        if "no-results" in lowered or "no results." in lowered:
            return []
        raise FetchError("DuckDuckGo's answer has no results markup (no result links, no 'no results' notice): "
                         "not a result page, so nothing can be read from it")
    found: list[Found] = []
    seen: list[str] = []
    for anchor in anchors:
        box = _result_box(anchor)
        if box is not None and "result--ad" in (box.get("class") or ""):
            continue
        url = extract.absolute(page_url, _unwrap(anchor.get("href") or "") or "")
        if not _kept(url, seen, page_url):
            continue
        seen.append(url)
        snippet = next((a for a in box.iter() if "result__snippet" in (a.get("class") or "")), None) \
            if box is not None else None
        found.append(lead(url, text_content(anchor), text_content(snippet) if snippet is not None else None,
                          "web"))
        if len(found) >= limit:
            break
    return found


async def _duckduckgo(ctx: ScrapeContext, query: str, limit: int) -> list[Found]:
    base = ctx.settings.base_urls.web_search
    separator = "&" if "?" in base else "?"
    page = await ctx.client.get(f"{base}{separator}q={quote(query)}", use_cache=False)
    if page.status == 202:
        raise SearchBlocked("DuckDuckGo answered HTTP 202, its rate limit for scripts: no results were given. "
                            "Wait, or use the Brave Search API (RECRUITER_BRAVE_API_KEY) or your own SearXNG "
                            "(RECRUITER_SEARXNG_URL)")
    return parse_duckduckgo(page.text, page.final_url, limit)


# --- Brave Search API -------------------------------------------------------------------------------------

def parse_brave(payload, limit: int, seen: list[str]) -> tuple[list[Found], bool]:
    """(results, whether Brave has more): ``web.results[]`` (the ``web`` block may be absent)."""
    if not isinstance(payload, dict):
        return [], False
    web = payload.get("web") if isinstance(payload.get("web"), dict) else {}
    query = payload.get("query") if isinstance(payload.get("query"), dict) else {}
    return leads(web.get("results"), "description", limit, seen), bool(query.get("more_results_available"))


def _brave_error(api: Api, response) -> FetchError:
    said = api.error_text(response)
    code = ""
    try:
        error = (response.json() or {}).get("error") or {}
        code = str(error.get("code") or "") if isinstance(error, dict) else ""
    except Exception:
        pass
    if response.status in (401, 403) or code == "SUBSCRIPTION_TOKEN_INVALID" or (response.status == 422 and "token" in said.lower()):
        return api.error(BadCredentials, f"the Brave Search API refused the key ({code or 'HTTP ' + str(response.status)}"
                                         f": {said}); check RECRUITER_BRAVE_API_KEY")
    if "QUOTA" in code.upper() or "quota" in said.lower():
        return api.error(QuotaExhausted, f"the Brave Search API quota of this key is spent ({said})")
    if response.status == 429:
        return api.error(RateLimited, f"the Brave Search API is rate-limiting us ({code or 'HTTP 429'}: {said})")
    return api.fail(response, "searching the web")


async def _brave(ctx: ScrapeContext, query: str, limit: int) -> list[Found]:
    key = ctx.settings.credentials.brave_api_key
    if not key:
        raise NotConfigured("the Brave Search API needs a key: set RECRUITER_BRAVE_API_KEY")
    api = api_for(ctx.client, "brave")
    url = ctx.settings.base_urls.brave.rstrip("/") + "/web/search"
    found: list[Found] = []
    seen: list[str] = []
    for offset in range(BRAVE_MAX_OFFSET + 1):
        response = await api.call("GET", url, params={"q": query, "count": BRAVE_PAGE, "offset": offset or None},
                                  headers={"X-Subscription-Token": key, "User-Agent": ctx.settings.user_agent})
        if response.status != 200:
            raise _brave_error(api, response)
        page, more = parse_brave(response.json(), limit - len(found), seen)
        found.extend(page)
        if len(found) >= limit or not more or not page:
            break
    return found


# --- SearXNG -----------------------------------------------------------------------------------------------

def searxng_base(settings: ScrapeSettings) -> str:
    base = settings.base_urls.searxng.strip().rstrip("/")
    return base[: -len("/search")] if base.endswith("/search") else base


def parse_searxng(payload, limit: int, seen: list[str]) -> list[Found]:
    return leads(payload.get("results") if isinstance(payload, dict) else None, "content", limit, seen)


async def _searxng(ctx: ScrapeContext, query: str, limit: int) -> list[Found]:
    base = searxng_base(ctx.settings)
    if not base:
        raise NotConfigured("SearXNG needs your instance's address: set RECRUITER_SEARXNG_URL")
    api = api_for(ctx.client, "searxng")
    found: list[Found] = []
    seen: list[str] = []
    for page in range(1, SEARXNG_PAGES + 1):
        response = await api.call("GET", base + "/search", params={"q": query, "format": "json", "pageno": page},
                                  headers={"User-Agent": ctx.settings.user_agent})
        if response.status == 403:
            raise api.error(BadCredentials, "your SearXNG instance refuses JSON (HTTP 403): add `json` to "
                                            "`search.formats` in its settings.yml")
        if response.status == 429:
            raise api.error(RateLimited, "your SearXNG instance is rate-limiting us (HTTP 429, its limiter): "
                                         "allow this machine's address in its limiter settings")
        if response.status != 200:
            raise api.fail(response, "searching the web")
        payload = response.json()
        results = parse_searxng(payload, limit - len(found), seen)
        if not results and page == 1 and isinstance(payload, dict) and payload.get("unresponsive_engines"):
            engines = ", ".join(f"{e[0]} ({e[1]})" if isinstance(e, list) and len(e) > 1 else str(e)
                                for e in payload["unresponsive_engines"][:5])
            raise api.error(RateLimited, f"your SearXNG instance's engines did not answer: {engines}")
        found.extend(results)
        if len(found) >= limit or not results:
            break
    return found


async def search(ctx: ScrapeContext, query: str, limit: int = 25) -> list[Found]:
    name = engine(ctx.settings)
    if missing(ctx.settings):
        raise NotConfigured(not_configured_reason(ctx.settings))
    if name == "searxng":
        return await _searxng(ctx, query, limit)
    if name == "brave":
        return await _brave(ctx, query, limit)
    return await _duckduckgo(ctx, query, limit)


async def check(ctx: ScrapeContext) -> str:
    found = await search(ctx, "podcast", 3)
    return f"{engine(ctx.settings)} answered ({len(found)} result{'' if len(found) == 1 else 's'})"
