"""Importing partner performance (clicks, conversions, revenue, commission per partner and day) from CSV.

Columns are found in this order: `--map FIELD=Column`, then the platform's preset (the chosen platform unless
`--platform` says otherwise), then tolerant default names ("Date", "Clicks", "Revenue", "Commission"...).

Rows name the partner by ref code, tracked link, community URL (any form), contact email or exact name. A row is
skipped, and reported as ``line N: reason``, when its partner is unknown, when the community is known but is
not a partner (its prospect is not `joined` or later: performance for someone we never recruited is more
likely a typo than news, and moving stages silently would corrupt the pipeline), when a number is negative
or not a number, or when the date is bad or in the future. Every other row is kept.

Idempotence: numbers are stored per (partner, day, platform). Rows of one file for the same partner and day
are added up (exports by transaction or campaign), then replace what is stored for that day. So re-importing a
file changes nothing, and two exports that overlap (last 30 days, exported weekly) never count a day twice:
the newest export wins, which is what a merchant expects since late conversions and refunds change a day.
The flip side: one day split over two files (one file per campaign) keeps only the second file's numbers, so
export every campaign in one file; the import says when it replaced days another file wrote.

An import needs IMPORT and is recorded in the audit log ("performance.import", the file's name and the counts);
removing a file's days needs DELETE ("performance.remove").
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlmodel import Session, func, select

from recruiter.accounts import audit
from recruiter.accounts.roles import DELETE, IMPORT, Actor, require
from recruiter.catalogue.importing import RawRow, RowError, read_rows
from recruiter.core.canonical import canonical_url
from recruiter.core.db import chunked
from recruiter.core.errors import RecruiterError
from recruiter.core.models import PARTNER_STAGES, Community, PerformanceDay, Prospect, ReferralCode, utcnow
from recruiter.partners.activation import sync_from_performance
from recruiter.partners.money import MoneyError, money_json, parse_amount, stored, to_money
from recruiter.partners.platforms import Platform, chosen_platform, get_platform, list_platforms

FIELDS = ["date", "partner", "clicks", "conversions", "revenue", "commission"]
METRICS = ["clicks", "conversions", "revenue", "commission"]
WHOLE_METRICS = {"clicks", "conversions"}
DEFAULT_COLUMNS: dict[str, list[str]] = {
    "date": ["date", "day", "period", "event date", "transaction date", "created at"],
    "partner": ["partner", "ref code", "ref", "referral code", "code", "affiliate", "affiliate code",
                "partner url", "community url", "community", "url", "promoter", "token", "partner key"],
    "clicks": ["clicks", "visits", "visitors", "sessions"],
    "conversions": ["conversions", "orders", "purchases", "transactions", "customers", "referrals"],
    "revenue": ["revenue", "sale amount", "sales amount", "amount", "order value", "gmv", "total revenue"],
    "commission": ["commission", "commissions", "payout", "earnings", "reward"],
}
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%d.%m.%Y", "%b %d, %Y", "%d %b %Y", "%B %d, %Y",
                "%d %B %Y"]


class PerformanceError(RecruiterError, ValueError):
    """The file cannot be imported at all (no date or partner column, bad --map...)."""


@dataclass
class PerformanceImportReport:
    file: str = ""
    platform: str = ""
    read: int = 0
    kept: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    partners: list[str] = field(default_factory=list)
    steps_ticked: int = 0

    def summary(self) -> str:
        return (f"{self.read} rows read: {self.kept} kept ({self.created} new days, {self.updated} updated, "
                f"{self.unchanged} unchanged), {len(self.errors)} skipped; {len(self.partners)} partners, "
                f"platform {self.platform}")

    def public(self) -> dict[str, Any]:
        return {"file": self.file, "platform": self.platform, "read": self.read, "kept": self.kept,
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "skipped": len(self.errors), "errors": self.errors, "notes": self.notes,
                "columns": self.columns, "partners": self.partners}


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def parse_mapping(items: list[str]) -> dict[str, str]:
    """`--map FIELD=Column` options as {field: column}."""
    mapping: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise PerformanceError(f"--map {item!r}: expected FIELD=Column (fields: {', '.join(FIELDS)})")
        key, column = item.split("=", 1)
        key = key.strip().lower().replace("-", "_")
        key = {"sales": "conversions", "ref_code": "partner", "day": "date"}.get(key, key)
        if key not in FIELDS:
            raise PerformanceError(f"--map {item!r}: unknown field {key!r} (fields: {', '.join(FIELDS)})")
        if not column.strip():
            raise PerformanceError(f"--map {item!r}: the column name is empty")
        mapping[key] = column.strip()
    return mapping


def resolve_columns(header: list[str], *, mapping: dict[str, str], platform: Platform) -> dict[str, str]:
    """{field: header column}: explicit mapping first, then the platform's preset, then default names."""
    by_norm = {}
    for column in header:
        by_norm.setdefault(_norm(column), column)
    resolved: dict[str, str] = {}
    for key, column in mapping.items():
        actual = column if column in header else by_norm.get(_norm(column))
        if actual is None:
            raise PerformanceError(f"--map {key}={column}: the file has no column {column!r} "
                                   f"(columns: {', '.join(header)})")
        resolved[key] = actual
    taken = set(resolved.values())
    for key in FIELDS:
        if key in resolved:
            continue
        for candidate in [*platform.csv_columns.get(key, []), *DEFAULT_COLUMNS[key]]:
            actual = by_norm.get(_norm(candidate))
            if actual is not None and actual not in taken:
                resolved[key] = actual
                taken.add(actual)
                break
    missing = [k for k in ("date", "partner") if k not in resolved]
    if missing:
        raise PerformanceError(
            f"no {' or '.join(missing)} column found (columns: {', '.join(header)}); "
            f"name it with --map, e.g. --map {missing[0]}={header[0] if header else 'Column'}")
    if not any(k in resolved for k in METRICS):
        raise PerformanceError(f"no clicks, conversions, revenue or commission column found "
                               f"(columns: {', '.join(header)}); name them with --map, e.g. --map clicks=Visits")
    return resolved


