"""`recruiter`: the command line over the same services the web app uses.

One module per command group, each attaching its commands to `recruiter.cli.root.app`; importing this package
registers them all. Every command's help ends with an example, so `recruiter --help` and `recruiter CMD --help`
are the reference. Data lives in $RECRUITER_HOME (default ~/.local/share/recruiter); `--db URL` or
$RECRUITER_DB points at any SQLAlchemy database instead.
"""

from __future__ import annotations

import os
import sys

# Importing a command module attaches its commands to `app`.
from recruiter.cli import (  # noqa: F401
    communities,
    jobs,
    outreach,
    partners,
    profiles,
    prospects,
    ranking,
    reports,
    scraping,
    web,
)
from recruiter.cli.root import app


def run() -> None:
    """The console entry point: the app, ended quietly when its reader stops early (`recruiter export | head`).

    A closed pipe is not a failure: the reader had what it wanted. The command's own exit code stands unless
    the pipe closed under it (then 0), and no traceback or "Exception ignored" line reaches the terminal."""
    stdout = sys.stdout
    try:
        app()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    broken = reader_went_away(stdout)
    if broken:
        code = 0
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        broken = True  # the reader left once we were done
    if broken:
        silence_stdout()
    raise SystemExit(code)


def reader_went_away(original) -> bool:
    """Whether click met a closed pipe: on EPIPE it swaps stdout for a wrapper that swallows the error."""
    return sys.stdout is not original and "Pacify" in type(sys.stdout).__name__


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush of unsent output cannot fail loudly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())
        os.close(devnull)
    except (OSError, AttributeError, ValueError):
        pass


__all__ = ["app", "run"]
