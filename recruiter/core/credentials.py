"""The discovery sources' keys and settings: from the environment, or stored by the user in `$RECRUITER_HOME`.

A user gets API keys for Reddit, YouTube, Podcast Index and Brave and either exports them (`RECRUITER_*`
variables, what a worker on another machine needs) or types them once into the web app's Sources panel or
`recruiter sources set`. Stored values go to `credentials.json` in the data dir, written owner-only (0600) and
atomically (a temp file renamed into place), under a file lock so two processes saving at once never lose one
another's keys. The environment wins over the file, so an exported variable always means what it says.

A secret is never shown back in full: `masked` keeps its last four characters at most, and only when it is
long enough that four characters give nothing away. Which variables are secrets is said here, once.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from recruiter.core.config import file_lock, recruiter_home, write_private
from recruiter.core.errors import InvalidValue

FILE_NAME = "credentials.json"

# Every variable that may be stored, and whether its value is a secret (never shown back, never logged).
STORABLE: dict[str, bool] = {
    "RECRUITER_REDDIT_CLIENT_ID": True,
    "RECRUITER_REDDIT_CLIENT_SECRET": True,
    "RECRUITER_YOUTUBE_API_KEY": True,
    "RECRUITER_PODCASTINDEX_KEY": True,
    "RECRUITER_PODCASTINDEX_SECRET": True,
    "RECRUITER_BRAVE_API_KEY": True,
    "RECRUITER_SEARXNG_URL": False,
    "RECRUITER_WEB_SEARCH": False,
    "RECRUITER_CONTACT": False,
}
MAX_VALUE = 2000


@dataclass(frozen=True)
class Credential:
    """One variable as the user sees it: where its value comes from and a masked view of it."""

    name: str
    secret: bool
    origin: str | None  # "environment", "stored" or None when unset
    shown: str | None  # the masked value (a secret) or the value itself

    @property
    def is_set(self) -> bool:
        return self.origin is not None


def _path() -> Path:
    return recruiter_home() / FILE_NAME


def _read_file(path: Path) -> dict[str, str]:
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError:  # none stored yet, or unreadable: nothing stored
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str) and k in STORABLE} if isinstance(data, dict) else {}


def stored_values() -> dict[str, str]:
    """What the user stored (not the environment)."""
    return _read_file(_path())


def value(name: str) -> str:
    """The value in force: the environment's, else the stored one, else ''."""
    return values((name,))[name]


def values(names: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Several values at once: the environment's, else what is stored (the file read once, and only when the
    environment leaves one unset)."""
    found = {name: (os.environ.get(name) or "").strip() for name in names}
    if all(found.values()):
        return found
    stored = stored_values()
    return {name: text or stored.get(name, "").strip() for name, text in found.items()}


def masked(text: str) -> str:
    """A secret as it may be shown: its last four characters when it is long (16+), else only dots."""
    if not text:
        return ""
    return "••••" + text[-4:] if len(text) >= 16 else "••••"


def describe(name: str) -> Credential:
    secret = STORABLE.get(name, True)
    env = (os.environ.get(name) or "").strip()
    stored = stored_values().get(name, "").strip()
    current, origin = (env, "environment") if env else ((stored, "stored") if stored else ("", None))
    shown = (masked(current) if secret else current) if current else None
    return Credential(name=name, secret=secret, origin=origin, shown=shown)


def _check(name: str, text: str) -> str:
    if name not in STORABLE:
        raise InvalidValue(f"{name} is not a setting that can be stored; choose from {', '.join(STORABLE)}")
    text = (text or "").strip()
    if len(text) > MAX_VALUE:
        raise InvalidValue(f"{name}: the value is longer than {MAX_VALUE} characters")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise InvalidValue(f"{name}: the value contains control characters (a line break pasted with it?)")
    return text


def store(name: str, text: str) -> Credential:
    """Save one variable (an empty value removes it); returns how it now reads (masked)."""
    text = _check(name, text)
    path = _path()
    with file_lock(path):
        data = _read_file(path)
        if text:
            data[name] = text
        else:
            data.pop(name, None)
        write_private(path, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))
    return describe(name)


def remove(name: str) -> Credential:
    return store(name, "")


def secret_values() -> list[str]:
    """Every secret in force (environment and file): what error messages and logs must never contain."""
    found = values([name for name, secret in STORABLE.items() if secret])
    return sorted({v for v in found.values() if len(v) >= 4}, key=len, reverse=True)
