"""Who may reach the web app: loopback by default; beyond it, accounts (or, before the first user, a password).

The pieces of the web app's protection that need no database, kept free of any web framework so they can be
tested alone (accounts, their sessions and the login lockout, kept in the database, are `recruiter.accounts`):

- `check_password`: RECRUITER_PASSWORD's check, before accounts; constant-time (both sides are hashed first, so
  not even the length leaks);
- `session_token`: what a browser logged in with RECRUITER_PASSWORD carries, an HMAC of the password keyed with
  the storage secret. Changing ``RECRUITER_PASSWORD`` (or the secret) changes it, so every session ends with the
  password;
- `safe_redirect_target`: where to go after logging in, only ever a path on this site;
- `upload_limit_bytes`: the largest request body the server reads (``RECRUITER_UPLOAD_MAX_MB``, 20 by default).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

from recruiter.core.config import make_private, recruiter_home

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_UPLOAD_MAX_MB = 20.0


def password_required_message(host: str) -> str:
    return (f"refusing to serve on {host}: binding beyond this machine needs a login. Add the first user "
            "(recruiter user add EMAIL --role owner; everyone then logs in with an email and a password), or "
            "set RECRUITER_PASSWORD (every page then asks for it), or use --host 127.0.0.1")


def configured_password() -> str:
    return os.environ.get("RECRUITER_PASSWORD") or ""


def login_required() -> bool:
    """Before accounts, every page asks for the password whenever one is set (it must be, to serve beyond
    loopback without accounts)."""
    return bool(configured_password())


def check_password(given: str) -> bool:
    expected = configured_password()
    if not expected or not isinstance(given, str):
        return False
    return hmac.compare_digest(hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest(),
                               hashlib.sha256(expected.encode("utf-8", "surrogatepass")).digest())


_secrets: dict[Path, str] = {}
_secrets_lock = threading.Lock()


def storage_secret() -> str:
    """The key signing the web app's session cookie: made once, kept in $RECRUITER_HOME, readable by us only."""
    path = recruiter_home() / "storage_secret"
    with _secrets_lock:
        cached = _secrets.get(path)
        if cached is not None and path.exists():
            return cached
        try:
            secret = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            secret = ""
        if secret:
            make_private(path)
        else:
            secret = secrets.token_urlsafe(32)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(secret)
            os.chmod(path, 0o600)
        _secrets[path] = secret
        return secret


def session_token(password: str | None = None) -> str:
    """What a session logged in with the current password carries (bound to the password and the secret)."""
    password = configured_password() if password is None else password
    key = storage_secret().encode("utf-8")
    return hmac.new(key, b"recruiter-login\0" + password.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def token_is_current(token: object) -> bool:
    """True when ``token`` was issued for the password in force now."""
    if not login_required() or not isinstance(token, str) or not token:
        return False
    return hmac.compare_digest(token.encode("ascii", "replace"), session_token().encode("ascii"))


def safe_redirect_target(value: object, default: str = "/") -> str:
    """``value`` when it is a path on this site, else ``default``.

    Refused: absolute and scheme-relative URLs (``https://evil``, ``//evil``), backslashes (browsers read
    ``/\\evil`` as ``//evil``), control characters and spaces (browsers drop tabs and newlines, so ``/\\t/evil``
    would become ``//evil``), and the same tricks percent-encoded (``/%5cevil``, ``/%2F%2Fevil``).
    """
    if not isinstance(value, str) or not value or len(value) > 2048:
        return default
    if any(ord(ch) <= 0x20 or ch in "\x7f\\" for ch in value):
        return default
    decoded = unquote(value)
    if any(ord(ch) < 0x20 or ch in "\x7f\\" for ch in decoded):
        return default
    if not value.startswith("/") or value.startswith("//") or decoded.startswith("//"):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def upload_limit_bytes() -> int:
    """The most bytes one request body may have (``RECRUITER_UPLOAD_MAX_MB``, default 20 MB)."""
    raw = os.environ.get("RECRUITER_UPLOAD_MAX_MB", "").strip()
    try:
        megabytes = float(raw) if raw else DEFAULT_UPLOAD_MAX_MB
    except ValueError:
        megabytes = DEFAULT_UPLOAD_MAX_MB
    if megabytes <= 0:
        megabytes = DEFAULT_UPLOAD_MAX_MB
    return int(megabytes * 1024 * 1024)
