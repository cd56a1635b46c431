"""Scrape URLs and save what worked as communities: what `recruiter scrape --save` runs after scraping.

Jobs of URLs (the discover page, `scrape --save --queue`) run through `recruiter.tasks`, one item per URL,
with the same upsert.

The scrapers return plain records; saving goes through the catalogue (upsert by canonical URL, a stored value
only replaced by a non-empty one) and the index is brought up to date by the matching layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from recruiter.catalogue.importing import ImportReport, save_records
from recruiter.matching.index import refresh_index
from scrapers.records import to_import_record


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

