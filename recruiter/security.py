"""Who may reach the web app: loopback by default, a password for anything else."""

from __future__ import annotations

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def password_required_message(host: str) -> str:
    return (f"refusing to serve on {host}: binding beyond this machine needs a password. "
            "Set RECRUITER_PASSWORD (every page then asks for it) or use --host 127.0.0.1")
