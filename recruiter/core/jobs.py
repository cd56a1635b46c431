"""Long work as rows: the one Job service for imports, scrapes and discovery, from the CLI, the web app or workers.

A `Job` row records what was asked (`params`), where the work stands (`cursor`, `done`, `total`) and how it
ended (`state`, `result`, `error`). Whoever runs the work writes through these functions and whoever shows it
(the discover page, `recruiter job show`) reads `JobView`s, so a job started from the command line shows in
the web app the same way, and a resumed job continues from its cursor.

Work that is spread over workers (or run in-process by the same code) is cut into `JobItem`s: one URL, one
chunk of import rows, one search. An item moves once, `pending` → `done` or `failed`, by a conditional UPDATE;
the job's counters move in the same transaction and only when the item really moved. So a task delivered
twice (a worker killed after the work but before its acknowledgement) counts once, two workers finishing
together never lose a count, and `done` is the number of distinct items done. A failed item keeps its input
and its reason: `retry_failed` puts exactly those back.

States: `queued` (waiting for a worker), `running`, then one of the finished ones: `done` (every item
succeeded), `partial` (finished, some items failed, some succeeded), `failed` (nothing succeeded, or the job
itself broke). `interrupted` is an in-process run stopped by the user, resumable from its cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from recruiter.core.errors import InvalidValue, NotFound
from recruiter.core.models import Job, JobItem, as_utc, utcnow

# queued: waiting for a worker; running; done: everything succeeded; partial: finished with failures;
# failed: nothing succeeded or the job broke; interrupted: stopped by the user or a crash, resumable.
STATES = ("queued", "running", "done", "partial", "failed", "interrupted")
FINISHED = ("done", "partial", "failed")
ITEM_STATES = ("pending", "done", "failed")
# A task that keeps dying with its worker (a poison item) is given up after this many starts.
MAX_ATTEMPTS = 5
FAILURES_SHOWN = 1000


@dataclass(frozen=True)
class NewItem:
    """An item to add to a job: `key` is unique within the job (a canonical URL, `rows 1-100 of f.csv`...)."""

    key: str
    input: dict[str, Any] = field(default_factory=dict)
    kind: str = ""
    size: int = 1


@dataclass(frozen=True)
class ItemFailure:
    """A failed item with its reason and what is needed to run it again."""

    key: str
    error: str
    input: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"item": self.key, "error": self.error}
        if "url" in self.input:
            out["url"] = self.input["url"]
        return out

    def as_warning(self) -> dict[str, Any]:
        """A done item's note, shaped like a failure: {item, url, warning}."""
        out = self.as_dict()
        out["warning"] = out.pop("error")
        return out


@dataclass(frozen=True)
class JobView:
    """What a screen or a command shows of a job."""

    id: int
    kind: str
    state: str
    progress: float
    done: int
    total: int
    error: str
    created_at: datetime
    updated_at: datetime
    params: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    failed: int = 0
    finished_at: datetime | None = None
    workers: dict[str, int] = field(default_factory=dict)
    failures: list[ItemFailure] = field(default_factory=list)
    warnings: list[ItemFailure] = field(default_factory=list)  # done items with a note (`error` holds it)

    @classmethod
    def of(cls, job: Job, *, workers: dict[str, int] | None = None,
           failures: list[ItemFailure] | None = None, warnings: list[ItemFailure] | None = None) -> JobView:
        done, failed, total = int(job.done or 0), int(job.failed or 0), int(job.total or 0)
        progress = float(job.progress or 0.0)
        if total:
            progress = max(progress, min(1.0, (done + failed) / total))
        if job.state in ("done", "partial"):
            progress = 1.0
        return cls(id=int(job.id or 0), kind=job.kind, state=job.state, progress=progress, done=done, total=total,
                   error=job.error or "", created_at=as_utc(job.created_at), updated_at=as_utc(job.updated_at),
                   params=dict(job.params or {}), result=dict(job.result or {}), failed=failed,
                   finished_at=as_utc(job.finished_at) if job.finished_at else None,
                   workers=dict(workers or {}), failures=list(failures or []), warnings=list(warnings or []))

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def as_dict(self) -> dict[str, Any]:
        """The JSON of `recruiter job show`: {id, kind, state, total, done, failed, workers, ...}."""
        return {"id": self.id, "kind": self.kind, "state": self.state, "total": self.total, "done": self.done,
                "failed": self.failed, "workers": dict(self.workers), "progress": round(self.progress, 4),
                "error": self.error or None, "failures": [f.as_dict() for f in self.failures],
                "warnings": [w.as_warning() for w in self.warnings],
                "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None,
                "result": self.result}


