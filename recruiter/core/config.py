"""Where recruiter keeps its data, and which database it talks to.

`RECRUITER_HOME` (default ``~/.local/share/recruiter``) holds the SQLite database, the embedding index, the
HTTP cache and the UI's storage secret. `RECRUITER_DB` (or the CLI's ``--db``) points at any SQLAlchemy URL
instead of the default SQLite file.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

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
    """`RECRUITER_MODEL`: the packaged all-MiniLM-L6-v2 (default), `fast` (a static model distilled from it),
    `hashing` (weightless, for tests) or a local sentence-transformers folder."""
    return os.environ.get("RECRUITER_MODEL", DEFAULT_MODEL)


def embedding_backend_name() -> str:
    """`RECRUITER_EMBEDDING_BACKEND`: `onnx` (default for MiniLM) or `sentence-transformers` (the fallback)."""
    return os.environ.get("RECRUITER_EMBEDDING_BACKEND", "").strip().lower()


def model_cache_dir() -> Path:
    """Where models made locally from the packaged weights live (the ONNX export, the distilled fast model).

    `RECRUITER_MODEL_CACHE` when set; else inside the virtualenv recruiter runs from (`make install` prepares
    them there once, for every data dir); else `$RECRUITER_HOME/models`."""
    explicit = os.environ.get("RECRUITER_MODEL_CACHE")
    if explicit:
        return Path(explicit)
    if sys.prefix != sys.base_prefix:
        venv = Path(sys.prefix) / "share" / "recruiter" / "models"
        if venv.is_dir() or os.access(sys.prefix, os.W_OK):
            return venv
    return recruiter_home() / "models"


def redact_url(url: str) -> str:
    """A database URL fit for logs and error messages: never print a password."""
    return _strip_password(url, replacement="***")


def _strip_password(url: str, replacement: str = "") -> str:
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # not a URL we can parse: show nothing of it that could be secret
        return url.split("@")[-1]
    if parsed.password is None:
        return url
    return parsed.set(password=replacement).render_as_string(hide_password=False)
