"""Importing communities: any row shape mapped onto community fields, then upserted by canonical URL in batches.

Why batches: an import of a million rows must cost what one of a few thousand does. Rows stream from
`recruiter.catalogue.readers`, are normalized, and every `BATCH` of them is looked up, merged, inserted and
committed before the next is read; the report keeps counts and the first errors, never every URL.

Saving merges into what is stored and never loses it:
- a value is only replaced by a non-empty one, contacts (emails, socials) accumulate;
- a stored name is replaced only by a file's own name column, never by a title or a scraper's guess;
- a kind a source only guessed (a URL pattern, an OPML default, a scraper's "blog") never replaces a surer one;
- a feed and its site are one community: a record whose URL is a stored community's feed, or whose feed is a
  stored community's URL or feed, merges into it, keyed by the site when the site is known.

`import_files`, what `recruiter import` runs, needs IMPORT (`recruiter.accounts.roles`) and records one "import"
entry of the audit log with the files and the counts, right after the last batch. `save_records` is the upsert
itself, for the services that checked their own permission (a queued import's rows on a worker, a scrape).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from recruiter.accounts import audit
from recruiter.accounts.roles import IMPORT, Actor, require
from recruiter.catalogue.columns import ALIAS_LOOKUP, ALIASES, BOOKKEEPING, KIND_SYNONYMS, column_key
from recruiter.catalogue.readers import (
    KIND_GUESS_KEY,
    RawRow,
    ReadStats,
    RowError,
    detect_format,
    is_podcast_host,
    read_rows,
)
from recruiter.core.canonical import canonical_url, guess_kind
from recruiter.core.config import embedding_model_name
from recruiter.core.db import bump_data_version, chunked
from recruiter.core.models import KINDS, Community, utcnow
from recruiter.core.text import community_text, content_hash

__all__ = ["ALIASES", "ALIAS_LOOKUP", "BATCH", "ImportReport", "RawRow", "RowError", "detect_format",
           "import_files", "normalize_record", "parse_audience", "read_rows", "save_records"]

BATCH = 2000                 # rows normalized, merged and committed together
MAX_KEPT_ERRORS = 20         # row errors a report keeps (and the CLI prints) before "… and N more"
MAX_AUDIENCE = 10**12
MAX_EXTRA_KEYS, MAX_EXTRA_TEXT = 50, 10_000
MAX_LIST_ITEMS = 200
# Column widths of the community table (PostgreSQL enforces them; SQLite does not): longer text is cut.
TEXT_LIMITS = {"name": 500, "title": 1000, "site_name": 500, "author": 500, "language": 20, "description": 100_000}
TEXT_FIELDS = ("name", "title", "description", "language", "site_name", "author", "feed_url")
LIST_FIELDS = ("recent_posts", "emails", "socials")
MERGED_LIST_FIELDS = {"emails", "socials"}  # contacts accumulate; recent posts are replaced by newer ones
WEAK_KINDS = {"other", "blog"}  # what a source says when it knows nothing better
_SPECIAL_HOSTS = ("reddit.com", "youtube.com", "podcasts.apple.com")


@dataclass
class ImportReport:
    """Counts of one import (or several files into one report) and the first few errors."""

    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0      # rows naming a community an earlier row of the same import created
    merged: int = 0          # rows merged into a community by its feed or site rather than its URL
    embedded: int = 0
    error_count: int = 0
    errors: list[str] = field(default_factory=list)   # the first MAX_KEPT_ERRORS
    notes: list[str] = field(default_factory=list)
    # The URLs of the communities the rows landed in, kept only when asked for (`ImportReport(touched=set())`):
    # a worker saving one small batch embeds exactly those; a million-row import keeps counts only.
    touched: set[str] | None = None

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged + self.duplicates

    @property
    def skipped(self) -> int:
        return self.error_count

    def add_error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_KEPT_ERRORS:
            self.errors.append(message)

    def error_lines(self) -> list[str]:
        """The kept errors, then `… and N more` when there were more."""
        more = self.error_count - len(self.errors)
        return self.errors + ([f"… and {more} more"] if more > 0 else [])

    def summary(self) -> str:
        extra = ""
        if self.duplicates:
            extra += f", {self.duplicates} repeated rows merged"
        if self.merged:
            extra += f", {self.merged} merged with their feed or site"
        return (f"{self.read} rows read: {self.created} new, {self.updated} updated, {self.unchanged} unchanged"
                f"{extra}, {self.error_count} skipped; {self.embedded} embedded")


# --- validating rows -------------------------------------------------------------------------------------

def normalize_record(data: Any) -> dict[str, Any]:
    """Map a row with any of the usual column names onto community fields; raise RowError saying what is wrong.

    The result also says how sure it is: `kind_explicit` (the row named the kind) and `url_from_site` (the row's
    own URL was a feed and its site became the URL)."""
    if isinstance(data, RowError):
        raise data
    if not isinstance(data, dict):
        raise RowError(f"expected an object with a url, got {type(data).__name__}")
    record: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    kind_guess = data.get(KIND_GUESS_KEY)
    for raw_key, value in data.items():
        if raw_key == KIND_GUESS_KEY:
            continue
        compared = column_key(raw_key)
        key = ALIAS_LOOKUP.get(compared)
        if key is None:
            if compared not in BOOKKEEPING and value not in (None, "") and len(extra) < MAX_EXTRA_KEYS:
                kept = _extra_value(value)
                if kept is not None:
                    extra[str(raw_key)[:200]] = kept
            continue
        if key in record and record[key] not in (None, "", []):
            continue  # first column wins (e.g. "url" over "link")
        record[key] = value

    url = _url_field(record, "url", required=True)
    feed = _url_field(record, "feed_url", required=False)
    site = _url_field(record, "site_url", required=False)
    from_site = False
    if url is None:
        url = site or feed
        from_site = bool(site and feed and site != feed)
    elif site and site != url and (feed is None or feed == url):
        feed, url, from_site = url, site, True  # a feed with its site: the site is the community
    if url is None:
        raise RowError("missing url")
    if site and _generic_site(site) and url == site:
        if not feed:
            raise RowError(f"{site} is a hosting platform's home page, not a community")
        url, from_site = feed, False
    out: dict[str, Any] = {"url": url, "url_from_site": from_site}
    if feed:
        out["feed_url"] = feed

    for key in TEXT_FIELDS:
        if key == "feed_url":
            continue
        value = record.get(key)
        if value is None:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise RowError(f"{key} must be text, got {type(value).__name__}")
        out[key] = _clip(value.replace("\x00", "").strip(), TEXT_LIMITS.get(key))

    out["audience_size"] = parse_audience(record.get("audience_size"))
    for key in LIST_FIELDS:
        out[key] = _parse_list(key, record.get(key))

    kind = record.get("kind")
    if kind is not None and not isinstance(kind, str):
        raise RowError(f"kind must be text, got {type(kind).__name__}")
    kind = (kind or "").strip().lower()
    kind = KIND_SYNONYMS.get(kind, kind)
    if kind and kind not in KINDS:
        raise RowError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    out["kind_explicit"] = bool(kind)
    out["kind"] = kind or kind_guess or guess_community_kind(url, feed)
    if extra:
        out["extra"] = extra
    return out


def guess_community_kind(url: str, feed: str | None = None) -> str:
    """The kind a URL implies when the row does not say: podcast hosts too, then the feed's URL."""
    if is_podcast_host(url) or (feed and is_podcast_host(feed)):
        return "podcast"
    kind = guess_kind(url)
    if kind == "other" and feed:
        kind = guess_kind(feed)
        return "blog" if kind == "other" else kind
    return kind