SLASH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T].*)?")


def slash_order(values: list[Any]) -> bool | None:
    """Whether a file's dd/mm/yyyy-or-mm/dd/yyyy dates are day-first: True or False when one of them tells
    (a part above 12), None when none does."""
    day_first = month_first = False
    for value in values:
        match = SLASH_DATE.fullmatch(str(value or "").strip())
        if match:
            a, b = int(match.group(1)), int(match.group(2))
            day_first |= a > 12
            month_first |= b > 12
    if day_first != month_first:
        return day_first
    return None


def parse_day(value: Any, *, today: date | None = None, day_first: bool | None = None) -> date:
    """A date in the forms exports use; slash dates are month-first (US) unless `day_first` or the date
    itself says otherwise."""
    text = str(value or "").strip()
    if not text:
        raise RowError("missing date")
    today = today or utcnow().date()
    parsed: date | None = None
    if len(text) == 10 and text[4] == "-":  # the usual YYYY-MM-DD: skip the format hunt
        try:
            parsed = date.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None:
            if parsed > today + timedelta(days=1):
                raise RowError(f"date {parsed.isoformat()} is in the future")
            return parsed
    iso = re.match(r"^(\d{4}-\d{2}-\d{2})[T ]", text)
    candidates = [iso.group(1)] if iso else [text]
    for candidate in candidates:
        for fmt in DATE_FORMATS:
            try:
                parsed = datetime.strptime(candidate, fmt).date()
                break
            except ValueError:
                continue
    if parsed is None:
        slash = SLASH_DATE.fullmatch(text)
        if slash:
            a, b, year = (int(x) for x in slash.groups())
            month, day = (b, a) if a > 12 or (day_first and b <= 12) else (a, b)
            try:
                parsed = date(year, month, day)
            except ValueError:
                parsed = None
    if parsed is None:
        raise RowError(f"bad date {text!r} (expected YYYY-MM-DD)")
    if parsed > today + timedelta(days=1):
        raise RowError(f"date {parsed.isoformat()} is in the future")
    return parsed


