"""Helpers for benchmarks: where ../shared is, and a clean data dir per run."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    """The read-only shared data (../shared beside the repo, or $RECRUITER_SHARED); None when absent."""
    for candidate in (os.environ.get("RECRUITER_SHARED"), REPO.parent / "shared"):
        if candidate and Path(candidate, "datasets").is_dir():
            return Path(candidate)
    return None


def require_shared(what: str) -> Path:
    shared = shared_dir()
    if shared is None:
        print(f"skipped: {what} needs ../shared (or RECRUITER_SHARED); not present here")
        sys.exit(0)
    return shared


def fresh_home(prefix: str) -> Path:
    home = Path(tempfile.mkdtemp(prefix=f"recruiter-{prefix}-"))
    os.environ["RECRUITER_HOME"] = str(home)
    os.environ.pop("RECRUITER_DB", None)
    return home


def recruiter_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("recruiter")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "recruiter.cli"]
