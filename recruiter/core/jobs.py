"""Long work as rows: the one Job service for imports, scrapes and discovery, from the CLI or the web app.

A `Job` row records what was asked (`params`), where the work stands (`cursor`, `done`, `total`) and how it
ended (`state`, `result`, `error`). Whoever runs the work writes through these functions and whoever shows it
(the discover page, `recruiter job show`) reads `JobView`s, so a job started from the command line shows in
the web app the same way, and a resumed job continues from its cursor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from recruiter.core.errors import NotFound
from recruiter.core.models import Job, as_utc, utcnow

# queued: waiting for a worker; running; done: everything succeeded; partial: finished with failures;
# failed: stopped by an error; interrupted: stopped by the user or a crash, resumable from its cursor.
STATES = ("queued", "running", "done", "partial", "failed", "interrupted")
FINISHED = ("done", "partial", "failed")


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

    @classmethod
    def of(cls, job: Job) -> JobView:
        return cls(id=int(job.id or 0), kind=job.kind, state=job.state, progress=float(job.progress or 0.0),
                   done=int(job.done or 0), total=int(job.total or 0), error=job.error or "",
                   created_at=as_utc(job.created_at), updated_at=as_utc(job.updated_at),
                   params=dict(job.params or {}), result=dict(job.result or {}))

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


def create_job(kind: str, *, session: Session, params: dict[str, Any] | None = None, total: int = 0,
               state: str = "running") -> Job:
    job = Job(kind=kind, state=state, params=params or {}, cursor={}, total=total)
    session.add(job)
    session.commit()
    session.refresh(job)
    return job


def get_job(job_id: int, *, session: Session, kind: str | None = None) -> Job:
    job = session.get(Job, job_id)
    if job is None or (kind is not None and job.kind != kind):
        raise NotFound(f"no {kind + ' ' if kind else ''}job with id {job_id}")
    return job


def find_resumable(kind: str, params: dict[str, Any], *, session: Session) -> Job | None:
    """The newest unfinished job of this kind asked with the same parameters (what a re-run resumes)."""
    rows = session.exec(select(Job).where(Job.kind == kind, Job.state.in_(["running", "interrupted", "failed"]))
                        .order_by(Job.id.desc())).all()
    return next((job for job in rows if job.params == params), None)


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
    return update_job(job, session=session, **changes)


def recent_jobs(*, session: Session, limit: int = 20) -> list[JobView]:
    jobs = session.exec(select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)).all()
    return [JobView.of(j) for j in jobs]