# --- jobs ------------------------------------------------------------------------------------------------

def create_job(kind: str, *, session: Session, params: dict[str, Any] | None = None, total: int = 0,
               state: str = "running", items: Iterable[NewItem] | None = None,
               on_created: Callable[[Job], Any] | None = None) -> Job:
    """A new job; with `items` (duplicate keys dropped, first kept) its total is their summed sizes.
    `on_created` is called with the job (its id known) before the commit: what it adds to the session (an audit
    entry) is committed with the job."""
    if state not in STATES:
        raise InvalidValue(f"unknown job state {state!r}")
    job = Job(kind=kind, state=state, params=params or {}, cursor={}, total=total)
    session.add(job)
    session.flush()
    if items is not None:
        unique: dict[str, NewItem] = {}
        for item in items:
            unique.setdefault(item.key, item)
        now = utcnow()
        rows = [{"job_id": job.id, "key": item.key, "kind": item.kind, "position": position, "size": item.size,
                 "state": "pending", "input": item.input, "attempts": 0, "updated_at": now}
                for position, item in enumerate(unique.values())]
        for start in range(0, len(rows), 1000):
            session.execute(JobItem.__table__.insert(), rows[start:start + 1000])
        job.total = sum(item.size for item in unique.values())
        session.add(job)
    if on_created is not None:
        on_created(job)
    session.commit()
    session.refresh(job)
    return job


def get_job(job_id: int, *, session: Session, kind: str | None = None) -> Job:
    job = session.get(Job, job_id)
    if job is None or (kind is not None and job.kind != kind):
        raise NotFound(f"no {kind + ' ' if kind else ''}job with id {job_id}")
    return job


def find_resumable(kind: str, params: dict[str, Any], *, session: Session) -> Job | None:
    """The newest unfinished job of this kind asked with the same parameters (what a re-run resumes): running,
    interrupted, or failed by a crash; a run that finished with every item failed has a result and is not
    resumed (a re-run starts afresh; `job retry` re-runs its failures)."""
    rows = session.exec(select(Job).where(Job.kind == kind, Job.state.in_(["running", "interrupted", "failed"]))
                        .order_by(Job.id.desc())).all()
    for job in rows:
        if job.params != params:
            continue
        if job.state == "failed" and ((job.result or {}).get("state") == "failed"
                                      or not unfinished_count(int(job.id), session=session)):
            continue  # it ran to its end: a re-run starts afresh
        return job
    return None


def update_job(job: Job, *, session: Session, **changes: Any) -> Job:
    """Write progress (done, total, cursor, state...); `progress` follows done/total unless given."""
    for key, value in changes.items():
        setattr(job, key, value)
    if "progress" not in changes and job.total:
        job.progress = min(1.0, (job.done or 0) / job.total)
    job.updated_at = utcnow()
    session.add(job)
    session.commit()
    return job


def finish_job(job: Job, *, session: Session, state: str = "done", result: dict[str, Any] | None = None,
               error: str | None = None) -> Job:
    if state not in STATES:
        raise ValueError(f"unknown job state {state!r}")
    changes: dict[str, Any] = {"state": state, "error": error}
    if result is not None:
        changes["result"] = result
    if state in ("done", "partial"):
        changes["progress"] = 1.0
    if state in FINISHED:
        changes["finished_at"] = utcnow()
    return update_job(job, session=session, **changes)


def outcome(done: int, failed: int) -> str:
    """The finished state for these counts: done when nothing failed, failed when nothing succeeded."""
    if not failed:
        return "done"
    return "failed" if not done else "partial"


def recent_jobs(*, session: Session, limit: int = 20, failures: int = 50) -> list[JobView]:
    """The newest jobs, each with its workers and (up to `failures`) failed items."""
    jobs = session.exec(select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)).all()
    return [_view(job, session=session, failures=failures) for job in jobs]


def job_view(job_id: int, *, session: Session, failures: int = FAILURES_SHOWN) -> JobView:
    session.expire_all()  # another process (a worker) may have moved it since this session last looked
    return _view(get_job(job_id, session=session), session=session, failures=failures)


