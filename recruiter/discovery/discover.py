"""Discovery: from a merchant profile to saved, ranked communities, as the rules of one job.

A discovery is a `Job` (kind ``discover``) made of items (`recruiter.core.jobs`), run by the same code whether
it runs in this process or on workers (`recruiter.tasks`), so both save the same communities:

1. queries: the profile's (``profiles.facets.profile_queries``) plus ``--query``;
2. one ``search`` item per (source, query) for the sources that can run; a source that is not configured is
   skipped with the sentence naming what to set (`plan`), and a discovery where none can run is refused;
3. a search's results become ``url`` items. A result an API described (a subreddit with its subscribers, a
   channel with its statistics, a podcast with its feed) carries that description: it is saved from it, and
   its page or feed only enriches it; an enrichment that fails is the item's warning, not a lost result;
4. snowball: links to other sites found on good matches (blogrolls, guest lists, a subreddit's top links)
   join as ``url`` items, one level deep by default;
5. when every item is finished the profile's communities are ranked (`recruiter.tasks.work.finalize_job`)
   and `summary` words the outcome.

An interrupted run keeps its pending items: the same command (or ``--resume ID``) runs only those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, func, select

from profiles.facets import profile_queries
from recruiter.core.canonical import canonical_url
from recruiter.core.errors import InvalidValue, RecruiterError
from recruiter.core.jobs import NewItem
from recruiter.core.models import JobItem
from scrapers.adapters import ScrapeContext
from scrapers.adapters import sources as connectors
from scrapers.config import ScrapeSettings
from scrapers.records import Found


class DiscoveryError(RecruiterError, ValueError):
    pass


SOURCES = connectors.NAMES
JOB_KIND = "discover"
MAX_PROFILE_QUERIES = 6
MAX_SNOWBALL_LINKS = 10  # per good match
GOOD_THRESHOLD = 0.1
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


def is_good_match(record: dict, profile) -> bool:
    """Whether a saved record is close enough to the profile for its links to be followed."""
    terms, exclusions = profile_terms(profile)
    return match_score(record, terms, exclusions) >= GOOD_THRESHOLD


# --- planning --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "reason": self.reason}


@dataclass(frozen=True)
class DiscoveryPlan:
    """What a discovery will run: its job's parameters, its search items and the sources it skips."""

    params: dict[str, Any]
    items: list[NewItem]
    skipped: list[Skipped] = field(default_factory=list)


def check_sources(sources: list[str]) -> list[str]:
    """The requested sources, in a stable order, each known (else a clear error)."""
    if not sources:
        raise InvalidValue(f"choose at least one source: {', '.join(SOURCES)}")
    for name in sources:
        if name not in SOURCES:
            raise InvalidValue(connectors.unknown_source(name))
    return sorted(set(sources))


def plan(profile, *, sources: list[str], queries: list[str] | None = None, limit: int = 25,
         delay: float = 1.0, max_depth: int = 1, settings: ScrapeSettings | None = None) -> DiscoveryPlan:
    """The searches of a discovery: one item per (configured source, query). A source that is not configured
    here is skipped with the reason; when no source can run, the error names what each one needs."""
    chosen = check_sources(sources)
    settings = settings or ScrapeSettings()
    skipped = [Skipped(name, connectors.not_configured_message(name, settings))
               for name in chosen if connectors.SOURCES[name].missing(settings)]
    runnable = [name for name in chosen if name not in {s.source for s in skipped}]
    if not runnable:
        raise DiscoveryError("no source can run: " + "; ".join(s.reason for s in skipped))
    all_queries = build_queries(profile, list(queries or []))
    items = [NewItem(key=f"search\t{source}\t{query}", kind="search", input={"source": source, "query": query})
             for source in runnable for query in all_queries]
    params = {"profile": profile.name, "sources": chosen, "queries": list(queries or []), "limit": limit,
              "delay": delay, "max_depth": max_depth, "skipped": [s.as_dict() for s in skipped]}
    return DiscoveryPlan(params=params, items=items, skipped=skipped)


# --- what the items do (run by `recruiter.tasks.work`) -----------------------------------------------------

def found_items(found: list[Found], *, via: str, depth: int = 0) -> list[NewItem]:
    """Search results (or snowballed links) as ``url`` items, one per community (canonical URL)."""
    out: list[NewItem] = []
    for result in found:
        key = _canonical(result.url)
        if key is None:
            continue
        out.append(NewItem(key=key, kind="url", input={**result.as_input(), "depth": depth, "via": via,
                                                        "source": result.source}))
    return out


def link_items(links: list[str], *, via: str, depth: int) -> list[NewItem]:
    return found_items([Found(url=link) for link in links[:MAX_SNOWBALL_LINKS]], via=via, depth=depth)


SOURCE_PROBLEMS = ("quota", "bad_key", "rate_limited", "not_configured")


def search_error(source: str, query: str, exc: Exception) -> str:
    """A failed search in one line. A problem of the source itself (its quota, its key, its rate limit) is
    worded without the query, so the searches it stopped read as one reason, said once."""
    if getattr(exc, "kind", "") in SOURCE_PROBLEMS:
        return f"{source}: {exc}"
    return f"{source} search {query!r}: {exc}"


async def search(ctx: ScrapeContext, source: str, query: str, limit: int) -> list[Found]:
    """One search: the source's results for the query (errors name the source, the problem, what to do)."""
    return await connectors.search(ctx, source, query, limit)


# --- the outcome ---------------------------------------------------------------------------------------------

def _distinct(messages: list[str], limit: int = 20) -> list[str]:
    """Messages without repeats: the same reason for five searches is said once, with how often."""
    counts: dict[str, int] = {}
    for message in messages:
        counts[message] = counts.get(message, 0) + 1
    out = [m if n == 1 else f"{m} (×{n})" for m, n in counts.items()]
    return out[:limit]


def summary(job_id: int, *, session: Session) -> dict[str, Any]:
    """What a discovery did, from its items: searches, scraped, saved, failed, good matches, the errors and
    warnings (each said once), the skipped sources."""
    rows = session.exec(select(JobItem.kind, JobItem.state, func.count()).where(JobItem.job_id == job_id)
                        .group_by(JobItem.kind, JobItem.state)).all()
    counts = {(kind, state): int(n) for kind, state, n in rows}
    searched = sum(n for (kind, state), n in counts.items() if kind == "search" and state != "pending")
    scraped = sum(n for (kind, state), n in counts.items() if kind == "url" and state != "pending")
    saved = counts.get(("url", "done"), 0)
    failed = sum(n for (_kind, state), n in counts.items() if state == "failed")
    errors = [e for e in session.exec(select(JobItem.error).where(JobItem.job_id == job_id,
                                                                   JobItem.state == "failed")
                                      .order_by(JobItem.position)).all() if e] if failed else []
    notes = session.exec(select(JobItem.note, JobItem.output).where(JobItem.job_id == job_id,
                                                                     JobItem.state == "done", JobItem.kind == "url")
                         .order_by(JobItem.position)).all()
    warnings = [note for note, _output in notes if note]
    good = sum(1 for _note, output in notes if (output or {}).get("good"))
    return {"searched": searched, "scraped": scraped, "saved": saved, "failed": failed, "good_matches": good,
            "errors": _distinct(errors), "warnings": _distinct(warnings), "warned": len(warnings)}
