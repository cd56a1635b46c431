"""Discovery: from a merchant profile to saved, ranked communities.

One run is a persisted ``Job`` (kind ``discover``) whose ``cursor`` holds everything
needed to resume — which searches are done, the frontier of URLs still to scrape,
and every canonical URL already seen — and is written after each search and each
batch of scrapes. An interrupted run (Ctrl-C, a crash, the machine going away)
resumes from the cursor: searches are not repeated and no URL is fetched twice.

The steps:
1. queries: the profile's (``profiles.facets.profile_queries``) plus ``--query``;
2. search each source (Reddit, Apple Podcasts, YouTube, the web) for each query;
3. scrape the frontier in batches through one polite client, save the successful
   records through the core (``save_records``, which never overwrites stored
   values with empty ones);
4. snowball: links to other sites found on good matches (blogrolls, guest lists,
   "related" sections come first) join the frontier, one level deep by default;
5. rank the profile's communities with the core's ranking.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from profiles.facets import profile_queries
from recruiter.catalogue.importing import save_records
from recruiter.core.canonical import canonical_url
from recruiter.core.errors import RecruiterError
from recruiter.core.jobs import (
    NewItem,
    add_items,
    complete_item,
    create_job,
    find_resumable,
    finish_job,
    get_job,
    outcome,
    update_job,
)
from recruiter.core.models import Job
from recruiter.matching.index import refresh_index
from recruiter.matching.ranking import rank_communities
from scrapers.adapters import ScrapeContext, apple_podcasts, reddit, web_search, youtube
from scrapers.config import ScrapeSettings
from scrapers.http import FetchError, PoliteClient
from scrapers.records import to_import_record
from scrapers.scrape import scrape_one_with_links

log = logging.getLogger(__name__)


class DiscoveryError(RecruiterError, ValueError):
    pass

SOURCES = ("reddit", "podcasts", "youtube", "web")
JOB_KIND = "discover"
BATCH = 8
MAX_PROFILE_QUERIES = 6
MAX_SNOWBALL_LINKS = 10  # per good match
_STOPWORDS = set(
    ["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is", "it", "its", "of", "on", "or", "our", "that", "the", "their", "this", "to", "we", "with", "you", "your", "who", "what", "which", "how", "into", "about", "more", "most", "can", "will", "not", "but", "all", "any"]
)


def _canonical(url: str) -> str | None:
    try:
        return canonical_url(url)
    except ValueError:
        return None


def build_queries(profile, extra: list[str]) -> list[str]:
    """The profile's short queries (from its facets), then the extra ones."""
    base = profile_queries(profile)
    queries = [q.strip() for q in list(extra) + list(base)[:MAX_PROFILE_QUERIES] if q and q.strip()]
    return list(dict.fromkeys(queries))


def profile_terms(profile) -> tuple[list[str], list[str]]:
    """(terms that signal a match, terms that rule one out), lower-case."""
    terms = [k.lower().strip() for k in profile.keywords or [] if k.strip()]
    words = re.findall(r"[a-zA-Z][a-zA-Z'-]{3,}", profile.description or "")
    terms += [w.lower() for w in words if w.lower() not in _STOPWORDS]
    exclusions = [e.lower().strip() for e in profile.exclusions or [] if e.strip()]
    return list(dict.fromkeys(terms)), exclusions


def match_score(record: dict, terms: list[str], exclusions: list[str]) -> float:
    """Share of the profile's terms found in the record's text; 0 when an exclusion appears."""
    text = " ".join(
        str(record.get(k) or "") for k in ("name", "title", "description", "site_name")
    ) + " " + " ".join(str(i.get("title") or "") for i in record.get("items") or [])
    text = text.lower()
    if not terms or any(e and e in text for e in exclusions):
        return 0.0
    hits = sum(1 for t in terms if t in text)
    return hits / min(len(terms), 10)