def _view(job: Job, *, session: Session, failures: int) -> JobView:
    workers = {str(name): int(count) for name, count in session.exec(
        select(JobItem.worker, func.count()).where(JobItem.job_id == job.id, JobItem.worker.is_not(None),
                                                  JobItem.state != "pending")
        .group_by(JobItem.worker)).all()}
    failed_rows = session.exec(select(JobItem).where(JobItem.job_id == job.id, JobItem.state == "failed")
                               .order_by(JobItem.position).limit(failures)).all() if job.failed else []
    listed = [ItemFailure(key=row.key, error=row.error or "failed", input=dict(row.input or {}))
              for row in failed_rows]
    noted = session.exec(select(JobItem).where(JobItem.job_id == job.id, JobItem.state == "done",
                                               JobItem.note.is_not(None))
                         .order_by(JobItem.position).limit(failures)).all() if failures else []
    warned = [ItemFailure(key=row.key, error=row.note or "",
                          input={k: v for k, v in (row.input or {}).items() if k == "url"}) for row in noted]
    return JobView.of(job, workers=workers, failures=listed, warnings=warned)


# --- items ---------------------------------------------------------------------------------------------

def add_items(job_id: int, items: Sequence[NewItem], *, session: Session, commit: bool = True) -> list[str]:
    """Add items to a running job (discovery finds more URLs as it goes); returns the keys that were new.

    A key already in the job is skipped, also when another worker adds it at the same moment."""
    wanted: dict[str, NewItem] = {}
    for item in items:
        wanted.setdefault(item.key, item)
    if not wanted:
        return []
    present = set(session.exec(select(JobItem.key).where(JobItem.job_id == job_id,
                                                          JobItem.key.in_(list(wanted)))).all())
    start = session.exec(select(func.coalesce(func.max(JobItem.position), -1))
                         .where(JobItem.job_id == job_id)).one() + 1
    added: list[str] = []
    for item in wanted.values():
        if item.key in present:
            continue
        try:
            with session.begin_nested():
                session.add(JobItem(job_id=job_id, key=item.key, kind=item.kind, size=item.size,
                                    position=start + len(added), input=item.input))
        except IntegrityError:  # added by another worker in between
            continue
        added.append(item.key)
    if added:
        size = sum(wanted[k].size for k in added)
        session.execute(update(Job).where(Job.id == job_id).values(total=Job.total + size, updated_at=utcnow()))
    if commit:
        session.commit()
    return added


def get_item(job_id: int, key: str, *, session: Session) -> JobItem | None:
    return session.exec(select(JobItem).where(JobItem.job_id == job_id, JobItem.key == key)).first()


def pending_items(job_id: int, *, session: Session) -> list[JobItem]:
    return list(session.exec(select(JobItem).where(JobItem.job_id == job_id, JobItem.state == "pending")
                             .order_by(JobItem.position)).all())


def claim_item(job_id: int, key: str, *, session: Session, worker: str | None = None) -> JobItem | None:
    """Start (or restart) work on an item: None when it is already finished (a duplicate delivery) or unknown.

    Counts the attempt and commits before the work starts, so an item whose task keeps killing its worker is
    failed after `MAX_ATTEMPTS` starts instead of being redelivered forever. Moves a queued job to running."""
    item = get_item(job_id, key, session=session)
    if item is None or item.state != "pending":
        return None
    if item.attempts >= MAX_ATTEMPTS:
        complete_item(job_id, key, session=session, worker=worker,
                      error=f"gave up after {item.attempts} attempts: the task never finished (its worker died "
                            f"or it kept failing)")
        return None
    session.execute(update(JobItem).where(JobItem.id == item.id)
                    .values(attempts=JobItem.attempts + 1, updated_at=utcnow()))
    session.execute(update(Job).where(Job.id == job_id, Job.state == "queued")
                    .values(state="running", updated_at=utcnow()))
    session.commit()
    session.refresh(item)
    return item


