"""Where recruiter keeps its data, and which database it talks to.

`RECRUITER_HOME` (default ``~/.local/share/recruiter``) holds the SQLite database, the embedding index, the
HTTP cache and the UI's storage secret. `RECRUITER_DB` (or the CLI's ``--db``) points at any SQLAlchemy URL
instead of the default SQLite file.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def recruiter_home() -> Path:
    """The data dir, created if missing and kept private (0700): it holds the database, secrets and sessions."""
    home = Path(os.environ.get("RECRUITER_HOME") or Path.home() / ".local" / "share" / "recruiter")
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    make_private(home)
    return home


def make_private(path: Path | str) -> None:
    """Owner-only permissions (0700 for a folder, 0600 for a file) when ``path`` is ours; quietly skipped when it
    does not exist or belongs to someone else (a shared mount: tightening it is not ours to do)."""
    try:
        info = os.stat(path)
    except OSError:
        return
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return
    mode = stat.S_IMODE(info.st_mode)
    wanted = 0o700 if stat.S_ISDIR(info.st_mode) else mode & 0o700  # a file keeps its owner's bits only
    if mode != wanted:
        try:
            os.chmod(path, wanted)
        except OSError:
            pass


def env_seconds(name: str, default: float, *, minimum: float) -> float:
    """A number of seconds from the environment: ``default`` when unset or not a number, never below ``minimum``."""
    raw = (os.environ.get(name) or "").strip()
    try:
        return max(minimum, float(raw)) if raw else float(default)
    except ValueError:
        return float(default)


def write_private(path: Path | str, data: bytes) -> None:
    """Replace ``path`` with ``data`` whole: written to an owner-only (0600) temp file beside it and renamed into
    place, so a reader (or a crash) never meets half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


@contextmanager
def file_lock(path: Path | str) -> Iterator[None]:
    """An exclusive lock on ``path`` + ``.lock`` while the block runs: a read-modify-write of a small file that
    several processes of this machine share (POSIX; elsewhere the write is still whole, only not serialised)."""
    lock_path = Path(path).with_suffix(".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - not POSIX
            pass
        yield
    finally:
        os.close(fd)


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL (None for other databases and in-memory ones)."""
    if not url.startswith("sqlite:///") or url.endswith(":memory:") or "mode=memory" in url:
        return None
    return Path(url.removeprefix("sqlite:///").split("?", 1)[0])


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
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    make_private(folder)
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
    """``url`` with the password of its ``user:password@`` part replaced.

    By hand rather than with SQLAlchemy's URL parser, so the lightest modules (the scrapers import this one)
    never load SQLAlchemy. Everything before the *last* ``@`` of the URL counts as user info: a stray ``@`` in a
    password can only hide more, never show part of the password.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    userinfo, _at, hostpart = rest.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    if not colon:
        return url  # no password given
    return f"{scheme}://{user}:{replacement}@{hostpart}"
