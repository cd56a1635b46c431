"""Communities in and out: `import`, `export`, `seed` and the `index` beside the database."""

from __future__ import annotations

from pathlib import Path

import typer

from recruiter.cli.common import check_format, check_kind, emit, progress_bar, session_scope
from recruiter.cli.root import app
from recruiter.core.vocabulary import KINDS

index_app = typer.Typer(help="The embedding index of communities.", no_args_is_help=True)
app.add_typer(index_app, name="index")


@app.command("import")
def import_command(
    files: list[Path] = typer.Argument(..., help="CSV, JSON (list), JSONL or OPML files of communities."),
) -> None:
    """Import communities from files, upserting by canonical URL; bad rows are reported and skipped.

    Columns may be named url/link/feed_url, name/title, description/about/summary,
    audience_size/subscribers/followers, kind, language, recent_posts, emails, socials.

    Example: recruiter import communities.csv podcasts.opml
    """
    from recruiter.catalogue.importing import import_files
    from recruiter.matching.index import refresh_index

    with session_scope() as session, progress_bar("importing") as progress:
        report = import_files(files, session=session, progress=progress)
        report.embedded = refresh_index(session=session, progress=progress)
    for error in report.errors:
        typer.echo(error)
    typer.echo(report.summary())
    if report.imported == 0:
        raise typer.Exit(1)


@app.command("export")
def export_command(
    fmt: str = typer.Option("json", "--format", "-f", help="csv, json or jsonl."),
    kind: str | None = typer.Option(None, "--kind", help=f"Only this kind ({', '.join(KINDS)})."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout."),
) -> None:
    """Export communities (all, or one kind) as CSV, JSON or JSONL.

    Example: recruiter export --format csv --kind podcast > podcasts.csv
    """
    from recruiter.catalogue.exporting import EXPORT_COLUMNS, export_rows

    check_format(fmt, ("csv", "json", "jsonl"))
    check_kind(kind)
    with session_scope() as session:
        rows = export_rows(session=session, kind=kind)
    if output:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            emit(rows, fmt, EXPORT_COLUMNS, out=fh)
        typer.echo(f"{len(rows)} communities written to {output}", err=True)
    else:
        emit(rows, fmt, EXPORT_COLUMNS)


@index_app.command("rebuild")
def index_rebuild() -> None:
    """Rebuild the embedding index from the database (vectors come from the cache; only new texts are embedded).

    Example: recruiter index rebuild
    """
    from recruiter.matching.index import rebuild_index

    with session_scope() as session, progress_bar("rebuilding") as progress:
        report = rebuild_index(session=session, progress=lambda n: progress("embedding", n))
    typer.echo(f"index rebuilt: {report.total} communities, {report.embedded} embedded")


@index_app.command("status")
def index_status() -> None:
    """Show how many communities the database and the index hold, and whether they agree.

    Example: recruiter index status
    """
    from recruiter.matching.index import index_status as status_of

    with session_scope() as session:
        status = status_of(session=session)
    state = "in sync" if status.in_sync else "out of date (next command syncs it)"
    typer.echo(f"database: {status.communities} communities; index: {status.vectors} vectors ({status.model}); "
               f"{state}")


@app.command("seed")
def seed_command(
    if_empty: bool = typer.Option(False, "--if-empty", help="Only when the database has no communities yet."),
) -> None:
    """Load the sample communities and profiles shipped with recruiter (six niches, two profiles).

    Example: recruiter seed --if-empty
    """
    from recruiter.catalogue.seed import seed_examples
    from recruiter.matching.index import refresh_index

    with session_scope() as session, progress_bar("seeding") as progress:
        message = seed_examples(session=session, only_if_empty=if_empty, progress=progress)
        refresh_index(session=session, progress=progress)
    typer.echo(message)
