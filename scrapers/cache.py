"""What the HTTP layer keeps on disk: the conditional-GET cache of pages and feeds, and the APIs' ledger.

**The cache** remembers ETag / Last-Modified and the body of each 200 response so the next fetch of the same URL
can be a cheap 304. One JSON file (validators, headers) and one body file per URL, named by the SHA-256 of the
URL, in two-letter shards. Writes go to a temp file and are renamed into place, so a crash never leaves a
half-written entry that a later run would trust. API calls are never cached (their URLs may carry keys).

**The ledger** (`FileLedger`) is what the APIs have allowed us today, kept where every process of this machine
sees it. A documented API limits its callers by quota (YouTube: a daily budget, reset at midnight Pacific time)
and by windows (a plan's monthly queries, a `Retry-After` longer than we wait). Both outlive one command: a second
`recruiter discover` the same day must know what the first one spent. It lives in
`$RECRUITER_HOME/api-usage.json` (read-modify-write under a file lock, written atomically) for the in-process
gate; a cluster's gate keeps the same numbers in Redis (`recruiter.tasks.limiter`). Counts and times only: no
keys, no tokens.
"""

from __future__ import annotations

import hashlib
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from recruiter.core.config import file_lock, write_private


@dataclass
class CachedResponse:
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


class HttpCache:
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()
        shard = self.directory / key[:2]
        return shard / f"{key}.json", shard / f"{key}.body"

    def get(self, url: str) -> CachedResponse | None:
        meta_path, body_path = self._paths(url)
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            body = body_path.read_bytes()
        except (OSError, ValueError):
            return None
        if meta.get("url") != url or len(body) != meta.get("length"):
            return None  # a collision or a torn pair of files: not trustworthy
        return CachedResponse(url, meta["final_url"], meta["status"], meta["headers"], body)

    def put(self, url: str, final_url: str, status: int, headers: dict[str, str], body: bytes) -> None:
        """Store only responses that can be revalidated; others would never be reused."""
        # The cut marker stays with a long feed's first items: a 304 later must not pass them off as whole.
        kept = {k: v for k, v in headers.items() if k in ("etag", "last-modified", "content-type", "x-recruiter-cut")}
        if "etag" not in kept and "last-modified" not in kept:
            return
        meta_path, body_path = self._paths(url)
        meta = {"url": url, "final_url": final_url, "status": status, "headers": kept, "length": len(body)}
        try:
            meta_path.parent.mkdir(parents=True, exist_ok=True)
            write_private(body_path, body)
            write_private(meta_path, json.dumps(meta).encode("utf-8"))
        except OSError:
            pass  # a cache that cannot be written only costs a refetch later


# --- the APIs' ledger ----------------------------------------------------------------------------------

KEEP_DAYS = 3


def pacific_day(now: float | None = None) -> str:
    """Today's date in Pacific time (when Google resets the YouTube Data API quota)."""
    when = datetime.fromtimestamp(time.time() if now is None else now, tz=UTC)
    try:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo("America/Los_Angeles")
    except Exception:  # no time-zone database: Pacific standard time is close enough for a daily budget
        zone = timezone(timedelta(hours=-8))
    return when.astimezone(zone).date().isoformat()


class FileLedger:
    """Quota units spent per (API, period) and "held until" times per API, in one small JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextmanager
    def _locked(self):
        """The ledger, read under the lock, written back whole when the block ends."""
        with file_lock(self.path):
            data = self._read()
            yield data
            write_private(self.path, json.dumps(data, sort_keys=True).encode("utf-8"))

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"used": {}, "held": {}}
        if not isinstance(data, dict):
            return {"used": {}, "held": {}}
        data.setdefault("used", {})
        data.setdefault("held", {})
        return data

    @staticmethod
    def _prune(data: dict, name: str, period: str) -> dict:
        periods = data["used"].setdefault(name, {})
        for old in sorted(periods)[:-KEEP_DAYS]:
            if old != period:
                periods.pop(old, None)
        return periods

    def spend(self, name: str, units: int, limit: int, period: str) -> int | None:
        """Spend ``units`` if they fit under ``limit`` this period: the units used afterwards, else None."""
        with self._locked() as data:
            periods = self._prune(data, name, period)
            used = int(periods.get(period, 0))
            if used + units > limit:
                return None
            periods[period] = used + units
            return used + units

    def exhaust(self, name: str, limit: int, period: str) -> None:
        """The API itself said the quota is spent: nothing more this period."""
        with self._locked() as data:
            periods = self._prune(data, name, period)
            periods[period] = max(int(periods.get(period, 0)), limit)

    def hold(self, name: str, until: float) -> None:
        """No call to this API before ``until`` (epoch seconds)."""
        with self._locked() as data:
            data["held"][name] = max(float(data["held"].get(name, 0.0)), until)

    def held_until(self, name: str) -> float:
        return float(self._read()["held"].get(name, 0.0))
