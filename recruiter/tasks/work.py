"""What one job item does, whoever runs it: a Celery worker or the in-process runner.

Item kinds:
- `url`    scrape one URL (async httpx through the polite client), upsert the record by canonical URL,
           embed it into the database's embedding cache; a discovered result that came with its source's
           description is saved from it and only enriched by its page or feed (a failed enrichment is the
           item's note); in a discover job, good matches add their outbound links as new `url` items (one
           level deep by default);
- `rows`   a chunk of import rows (the file was read where the command ran): upsert and embed;
- `search` one discovery search (source × query, `recruiter.discovery.discover`): its results become `url`
           items.

Every item is idempotent: an upsert by canonical URL, an embedding cache keyed by text digest, items keyed
within the job. The item's own transition (`complete_item`) commits together with any items it adds, so a job
is never seen finished while its children are still being written. When the last item finishes,
`finalize_job` syncs this machine's index from the embedding cache (nothing is embedded twice), ranks the
profile of a discover job, and settles the job's state from its counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from profiles.service import require_profile
from recruiter.catalogue.importing import ImportReport, RawRow, save_records
from recruiter.core.db import open_session
from recruiter.core.jobs import (
    FINISHED,
    add_items,
    claim_item,
    complete_item,
    fail_job,
    get_job,
    pending_items,
    settle_job,
    unfinished_count,
    update_job,
)
from recruiter.core.models import Community, Job, JobItem, utcnow
from recruiter.core.text import community_text
from recruiter.discovery import discover
from recruiter.matching.embedding import get_embedding_service
from recruiter.matching.index import refresh_index
from recruiter.matching.ranking import rank_communities
from scrapers.adapters import AdapterError, ScrapeContext
from scrapers.config import ScrapeSettings
from scrapers.http import FetchError, HostGate, PoliteClient
from scrapers.records import to_import_record
from scrapers.scrape import enrich, scrape_one_with_links

log = logging.getLogger(__name__)


def scrape_settings(params: dict[str, Any], base: ScrapeSettings | None = None) -> ScrapeSettings:
    """The job's politeness and limits (what `--delay`, `--timeout`... asked for), over ``base`` (the settings
    of this machine: its credentials and base URLs; tests pass their own)."""
    settings = base or ScrapeSettings()
    changes: dict[str, Any] = {}
    if params.get("delay") is not None:
        changes["per_host_delay"] = float(params["delay"])
    if params.get("timeout") is not None:
        changes["total_timeout"] = float(params["timeout"])
    if params.get("concurrency") is not None:
        changes["global_concurrency"] = int(params["concurrency"])
    if params.get("user_agent"):
        changes["user_agent"] = str(params["user_agent"])
    return settings.with_(**changes) if changes else settings


@dataclass
class Runtime:
    """What items need from whoever runs them."""

    worker: str
    embed_each: bool = True  # workers embed per item; the in-process runner embeds once at the end
    gate_factory: Callable[[], HostGate] | None = None
    transport: Any = None  # tests inject an httpx transport
    settings: ScrapeSettings | None = None  # tests inject settings (else this machine's, per job)
    _clients: dict[int, PoliteClient] = field(default_factory=dict)

    def gate_error(self) -> Exception | None:
        """A failure of the shared gate since the last call (the cluster failed, not the URL)."""
        gate = self.gate_factory() if self.gate_factory else None
        take = getattr(gate, "take_error", None)
        return take() if take else None

    def client_for(self, job: Job) -> PoliteClient:
        """One polite client per job (robots.txt read once per host, as in one in-process run)."""
        client = self._clients.get(int(job.id))
        if client is None:
            gate = self.gate_factory() if self.gate_factory else None
            client = PoliteClient(scrape_settings(job.params or {}, self.settings), transport=self.transport,
                                  gate=gate)
            self._clients[int(job.id)] = client
        return client

    async def close_clients(self, keep: set[int] | None = None) -> None:
        for job_id in [j for j in self._clients if keep is None or j not in keep]:
            await self._clients.pop(job_id).aclose()


def embed_urls(urls: list[str], *, session: Session) -> int:
    """Put the vectors of these communities into the database's embedding cache; returns how many were new."""
    if not urls:
        return 0
    communities = session.exec(select(Community).where(Community.url.in_(urls))).all()
    items = [(c.content_hash, community_text(c)) for c in communities if c.content_hash]
    return get_embedding_service().ensure_cached(items, session=session)


