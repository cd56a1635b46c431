"""Settings of the scrapers: politeness, limits, every external base URL, the APIs' credentials and our contact.

Every external base URL lives here so tests (and users behind mirrors) can point an adapter at a loopback server
instead of the real service. Credentials are settings too, read where the work runs (the environment, else what
the user stored in `$RECRUITER_HOME`, `recruiter.core.credentials`): never passed through a job, never printed
(`Credentials` has no readable repr).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from recruiter.core import credentials as stored
from recruiter.core.config import recruiter_home

VERSION = "0.1"
TRUST_ENV = "RECRUITER_TRUST_GIVEN_URLS"
CONTACT_ENV = "RECRUITER_CONTACT"
FEED_MAX_BYTES = 20 * 1024 * 1024  # long podcast feeds: streamed up to this, and cut after the items we keep
_EMAIL = re.compile(r"^[^@\s<>()\"',;]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_URL = re.compile(r"^https?://[^\s<>\"]+$")


def valid_contact(text: str) -> bool:
    """An email address or an http(s) URL."""
    return bool(_EMAIL.match(text) or _URL.match(text))


def contact() -> str:
    """`RECRUITER_CONTACT` when it is an email address or an http(s) URL, else '' (a site owner must be able to
    reach whoever runs the crawler; a malformed value is not sent)."""
    text = stored.value(CONTACT_ENV)
    return text if valid_contact(text) else ""


def user_agent(contact_text: str | None = None) -> str:
    """`recruiter/0.1 (affiliate partner research; +mailto:ana@shop.example)`: the product token robots.txt rules
    name, and the contact the user set."""
    found = contact() if contact_text is None else contact_text
    if not found:
        return f"recruiter/{VERSION} (affiliate partner research)"
    reach = found if found.startswith(("http://", "https://")) else f"mailto:{found}"
    return f"recruiter/{VERSION} (affiliate partner research; +{reach})"


DEFAULT_USER_AGENT = user_agent("")


def trust_given_urls_default() -> bool:
    """URLs a user types are trusted (may be private) unless ``RECRUITER_TRUST_GIVEN_URLS=0``.

    ``recruiter ui`` sets it to 0 when serving beyond loopback: there the "user" typing a URL is whoever
    reaches the web app, and the URLs they type must be public like any derived one.
    """
    return os.environ.get(TRUST_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


# name -> (environment variable, default). The variables keep the names users already set.
_BASES = {
    "reddit": ("RECRUITER_REDDIT_BASE", "https://www.reddit.com"),
    "reddit_oauth": ("RECRUITER_REDDIT_OAUTH_BASE", "https://oauth.reddit.com"),
    "youtube": ("RECRUITER_YOUTUBE_BASE", "https://www.youtube.com"),
    "youtube_api": ("RECRUITER_YOUTUBE_API_BASE", "https://www.googleapis.com/youtube/v3"),
    "itunes": ("RECRUITER_ITUNES_BASE", "https://itunes.apple.com"),
    "podcastindex": ("RECRUITER_PODCASTINDEX_BASE", "https://api.podcastindex.org/api/1.0"),
    "brave": ("RECRUITER_BRAVE_BASE", "https://api.search.brave.com/res/v1"),
    "web_search": ("RECRUITER_WEB_SEARCH_BASE", "https://html.duckduckgo.com/html/"),
}
BASE_VARIABLES = {name: env for name, (env, _default) in _BASES.items()}


@dataclass(frozen=True)
class BaseUrls:
    """Where each external service lives; override for tests or mirrors (`RECRUITER_*_BASE`)."""

    reddit: str = _BASES["reddit"][1]  # the site, and the OAuth token endpoint under /api/v1/access_token
    reddit_oauth: str = _BASES["reddit_oauth"][1]
    youtube: str = _BASES["youtube"][1]
    youtube_api: str = _BASES["youtube_api"][1]
    itunes: str = _BASES["itunes"][1]
    podcastindex: str = _BASES["podcastindex"][1]
    brave: str = _BASES["brave"][1]
    web_search: str = _BASES["web_search"][1]  # DuckDuckGo's HTML endpoint
    searxng: str = ""  # the user's own instance (RECRUITER_SEARXNG_URL); none by default

    @classmethod
    def from_env(cls) -> BaseUrls:
        values = {}
        for name, (env, _default) in _BASES.items():
            found = (os.environ.get(env) or "").strip()
            if found:
                values[name] = found
        searxng = stored.value("RECRUITER_SEARXNG_URL")
        if searxng:
            values["searxng"] = searxng
        return cls(**values)

    def all(self) -> list[str]:
        """Every configured base (the origins the user named: trusted even when private, like typed URLs)."""
        return [getattr(self, f.name) for f in fields(self) if getattr(self, f.name)]


@dataclass(frozen=True)
class Credentials:
    """The APIs' keys, read where the work runs. Shown as `Credentials(…)`: a repr never carries a secret."""

    reddit_client_id: str = field(default="", repr=False)
    reddit_client_secret: str = field(default="", repr=False)
    youtube_api_key: str = field(default="", repr=False)
    podcastindex_key: str = field(default="", repr=False)
    podcastindex_secret: str = field(default="", repr=False)
    brave_api_key: str = field(default="", repr=False)

    VARIABLES = {
        "reddit_client_id": "RECRUITER_REDDIT_CLIENT_ID",
        "reddit_client_secret": "RECRUITER_REDDIT_CLIENT_SECRET",
        "youtube_api_key": "RECRUITER_YOUTUBE_API_KEY",
        "podcastindex_key": "RECRUITER_PODCASTINDEX_KEY",
        "podcastindex_secret": "RECRUITER_PODCASTINDEX_SECRET",
        "brave_api_key": "RECRUITER_BRAVE_API_KEY",
    }

    @classmethod
    def from_env(cls) -> Credentials:
        found = stored.values(tuple(cls.VARIABLES.values()))
        return cls(**{attr: found[env] for attr, env in cls.VARIABLES.items()})

    def __repr__(self) -> str:
        return "Credentials(…)"

    def missing(self, *variables: str) -> list[str]:
        """Those of ``variables`` (``RECRUITER_..._KEY``) that have no value."""
        values = {env: getattr(self, attr) for attr, env in self.VARIABLES.items()}
        return [name for name in variables if not values.get(name)]

    def secrets(self) -> list[str]:
        """Every non-empty value, longest first (what error messages are scrubbed of)."""
        values = {getattr(self, attr) for attr in self.VARIABLES}
        return sorted((v for v in values if len(v) >= 4), key=len, reverse=True)


