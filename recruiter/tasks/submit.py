"""From a request to a job: one item per unit of work, then the broker or the in-process runner.

The faces (CLI `--queue`, the discover page) call these; nothing here waits for the work, and sending a job
loads none of the scraping or matching code (the work modules are imported where the work runs). Inputs are stored
with the items, so `job retry` re-runs exactly the failed ones and an import's rows travel through the
database, not the broker (the file was read where the command ran; a worker on another machine could not).

Starting work is a change: a scrape, a discovery or a retry needs DISCOVER, a queued import IMPORT
(`recruiter.accounts.roles`), and each is recorded in the audit log with the job it made, in the same commit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session

from profiles.service import require_profile
from recruiter.accounts import audit
from recruiter.accounts.roles import DISCOVER, IMPORT, Actor, require
from recruiter.catalogue.importing import RowError, normalize_record, read_rows
from recruiter.core.canonical import canonical_url
from recruiter.core.errors import InvalidValue
from recruiter.core.jobs import (
    NewItem,
    create_job,
    find_resumable,
    get_job,
    job_view,
    pending_items,
    retry_failed,
    update_job,
)
from recruiter.core.models import Job
from recruiter.tasks.app import BROKER_MARK, broker_url, enqueue

IMPORT_CHUNK = 100


def queue_available() -> bool:
    return broker_url() is not None


def read_url_file(path: Path | str) -> list[str]:
    """URLs from a text file, one per line; blank lines and `#` comments are skipped."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidValue(f"{path}: cannot read: {exc.strerror or exc}") from None
    if b"\x00" in raw[:4096]:
        raise InvalidValue(f"{path}: not a text file of URLs (one per line)")
    text = raw.decode("utf-8-sig", errors="replace")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _host(url: str) -> str:
    try:
        return urlsplit(url if "://" in url else "https://" + url).netloc.lower()
    except ValueError:
        return ""


def interleave_by_host(urls: list[str]) -> list[str]:
    """Round-robin over hosts: consecutive tasks go to different sites, so politeness waits overlap."""
    by_host: dict[str, list[str]] = {}
    for url in urls:
        by_host.setdefault(_host(url), []).append(url)
    queues = list(by_host.values())
    out: list[str] = []
    while queues:
        out.extend(q.pop(0) for q in queues)
        queues = [q for q in queues if q]
    return out


def url_items(urls: list[str]) -> list[NewItem]:
    """One item per distinct community: the key is the canonical URL (the raw text when it is no URL; that
    item then fails with the scraper's reason)."""
    items = []
    for url in interleave_by_host(urls):
        try:
            key = canonical_url(url)
        except ValueError:
            key = url
        items.append(NewItem(key=key, kind="url", input={"url": url}))
    return items


def _audited(actor: Actor, action: str, target: str = "", **detail: Any) -> Callable[[Job], None]:
    """What `create_job` calls before its commit: the audit entry of the new job, committed with it."""
    def record(job: Job) -> None:
        audit.record(actor, action, target or f"job {job.id}", {"job": job.id, **detail}, session=Session.object_session(job))
    return record


def submit_scrape(urls: list[str], *, actor: Actor, session: Session, delay: float = 1.0,
                  timeout: float | None = None, user_agent: str | None = None, concurrency: int | None = None,
                  state: str = "queued", trust_given: bool | None = None) -> Job:
    """A scrape job of URLs the user typed. They keep the trust they have where the job is made (the command
    line trusts what its user types, even on a private network; the web app served to others does not):
    whoever runs the job, here or on a worker, fetches them under the same rule. Needs DISCOVER; audited as
    "job.scrape"."""
    actor = require(actor, DISCOVER, session=session)
    if not urls:
        raise InvalidValue("no URLs to scrape")
    if trust_given is None:
        from scrapers.config import trust_given_urls_default

        trust_given = trust_given_urls_default()
    params: dict[str, Any] = {"urls": len(urls), "delay": delay, "save": True, "trust_given": bool(trust_given)}
    if timeout is not None:
        params["timeout"] = timeout
    if user_agent:
        params["user_agent"] = user_agent
    if concurrency:
        params["concurrency"] = concurrency
    return create_job("scrape", session=session, params=params, state=state, items=url_items(urls),
                      on_created=_audited(actor, "job.scrape", urls=len(urls)))


