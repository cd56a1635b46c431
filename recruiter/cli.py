"""`recruiter`: the command line over the same services the web app uses.

Every command's help ends with an example. Data lives in $RECRUITER_HOME (default ~/.local/share/recruiter);
`--db URL` or $RECRUITER_DB points at any SQLAlchemy database instead.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

import typer

from recruiter.models import KINDS, STAGES

app = typer.Typer(
    name="recruiter",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
profile_app = typer.Typer(help="Ideal-client profiles: who buys, in the merchant's words.", no_args_is_help=True)
prospect_app = typer.Typer(help="The outreach pipeline: prospects and their stages.", no_args_is_help=True)
index_app = typer.Typer(help="The embedding index of communities.", no_args_is_help=True)
app.add_typer(profile_app, name="profile")
app.add_typer(prospect_app, name="prospect")
app.add_typer(index_app, name="index")

FORMATS = ("table", "json", "csv")


class CliError(Exception):
    """An error the user can act on: printed as one line, exit code 1."""


@app.callback()
def main(
    ctx: typer.Context,
    db: Optional[str] = typer.Option(None, "--db", envvar="RECRUITER_DB",
                                     help="SQLAlchemy URL of the database (default: SQLite in $RECRUITER_HOME)."),
) -> None:
    """Find, rank and recruit affiliate partners whose audience is your ideal client.

    Example: recruiter import communities.csv && recruiter rank yoga --limit 20
    """
    ctx.ensure_object(dict)
    ctx.obj["db_url"] = db
    if db:
        os.environ["RECRUITER_DB"] = db  # every service resolves the database the same way


@contextmanager
def session_scope() -> Iterator[Any]:
    from recruiter.db import SchemaError, open_session

    try:
        with open_session() as session:
            yield session
    except SchemaError as exc:
        raise CliError(str(exc)) from None


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def check_format(value: str, allowed: tuple[str, ...] = FORMATS) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}")
    return value


def check_kind(value: Optional[str]) -> Optional[str]:
    if value is not None and value not in KINDS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(KINDS)}")
    return value


def emit(rows: list[dict[str, Any]], fmt: str, columns: list[str], out=None) -> None:  # noqa: ANN001
    """Write rows as a table, a JSON list or CSV to stdout (or `out`)."""
    out = out or sys.stdout
    if fmt == "json":
        out.write(json.dumps(rows, indent=2, ensure_ascii=False, default=str) + "\n")
    elif fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "|".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()})
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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True, console=__import__("rich.console").console.Console(stderr=True)) as bar:
        task = bar.add_task(description, total=None)

        def update(stage: str, done: int, total: int = 0) -> None:
            bar.update(task, description=f"{description}: {stage}", completed=done, total=total or None)

        yield update


# --- communities -----------------------------------------------------------------------------------------

@app.command("import")
def import_command(
    files: list[Path] = typer.Argument(..., help="CSV, JSON (list), JSONL or OPML files of communities."),
) -> None:
    """Import communities from files, upserting by canonical URL; bad rows are reported and skipped.

    Columns may be named url/link/feed_url, name/title, description/about/summary,
    audience_size/subscribers/followers, kind, language, recent_posts, emails, socials.

    Example: recruiter import communities.csv podcasts.opml
    """
    from recruiter.importing import import_files

    with session_scope() as session, progress_bar("importing") as progress:
        report = import_files(files, session=session, progress=progress)
    for error in report.errors:
        typer.echo(error)
    typer.echo(report.summary())
    if report.imported == 0:
        raise typer.Exit(1)


@app.command("export")
def export_command(
    fmt: str = typer.Option("json", "--format", "-f", help="csv, json or jsonl."),
    kind: Optional[str] = typer.Option(None, "--kind", help=f"Only this kind ({', '.join(KINDS)})."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout."),
) -> None:
    """Export communities (all, or one kind) as CSV, JSON or JSONL.

    Example: recruiter export --format csv --kind podcast > podcasts.csv
    """
    from recruiter.exporting import EXPORT_COLUMNS, export_rows

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


# --- profiles ---------------------------------------------------------------------------------------------

@profile_app.command("add")
def profile_add(
    name: str = typer.Option(..., "--name", help="A short unique name."),
    description: str = typer.Option("", "--description", help="Who buys, what problems they have, what you sell."),
    keyword: list[str] = typer.Option([], "--keyword", help="A term the audience uses (repeatable)."),
    exclude: list[str] = typer.Option([], "--exclude", help="A topic that is NOT a fit (repeatable)."),
    example: list[str] = typer.Option([], "--example", help="URL of a community that is a great fit (repeatable)."),
) -> None:
    """Create an ideal-client profile (or update the one with that name).

    Example: recruiter profile add --name yoga --description "Yoga mats for beginners with back pain"
    --keyword yoga --exclude "hot yoga studio franchise" --example https://www.reddit.com/r/yoga/
    """
    from profiles.service import ProfileError, save_profile
    from recruiter.models import ProfileCreate

    with session_scope() as session:
        try:
            profile = save_profile(ProfileCreate(name=name, description=description, keywords=keyword,
                                                 exclusions=exclude, examples=example), session=session)
        except ProfileError as exc:
            fail(str(exc))
        typer.echo(f"profile {profile.name!r} saved (id {profile.id})")


@profile_app.command("list")
def profile_list(fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv.")) -> None:
    """List profiles.

    Example: recruiter profile list --format json
    """
    from profiles.service import list_profiles, profile_to_dict

    check_format(fmt)
    with session_scope() as session:
        rows = [profile_to_dict(p) for p in list_profiles(session=session)]
    emit(rows, fmt, ["name", "description", "keywords", "exclusions", "examples"])


@profile_app.command("show")
def profile_show(name: str = typer.Argument(..., help="Profile name.")) -> None:
    """Show one profile as JSON.

    Example: recruiter profile show yoga
    """
    from profiles.service import ProfileError, profile_to_dict, require_profile

    with session_scope() as session:
        try:
            profile = require_profile(name, session=session)
        except ProfileError as exc:
            fail(str(exc))
        typer.echo(json.dumps(profile_to_dict(profile), indent=2, ensure_ascii=False))


@profile_app.command("delete")
def profile_delete(
    name: str = typer.Argument(..., help="Profile name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a profile and its stored matches (prospects stay in the pipeline).

    Example: recruiter profile delete yoga --yes
    """
    from profiles.service import ProfileError, delete_profile, require_profile

    with session_scope() as session:
        try:
            profile = require_profile(name, session=session)
        except ProfileError as exc:
            fail(str(exc))
        if not yes and sys.stdin.isatty() and not typer.confirm(f"Delete profile {profile.name!r}?"):
            raise typer.Exit(1)
        delete_profile(profile, session=session)
        typer.echo(f"profile {name!r} deleted")


