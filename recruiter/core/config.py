"""Where recruiter keeps its data, and which database it talks to.

`RECRUITER_HOME` (default ``~/.local/share/recruiter``) holds the SQLite database, the embedding index, the
HTTP cache and the UI's storage secret. `RECRUITER_DB` (or the CLI's ``--db``) points at any SQLAlchemy URL
instead of the default SQLite file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import quote

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def recruiter_home() -> Path:
    home = Path(os.environ.get("RECRUITER_HOME") or Path.home() / ".local" / "share" / "recruiter")
    home.mkdir(parents=True, exist_ok=True)
    return home


def database_url(explicit: str | None = None) -> str:
    """The SQLAlchemy URL to use: the explicit one, then $RECRUITER_DB, then SQLite in $RECRUITER_HOME."""
    url = explicit or os.environ.get("RECRUITER_DB")
    if url:
        return url
    return f"sqlite:///{recruiter_home() / 'recruiter.db'}"


def index_dir(db_url: str) -> Path:
    """The embedding index lives beside the database it mirrors.

    For a SQLite file that is the file's own folder; for a server database (or an in-memory one) it is a folder
    in $RECRUITER_HOME named after a digest of the URL, so two databases never share an index."""
    if db_url.startswith("sqlite:///") and not db_url.endswith(":memory:") and db_url != "sqlite://":
        path = Path(db_url.removeprefix("sqlite:///"))
        folder = path.parent / f"{path.stem}.index"
    else:
        digest = hashlib.sha256(_strip_password(db_url).encode()).hexdigest()[:16]
        folder = recruiter_home() / "index" / digest
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def embedding_model_name() -> str:
    return os.environ.get("RECRUITER_MODEL", DEFAULT_MODEL)


def redact_url(url: str) -> str:
    """A database URL fit for logs and error messages: never print a password."""
    return _strip_password(url, replacement="***")


def _strip_password(url: str, replacement: str = "") -> str:
    """The URL with its password replaced (plain string work: scrapers import this module and must not pull in
    the database layer). `user:@host` for an empty replacement, as SQLAlchemy renders it, so index folder
    digests stay the same."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc_end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    netloc, tail = rest[:netloc_end], rest[netloc_end:]
    userinfo, at, hostinfo = netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    masked = quote(replacement, safe="*")
    return f"{scheme}://{user}:{masked}@{hostinfo}{tail}"
