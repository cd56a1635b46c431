"""Communities in and out: `import`, `export`, `seed`, the `index` beside the database, and `db upgrade`."""

from __future__ import annotations

from pathlib import Path

import typer

from recruiter.cli.common import CliError, check_format, check_kind, cli_actor, emit, progress_bar, session_scope
from recruiter.cli.root import app
from recruiter.core.vocabulary import KINDS

index_app = typer.Typer(help="The embedding index of communities.", no_args_is_help=True)
app.add_typer(index_app, name="index")


@app.command("import")
def import_command(
    files: list[Path] = typer.Argument(..., help="CSV, TSV, XLSX, JSON (a list), JSONL, OPML or TXT (one URL a "
                                                  "line) files of communities."),
    queue: bool = typer.Option(False, "--queue", help="Save and embed on the workers (RECRUITER_BROKER); return at once."),
    fmt: str = typer.Option("table", "--format", help="table or json (with --queue: {\"job\": ID})."),
) -> None:
    """Import communities from files, upserting by canonical URL; bad rows are reported and skipped.

    Columns may be named url/link/website, feed_url/xmlUrl/rss, name, title, description/about/summary,
    audience_size/subscribers/followers, kind, language, recent_posts, emails, socials (CSV, TSV and the first
    sheet of an XLSX, under a header row). Files are read as they stream in, whatever their size. A stored
    value is only replaced by a non-empty one; a feed and its site become one community.
    With --queue the files are read and checked here and the rows are saved and embedded by the workers.

    Example: recruiter import communities.csv podcasts.opml
    """
    if queue:
        from recruiter.cli.jobs import queue_import

        queue_import(files, check_format(fmt, ("table", "json")))
        return
    from recruiter.catalogue.importing import import_files
    from recruiter.matching.index import refresh_index

    with session_scope() as session, progress_bar("importing") as progress:
        report = import_files(files, actor=cli_actor(), session=session, progress=progress)
        report.embedded = refresh_index(session=session, progress=progress)
    for line in report.error_lines() + report.notes:
        typer.echo(line)
    typer.echo(report.summary())
    if report.imported == 0:
        raise typer.Exit(1)


EXPORT_FORMATS = ("csv", "json", "jsonl", "xlsx")


@app.command("export")
def export_command(
    fmt: str | None = typer.Option(None, "--format", "-f",
                                   help="csv, json, jsonl or xlsx (default: the -o file's suffix, else json)."),
    kind: str | None = typer.Option(None, "--kind", help=f"Only this kind ({', '.join(KINDS)})."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout."),
) -> None:
    """Export communities (all, or one kind) as CSV, JSON, JSONL or XLSX; `recruiter import` reads each back.

    Spreadsheet cells never start a formula: CSV text starting with = + - @ gets a leading apostrophe (which
    import strips again), XLSX writes it as a text cell. XLSX needs -o FILE.

    Example: recruiter export --format xlsx --kind podcast -o podcasts.xlsx
    """
    from recruiter.catalogue.exporting import EXPORT_COLUMNS, export_rows, iter_export_rows, write_xlsx

    suffix = output.suffix.lower().lstrip(".") if output else ""
    fmt = fmt or (suffix if suffix in EXPORT_FORMATS else "json")
    check_format(fmt, EXPORT_FORMATS)
    check_kind(kind)
    if fmt == "xlsx":
        if output is None:
            raise typer.BadParameter("xlsx is a binary file: give -o FILE.xlsx", param_hint="--format")
        with session_scope() as session:
            try:
                written = write_xlsx(output, iter_export_rows(actor=cli_actor(), session=session, kind=kind, fmt=fmt),
                                     EXPORT_COLUMNS)
            except OSError as exc:
                raise CliError(f"cannot write {output}: {exc.strerror or exc}") from None
        if written.cut_cells:
            typer.echo(f"{written.cut_cells} cells longer than Excel keeps (32,767 characters) were cut; "
                       "--format json keeps everything", err=True)
        typer.echo(f"{written.rows} communities written to {output}", err=True)
        return
    with session_scope() as session:
        rows = export_rows(actor=cli_actor(), session=session, kind=kind, fmt=fmt)
    if output:
        try:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                emit(rows, fmt, EXPORT_COLUMNS, out=fh)
        except OSError as exc:
            raise CliError(f"cannot write {output}: {exc.strerror or exc}") from None
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
    model = status.model
    if status.adapter is not None:
        model += (f", adapted to this catalogue: a map to {status.adapter.teacher} fitted on "
                  f"{status.adapter.sample} of {status.adapter.fitted_on} communities")
    typer.echo(f"database: {status.communities} communities; index: {status.vectors} vectors ({model}); {state}")


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
        message = seed_examples(actor=cli_actor(), session=session, only_if_empty=if_empty, progress=progress,
                                after_import=lambda: refresh_index(session=session, progress=progress))
    typer.echo(message)


db_app = typer.Typer(help="The database's schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database's schema to this recruiter's version (Alembic migrations; any command does it on first
    use too). A database made before migrations keeps all its data.

    Example: recruiter --db postgresql+psycopg://recruiter@db.example/recruiter db upgrade
    """
    from sqlalchemy import inspect

    from recruiter.core.config import database_url, redact_url
    from recruiter.core.db import get_engine, make_engine, revision_of

    url = database_url()
    probe = make_engine(url)
    try:
        with probe.connect() as conn:
            before = revision_of(conn)
            tables = inspect(conn).get_table_names()
            empty = not tables
            legacy = None
            if before is None and "setting" in tables:
                legacy = conn.exec_driver_sql("SELECT value FROM setting WHERE key = 'schema_version'").scalar()
    finally:
        probe.dispose()
    with get_engine(url).connect() as conn:  # opening it migrates it
        after = revision_of(conn)
    if empty:
        typer.echo(f"{redact_url(url)}: a new database, created at revision {after}")
    elif before == after:
        typer.echo(f"{redact_url(url)}: the schema is up to date (revision {after})")
    else:
        was = f"revision {before}" if before else f"the hand-versioned schema {legacy or '(unversioned)'}"
        typer.echo(f"{redact_url(url)}: schema upgraded from {was} to revision {after}")