@dataclass
class DiscoverState:
    """The job's cursor: everything a resumed run needs."""

    searches_done: list[str] = field(default_factory=list)  # "source\tquery"
    frontier: list[dict] = field(default_factory=list)  # {"url", "depth", "via"}
    seen: list[str] = field(default_factory=list)  # canonical URLs queued or scraped
    scraped: int = 0
    saved: int = 0
    failed: int = 0
    good: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_cursor(cls, cursor: dict | None) -> DiscoverState:
        state = cls()
        for key, value in (cursor or {}).items():
            if hasattr(state, key):
                setattr(state, key, value)
        return state

    def to_cursor(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _save_state(job: Job, state: DiscoverState, *, session, status: str | None = None,
                error: str | None = None, result: dict | None = None) -> None:
    """Write the cursor and progress after each search and each batch (what a resumed run continues from)."""
    changes: dict[str, Any] = {"cursor": state.to_cursor(), "done": state.scraped - state.failed,
                               "failed": state.failed + _failed_searches(state), "total": state.scraped + len(state.frontier)}
    if status is None:
        update_job(job, session=session, **changes)
        return
    update_job(job, session=session, **changes)
    finish_job(job, session=session, state=status, error=error, result=result)


async def _search(ctx: ScrapeContext, source: str, query: str, limit: int) -> list[str]:
    if source == "reddit":
        return await reddit.search(ctx, query, limit)
    if source == "podcasts":
        return [p["feed_url"] for p in await apple_podcasts.search(ctx, query, limit)]
    if source == "youtube":
        return await youtube.search(ctx, query, limit)
    if source == "web":
        return await web_search.search(ctx, query, limit)
    raise DiscoveryError(f"unknown source {source!r}")


Progress = Callable[[str, int, int], None]


def _failed_searches(state: DiscoverState) -> int:
    return sum(1 for e in state.errors if " search " in e)


def _record_failure(job: Job, key: str, kind: str, data: dict, error: str, *, session) -> None:
    """A failed search or URL as a failed job item: shown with its reason, re-run by `recruiter job retry`."""
    if key in add_items(job.id, [NewItem(key=key, kind=kind, input=data)], session=session, commit=False):
        complete_item(job.id, key, session=session, error=error)
    else:
        session.commit()


def _save_quietly(session, job: Job, state: DiscoverState, status: str, error: str) -> None:
    """Record how the run ended without masking the error that ended it."""
    try:
        session.rollback()
        _save_state(job, state, session=session, status=status, error=error)
    except Exception:  # the database itself may be what failed
        log.exception("could not record the %s state of discover job %s", status, getattr(job, "id", "?"))


async def run_discovery(
    profile,
    *,
    session,
    sources: list[str],
    queries: list[str],
    limit: int = 25,
    settings: ScrapeSettings | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    job_id: int | None = None,
    max_depth: int = 1,
    good_threshold: float = 0.1,
    rank: bool = True,
    embed: bool = True,
    progress: Progress | None = None,
) -> dict:
    """Run (or resume) a discovery job; returns the job's result dict (``job_id`` included)."""
    settings = settings or ScrapeSettings()
    params = {"profile": profile.name, "sources": sorted(set(sources)), "queries": list(queries), "limit": limit}
    job = (get_job(job_id, session=session, kind=JOB_KIND) if job_id is not None
           else find_resumable(JOB_KIND, params, session=session))
    if job is None:
        job = create_job(JOB_KIND, session=session, params=params)
    else:
        if job.params.get("profile") != profile.name:
            raise DiscoveryError(f"job {job.id} was started for profile {job.params.get('profile')!r}, "
                                 f"not {profile.name!r}")
        params = dict(job.params)
        update_job(job, session=session, state="running")
    state = DiscoverState.from_cursor(job.cursor)
    seen = set(state.seen)
    terms, exclusions = profile_terms(profile)
    all_queries = build_queries(profile, params.get("queries") or [])
    report = progress or (lambda stage, done, total: None)

    def enqueue(url: str, depth: int, via: str) -> None:
        key = _canonical(url)
        if key is None or key in seen:
            return
        seen.add(key)
        state.seen.append(key)
        state.frontier.append({"url": url, "depth": depth, "via": via})

    client = PoliteClient(settings, transport=transport)
    ctx = ScrapeContext(client=client, settings=settings)
    try:
        searches = [(s, q) for s in params["sources"] for q in all_queries]
        for number, (source, query) in enumerate(searches, start=1):
            key = f"{source}\t{query}"
            if key in state.searches_done:
                continue
            report("searching", number, len(searches))
            try:
                for url in await _search(ctx, source, query, params.get("limit", limit)):
                    enqueue(url, 0, f"{source}: {query}")
            except FetchError as exc:
                state.errors.append(f"{source} search {query!r}: {exc}")
                _record_failure(job, f"search\t{source}\t{query}", "search", {"source": source, "query": query},
                                f"{source} search {query!r}: {exc}", session=session)
            state.searches_done.append(key)
            _save_state(job, state, session=session)
        while state.frontier:
            batch = state.frontier[:BATCH]
            results = await asyncio.gather(*(scrape_one_with_links(ctx, entry["url"]) for entry in batch))
            good_records = []
            for entry, (record, links) in zip(batch, results, strict=True):
                state.scraped += 1
                if not record["ok"]:
                    state.failed += 1
                    _record_failure(job, _canonical(entry["url"]) or entry["url"], "url", dict(entry),
                                    record["error"] or "failed", session=session)
                    continue
                good_records.append(record)
                if match_score(record, terms, exclusions) >= good_threshold:
                    state.good.append(record["url"])
                    if entry["depth"] < max_depth:
                        for link in links[:MAX_SNOWBALL_LINKS]:
                            enqueue(link, entry["depth"] + 1, f"linked from {record['url']}")
            if good_records:
                saved = save_records([to_import_record(r) for r in good_records], session=session,
                                     source="discover")
                if embed:
                    refresh_index(session=session)
                state.saved += saved.created + saved.updated + saved.unchanged
            # Only now is the batch done: a crash before this line re-scrapes it, never skips it.
            del state.frontier[: len(batch)]
            _save_state(job, state, session=session)
            report("scraping", state.scraped, state.scraped + len(state.frontier))
        ranked: list[dict[str, Any]] = []
        if rank:
            report("ranking", 0, 1)
            ranked = [r.as_dict() for r in rank_communities(profile, session=session, limit=params.get("limit", limit))]
        result = {
            "job_id": job.id, "searched": len(state.searches_done), "scraped": state.scraped, "saved": state.saved,
            "failed": state.failed, "good_matches": len(state.good), "errors": state.errors[-20:], "ranked": ranked,
        }
        # Failed searches count as failures too: offline, a run that found and saved nothing is `failed`, and
        # one with some failures `partial`, never a green `done`.
        status = outcome(state.scraped - state.failed, state.failed + _failed_searches(state))
        result["state"] = status
        _save_state(job, state, session=session, status=status, result=result,
                    error=None if status != "failed" else "; ".join(state.errors[-3:]) or "every URL failed")
        return result
    except (asyncio.CancelledError, KeyboardInterrupt):
        _save_quietly(session, job, state, "interrupted", "interrupted; run the same command again to resume")
        raise
    except Exception as exc:
        _save_quietly(session, job, state, "failed", f"{type(exc).__name__}: {exc}")
        raise
    finally:
        await client.aclose()