def parse_metric(value: Any, name: str) -> int | Decimal:
    """A count (clicks, conversions) as an int, an amount (revenue, commission) as an exact `Decimal` (a day's
    total is rounded to cents once, after its rows are added up)."""
    try:
        number = parse_amount(value)
    except MoneyError:
        raise RowError(f"{name} {str(value).strip()!r} is not a number") from None
    if number < 0:
        raise RowError(f"negative {name} ({str(value).strip()})")
    if name in WHOLE_METRICS:
        if number != number.to_integral_value():
            raise RowError(f"{name} {str(value).strip()!r} is not a whole number")
        return int(number)
    return number


class PartnerResolver:
    """Finds the community a row means (by ref code, tracked link, community URL, contact email or exact name)
    and checks that it is a partner."""

    def __init__(self, *, session: Session) -> None:
        self.session = session
        self.codes = {code.lower(): cid for code, cid in session.exec(select(ReferralCode.code,
                                                                                ReferralCode.community_id)).all()}
        self.stages = dict(session.exec(select(Prospect.community_id, Prospect.stage)).all())
        self.cache: dict[str, Community] = {}
        self.emails: dict[str, int] | None = None  # loaded on the first row naming a partner by email

    def resolve(self, raw: Any) -> Community:
        text = str(raw or "").strip()
        if not text:
            raise RowError("missing partner")
        key = text.lower()
        if key in self.cache:
            community = self.cache[key]
        else:
            community = self._find(text)
            self.cache[key] = community
        stage = self.stages.get(community.id)
        if stage not in PARTNER_STAGES:
            raise RowError(f"{community.url} is a known community but not a partner (stage: {stage or 'none'}); "
                           f"move it to joined first: recruiter prospect set-stage {community.url} joined")
        return community

    def _find(self, text: str) -> Community:
        cid = self.codes.get(text.lower())
        if cid is None and "?" in text:
            cid = self._code_in_link(text)
        if cid is None and "@" in text and " " not in text:
            cid = self._by_email(text.lower().removeprefix("mailto:"))
        if cid is not None:
            return self.session.get(Community, cid)
        try:
            url = canonical_url(text)
        except ValueError:
            url = None
        if url:
            community = self.session.exec(select(Community).where(Community.url == url)).first()
            if community is not None:
                return community
        named = self.session.exec(select(Community).where(func.lower(Community.name) == text.lower())).all()
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise RowError(f"partner {text!r} names {len(named)} communities; use the ref code or URL")
        raise RowError(f"unknown partner {text!r} (not a ref code, URL, email or name of a known community)")

    def _code_in_link(self, text: str) -> int | None:
        """A tracked link as the partner ("https://shop.example/?via=anna-k3xq"): its referral parameter."""
        params = {p.link_param for p in list_platforms() if p.link_param} | {"utm_source"}
        for key, value in parse_qsl(urlsplit(text).query):
            if key in params and value.lower() in self.codes:
                return self.codes[value.lower()]
        return None

    def _by_email(self, email: str) -> int | None:
        if self.emails is None:
            self.emails = {}
            for cid, emails in self.session.exec(select(Community.id, Community.emails)).all():
                for item in emails or []:
                    self.emails.setdefault(str(item).lower(), cid)
        return self.emails.get(email)