def _url_field(record: dict[str, Any], key: str, *, required: bool) -> str | None:
    raw = record.get(key)
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise RowError(f"{key.replace('_', ' ')} must be text, got {type(raw).__name__}")
    if len(raw) > 2048:
        raise RowError(f"{key.replace('_', ' ')} longer than 2048 characters")
    try:
        return canonical_url(raw)
    except ValueError as exc:
        if required:
            raise RowError(f"invalid url: {exc}") from None
        return None  # a broken feed or site column does not cost the row its community


def _generic_site(url: str) -> bool:
    """A podcast host's home page given as a show's site (some apps export that): not the show's own site."""
    return urlsplit(url).path in ("", "/") and is_podcast_host(url)


def _clip(text: str, limit: int | None) -> str:
    return text if limit is None or len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _extra_value(value: Any) -> Any:
    if isinstance(value, str):
        return _clip(value.replace("\x00", ""), MAX_EXTRA_TEXT)
    if isinstance(value, bool) or (isinstance(value, int) and abs(value) < 2**53):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        items = [_extra_value(v) for v in value[:100] if isinstance(v, (str, int, float, bool))]
        return [v for v in items if v is not None] or None
    return None


def parse_audience(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RowError("audience_size must be a number, got a boolean")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(",", "").replace("_", "").replace(" ", "")
        match = re.fullmatch(r"(\d+(?:\.\d+)?)([km]?)\+?", text)
        if not match:
            raise RowError(f"audience_size {value!r} is not a number")
        number = float(match.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2)]
    else:
        raise RowError(f"audience_size must be a number, got {type(value).__name__}")
    if number != number or number < 0:
        raise RowError(f"audience_size {value!r} is negative or not a number")
    if number > MAX_AUDIENCE:
        raise RowError(f"audience_size {value!r} is too large")
    return int(number)


