"""Settings of the scrapers: politeness, limits and every external base URL.

Every external base URL lives here so tests (and users behind mirrors) can point
an adapter at a loopback server instead of the real service.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from recruiter.core.config import recruiter_home

DEFAULT_USER_AGENT = "recruiter/0.1 (+https://github.com/recruiter/recruiter; affiliate partner research)"
TRUST_ENV = "RECRUITER_TRUST_GIVEN_URLS"


def trust_given_urls_default() -> bool:
    """URLs a user types are trusted (may be private) unless ``RECRUITER_TRUST_GIVEN_URLS=0``.

    ``recruiter ui`` sets it to 0 when serving beyond loopback: there the "user" typing a URL is whoever
    reaches the web app, and the URLs they type must be public like any derived one.
    """
    return os.environ.get(TRUST_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class BaseUrls:
    """Where each external service lives; override for tests or mirrors."""

    reddit: str = "https://www.reddit.com"
    youtube: str = "https://www.youtube.com"
    itunes: str = "https://itunes.apple.com"
    web_search: str = "https://html.duckduckgo.com/html/"

    @classmethod
    def from_env(cls) -> BaseUrls:
        """``RECRUITER_REDDIT_BASE`` etc. override the defaults."""
        values = {}
        for name in ("reddit", "youtube", "itunes", "web_search"):
            env = os.environ.get(f"RECRUITER_{name.upper()}_BASE")
            if env:
                values[name] = env
        return cls(**values)


@dataclass(frozen=True)
class ScrapeSettings:
    """Knobs of the HTTP layer; defaults are the polite ones the issue asks for."""

    user_agent: str = DEFAULT_USER_AGENT
    per_host_delay: float = 1.0
    global_concurrency: int = 16
    connect_timeout: float = 10.0
    read_timeout: float = 15.0
    total_timeout: float = 20.0  # one request, all bytes included; cuts stalls and trickles
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 10
    max_retries: int = 2
    backoff_base: float = 0.5
    max_retry_after: float = 30.0  # a longer Retry-After is an error, not a wait
    obey_robots: bool = True
    use_cache: bool = True
    cache_dir: Path | None = None  # None: $RECRUITER_HOME/http-cache
    base_urls: BaseUrls = field(default_factory=BaseUrls.from_env)
    # URLs given to scrape_urls may be private (they were typed by the user); derived URLs never are.
    trust_given_urls: bool = field(default_factory=trust_given_urls_default)

    def with_(self, **changes) -> ScrapeSettings:
        return replace(self, **changes)

    def resolved_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else recruiter_home() / "http-cache"
