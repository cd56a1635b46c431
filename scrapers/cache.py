"""Conditional-GET cache on disk: remembers ETag / Last-Modified and the body of
each 200 response so the next fetch of the same URL can be a cheap 304.

One JSON file (validators, headers) and one body file per URL, named by the SHA-256
of the URL, in two-letter shards. Writes go to a temp file and are renamed into
place, so a crash never leaves a half-written entry that a later run would trust.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


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
        kept = {k: v for k, v in headers.items() if k in ("etag", "last-modified", "content-type")}
        if "etag" not in kept and "last-modified" not in kept:
            return
        meta_path, body_path = self._paths(url)
        meta = {"url": url, "final_url": final_url, "status": status, "headers": kept, "length": len(body)}
        try:
            meta_path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(body_path, body)
            _atomic_write(meta_path, json.dumps(meta).encode("utf-8"))
        except OSError:
            pass  # a cache that cannot be written only costs a refetch later


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