def complete_item(job_id: int, key: str, *, session: Session, worker: str | None = None,
                  error: str | None = None, note: str | None = None,
                  output: dict[str, Any] | None = None) -> bool:
    """Mark an item done (or failed with `error`) and move the job's counters with it, in one transaction.
    A done item may carry a `note` (a warning the user should see) and its `output`.

    Returns False when the item was already finished: a second delivery changes nothing."""
    now = utcnow()
    item = get_item(job_id, key, session=session)
    if item is None:
        raise NotFound(f"job {job_id} has no item {key!r}")
    state = "failed" if error else "done"
    moved = session.execute(
        update(JobItem).where(JobItem.id == item.id, JobItem.state == "pending")
        .values(state=state, error=(error or None) and error[:2000], note=(note or None) and note[:2000],
                output=dict(output or {}), worker=worker, updated_at=now)
    ).rowcount
    if moved:
        counter = Job.failed if error else Job.done
        session.execute(update(Job).where(Job.id == job_id)
                        .values({counter.key: counter + item.size, "updated_at": now}))
    session.commit()
    return bool(moved)


def unfinished_count(job_id: int, *, session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(JobItem)
                            .where(JobItem.job_id == job_id, JobItem.state == "pending")).one())


def settle_job(job_id: int, *, session: Session, result: dict[str, Any] | None = None) -> Job | None:
    """Finish a job whose items are all finished (done, partial or failed by its counts); None while work
    remains or when it was already finished. Safe to call from several workers at once."""
    session.expire_all()
    job = get_job(job_id, session=session)
    if job.state in FINISHED or unfinished_count(job_id, session=session):
        return None
    state = outcome(int(job.done or 0), int(job.failed or 0))
    values: dict[str, Any] = {"state": state, "progress": 1.0 if state != "failed" else job.progress,
                              "finished_at": utcnow(), "updated_at": utcnow()}
    if state == "failed" and not job.error:
        values["error"] = f"all {job.failed} items failed"
    if result is not None:
        values["result"] = {**(job.result or {}), **result}
    moved = session.execute(update(Job).where(Job.id == job_id, Job.state.not_in(FINISHED)).values(values)).rowcount
    session.commit()
    session.refresh(job)
    return job if moved else None


def fail_job(job_id: int, error: str, *, session: Session) -> None:
    """The job itself broke (not one item): finished as failed with the reason, whatever its items say."""
    session.execute(update(Job).where(Job.id == job_id, Job.state.not_in(FINISHED))
                    .values(state="failed", error=error[:2000], finished_at=utcnow(), updated_at=utcnow()))
    session.commit()


def retry_failed(job_id: int, *, session: Session) -> list[JobItem]:
    """Put a job's failed items back to pending (attempts reset, reason kept until they run) and the job
    back to queued; returns the items to run. Nothing to retry is an error the user can act on."""
    job = get_job(job_id, session=session)
    failed = list(session.exec(select(JobItem).where(JobItem.job_id == job_id, JobItem.state == "failed")
                               .order_by(JobItem.position)).all())
    if not failed:
        raise InvalidValue(f"job {job_id} has no failed items to retry (state {job.state})")
    size = sum(item.size for item in failed)
    now = utcnow()
    session.execute(update(JobItem).where(JobItem.job_id == job_id, JobItem.state == "failed")
                    .values(state="pending", attempts=0, worker=None, updated_at=now))
    session.execute(update(Job).where(Job.id == job_id)
                    .values(failed=Job.failed - size, state="queued", finished_at=None, error=None, updated_at=now))
    session.commit()
    for item in failed:
        session.refresh(item)
    return failed


def stalled_jobs(*, session: Session, idle_seconds: float) -> list[int]:
    """Unfinished item jobs with no progress for `idle_seconds` (their messages may have been lost)."""
    cutoff = utcnow() - timedelta(seconds=idle_seconds)
    rows = session.exec(select(Job.id, Job.updated_at).where(Job.state.in_(["queued", "running"]))).all()
    return [int(job_id) for job_id, updated in rows if as_utc(updated) < cutoff]


def touch_if_idle(job_id: int, *, session: Session, idle_seconds: float) -> bool:
    """Claim the right to requeue a stalled job: True for exactly one caller per idle period."""
    cutoff = utcnow() - timedelta(seconds=idle_seconds)
    moved = session.execute(update(Job).where(Job.id == job_id, Job.updated_at < cutoff,
                                              Job.state.in_(["queued", "running"]))
                            .values(updated_at=utcnow())).rowcount
    session.commit()
    return bool(moved)