def submit_import(paths: list[Path], *, actor: Actor, session: Session) -> tuple[Job | None, list[str]]:
    """Read and check the files here; the good rows become items of IMPORT_CHUNK rows. Returns the job (None
    when no row was usable) and the `line N: reason` errors of the rows left out. Needs IMPORT; audited as
    "import" (queued, with the job)."""
    actor = require(actor, IMPORT, session=session)
    errors: list[str] = []
    items: list[NewItem] = []
    for path in paths:
        label = str(path) if len(paths) > 1 else ""
        try:
            rows = list(read_rows(path))
        except RowError as exc:
            errors.append(f"{path}: {exc}")
            continue
        except OSError as exc:
            errors.append(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        except UnicodeError as exc:
            errors.append(f"{path}: not a text file: {exc}")
            continue
        good: list[list[Any]] = []
        for row in rows:
            try:
                normalize_record(row.data)
            except RowError as exc:
                errors.append(f"{label + ': ' if label else ''}line {row.line}: {exc}")
                continue
            good.append([row.line, json.loads(json.dumps(row.data, default=str))])
        for start in range(0, len(good), IMPORT_CHUNK):
            chunk = good[start:start + IMPORT_CHUNK]
            items.append(NewItem(key=f"{path}:{chunk[0][0]}-{chunk[-1][0]}", kind="rows", size=len(chunk),
                                 input={"label": label, "file": str(path), "rows": chunk}))
    if not items:
        return None, errors
    names = [Path(p).name for p in paths]
    job = create_job("import", session=session, state="queued", items=items,
                     params={"files": [str(p) for p in paths], "skipped": len(errors), "errors": errors[:100]},
                     on_created=_audited(actor, "import", ", ".join(names), files=names, queued=True,
                                         rows=sum(item.size for item in items), skipped=len(errors)))
    return job, errors


def submit_discover(profile_name: str, *, actor: Actor, session: Session, sources: list[str],
                    queries: list[str] | None = None, limit: int = 25, delay: float = 1.0, max_depth: int = 1,
                    state: str = "queued", settings: Any = None) -> Job:
    """A discovery as items: one per (source, query) search of the sources configured here; results and
    snowballed links join as they come. A source that is not configured is skipped (the job's params name it
    and what to set); none that can run is an error naming what each needs. Needs DISCOVER; audited as
    "job.discover"."""
    from recruiter.discovery.discover import plan

    actor = require(actor, DISCOVER, session=session)
    profile = require_profile(profile_name, session=session)
    planned = plan(profile, sources=sources, queries=queries, limit=limit, delay=delay, max_depth=max_depth,
                   settings=settings)
    return _discovery_job(planned, actor=actor, session=session, state=state)


def _discovery_job(planned, *, actor: Actor, session: Session, state: str) -> Job:
    """The job of a planned discovery, audited as "job.discover" in the same commit."""
    from recruiter.discovery.discover import JOB_KIND

    params = planned.params
    return create_job(JOB_KIND, session=session, params=params, state=state, items=planned.items,
                      on_created=_audited(actor, "job.discover", params["profile"], sources=list(params["sources"]),
                                          queries=list(params["queries"])))


def run_discovery(profile_name: str, *, actor: Actor, session: Session, sources: list[str],
                  queries: list[str] | None = None, limit: int = 25, delay: float = 1.0, resume: int | None = None,
                  transport: Any = None, settings: Any = None,
                  progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """A discovery run here and now (no broker), through the same items the workers run: a new job, or the
    unfinished one asked the same way (or `resume`), continued where it stopped. Returns the job's result
    (counts, errors and warnings said once, skipped sources, the ranking) with its id and state. Needs
    DISCOVER; audited as "job.discover" (a resumed job too)."""
    from recruiter.discovery.discover import JOB_KIND, DiscoveryError, plan

    actor = require(actor, DISCOVER, session=session)
    profile = require_profile(profile_name, session=session)
    if resume is not None:
        job = get_job(resume, session=session, kind=JOB_KIND)
        if (job.params or {}).get("profile") != profile.name:
            raise DiscoveryError(f"job {job.id} was started for profile {(job.params or {}).get('profile')!r}, "
                                 f"not {profile.name!r}")
    else:
        planned = plan(profile, sources=sources, queries=queries, limit=limit, delay=delay, settings=settings)
        job = find_resumable(JOB_KIND, planned.params, session=session)
    if job is None:
        job = _discovery_job(planned, actor=actor, session=session, state="running")
    else:
        audit.record(actor, "job.discover", profile.name, {"job": int(job.id), "resumed": True}, session=session)
        session.commit()
    job_id = int(job.id)
    run_inline(job_id, transport=transport, progress=progress, settings=settings)
    view = job_view(job_id, session=session, failures=0)
    return {"job_id": job_id, "state": view.state, **view.result}


def dispatch(job_id: int, *, session: Session, keys: list[str] | None = None) -> int:
    """Send a job's pending items (or `keys`) to the broker; returns how many were sent."""
    if keys is None:
        keys = [item.key for item in pending_items(job_id, session=session)]
    job = get_job(job_id, session=session)
    if not (job.cursor or {}).get(BROKER_MARK):  # the workers' watchdog looks after these jobs only
        update_job(job, session=session, cursor={**(job.cursor or {}), BROKER_MARK: True})
    enqueue(job_id, keys)
    return len(keys)


def retry_job(job_id: int, *, actor: Actor, session: Session) -> list[str]:
    """Failed items back to pending (plus any never finished): the keys to run again. Needs DISCOVER (IMPORT for
    an import's rows); audited as "job.retry", committed with the items put back."""
    job = get_job(job_id, session=session)
    actor = require(actor, IMPORT if job.kind == "import" else DISCOVER, session=session)
    audit.record(actor, "job.retry", f"job {job_id}", {"job": job_id, "kind": job.kind}, session=session)
    pending = [item.key for item in pending_items(job_id, session=session)]
    try:
        failed = [item.key for item in retry_failed(job_id, session=session)]
    except InvalidValue:
        if not pending:
            session.rollback()  # nothing to retry: nothing happened, nothing is recorded
            raise
        failed = []
    if not failed and job.state in ("done", "partial", "failed"):
        update_job(job, session=session, state="queued", finished_at=None)
    session.commit()
    return list(dict.fromkeys(pending + failed))


def run_inline(job_id: int, *, transport: Any = None, progress: Callable[[int, int], None] | None = None,
               settings: Any = None) -> None:
    """Run a job's pending items here and now (the embedded default, no broker)."""
    from recruiter.tasks.work import run_job_inline

    asyncio.run(run_job_inline(job_id, transport=transport, progress=progress, settings=settings))