def _parse_list(key: str, value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = re.split(r"\s*[|;\n]\s*", value) if key != "recent_posts" else re.split(r"\s*[|\n]\s*", value)
    elif isinstance(value, list):
        items = []
        for item in value[:MAX_LIST_ITEMS]:
            if isinstance(item, dict):  # items as {title, url}
                item = item.get("title") or item.get("url") or ""
            if not isinstance(item, (str, int, float)):
                raise RowError(f"{key} must be a list of text")
            items.append(str(item))
    else:
        raise RowError(f"{key} must be a list or text, got {type(value).__name__}")
    seen: dict[str, None] = {}
    for item in items[:MAX_LIST_ITEMS]:
        item = _clip(item.replace("\x00", "").strip(), 1000)
        if key == "emails":
            item = item.removeprefix("mailto:").lower()
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", item):
                continue
        if item:
            seen.setdefault(item, None)
    return list(seen)


# --- saving ----------------------------------------------------------------------------------------------

def save_records(
    records: Iterable[dict[str, Any] | RawRow],
    *,
    session: Session,
    source: str = "import",
    label: str = "",
    progress: Callable[[str, int, int], None] | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    """Validate, canonicalize and upsert community records, committing every `BATCH` rows.

    Records are plain dicts (scrapers) or RawRows (files, with line numbers for error messages); they may be a
    generator, which is consumed once and never held whole. Embedding is the matching layer's job
    (`recruiter.matching.index.refresh_index`, which every read path also runs when the data changed): this
    returns right after the last commit."""
    report = report or ImportReport()
    where = f"{label}: " if label else ""
    batch: list[dict[str, Any]] = []
    for position, item in enumerate(records, start=1):
        row = item if isinstance(item, RawRow) else RawRow(position, item)
        if isinstance(row.data, _FileError):
            report.add_error(str(row.data))
            continue
        report.read += 1
        try:
            batch.append(normalize_record(row.data))
        except RowError as exc:
            report.add_error(f"{where}line {row.line}: {exc}")
        if len(batch) >= BATCH:
            _save_batch(batch, session=session, source=source, report=report)
            batch = []
            if progress:
                progress("importing", report.read, 0)
    if batch:
        _save_batch(batch, session=session, source=source, report=report)
    if progress:
        progress("importing", report.read, report.read)
    return report


class _NewCommunity:
    """A community this batch creates: merged like a stored one, inserted in bulk at the end of the batch."""

    def __init__(self, record: dict[str, Any], *, source: str, now) -> None:
        self.url = record["url"]
        self.kind = record["kind"]
        for key in TEXT_FIELDS:
            setattr(self, key, record.get(key) or None)  # language, site_name, author, feed_url: NULL when empty
        self.name = record.get("name") or record.get("title") or ""
        self.title = self.title or ""
        self.description = self.description or ""
        self.audience_size = record.get("audience_size")
        for key in LIST_FIELDS:
            setattr(self, key, list(record.get(key) or []))
        self.extra = dict(record.get("extra") or {})
        self.source, self.first_seen, self.last_seen = source, now, now

    def as_row(self, model: str) -> dict[str, Any]:
        row = {key: getattr(self, key) for key in ("url", "kind", *TEXT_FIELDS, "audience_size", *LIST_FIELDS,
                                                   "extra", "source", "first_seen", "last_seen")}
        row["content_hash"] = content_hash(community_text(row), model)
        return row


class _Batch:
    """One batch's view of the catalogue: the stored communities its rows can touch, by URL and by feed, plus
    the ones it creates, so rows of the same batch merge with each other exactly as with stored ones."""

    def __init__(self, records: list[dict[str, Any]], *, session: Session) -> None:
        keys = sorted({r["url"] for r in records} | {r["feed_url"] for r in records if r.get("feed_url")})
        self.by_url: dict[str, Any] = {}
        self.by_feed: dict[str, Any] = {}
        self.rekeyed: set[int] = set()
        for part in chunked(keys):
            for community in session.exec(select(Community).where(Community.url.in_(part))).all():
                self.add(community)
        # Only keys that can be feeds are looked up by feed URL (indexed): a subreddit, channel or Apple page never is.
        feedish = [k for k in keys if not urlsplit(k).hostname or not urlsplit(k).hostname.endswith(_SPECIAL_HOSTS)]
        for part in chunked(feedish):
            for community in session.exec(select(Community).where(Community.feed_url.in_(part))).all():
                self.add(community)

    def add(self, community: Any) -> None:
        self.by_url[community.url] = community
        if community.feed_url:
            self.by_feed.setdefault(community.feed_url, community)

    def rekey(self, community: Any, url: str) -> None:
        self.by_url.pop(community.url, None)
        self.rekeyed.add(id(community))
        community.url = url
        self.by_url[url] = community

    def find(self, record: dict[str, Any]) -> tuple[Any | None, bool]:
        """The community a record belongs to, and whether it was found by feed or site rather than by URL."""
        url, feed = record["url"], record.get("feed_url")
        found = self.by_url.get(url)
        if found is not None:
            if record.get("url_from_site") and feed and found.feed_url and found.feed_url != feed:
                # Another show on the same site URL (a host's page given as the site): the feed tells them apart.
                record["url"], record["url_from_site"] = feed, False
                return self.find(record)
            return found, False
        found = self.by_feed.get(url)  # the record is the feed of a stored site
        if found is None and feed:
            found = self.by_url.get(feed) or self.by_feed.get(feed)
        if found is None:
            return None, False
        # The site is the community's URL when known: a community keyed by its feed takes the record's site URL.
        if feed and url != feed and found.url == (found.feed_url or feed) and found.url != url:
            self.rekey(found, url)
        return found, True


def _save_batch(records: list[dict[str, Any]], *, session: Session, source: str, report: ImportReport) -> None:
    """Merge and commit one batch; a row another import inserted meanwhile is merged on a second try."""
    for attempt in (1, 2):
        counts = ImportReport(touched=set() if report.touched is not None else None)
        try:
            _merge_batch([dict(r) for r in records], session=session, source=source, report=counts)
        except IntegrityError:
            session.rollback()
            if attempt == 2:
                raise
            continue
        for name in ("created", "updated", "unchanged", "duplicates", "merged"):
            setattr(report, name, getattr(report, name) + getattr(counts, name))
        if report.touched is not None:
            report.touched |= counts.touched or set()
        return


def _merge_batch(records: list[dict[str, Any]], *, session: Session, source: str, report: ImportReport) -> None:
    model = embedding_model_name()
    now = utcnow()
    view = _Batch(records, session=session)
    new: dict[int, _NewCommunity] = {}
    changed: dict[int, Community] = {}
    for record in records:
        target, by_link = view.find(record)
        if by_link:
            report.merged += 1
        if target is None:
            created = _NewCommunity(record, source=source, now=now)
            new[id(created)] = created
            view.add(created)
            report.created += 1
            continue
        if isinstance(target, _NewCommunity):
            _merge_into(target, record, source=source)
            report.duplicates += 1
            continue
        if _merge_into(target, record, source=source) or id(target) in view.rekeyed:
            target.last_seen = now
            target.content_hash = content_hash(community_text(target), model)
            changed[id(target)] = target
            report.updated += 1
        else:
            report.unchanged += 1
    if report.touched is not None:
        report.touched.update(c.url for c in view.by_url.values())
    for community in changed.values():
        session.add(community)
    session.flush()
    rows = [c.as_row(model) for c in new.values()]
    for part in chunked(rows, 1000):
        session.execute(Community.__table__.insert(), part)
    if changed or rows:
        bump_data_version(session=session)  # commits the rows and the version together
    session.commit()


def _merge_into(current: Any, record: dict[str, Any], *, source: str) -> bool:
    """Fill the community with the record's non-empty values by the rules in the module docstring; True when
    anything changed."""
    changed = False
    for key in TEXT_FIELDS:
        value = record.get(key)
        if value in (None, "") or getattr(current, key) == value:
            continue
        if key == "name" and getattr(current, "name", "") and source != "import":
            continue  # a scraper's name never replaces a stored one (a file's own name column does)
        setattr(current, key, value)
        changed = True
    if not getattr(current, "name", "") and record.get("title"):
        current.name = record["title"]  # a title only fills an empty name
        changed = True
    if _kind_wins(current.kind, record, source=source):
        current.kind = record["kind"]
        changed = True
    if record.get("audience_size") is not None and record["audience_size"] != current.audience_size:
        current.audience_size = record["audience_size"]
        changed = True
    for key in LIST_FIELDS:
        value = record.get(key) or []
        if not value:
            continue
        old = list(getattr(current, key) or [])
        new = old + [v for v in value if v not in old] if key in MERGED_LIST_FIELDS else value
        if new != old:
            setattr(current, key, new)
            changed = True
    if record.get("extra"):
        merged = {**(current.extra or {}), **record["extra"]}
        if merged != current.extra:
            current.extra = merged
            changed = True
    return changed


def _kind_wins(stored: str | None, record: dict[str, Any], *, source: str) -> bool:
    """Whether the record's kind replaces the stored one: anything beats `other`; a guessed kind beats nothing
    else; a file that names the kind is the user's word; a scraper's `blog` never demotes a podcast or forum."""
    kind = record.get("kind")
    if not kind or kind == stored or kind == "other":
        return False
    if not stored or stored == "other":
        return True
    if not record.get("kind_explicit"):
        return False
    if source == "import":
        return True
    return kind not in WEAK_KINDS or stored in WEAK_KINDS


def import_files(
    paths: list[Path],
    *,
    actor: Actor,
    session: Session,
    progress: Callable[[str, int, int], None] | None = None,
    report: ImportReport | None = None,
    action: str = "import",
) -> ImportReport:
    """Import every file into one report, streaming each; a file that cannot be read at all is reported (one
    line) and skipped, keeping what its earlier rows already imported. Needs IMPORT; audited as ``action``."""
    actor = require(actor, IMPORT, session=session)
    report = report or ImportReport()
    for path in paths:
        path = Path(path)
        label = str(path) if len(paths) > 1 else ""
        stats = ReadStats()
        save_records(_guarded(read_rows(path, stats=stats), path), session=session, source="import",
                     label=label, progress=progress, report=report)
        if stats.replaced:
            report.notes.append(f"{path}: {stats.replaced} byte sequences that are not valid {stats.encoding} "
                                f"were replaced with \ufffd")
        elif stats.encoding not in ("utf-8", "utf-8-sig"):
            report.notes.append(f"{path}: read as {stats.encoding} (not UTF-8)")
    record_import(actor, [Path(p).name for p in paths], report, session=session, action=action)
    return report


def record_import(actor: Actor, files: list[str], report: ImportReport, *, session: Session,
                  action: str = "import", **extra: Any) -> None:
    """The audit entry of an import: the files' names and the counts (committed now)."""
    audit.record(actor, action, ", ".join(files), {"files": files, "read": report.read, "created": report.created,
                                                   "updated": report.updated, "unchanged": report.unchanged,
                                                   "skipped": report.error_count, **extra}, session=session)
    session.commit()


class _FileError(str):
    """The one line saying why the rest of a file could not be read (the rows before it are still saved)."""


def _guarded(rows: Iterator[RawRow], path: Path) -> Iterator[RawRow]:
    """The rows of a file, then (when reading the whole file failed) one row carrying a `_FileError`."""
    try:
        yield from rows
        return
    except RowError as exc:
        reason = str(exc)
    except IsADirectoryError:
        reason = "cannot read: is a directory, not a file"
    except FileNotFoundError:
        reason = "cannot read: no such file"
    except PermissionError:
        reason = "cannot read: permission denied"
    except OSError as exc:
        reason = f"cannot read: {exc.strerror or exc}"
    except UnicodeError as exc:
        reason = f"not a text file: {getattr(exc, 'reason', exc)}"
    yield RawRow(0, _FileError(f"{path}: {reason}"))
