"""What every command module shares: the database session, output formats and progress on a terminal.

Errors are not handled here: a command raises `RecruiterError` (or lets a domain error through) and
`recruiter.cli.root` turns it into one line and exit code 2, the same for every command.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
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


def cli_actor() -> Any:
    """Who a command acts as: the operator at the machine (`Actor.cli`, recorded in the audit log as
    `cli:OSUSER`); the command line needs no login and acts as owner."""
    from recruiter.accounts.roles import Actor

    return Actor.cli()


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
        out.write(render_table(rows, columns, width=terminal_width()))


GAP = "  "
ELLIPSIS = "…"


def terminal_width(default: int = 120) -> int:
    """$COLUMNS when set, else the terminal's width, else `default` (output to a pipe or a file)."""
    return shutil.get_terminal_size((default, 24)).columns


def render_table(rows: list[dict[str, Any]], columns: list[str], *, width: int) -> str:
    """A plain table that fits `width`: one line per row, long cells cut with "…", numbers right-aligned.

    Narrow columns keep their whole width; what is left is shared evenly among the wide ones (max-min fair),
    so a long description is cut before a name or a kind is. Only when even a few characters per column do
    not fit does a line run wider than `width`. `--format json` or `csv` gives every value whole."""
    from rich.cells import cell_len

    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    numeric = [bool(rows) and all(isinstance(row.get(c), int | float) or row.get(c) is None for row in rows)
               for c in columns]
    natural = [max([cell_len(c)] + [cell_len(line[i]) for line in cells]) for i, c in enumerate(columns)]
    widths = _share(natural, width - len(GAP) * (len(columns) - 1))
    lines = [GAP.join(_fit(c, w, right) for c, w, right in zip(columns, widths, numeric, strict=True)),
             GAP.join("-" * w for w in widths)]
    lines += [GAP.join(_fit(c, w, right) for c, w, right in zip(line, widths, numeric, strict=True))
              for line in cells]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _share(natural: list[int], available: int, floor: int = 4) -> list[int]:
    """Column widths within `available`: each column its natural width if it is no more than an even share of
    what is left, the others an even share each (never under `floor`, or the natural width when smaller)."""
    if sum(natural) <= available:
        return list(natural)
    widths = list(natural)
    budget = available
    pending = sorted(range(len(natural)), key=lambda i: natural[i])
    while pending:
        share = budget // len(pending)
        if natural[pending[0]] <= share:
            index = pending.pop(0)
            budget -= natural[index]
            continue
        extra = budget - share * len(pending)
        for rank, index in enumerate(sorted(pending)):
            widths[index] = max(min(floor, natural[index]), share + (1 if rank < extra else 0))
        break
    return widths


def _fit(text: str, width: int, right: bool = False) -> str:
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) > width:
        text = set_cell_size(text, max(0, width - 1)) + ELLIPSIS if width > 1 else set_cell_size(text, width)
    padding = " " * max(0, width - cell_len(text))
    return padding + text if right else text + padding


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    return " ".join(printable(str(value)).split())  # one line per row: newlines and runs of spaces become one


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Text from the web made safe to print on a terminal: control characters (an escape sequence in a scraped
    name could rewrite the screen) become "?"; tabs and newlines stay."""
    return _CONTROL.sub("?", text)


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
