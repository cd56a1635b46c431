"""Reading communities from files (CSV, JSON, JSONL, OPML) and upserting them by canonical URL.

Every row is read with the line it starts on, so a bad row is reported as ``line N: reason`` and skipped
while the good rows are kept. Saving merges into what is stored: a value is only replaced by a non-empty
one, so a thinner second source never erases what a richer first one found.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from recruiter.core.canonical import canonical_url, guess_kind
from recruiter.core.config import embedding_model_name
from recruiter.core.db import bump_data_version, chunked
from recruiter.core.errors import RecruiterError
from recruiter.core.models import KINDS, Community, utcnow
from recruiter.core.text import community_text, content_hash

# Column names people use for the same thing, compared after lower-casing and dropping ' ', '_', '-'.
ALIASES: dict[str, tuple[str, ...]] = {
    "url": ("url", "link", "feedurl", "feed", "xmlurl", "htmlurl", "website", "homepage", "href", "uri",
            "siteurl", "channelurl", "subreddit", "rss"),
    "name": ("name", "communityname", "channel", "podcast", "show", "blog"),
    "title": ("title", "headline", "tagline", "text"),
    "description": ("description", "about", "summary", "bio", "publicdescription", "desc", "details", "subtitle"),
    "audience_size": ("audiencesize", "audience", "subscribers", "subscribercount", "followers",
                      "followercount", "members", "listeners", "size", "readers"),
    "kind": ("kind", "type", "category_kind", "platform", "communitytype"),
    "language": ("language", "lang", "locale"),
    "recent_posts": ("recentposts", "posts", "recenttitles", "episodes", "items", "recentpostsitles"),
    "emails": ("emails", "email", "contactemail", "contactemails", "contact"),
    "socials": ("socials", "social", "sociallinks", "links"),
    "site_name": ("sitename",),
    "author": ("author", "owner", "host", "creator", "byline"),
    "feed_url": ("feedurl_", "rssurl", "feedlink"),
}
_ALIAS_LOOKUP = {alias: key for key, aliases in ALIASES.items() for alias in aliases}
KIND_SYNONYMS = {
    "reddit": "subreddit", "sub": "subreddit", "rss": "blog", "feed": "blog", "website": "blog", "site": "blog",
    "channel": "youtube", "yt": "youtube", "video": "youtube", "pod": "podcast", "substack": "newsletter",
    "email": "newsletter", "community": "forum", "discourse": "forum", "board": "forum", "": "",
}
TEXT_FIELDS = ("name", "title", "description", "language", "site_name", "author", "feed_url")
LIST_FIELDS = ("recent_posts", "emails", "socials")
MERGED_LIST_FIELDS = {"emails", "socials"}  # contacts accumulate; recent posts are replaced by newer ones


class RowError(RecruiterError, ValueError):
    pass


@dataclass
class RawRow:
    line: int
    data: Any
    source: str = ""


@dataclass
class ImportReport:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    embedded: int = 0
    errors: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        return (f"{self.read} rows read: {self.created} new, {self.updated} updated, {self.unchanged} unchanged, "
                f"{len(self.errors)} skipped; {self.embedded} embedded")


# --- reading files ---------------------------------------------------------------------------------------

def detect_format(path: Path, head: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return suffix[1:]
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        return "json"
    if suffix in (".opml", ".xml"):
        return "opml"
    stripped = head.lstrip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        first = stripped.splitlines()[0] if stripped else ""
        try:
            json.loads(first)
            return "jsonl"
        except ValueError:
            return "json"
    if stripped.startswith("<"):
        return "opml"
    return "csv"


def read_rows(path: Path | str, *, text: str | None = None) -> Iterator[RawRow]:
    """Yield every row of a communities file with the line it starts on.

    A file that cannot be parsed at all raises RowError naming the line where parsing failed."""
    path = Path(path)
    if text is None:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig", errors="replace")
    fmt = detect_format(path, text[:2000])
    if fmt in ("csv", "tsv"):
        yield from _read_csv(text, delimiter="\t" if fmt == "tsv" else None)
    elif fmt == "jsonl":
        yield from _read_jsonl(text)
    elif fmt == "json":
        yield from _read_json(text)
    else:
        yield from _read_opml(text)


def _read_csv(text: str, delimiter: str | None) -> Iterator[RawRow]:
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    keys = [h.strip() for h in header]
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RawRow(line, RowError(f"unreadable CSV: {exc}"))
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(keys):
            yield RawRow(line, RowError(f"{len(values)} fields but the header has {len(keys)}"))
            continue
        yield RawRow(line, dict(zip(keys, values, strict=False)))


def _read_jsonl(text: str) -> Iterator[RawRow]:
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines(): U+2028 is not a row break
        if not line.strip():
            continue
        try:
            yield RawRow(number, json.loads(line))
        except ValueError as exc:
            yield RawRow(number, RowError(f"invalid JSON: {exc}"))


def _read_json(text: str) -> Iterator[RawRow]:
    """A JSON list of objects (or an object holding one), each reported at the line it starts on."""
    decoder = json.JSONDecoder()
    pos = _skip_ws(text, 0)
    if pos < len(text) and text[pos] == "{":
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise RowError(f"line {_line_of(text, getattr(exc, 'pos', 0))}: invalid JSON: {exc}") from exc
        items = next((v for k, v in doc.items() if isinstance(v, list)), None)
        if items is None:
            yield RawRow(1, doc)
            return
        # Line numbers of a nested list: locate the list, then walk it like a top-level one.
        key = next(k for k, v in doc.items() if v is items)
        match = re.search(rf'"{re.escape(key)}"\s*:\s*\[', text)
        pos = match.end() - 1 if match else pos
    if pos >= len(text) or text[pos] != "[":
        raise RowError(f"line {_line_of(text, pos)}: expected a JSON list of communities")
    pos += 1
    while True:
        pos = _skip_ws(text, pos)
        if pos >= len(text):
            raise RowError(f"line {_line_of(text, pos)}: the JSON list is not closed")
        if text[pos] == "]":
            return
        try:
            value, end = decoder.raw_decode(text, pos)
        except ValueError as exc:
            yield RawRow(_line_of(text, pos), RowError(f"invalid JSON: {exc.msg if hasattr(exc, 'msg') else exc}"))
            return  # the rest of the list cannot be located reliably
        yield RawRow(_line_of(text, pos), value)
        pos = _skip_ws(text, end)
        if pos < len(text) and text[pos] == ",":
            pos += 1


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _read_opml(text: str) -> Iterator[RawRow]:
    from lxml import etree

    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise RowError(f"line {exc.lineno}: invalid OPML: {exc.msg}") from exc
    if root is None:
        raise RowError("line 1: not an OPML or XML document")
    for outline in root.iter("outline"):
        attrs = {k: v for k, v in outline.attrib.items()}
        if not (attrs.get("xmlUrl") or attrs.get("htmlUrl") or attrs.get("url")):
            continue  # a folder of outlines, not a feed
        category = outline.getparent().get("text") if outline.getparent() is not None else None
        row = {
            "url": attrs.get("xmlUrl") or attrs.get("url") or attrs.get("htmlUrl"),
            "name": attrs.get("title") or attrs.get("text") or "",
            "description": attrs.get("description") or "",
            "language": attrs.get("language"),
            "kind": "podcast" if (attrs.get("type") or "").lower() in ("podcast",) else "blog",
        }
        if attrs.get("xmlUrl"):
            row["feed_url"] = attrs["xmlUrl"]
        if category and category != row["name"]:
            row["category"] = category
        yield RawRow(outline.sourceline or 0, row)


# --- validating rows -------------------------------------------------------------------------------------

def normalize_record(data: Any) -> dict[str, Any]:
    """Map a row with any of the usual column names onto community fields; raise RowError saying what is wrong."""
    if isinstance(data, RowError):
        raise data
    if not isinstance(data, dict):
        raise RowError(f"expected an object with a url, got {type(data).__name__}")
    record: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = _ALIAS_LOOKUP.get(re.sub(r"[\s_\-]", "", str(raw_key).lower()))
        if key is None:
            if value not in (None, ""):
                extra[str(raw_key)] = value
            continue
        if key in record and record[key] not in (None, "", []):
            continue  # first column wins (e.g. "url" over "link")
        record[key] = value
    if not record.get("name") and record.get("title"):
        record["name"] = record["title"]

    raw_url = record.get("url")
    if raw_url in (None, ""):
        raise RowError("missing url")
    if not isinstance(raw_url, str):
        raise RowError(f"url must be text, got {type(raw_url).__name__}")
    try:
        url = canonical_url(raw_url)
    except ValueError as exc:
        raise RowError(f"invalid url: {exc}") from None
    out: dict[str, Any] = {"url": url}

    for key in TEXT_FIELDS:
        value = record.get(key)
        if value is None:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise RowError(f"{key} must be text, got {type(value).__name__}")
        out[key] = value.strip()
    if out.get("feed_url"):
        try:
            out["feed_url"] = canonical_url(out["feed_url"])
        except ValueError:
            out.pop("feed_url")

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
    out["kind"] = kind or guess_kind(url)
    if extra:
        out["extra"] = {k: v for k, v in extra.items() if isinstance(v, (str, int, float, bool, list))}
    return out


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
    if number < 0 or number != number:
        raise RowError(f"audience_size {value!r} is negative")
    return int(number)


def _parse_list(key: str, value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = re.split(r"\s*[|;\n]\s*", value) if key != "recent_posts" else re.split(r"\s*[|\n]\s*", value)
    elif isinstance(value, list):
        items = []
        for item in value:
            if isinstance(item, dict):  # items as {title, url}
                item = item.get("title") or item.get("url") or ""
            if not isinstance(item, (str, int, float)):
                raise RowError(f"{key} must be a list of text")
            items.append(str(item))
    else:
        raise RowError(f"{key} must be a list or text, got {type(value).__name__}")
    seen: dict[str, None] = {}
    for item in items:
        item = item.strip()
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
    """Validate, canonicalize and upsert community records; embedding them is the matching layer's job
    (`recruiter.matching.index.refresh_index`), which every read path also does when the data changed.

    Records are plain dicts (scrapers) or RawRows (files, with line numbers for error messages). A stored
    non-empty value is only ever replaced by another non-empty value."""
    report = report or ImportReport()
    model = embedding_model_name()
    pending: dict[str, dict[str, Any]] = {}
    for position, item in enumerate(records, start=1):
        row = item if isinstance(item, RawRow) else RawRow(position, item)
        report.read += 1
        try:
            record = normalize_record(row.data)
        except RowError as exc:
            where = f"{label}: " if label else ""
            report.errors.append(f"{where}line {row.line}: {exc}")
            continue
        if record["url"] in pending:  # the same community twice in one batch: later values fill in
            record = _merge_dicts(pending[record["url"]], record)
        pending[record["url"]] = record

    urls = list(pending)
    report.urls.extend(urls)
    existing: dict[str, Community] = {}
    for part in chunked(urls):
        for community in session.exec(select(Community).where(Community.url.in_(part))).all():
            existing[community.url] = community

    now = utcnow()
    new_rows: list[dict[str, Any]] = []
    changed = False
    for number, (url, record) in enumerate(pending.items(), start=1):
        current = existing.get(url)
        if current is None:
            row = {k: record.get(k) for k in ("url", "kind", *TEXT_FIELDS, "audience_size", *LIST_FIELDS)}
            for key in ("name", "title", "description"):
                row[key] = row[key] or ""
            row.update(extra=record.get("extra") or {}, source=source, first_seen=now, last_seen=now)
            row["content_hash"] = content_hash(community_text(row), model)
            new_rows.append(row)
        elif _merge_into(current, record, source=source, now=now, model=model):
            session.add(current)
            report.updated += 1
            changed = True
        else:
            report.unchanged += 1
        if progress and number % 500 == 0:
            progress("saving", number, len(pending))
    if new_rows:
        for part in chunked(new_rows, 1000):
            session.execute(Community.__table__.insert(), part)
        report.created += len(new_rows)
        changed = True
    if changed:
        bump_data_version(session=session)  # commits the rows and the version together
    session.commit()
    return report


def _merge_dicts(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for key, value in new.items():
        if value not in (None, "", [], {}):
            merged[key] = value
    return merged


def _merge_into(current: Community, record: dict[str, Any], *, source: str, now, model: str) -> bool:
    """Fill the stored community with the record's non-empty values; True when anything changed."""
    changed = False
    for key in (*TEXT_FIELDS, "kind", "audience_size"):
        value = record.get(key)
        if value in (None, "") or getattr(current, key) == value:
            continue
        if key == "kind" and value == "other":
            continue
        setattr(current, key, value)
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
    if changed:
        current.last_seen = now
        current.content_hash = content_hash(community_text(current), model)
    return changed


def import_files(
    paths: list[Path],
    *,
    session: Session,
    progress: Callable[[str, int, int], None] | None = None,
) -> ImportReport:
    """Import every file into one report; a file that cannot be read at all is reported and skipped."""
    report = ImportReport()
    for path in paths:
        try:
            rows = list(read_rows(path))
        except RowError as exc:
            report.errors.append(f"{path}: {exc}")
            continue
        except OSError as exc:
            report.errors.append(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        except UnicodeError as exc:
            report.errors.append(f"{path}: not a text file: {exc}")
            continue
        save_records(rows, session=session, source="import", label=str(path) if len(paths) > 1 else "",
                     progress=progress, report=report)
    return report
