"""Scrape URLs and save what worked as communities: the `scrape --save` command and the discover page's
"Scrape URLs" both run this, and the page's run is a Job like any other.

The scrapers return plain records; saving goes through the catalogue (upsert by canonical URL, a stored value
only replaced by a non-empty one) and the index is brought up to date by the matching layer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session

from recruiter.catalogue.importing import ImportReport, save_records
from recruiter.core.jobs import create_job, finish_job, update_job
from recruiter.matching.index import refresh_index
from scrapers.config import ScrapeSettings
from scrapers.records import to_import_record
from scrapers.scrape import scrape_urls

JOB_KIND = "scrape"


@dataclass
class ScrapeOutcome:
    records: list[dict]
    saved: ImportReport | None = None
    errors: list[str] = field(default_factory=list)


def save_scraped(records: list[dict], *, session: Session, source: str = "scrape") -> ImportReport | None:
    """Upsert the successful records, then sync the index; None when nothing succeeded."""
    good = [to_import_record(r) for r in records if r.get("ok")]
    if not good:
        return None
    report = save_records(good, session=session, source=source)
    report.embedded += refresh_index(session=session)
    return report


async def scrape_job(urls: list[str], *, session_factory: Callable[[], Session],
                     settings: ScrapeSettings | None = None) -> int:
    """Scrape URLs as a recorded job (progress per URL), save the good records; returns the job id."""
    with session_factory() as session:
        job = create_job(JOB_KIND, session=session, params={"urls": urls}, total=len(urls))
        job_id = job.id
    done = [0]

    def on_done(_index: int, _record: dict) -> None:
        done[0] += 1
        with session_factory() as session:
            update_job(session.get(type(job), job_id), session=session, done=done[0],
                       progress=done[0] / max(1, len(urls)) * 0.9)

    try:
        records = await scrape_urls(urls, settings=settings, on_done=on_done)
        errors = [f"{r.get('url')}: {r.get('error')}" for r in records if not r.get("ok")]

        def save() -> ImportReport | None:  # embedding is CPU work: off the event loop
            with session_factory() as session:
                return save_scraped(records, session=session)

        report = await asyncio.to_thread(save)
        with session_factory() as session:
            finish_job(session.get(type(job), job_id), session=session, state="done",
                       result={"saved": len(records) - len(errors), "failed": len(errors), "errors": errors[:20],
                               "report": report.summary() if report else ""})
    except Exception as exc:
        with session_factory() as session:
            finish_job(session.get(type(job), job_id), session=session, state="failed", error=str(exc))
    return job_id