def import_performance(path: Path | str, *, actor: Actor, session: Session, platform: str | None = None,
                       mapping: dict[str, str] | None = None, today: date | None = None,
                       text: str | None = None, day_first: bool | None = None) -> PerformanceImportReport:
    """Read a performance CSV, skip and report bad rows, upsert the rest per (partner, day, platform).
    Needs IMPORT; audited as "performance.import" with the file's name and the counts."""
    actor = require(actor, IMPORT, session=session)
    path = Path(path)
    chosen = get_platform(platform) if platform else chosen_platform(session=session)
    report = PerformanceImportReport(file=path.name, platform=chosen.key)
    if text is None:
        try:
            text = path.read_bytes().decode("utf-8-sig", errors="replace")
        except OSError as exc:
            raise PerformanceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if path.suffix.lower() not in (".csv", ".tsv", ".txt", ""):
        raise PerformanceError(f"{path}: performance imports read CSV files (got {path.suffix})")
    try:
        rows = list(read_rows(path.with_suffix(".tsv") if path.suffix.lower() == ".tsv" else path.with_suffix(".csv"),
                              text=text))
    except RowError as exc:
        raise PerformanceError(f"{path}: {exc}") from None
    header = _header(text, delimiter="\t" if path.suffix.lower() == ".tsv" else None)
    if not header:
        raise PerformanceError(f"{path}: the file is empty")
    columns = resolve_columns(header, mapping=mapping or {}, platform=chosen)
    report.columns = columns
    unused = [c for c in header if c not in columns.values() and c.strip()]
    if unused:
        report.notes.append(f"columns not used: {', '.join(unused)} (use --map FIELD=Column to use one)")

    if day_first is None:
        values = [r.data.get(columns["date"]) for r in rows if isinstance(r.data, dict)]
        day_first = slash_order(values)
        if day_first is None and any(SLASH_DATE.fullmatch(str(v or "").strip()) for v in values):
            report.notes.append("dates like 03/04/2026 were read month-first (US); "
                                "if they are day-first, import again with --day-first")
    resolver = PartnerResolver(session=session)
    sums: dict[tuple[int, date], dict[str, int | Decimal]] = {}
    digests: dict[tuple[int, date], Any] = defaultdict(hashlib.sha256)
    for row in rows:
        report.read += 1
        try:
            values = _row_values(row, columns, resolver, today=today, day_first=day_first)
        except RowError as exc:
            report.errors.append(f"line {row.line}: {exc}")
            continue
        community, day, metrics = values
        key = (community.id, day)
        total = sums.setdefault(key, {name: 0 if name in WHOLE_METRICS else Decimal(0) for name in METRICS})
        for name in METRICS:
            total[name] += metrics[name]
        digests[key].update(json.dumps(row.data, sort_keys=True, ensure_ascii=False).encode())
        report.kept += 1

    keys = list(sums)
    existing: dict[tuple[int, date], PerformanceDay] = {}
    for community_id in {cid for cid, _ in keys}:
        days = [d for cid, d in keys if cid == community_id]
        for item in session.exec(select(PerformanceDay).where(PerformanceDay.community_id == community_id,
                                                               PerformanceDay.platform == chosen.key,
                                                               PerformanceDay.day.in_(days))).all():
            existing[(item.community_id, item.day)] = item
    now = utcnow()
    new_rows: list[dict[str, Any]] = []
    replaced: dict[str, int] = defaultdict(int)
    for key, total in sums.items():
        numbers = {name: total[name] if name in WHOLE_METRICS else to_money(total[name]) for name in METRICS}
        columns_out = {name: value if name in WHOLE_METRICS else stored(value) for name, value in numbers.items()}
        current = existing.get(key)
        if current is None:
            new_rows.append(dict(community_id=key[0], day=key[1], platform=chosen.key, source_file=path.name,
                                 row_hash=digests[key].hexdigest(), imported_at=now, **columns_out))
            report.created += 1
        elif any(_stored_value(current, name) != numbers[name] for name in METRICS):
            if current.source_file and current.source_file != path.name:
                replaced[current.source_file] += 1
            for name, value in columns_out.items():
                setattr(current, name, value)
            current.source_file, current.row_hash, current.imported_at = path.name, digests[key].hexdigest(), now
            session.add(current)
            report.updated += 1
        else:
            report.unchanged += 1
    for source, count in sorted(replaced.items()):
        report.notes.append(f"{count} day{'s' if count != 1 else ''} imported before from {source} now "
                            f"{'have' if count != 1 else 'has'} this file's numbers "
                            f"(the newer export wins; days are never added up across files)")
    for part in chunked(new_rows, 1000):  # one INSERT per thousand days: ORM objects cost 3x more
        session.execute(PerformanceDay.__table__.insert(), part)
    audit.record(actor, "performance.import", path.name,
                 {"platform": chosen.key, "read": report.read, "kept": report.kept, "created": report.created,
                  "updated": report.updated, "unchanged": report.unchanged, "skipped": len(report.errors)},
                 session=session)
    session.commit()
    community_ids = sorted({cid for cid, _ in keys})
    report.partners = [session.get(Community, cid).url for cid in community_ids]
    report.steps_ticked = sync_from_performance(community_ids, actor=actor, session=session)
    return report


