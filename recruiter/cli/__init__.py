"""`recruiter`: the command line over the same services the web app uses.

One module per command group, each attaching its commands to `recruiter.cli.root.app`; importing this package
registers them all. Every command's help ends with an example, so `recruiter --help` and `recruiter CMD --help`
are the reference. Data lives in $RECRUITER_HOME (default ~/.local/share/recruiter); `--db URL` or
$RECRUITER_DB points at any SQLAlchemy database instead.
"""

from __future__ import annotations

# Importing a command module attaches its commands to `app`.
from recruiter.cli import (  # noqa: F401
    communities,
    jobs,
    partners,
    profiles,
    prospects,
    ranking,
    reports,
    scraping,
    web,
    worker,
)
from recruiter.cli.root import app


def run() -> None:  # pragma: no cover - console entry point
    app()


__all__ = ["app", "run"]