async def run_item(job_id: int, key: str, rt: Runtime) -> list[str]:
    """Run one item if it is still pending; returns the keys of items it added (to be scheduled)."""
    with open_session() as session:
        job = get_job(job_id, session=session)
        if job.state in FINISHED:
            return []
        item = claim_item(job_id, key, session=session, worker=rt.worker)
        if item is None:
            return []
    if item.kind == "rows":
        return _import_rows(job, item, rt)
    if item.kind == "search":
        return await _search_item(job, item, rt)
    return await _url_item(job, item, rt)


def _import_rows(job: Job, item: JobItem, rt: Runtime) -> list[str]:
    rows = [RawRow(int(line), data) for line, data in item.input.get("rows") or []]
    with open_session() as session:
        report = save_records(rows, session=session, source="import", label=item.input.get("label", ""),
                              report=ImportReport(touched=set()))
        if rt.embed_each:
            embed_urls(sorted(report.touched or ()), session=session)
        error = None
        if rows and not report.imported:
            error = "; ".join(report.errors[:3]) or "no row could be imported"
        complete_item(job.id, item.key, session=session, worker=rt.worker, error=error)
    return []


async def _search_item(job: Job, item: JobItem, rt: Runtime) -> list[str]:
    client = rt.client_for(job)
    ctx = ScrapeContext(client=client, settings=client.settings)
    source, query = item.input["source"], item.input["query"]
    try:
        found = await discover.search(ctx, source, query, int(job.params.get("limit", 25)))
    except (FetchError, AdapterError) as exc:
        with open_session() as session:
            complete_item(job.id, item.key, session=session, worker=rt.worker,
                          error=discover.search_error(source, query, exc))
        return []
    children = discover.found_items(found, via=f"{source}: {query}")
    with open_session() as session:
        added = add_items(job.id, children, session=session, commit=False)
        complete_item(job.id, item.key, session=session, worker=rt.worker,
                      output={"found": len(found), "new": len(added)})
    return added


async def _url_item(job: Job, item: JobItem, rt: Runtime) -> list[str]:
    client = rt.client_for(job)
    ctx = ScrapeContext(client=client, settings=client.settings)
    url = item.input["url"]
    if job.kind == "scrape" and (job.params or {}).get("trust_given") and isinstance(url, str):
        client.trust(url)  # typed by the user where the job was made (never a derived or discovered URL)
    rt.gate_error()  # forget failures that belong to earlier tasks
    note = None
    known = item.input.get("record")
    if isinstance(known, dict) and known:
        record, links, note = await enrich(ctx, url, known, authoritative=bool(item.input.get("authoritative", True)),
                                           source=str(item.input.get("source") or "the search"))
    else:
        record, links = await scrape_one_with_links(ctx, url)
    gate_error = rt.gate_error()
    if gate_error is not None and (not record.get("ok") or note):
        raise gate_error  # retried by the task, not recorded as the URL's failure
    with open_session() as session:
        if not record.get("ok"):
            complete_item(job.id, item.key, session=session, worker=rt.worker, error=record.get("error") or "failed")
            return []
        report = save_records([to_import_record(record)], session=session, source=job.kind,
                              report=ImportReport(touched=set()))
        if not report.imported:
            complete_item(job.id, item.key, session=session, worker=rt.worker,
                          error="; ".join(report.errors) or "not saved")
            return []
        if rt.embed_each:
            embed_urls(sorted(report.touched or ()), session=session)
        added: list[str] = []
        output: dict[str, Any] = {"communities": sorted(report.touched or ())}
        depth = int(item.input.get("depth", 0))
        if job.kind == "discover":
            profile = require_profile(job.params["profile"], session=session)
            output["good"] = discover.is_good_match(record, profile)
            if output["good"] and depth < int(job.params.get("max_depth", 1)):
                children = discover.link_items(links, via=f"linked from {record['url']}", depth=depth + 1)
                added = add_items(job.id, children, session=session, commit=False)
        complete_item(job.id, item.key, session=session, worker=rt.worker, note=note, output=output)
    return added