@profile_app.command("export")
def profile_export(
    name: Optional[str] = typer.Argument(None, help="One profile (default: all)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout."),
) -> None:
    """Export profiles as a JSON list (re-importable with `profile import`).

    Example: recruiter profile export > profiles.json
    """
    from profiles.service import ProfileError, list_profiles, profile_to_dict, require_profile

    with session_scope() as session:
        try:
            items = [require_profile(name, session=session)] if name else list_profiles(session=session)
        except ProfileError as exc:
            fail(str(exc))
        text = json.dumps([profile_to_dict(p) for p in items], indent=2, ensure_ascii=False) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@profile_app.command("import")
def profile_import(file: Path = typer.Argument(..., help="A JSON list of profiles.")) -> None:
    """Import profiles from JSON (as written by `profile export`); existing names are updated.

    Example: recruiter profile import profiles.json
    """
    from profiles.service import ProfileError, import_profiles

    with session_scope() as session:
        try:
            saved, errors = import_profiles(file, session=session)
        except ProfileError as exc:
            fail(str(exc))
    for error in errors:
        typer.echo(error)
    typer.echo(f"{len(saved)} profiles imported, {len(errors)} skipped")
    if not saved:
        raise typer.Exit(1)


# --- ranking ----------------------------------------------------------------------------------------------

