"""Who may reach the web app: loopback by default, a password for anything else."""

from __future__ import annotations

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def password_required_message(host: str) -> str:
    return (f"refusing to serve on {host}: binding beyond this machine needs a password. "
            "Set RECRUITER_PASSWORD (every page then asks for it) or use --host 127.0.0.1")


def login_required() -> bool:
    """Every page asks for the password whenever one is set (it must be, to serve beyond loopback)."""
    import os

    return bool(os.environ.get("RECRUITER_PASSWORD"))


def check_password(given: str) -> bool:
    import hmac
    import os

    expected = os.environ.get("RECRUITER_PASSWORD") or ""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def storage_secret() -> str:
    """The key signing the web app's session cookie: made once, kept in $RECRUITER_HOME, readable by us only."""
    import os
    import secrets

    from recruiter.core.config import recruiter_home

    path = recruiter_home() / "storage_secret"
    try:
        secret = path.read_text(encoding="utf-8").strip()
        if secret:
            return secret
    except FileNotFoundError:
        pass
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secret)
    os.chmod(path, 0o600)
    return secret
