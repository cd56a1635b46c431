"""What every command module shares: the database session, output formats and progress on a terminal.

Errors are not handled here: a command raises `RecruiterError` (or lets a domain error through) and
`recruiter.cli.root` turns it into one line and exit code 2, the same for every command.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import typer

from recruiter.core.errors import RecruiterError
from recruiter.core.text import spreadsheet_safe
from recruiter.core.vocabulary import KINDS

FORMATS = ("table", "json", "csv")


class CliError(RecruiterError):
    """An error the user can act on, raised by the CLI itself (a bad option combination)."""


@contextmanager
def session_scope() -> Iterator[Any]:
    """A session on the database chosen by --db / $RECRUITER_DB / $RECRUITER_HOME."""
    from recruiter.core.db import open_session

    with open_session() as session:
        yield session


def fail(message: str, code: int = 2) -> None:
    """Print one line on stderr and stop with `code`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def check_format(value: str, allowed: tuple[str, ...] = FORMATS) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}")
    return value


def check_kind(value: str | None) -> str | None:
    if value is not None and value not in KINDS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(KINDS)}")
    return value


def emit(rows: list[dict[str, Any]], fmt: str, columns: list[str], out=None) -> None:
    """Write rows as a table, a JSON list or CSV to stdout (or `out`)."""
    out = out or sys.stdout
    if fmt == "json":
        out.write(json.dumps(rows, indent=2, ensure_ascii=False, default=str) + "\n")
    elif fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    elif fmt == "csv":
        # Opened in a spreadsheet, a cell starting with = + - @ would run as a formula: it gets a leading
        # apostrophe, which `recruiter import` strips again.
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: spreadsheet_safe("|".join(map(str, v)) if isinstance(v, list) else v)
                             for k, v in row.items()})
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(show_lines=False)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*[_cell(row.get(c)) for c in columns])
        Console(file=out, width=max(100, Console().width)).print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


@contextmanager
def progress_bar(description: str) -> Iterator[Any]:
    """A rich progress bar on a terminal; a silent callback otherwise (pipes and CI stay clean)."""
    if not sys.stderr.isatty():
        yield lambda *_args, **_kw: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task(description, total=None)

        def update(stage: str, done: int, total: int = 0) -> None:
            bar.update(task, description=f"{description}: {stage}", completed=done, total=total or None)

        yield update


def stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def parse_since(value: str | None) -> date | None:
    """A date as YYYY-MM-DD, or a span back from today such as 30d, 8w or 3m."""
    if value is None:
        return None
    text = value.strip().lower()
    match = re.fullmatch(r"(\d+)\s*([dwm])", text)
    if match:
        days = int(match.group(1)) * {"d": 1, "w": 7, "m": 30}[match.group(2)]
        return datetime.now(UTC).date() - timedelta(days=days)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD) or a span like 30d") from None
