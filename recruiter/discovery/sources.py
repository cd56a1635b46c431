"""The discovery sources as the user manages them: which are configured, checking them, storing their keys.

`recruiter sources [check|set|unset]` and the web app's Sources panel call these, so both list the same
sources, check them with the same cheap call and refuse the same values. Keys are stored owner-only in
`$RECRUITER_HOME` (`recruiter.core.credentials`) and only ever shown masked; a check's message is scrubbed of
every secret before it leaves (an API that echoes a key in its error must not print it).

Storing or removing a key needs SOURCES (`recruiter.accounts.roles`); the audit log records the variable's name
("credentials.set" / "credentials.unset"), never its value.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlmodel import Session

from recruiter.accounts import audit
from recruiter.accounts.roles import SOURCES, Actor, require
from recruiter.core import credentials
from recruiter.core.credentials import Credential
from recruiter.core.errors import InvalidValue
from scrapers.adapters import ScrapeContext
from scrapers.adapters import sources as connectors
from scrapers.adapters.sources import SourceCheck, SourceStatus
from scrapers.adapters.web_search import ENGINES
from scrapers.api import scrub
from scrapers.config import ScrapeSettings, trust_given_urls_default, valid_contact
from scrapers.http import PoliteClient

SEARXNG_SERVED_TO_OTHERS = ("the app is served beyond this machine: set the SearXNG address on the server "
                            "(recruiter sources set RECRUITER_SEARXNG_URL), where it is trusted as your own instance")


@dataclass(frozen=True)
class SourceView:
    """A source with its variables as they may be shown (secrets masked)."""

    status: SourceStatus
    settings: list[Credential] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = self.status.as_dict()
        out["settings"] = [{"variable": c.name, "set": c.is_set, "from": c.origin, "value": c.shown,
                            "secret": c.secret} for c in self.settings]
        return out


def list_sources(settings: ScrapeSettings | None = None) -> list[SourceView]:
    settings = settings or ScrapeSettings()
    return [SourceView(status=s, settings=[credentials.describe(v) for v in s.variables])
            for s in connectors.statuses(settings)]


def contact_note() -> str:
    return connectors.contact_note()


async def _check_all(names: list[str], settings: ScrapeSettings,
                     transport: httpx.AsyncBaseTransport | None) -> list[SourceCheck]:
    async with PoliteClient(settings, transport=transport) as client:
        ctx = ScrapeContext(client=client, settings=settings)
        results = await asyncio.gather(*(connectors.check_source(ctx, name) for name in names))
    secrets = settings.credentials.secrets()
    return [SourceCheck(r.name, r.ok, r.status, scrub(r.message, secrets)) for r in results]


def check_sources(names: list[str] | None = None, *, settings: ScrapeSettings | None = None,
                  transport: httpx.AsyncBaseTransport | None = None) -> list[SourceCheck]:
    """One cheap call per source (all of them, or ``names``): ok, or the exact problem. Runs its own event
    loop: call it from a thread (the web app does) or a command."""
    wanted = list(names or connectors.NAMES)
    for name in wanted:
        if name not in connectors.SOURCES:
            raise InvalidValue(connectors.unknown_source(name))
    return asyncio.run(_check_all(wanted, settings or ScrapeSettings(), transport))


def set_setting(name: str, value: str, *, actor: Actor, session: Session) -> Credential:
    """Store one source variable (empty removes it); the same rules for the CLI and the web app. Needs SOURCES;
    audited with the variable's name only."""
    actor = require(actor, SOURCES, session=session)
    name = name.strip().upper()
    if not name.startswith("RECRUITER_"):
        name = "RECRUITER_" + name
    if name == "RECRUITER_WEB_SEARCH" and value.strip() and value.strip().lower() not in ENGINES:
        raise InvalidValue(f"RECRUITER_WEB_SEARCH must be {', '.join(ENGINES[:-1])} or {ENGINES[-1]}")
    if name == "RECRUITER_SEARXNG_URL" and value.strip() and not value.strip().startswith(("http://", "https://")):
        raise InvalidValue("RECRUITER_SEARXNG_URL must be your instance's http(s) address")
    if name == "RECRUITER_SEARXNG_URL" and value.strip() and not trust_given_urls_default():
        # The instance's address is trusted like a typed URL (it may be on your own network): whoever reaches
        # an app served to others must not point the server at an internal address.
        raise InvalidValue(SEARXNG_SERVED_TO_OTHERS)
    if name == "RECRUITER_CONTACT" and value.strip() and not valid_contact(value.strip()):
        raise InvalidValue("RECRUITER_CONTACT must be an email address or an http(s) URL where you can be reached")
    stored = credentials.store(name, value.strip().lower() if name == "RECRUITER_WEB_SEARCH" else value)
    audit.record(actor, "credentials.set" if value.strip() else "credentials.unset", stored.name, session=session)
    session.commit()
    return stored
