"""The discovery sources, in one table: what each needs, whether it has it, how to search it and check it.

`discover --source NAME`, `recruiter sources` and the web app's Sources panel all read `SOURCES`, so a source
added here is listed, checked and searchable everywhere. Each source is a connector module of
this package with ``search(ctx, query, limit) -> list[Found]`` and ``check(ctx) -> str``; the table says
which variables it needs (`missing`) and, for the web, which engine answers.

`check_source` makes one cheap call and words its outcome as ``ok`` or the exact problem, from the error's
``kind``: ``not_configured``, ``bad_key``, ``quota``, ``rate_limited``, ``robots``, ``unreachable``, ``error``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .. import config
from ..api import NotConfigured
from ..config import ScrapeSettings
from ..http import ConnectionFailed, FetchError, FetchTimeout, PrivateAddress
from ..records import Found
from . import AdapterError, ScrapeContext, apple_podcasts, podcastindex, reddit, web_search, youtube


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    variables: tuple[str, ...]  # what it can use (the web: the engines' variables)
    missing: Callable[[ScrapeSettings], list[str]]
    search: Callable[[ScrapeContext, str, int], Awaitable[list[Found]]]
    check: Callable[[ScrapeContext], Awaitable[str]]
    base: Callable[[ScrapeSettings], str]
    keyless: bool = False
    note: str = ""


SOURCES: dict[str, Source] = {
    "reddit": Source(
        "reddit", "Reddit (OAuth Data API)", reddit.VARIABLES, reddit.missing, reddit.search, reddit.check,
        lambda s: s.base_urls.reddit_oauth,
        note="an app-only token from Reddit; 100 calls a minute"),
    "youtube": Source(
        "youtube", "YouTube (Data API v3)", youtube.VARIABLES, youtube.missing, youtube.search, youtube.check,
        lambda s: s.base_urls.youtube_api,
        note="search: 100 calls a day; other calls: 10,000 units a day (RECRUITER_YOUTUBE_SEARCH_QUOTA, "
             "RECRUITER_YOUTUBE_QUOTA)"),
    "podcasts": Source(
        "podcasts", "Podcasts (Podcast Index API)", podcastindex.VARIABLES, podcastindex.missing,
        podcastindex.search, podcastindex.check, lambda s: s.base_urls.podcastindex,
        note="free keys at api.podcastindex.org"),
    "itunes": Source(
        "itunes", "Apple Podcasts (iTunes Search API)", (), lambda s: [], apple_podcasts.search,
        apple_podcasts.check, lambda s: s.base_urls.itunes, keyless=True,
        note="no key; about 20 calls a minute"),
    "web": Source(
        "web", "Web search (SearXNG, Brave Search API or DuckDuckGo)",
        ("RECRUITER_WEB_SEARCH", "RECRUITER_SEARXNG_URL", "RECRUITER_BRAVE_API_KEY"), web_search.missing,
        web_search.search, web_search.check,
        lambda s: {"searxng": web_search.searxng_base(s), "brave": s.base_urls.brave}.get(
            web_search.engine(s), s.base_urls.web_search),
        keyless=True, note="the first configured of SearXNG and Brave, else DuckDuckGo (no key)"),
}
NAMES = tuple(SOURCES)


@dataclass(frozen=True)
class SourceStatus:
    """What `recruiter sources` shows of one source."""

    name: str
    title: str
    configured: bool
    keyless: bool
    variables: list[str]
    missing: list[str]
    base: str
    note: str
    engine: str | None = None
    message: str = ""

    def as_dict(self) -> dict:
        out = {"name": self.name, "title": self.title, "configured": self.configured, "keyless": self.keyless,
               "variables": list(self.variables), "missing": list(self.missing), "base": self.base,
               "message": self.message, "note": self.note}
        if self.engine is not None:
            out["engine"] = self.engine
        return out


@dataclass(frozen=True)
class SourceCheck:
    """The outcome of one cheap call: ``ok`` or the exact problem."""

    name: str
    ok: bool
    status: str  # ok, not_configured, bad_key, quota, rate_limited, robots, unreachable, error
    message: str
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "status": self.status, "message": self.message}


def unknown_source(name: str) -> str:
    return f"unknown source {name!r}; choose from {', '.join(NAMES)}"


def not_configured_message(name: str, settings: ScrapeSettings) -> str:
    if name == "web":
        return f"web is not configured: {web_search.not_configured_reason(settings)}"
    needs = SOURCES[name].missing(settings)
    return f"{name} is not configured: set {' and '.join(needs)}"


def status(name: str, settings: ScrapeSettings) -> SourceStatus:
    source = SOURCES[name]
    needs = source.missing(settings)
    engine = web_search.engine(settings) if name == "web" else None
    if needs:
        message = not_configured_message(name, settings)
    elif name == "web":
        message = f"configured: {engine}" + (" (no key needed)" if engine == "duckduckgo" else "")
    else:
        message = "configured" + (" (no key needed)" if source.keyless else "")
    return SourceStatus(name=name, title=source.title, configured=not needs, keyless=source.keyless,
                        variables=list(source.variables), missing=needs, base=source.base(settings),
                        note=source.note, engine=engine, message=message)


def statuses(settings: ScrapeSettings) -> list[SourceStatus]:
    return [status(name, settings) for name in NAMES]


def problem_kind(exc: BaseException) -> str:
    """How `sources check` names a failure."""
    if isinstance(exc, ConnectionFailed | FetchTimeout | PrivateAddress):
        return "unreachable"
    kind = getattr(exc, "kind", "")
    if kind in ("not_configured", "bad_key", "quota", "rate_limited", "robots"):
        return kind
    return "error"


async def check_source(ctx: ScrapeContext, name: str) -> SourceCheck:
    settings = ctx.settings
    needs = SOURCES[name].missing(settings)
    if needs:
        return SourceCheck(name, False, "not_configured", not_configured_message(name, settings))
    try:
        said = await SOURCES[name].check(ctx)
    except (FetchError, AdapterError) as exc:  # NotConfigured among them: problem_kind names each
        return SourceCheck(name, False, problem_kind(exc), str(exc))
    return SourceCheck(name, True, "ok", said)


async def search(ctx: ScrapeContext, name: str, query: str, limit: int) -> list[Found]:
    """One source's results for ``query`` (NotConfigured, with the variables to set, when it cannot run)."""
    if name not in SOURCES:
        raise NotConfigured(unknown_source(name))
    if SOURCES[name].missing(ctx.settings):
        raise NotConfigured(not_configured_message(name, ctx.settings))
    return await SOURCES[name].search(ctx, query, limit)


def contact_note() -> str:
    """What `recruiter sources` says of the crawler's contact (sites and APIs see it in the User-Agent)."""
    found = config.contact()
    if found:
        return f"contact sent with every request: {found}"
    raw = config.stored.value(config.CONTACT_ENV)
    if raw:
        return f"RECRUITER_CONTACT={raw!r} is neither an email address nor an http(s) URL: no contact is sent"
    return "set RECRUITER_CONTACT (an email or a URL) so site owners and API providers can reach you"