def _web_search_choice() -> str:
    return stored.value("RECRUITER_WEB_SEARCH").lower()


def _int_env(name: str, default: int) -> int:
    raw = (os.environ.get(name) or "").strip()
    try:
        return max(0, int(raw)) if raw else default
    except ValueError:
        return default


def _youtube_quota() -> int:
    return _int_env("RECRUITER_YOUTUBE_QUOTA", 10_000)


def _youtube_search_quota() -> int:
    return _int_env("RECRUITER_YOUTUBE_SEARCH_QUOTA", 100)


@dataclass(frozen=True)
class ScrapeSettings:
    """Knobs of the HTTP layer; defaults are the polite ones."""

    user_agent: str = field(default_factory=user_agent)
    per_host_delay: float = 1.0
    global_concurrency: int = 16
    connect_timeout: float = 10.0
    read_timeout: float = 15.0
    total_timeout: float = 20.0  # one request, all bytes included; cuts stalls and trickles
    max_bytes: int = 5 * 1024 * 1024
    feed_max_bytes: int = FEED_MAX_BYTES
    max_redirects: int = 10
    max_retries: int = 2
    backoff_base: float = 0.5
    max_retry_after: float = 30.0  # a longer Retry-After is an error, not a wait
    obey_robots: bool = True
    use_cache: bool = True
    accept_language: str = "en"  # YouTube and others word counts in the visitor's language
    cache_dir: Path | None = None  # None: $RECRUITER_HOME/http-cache
    base_urls: BaseUrls = field(default_factory=BaseUrls.from_env)
    credentials: Credentials = field(default_factory=Credentials.from_env, repr=False)
    web_search: str = field(default_factory=_web_search_choice)  # searxng | brave | duckduckgo | '' (first configured)
    youtube_daily_quota: int = field(default_factory=_youtube_quota)  # units a day (RECRUITER_YOUTUBE_QUOTA)
    youtube_search_quota: int = field(default_factory=_youtube_search_quota)  # search calls a day
    # Seconds between two calls to one API, per API (None: the API's documented pace, `scrapers.api.LIMITS`).
    api_intervals: dict[str, float] | None = None
    # URLs given to scrape_urls may be private (they were typed by the user); derived URLs never are.
    trust_given_urls: bool = field(default_factory=trust_given_urls_default)

    def with_(self, **changes) -> ScrapeSettings:
        return replace(self, **changes)

    def resolved_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else recruiter_home() / "http-cache"
