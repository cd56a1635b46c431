"""Scrape URLs and save what worked as communities: what `recruiter scrape --save` runs after scraping.

Jobs of URLs (the discover page, `scrape --save --queue`) run through `recruiter.tasks`, one item per URL,
with the same upsert.

The scrapers return plain records; saving goes through the catalogue (upsert by canonical URL, a stored value
only replaced by a non-empty one) and the index is brought up to date by the matching layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from recruiter.accounts.roles import DISCOVER, Actor, require
from recruiter.catalogue.importing import ImportReport, record_import, save_records
from recruiter.matching.index import refresh_index
from scrapers.records import to_import_record


@dataclass
class ScrapeOutcome:
    records: list[dict]
    saved: ImportReport | None = None
    errors: list[str] = field(default_factory=list)


def save_scraped(records: list[dict], *, actor: Actor, session: Session, source: str = "scrape") -> ImportReport | None:
    """Upsert the successful records, then sync the index; None when nothing succeeded. Needs DISCOVER; audited
    as "scrape.save" with the counts."""
    actor = require(actor, DISCOVER, session=session)
    good = [to_import_record(r) for r in records if r.get("ok")]
    if not good:
        return None
    report = save_records(good, session=session, source=source)
    record_import(actor, [], report, session=session, action="scrape.save", urls=len(good))
    report.embedded += refresh_index(session=session)
    return report