def fail_item(job_id: int, key: str, error: str, *, worker: str) -> None:
    """An item whose task kept raising: failed with the reason (its input stays for `job retry`)."""
    with open_session() as session:
        complete_item(job_id, key, session=session, worker=worker, error=error)


def finalize_job(job_id: int) -> bool:
    """When every item is finished: sync the index here, rank a discover job's profile, settle the state.

    Safe to run twice (a redelivered last task, two workers finishing together): the sync derives from the
    database and the state moves only once. Returns True when the job is (now) finished."""
    with open_session() as session:
        job = get_job(job_id, session=session)
        if job.state in FINISHED:
            return True
        if unfinished_count(job_id, session=session):
            return False
        result: dict[str, Any] = {}
        try:
            result["embedded"] = refresh_index(session=session)
            if job.kind == "discover":
                result.update(discover.summary(job_id, session=session))
                result["skipped"] = list((job.params or {}).get("skipped") or [])
            if job.kind == "discover" and job.done:
                profile = require_profile(job.params["profile"], session=session)
                ranked = rank_communities(profile, session=session, limit=int(job.params.get("limit", 25)))
                result["ranked"] = [r.as_dict() for r in ranked]
        except Exception as exc:
            log.exception("finishing job %s failed", job_id)
            session.rollback()
            fail_job(job_id, f"finishing the job failed: {type(exc).__name__}: {exc}", session=session)
            return True
        settle_job(job_id, session=session, result=result)
        return True


async def run_job_inline(job_id: int, *, transport: Any = None, concurrency: int | None = None,
                         progress: Callable[[int, int], None] | None = None,
                         settings: ScrapeSettings | None = None) -> None:
    """Run every pending item of a job in this process (no broker), then finish it: the embedded default.

    Items run concurrently through one polite client; new items (discovery) join as they appear. Stopped
    (Ctrl-C, a cancelled task), the job is left `interrupted` with its unfinished items pending: running it
    again finishes only those."""
    rt = Runtime(worker="in-process", embed_each=False, transport=transport, settings=settings)
    with open_session() as session:
        job = get_job(job_id, session=session)
        limit = concurrency or scrape_settings(job.params or {}, settings).global_concurrency
        if job.state in ("interrupted", "failed", "queued"):
            update_job(job, session=session, state="running", error=None)
    semaphore = asyncio.Semaphore(max(1, limit))

    async def one(key: str) -> list[str]:
        async with semaphore:
            try:
                return await run_item(job_id, key, rt)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("item %s of job %s failed", key, job_id)
                fail_item(job_id, key, f"{type(exc).__name__}: {exc}", worker=rt.worker)
                return []

    tasks: list[asyncio.Future] = []
    try:
        while True:
            with open_session() as session:
                keys = [item.key for item in pending_items(job_id, session=session)]
            if not keys:
                break
            tasks = [asyncio.ensure_future(one(k)) for k in keys]
            for finished in asyncio.as_completed(tasks):
                await finished
                if progress:
                    with open_session() as session:
                        job = get_job(job_id, session=session)
                        progress(int(job.done + job.failed), int(job.total))
        await asyncio.to_thread(finalize_job, job_id)
    except BaseException:
        for task in tasks:
            task.cancel()
        interrupt_job(job_id)
        raise
    finally:
        await rt.close_clients()


def interrupt_job(job_id: int) -> None:
    """A run stopped before its end: `interrupted`, its pending items kept for the next run."""
    try:
        with open_session() as session:
            session.execute(update(Job).where(Job.id == job_id, Job.state.not_in(FINISHED))
                            .values(state="interrupted", error="interrupted; run the same command again to resume",
                                    updated_at=utcnow()))
            session.commit()
    except Exception:  # the database may be what failed: the error that stopped the run is the one to show
        log.exception("could not record that job %s was interrupted", job_id)