RANK_COLUMNS = ["url", "name", "kind", "audience_size", "score", "fit", "why"]


@app.command("rank")
def rank_command(
    profile: str = typer.Argument(..., help="Profile name."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=10000, help="How many communities."),
    kind: Optional[str] = typer.Option(None, "--kind", help=f"Only this kind ({', '.join(KINDS)})."),
    min_audience: Optional[int] = typer.Option(None, "--min-audience", min=0, help="Smallest audience to show."),
    audience_weight: float = typer.Option(0.0, "--audience-weight", min=0.0, max=1.0,
                                          help="How much audience size counts next to fit (0 = fit only)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """Rank communities by how well their audience fits a profile, best first, with a reason for each.

    Prints url, name, kind, audience_size, score, fit (0-100) and why; the ranking is stored as matches.

    Example: recruiter rank yoga --limit 20 --kind subreddit --format json
    """
    from profiles.service import ProfileError, require_profile
    from recruiter.ranking import RankOptions, rank_communities

    check_format(fmt)
    check_kind(kind)
    with session_scope() as session:
        try:
            chosen = require_profile(profile, session=session)
        except ProfileError as exc:
            fail(str(exc))
        with progress_bar("indexing") as progress:
            from recruiter.importing import refresh_index

            refresh_index(session=session, progress=progress)
        results = rank_communities(chosen, session=session, limit=limit, kind=kind, min_audience=min_audience,
                                   options=RankOptions(audience_weight=audience_weight))
    emit([r.public() for r in results], fmt, RANK_COLUMNS)


# --- prospects --------------------------------------------------------------------------------------------

@prospect_app.command("set-stage")
def prospect_set_stage(
    url: str = typer.Argument(..., help="Community URL (any form; it is canonicalized)."),
    stage: str = typer.Argument(..., help=f"One of: {', '.join(STAGES)}."),
    note: str = typer.Option("", "--note", help="A note recorded with the change."),
    profile: Optional[str] = typer.Option(None, "--profile", help="The profile that surfaced this prospect."),
) -> None:
    """Move a community's prospect to a stage (creating the prospect when absent); the change is timestamped.

    Example: recruiter prospect set-stage https://www.reddit.com/r/yoga/ contacted --note "DM to the mods"
    """
    from profiles.service import ProfileError, require_profile
    from recruiter.pipeline import PipelineError, find_community, set_stage

    with session_scope() as session:
        try:
            community = find_community(url, session=session)
            profile_id = require_profile(profile, session=session).id if profile else None
            prospect = set_stage(community, stage, session=session, note=note, profile_id=profile_id)
        except (PipelineError, ProfileError) as exc:
            fail(str(exc))
        typer.echo(f"{community.url}: {prospect.stage}")


@prospect_app.command("list")
def prospect_list(
    stage: Optional[str] = typer.Option(None, "--stage", help=f"Only this stage ({', '.join(STAGES)})."),
    profile: Optional[str] = typer.Option(None, "--profile", help="Only prospects surfaced by this profile."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """List prospects in the pipeline, most recently moved first.

    Example: recruiter prospect list --stage contacted --format csv
    """
    from profiles.service import ProfileError, require_profile
    from recruiter.pipeline import PipelineError, list_prospects, prospect_to_dict

    check_format(fmt)
    with session_scope() as session:
        try:
            profile_id = require_profile(profile, session=session).id if profile else None
            rows = [prospect_to_dict(p, c) for p, c in list_prospects(session=session, stage=stage,
                                                                      profile_id=profile_id)]
        except (PipelineError, ProfileError) as exc:
            fail(str(exc))
    emit(rows, fmt, ["url", "name", "kind", "stage", "feedback", "next_follow_up", "stage_changed_at"])


@prospect_app.command("feedback")
def prospect_feedback(
    url: str = typer.Argument(..., help="Community URL."),
    verdict: str = typer.Argument(..., help="shortlist, not_a_fit or clear."),
    profile: str = typer.Option(..., "--profile", help="The profile this judgement is about."),
) -> None:
    """Tell the ranking that a community is a fit (shortlist) or not (not_a_fit); the next rank learns from it.

    Example: recruiter prospect feedback https://www.reddit.com/r/yoga/ shortlist --profile yoga
    """
    from profiles.service import ProfileError, require_profile
    from recruiter.pipeline import PipelineError, find_community, set_feedback

    with session_scope() as session:
        try:
            community = find_community(url, session=session)
            chosen = require_profile(profile, session=session)
            prospect = set_feedback(community, None if verdict == "clear" else verdict.replace("-", "_"),
                                    session=session, profile_id=chosen.id)
        except (PipelineError, ProfileError) as exc:
            fail(str(exc))
        typer.echo(f"{community.url}: {prospect.feedback or 'no feedback'} ({prospect.stage})")


# --- index ------------------------------------------------------------------------------------------------

@index_app.command("rebuild")
def index_rebuild() -> None:
    """Rebuild the embedding index from the database (vectors come from the cache; only new texts are embedded).

    Example: recruiter index rebuild
    """
    from recruiter.config import database_url, embedding_model_name, index_dir
    from recruiter.index import CommunityIndex, forget_loaded_indexes, sync_index

    with session_scope() as session, progress_bar("rebuilding") as progress:
        url = database_url()
        fresh = CommunityIndex(folder=index_dir(url), model=embedding_model_name(), dim=384)
        report = sync_index(fresh, session=session, force=True, progress=lambda n: progress("embedding", n))
        forget_loaded_indexes()
    typer.echo(f"index rebuilt: {report.total} communities, {report.embedded} embedded")


@index_app.command("status")
def index_status() -> None:
    """Show how many communities the database and the index hold, and whether they agree.

    Example: recruiter index status
    """
    from sqlmodel import func, select

    from recruiter.config import database_url, embedding_model_name, index_dir
    from recruiter.db import get_setting
    from recruiter.index import DATA_VERSION_KEY, load_index
    from recruiter.models import Community

    with session_scope() as session:
        count = session.exec(select(func.count()).select_from(Community)).one()
        version = get_setting(DATA_VERSION_KEY, 0, session=session)
    index = load_index(index_dir(database_url()), model=embedding_model_name())
    state = "in sync" if index.data_version == version and len(index) == count else "out of date (next command syncs it)"
    typer.echo(f"database: {count} communities; index: {len(index)} vectors ({index.model}); {state}")


# --- sample data and the app ------------------------------------------------------------------------------

@app.command("seed")
def seed_command(
    if_empty: bool = typer.Option(False, "--if-empty", help="Only when the database has no communities yet."),
) -> None:
    """Load the sample communities and profiles shipped in examples/.

    Example: recruiter seed --if-empty
    """
    from recruiter.seed import seed_examples

    with session_scope() as session, progress_bar("seeding") as progress:
        message = seed_examples(session=session, only_if_empty=if_empty, progress=progress)
    typer.echo(message)


@app.command("ui")
def ui_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind; non-loopback needs RECRUITER_PASSWORD."),
    port: int = typer.Option(8080, "--port", help="Port to serve on."),
) -> None:
    """Serve the web app (profiles, ranked prospects, pipeline board) on http://HOST:PORT.

    Example: recruiter ui --port 8080
    """
    from recruiter.security import LOOPBACK_HOSTS, password_required_message

    if host not in LOOPBACK_HOSTS and not os.environ.get("RECRUITER_PASSWORD"):
        fail(password_required_message(host), code=2)
    from ui.main import start

    start(host=host, port=port)


def _register_extensions() -> None:
    """Commands owned by other modules (scrapers, partner activation) register themselves here."""
    import scrapers.cli
    from recruiter import partners_cli

    scrapers.cli.register(app)
    partners_cli.register(app)


_register_extensions()


def run() -> None:  # pragma: no cover - console entry point
    try:
        app()
    except CliError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    run()