def _stored_value(day: PerformanceDay, name: str) -> int | Decimal:
    value = getattr(day, name)
    return int(value or 0) if name in WHOLE_METRICS else to_money(value)


def _header(text: str, delimiter: str | None = None) -> list[str]:
    """The header row, split the way `importing.read_rows` splits the rows (same sniffing)."""
    import csv
    import io

    first = next((line for line in text.splitlines() if line.strip()), "")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    return [h.strip() for h in next(csv.reader(io.StringIO(first), delimiter=delimiter), [])]


def _row_values(row: RawRow, columns: dict[str, str], resolver: PartnerResolver, *, today: date | None,
                day_first: bool | None = None) -> tuple[Community, date, dict[str, int | Decimal]]:
    if isinstance(row.data, RowError):
        raise row.data
    data = row.data
    day = parse_day(data.get(columns["date"]), today=today, day_first=day_first)
    metrics = {name: parse_metric(data.get(columns[name]), name) if name in columns else parse_metric(None, name)
               for name in METRICS}
    community = resolver.resolve(data.get(columns["partner"]))  # after the numbers: a bad number names itself
    return community, day, metrics


@dataclass(frozen=True)
class PerformanceRow:
    """One stored day of one partner on one platform."""

    day: date
    url: str
    name: str
    platform: str
    clicks: int
    conversions: int
    revenue: Decimal
    commission: Decimal
    source_file: str

    def public(self) -> dict[str, Any]:
        """The CLI's row: {date, url, name, platform, clicks, conversions, revenue, commission, source_file}."""
        return {"date": self.day.isoformat(), "url": self.url, "name": self.name, "platform": self.platform,
                "clicks": self.clicks, "conversions": self.conversions, "revenue": money_json(self.revenue),
                "commission": money_json(self.commission), "source_file": self.source_file}


def performance_rows(*, session: Session, community_id: int | None = None, since: date | None = None,
                     limit: int | None = None) -> list[PerformanceRow]:
    """Stored days, newest first."""
    query = select(PerformanceDay, Community).join(Community, Community.id == PerformanceDay.community_id)
    if community_id is not None:
        query = query.where(PerformanceDay.community_id == community_id)
    if since is not None:
        query = query.where(PerformanceDay.day >= since)
    query = query.order_by(PerformanceDay.day.desc(), Community.name)
    if limit is not None:
        query = query.limit(limit)
    return [PerformanceRow(day=day.day, url=community.url, name=community.name, platform=day.platform,
                           clicks=day.clicks, conversions=day.conversions, revenue=to_money(day.revenue),
                           commission=to_money(day.commission), source_file=day.source_file)
            for day, community in session.exec(query).all()]


def remove_days(*, actor: Actor, session: Session, source_file: str) -> int:
    """Delete the days last written by an import of `source_file` (a file imported by mistake); returns how many.

    Stage moves and checklist ticks the numbers caused stay: they are history, and undoing them is a
    deliberate `recruiter prospect set-stage` away. Needs DELETE; audited as "performance.remove"."""
    actor = require(actor, DELETE, session=session)
    rows = session.exec(select(PerformanceDay).where(PerformanceDay.source_file == source_file)).all()
    for row in rows:
        session.delete(row)
    audit.record(actor, "performance.remove", source_file, {"days": len(rows)}, session=session)
    session.commit()
    return len(rows)
