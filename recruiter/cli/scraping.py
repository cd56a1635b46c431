"""`recruiter scrape` and `recruiter discover`: the crawler and discovery from the command line.

JSON goes to stdout only; logs and progress go to stderr, and progress bars are drawn only when stderr is a
terminal.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from recruiter.cli.common import check_format, cli_actor, session_scope, stderr_console
from recruiter.cli.root import app

if TYPE_CHECKING:
    from scrapers.config import ScrapeSettings


def _print_table(records: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for column in ("url", "ok", "kind", "name", "audience", "emails", "items", "error"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(
            r["url"], "yes" if r["ok"] else "no", r["kind"] or "", r["name"] or "",
            "" if r["audience_size"] is None else str(r["audience_size"]),
            ", ".join(r["emails"][:3]), str(len(r["items"])), r["error"] or "",
        )
    Console(width=200 if not sys.stdout.isatty() else None).print(table)


def run_scrape(urls: list[str], settings: ScrapeSettings, *, show_progress: bool) -> list[dict]:
    import asyncio

    from scrapers.scrape import scrape_urls

    if not show_progress:
        return asyncio.run(scrape_urls(urls, settings=settings))
    from rich.progress import Progress

    with Progress(console=stderr_console(), transient=True) as progress:
        task = progress.add_task("scraping", total=len(urls))
        return asyncio.run(
            scrape_urls(urls, settings=settings, on_done=lambda _i, _r: progress.advance(task))
        )


def queued_job(job_id: int, output_format: str, what: str) -> None:
    """What a `--queue` command prints: `{"job": ID}` as JSON, or a line saying how to follow it."""
    if output_format == "json":
        sys.stdout.write(json.dumps({"job": job_id}) + "\n")
    else:
        typer.echo(f"job {job_id} queued: {what}; follow it with `recruiter job wait {job_id}`")


def send_to_workers(job_id: int) -> None:
    """Hand a new job to the broker; when that fails the job is marked failed with the reason (and kept, so
    `recruiter job retry` can send it again)."""
    from recruiter.core.errors import RecruiterError
    from recruiter.core.jobs import fail_job
    from recruiter.tasks.submit import dispatch

    with session_scope() as session:
        try:
            dispatch(job_id, session=session)
        except RecruiterError as exc:
            fail_job(job_id, str(exc), session=session)
            raise


def require_broker() -> None:
    from recruiter.tasks.submit import queue_available

    if not queue_available():
        from recruiter.cli.common import CliError

        raise CliError("--queue needs a broker: set RECRUITER_BROKER (e.g. redis://127.0.0.1:6379/0), start "
                       "`recruiter worker` where the work should run, or drop --queue to run it here")


@app.command("scrape")
def scrape_command(
    urls: list[str] = typer.Argument(None, help="Pages, feeds, subreddits, channels, podcasts or OPML URLs."),
    url_file: Path | None = typer.Option(None, "--file", "-f", help="A text file of URLs, one per line."),
    delay: float = typer.Option(1.0, "--delay", min=0.0, help="Seconds between two requests to the same host."),
    output_format: str = typer.Option("table", "--format", help="table or json."),
    save: bool = typer.Option(False, "--save", help="Upsert the successful records into the database."),
    queue: bool = typer.Option(False, "--queue", help="With --save: hand the URLs to the workers and return at once."),
    user_agent: str | None = typer.Option(None, "--user-agent", help="User-Agent sent and matched in robots.txt."),
    timeout: float = typer.Option(20.0, "--timeout", min=0.1, help="Total seconds allowed for one request."),
    concurrency: int = typer.Option(16, "--concurrency", min=1, help="Requests in flight across all hosts."),
) -> None:
    """Scrape URLs into community records, one per URL, in input order.

    Exits 0 only when every URL succeeded; a failed URL gets ok=false and an error.
    robots.txt is obeyed for pages and feeds; subreddits, channels and Apple Podcasts URLs go through their
    APIs when configured (`recruiter sources`). Services can be pointed elsewhere with RECRUITER_*_BASE.
    With --save --queue the URLs become one job for the workers (RECRUITER_BROKER); the command prints its id
    ({"job": ID} with --format json) and `recruiter job wait ID` follows it.

    Example: recruiter scrape https://example.com/blog https://www.reddit.com/r/python --delay 1 --format json
    """
    from scrapers.config import ScrapeSettings

    if output_format not in ("table", "json"):
        raise typer.BadParameter("--format must be table or json", param_hint="--format")
    urls = list(urls or [])
    if url_file is not None:
        from recruiter.tasks.submit import read_url_file

        urls += read_url_file(url_file)
    if not urls:
        raise typer.BadParameter("give URLs as arguments or --file FILE (one per line)", param_hint="URLS")
    if queue:
        if not save:
            raise typer.BadParameter("--queue saves what the workers scrape: add --save", param_hint="--queue")
        require_broker()
        from recruiter.tasks.submit import submit_scrape

        with session_scope() as session:
            job = submit_scrape(urls, actor=cli_actor(), session=session, delay=delay, timeout=timeout,
                                user_agent=user_agent)
        send_to_workers(int(job.id))
        queued_job(int(job.id), output_format, f"{job.total} URLs")
        return
    settings = ScrapeSettings(per_host_delay=delay, total_timeout=timeout, global_concurrency=concurrency)
    if user_agent:
        settings = settings.with_(user_agent=user_agent)
    try:
        records = run_scrape(urls, settings, show_progress=sys.stderr.isatty())
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    if output_format == "json":
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_table(records)
    if save:
        from recruiter.discovery.scraping import save_scraped

        with session_scope() as session:
            report = save_scraped(records, actor=cli_actor(), session=session)
        if report is not None:
            typer.echo(f"saved: {report}", err=True)
    raise typer.Exit(0 if all(r["ok"] for r in records) else 1)


@app.command("discover")
def discover_command(
    profile: str = typer.Argument(..., help="Name of the merchant profile to find partners for."),
    source: list[str] = typer.Option(..., "--source",
                                     help="reddit, youtube, podcasts, itunes or web (repeatable); "
                                          "`recruiter sources` says which are configured."),
    query: list[str] = typer.Option([], "--query", help="Extra search query (repeatable)."),
    limit: int = typer.Option(25, "--limit", min=1, help="Search results kept per query and source."),
    delay: float = typer.Option(1.0, "--delay", min=0.0, help="Seconds between two requests to the same site."),
    resume: int | None = typer.Option(None, "--resume", help="Id of an interrupted discover job to resume."),
    output_format: str = typer.Option("table", "--format", help="table or json."),
    queue: bool = typer.Option(False, "--queue", help="Hand the discovery to the workers and return at once."),
) -> None:
    """Search sources for communities matching a profile, save what they describe, enrich it, then rank.

    Sources: reddit (Reddit's Data API), youtube (YouTube Data API), podcasts (Podcast Index), itunes (Apple's
    iTunes Search API, no key), web (your SearXNG, the Brave Search API, or DuckDuckGo). A source without its
    keys is skipped with the variable to set (`recruiter sources`). Runs as a persisted job; an interrupted run
    resumes where it stopped (the same command again, or --resume ID). With --queue the searches and pages run
    on the workers (RECRUITER_BROKER); the command prints the job id ({"job": ID} with --format json).

    Example: recruiter discover "Trail running shoes" --source reddit --source podcasts --query "ultramarathon" --limit 20
    """
    from recruiter.discovery.discover import SOURCES

    bad = [s for s in source if s not in SOURCES]
    if bad:
        raise typer.BadParameter(f"unknown source {bad[0]!r}; choose from {', '.join(SOURCES)}", param_hint="--source")
    if output_format not in ("table", "json"):
        raise typer.BadParameter("--format must be table or json", param_hint="--format")
    if queue:
        require_broker()
        from recruiter.tasks.submit import submit_discover

        with session_scope() as session:
            job = submit_discover(profile, actor=cli_actor(), session=session, sources=source, queries=query,
                                  limit=limit, delay=delay)
        for skipped in (job.params or {}).get("skipped") or []:
            typer.echo(f"skipped {skipped['reason']}", err=True)
        send_to_workers(int(job.id))
        queued_job(int(job.id), output_format, f"{job.total} searches for {profile!r}")
        return
    from recruiter.cli.common import progress_bar
    from recruiter.tasks.submit import run_discovery

    with session_scope() as session, progress_bar("discovering") as bar:
        try:
            result = run_discovery(profile, actor=cli_actor(), session=session, sources=source, queries=query,
                                   limit=limit, delay=delay, resume=resume,
                                   progress=lambda done, total: bar("items", done, total))
        except KeyboardInterrupt:
            typer.echo("interrupted; run the same command again to resume", err=True)
            raise typer.Exit(130) from None
    _report_discovery(result)
    if output_format == "json":
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        from recruiter.cli.common import printable

        for row in result.get("ranked") or []:
            audience = "" if row.get("audience_size") is None else f"  ({row['audience_size']})"
            typer.echo(printable(f"{row.get('rank', ''):>3}  {row.get('score', 0):.3f}  {row.get('kind', ''):10} "
                                 f"{row.get('name') or row['url']}{audience}"))
    if result.get("state") == "failed":
        raise typer.Exit(1)


def _report_discovery(result: dict) -> None:
    """The outcome on stderr: counts, then each skipped source, error and warning once."""
    job_id = result.get("job_id")
    typer.echo(
        f"job {job_id} {result.get('state', 'done')}: {result.get('searched', 0)} searches, "
        f"{result.get('scraped', 0)} results read, {result.get('saved', 0)} saved, {result.get('failed', 0)} "
        f"failed, {result.get('good_matches', 0)} good matches (details: recruiter job show {job_id})",
        err=True,
    )
    for skipped in result.get("skipped") or []:
        typer.echo(f"  skipped {skipped['reason']}", err=True)
    for error in result.get("errors") or []:
        typer.echo(f"  {error}", err=True)
    if result.get("warned"):
        typer.echo(f"  {result['warned']} results kept from their source's data although their page or feed could "
                   f"not be read, e.g.:", err=True)
        for warning in (result.get("warnings") or [])[:3]:
            typer.echo(f"    {warning}", err=True)


# --- sources ----------------------------------------------------------------------------------------------

sources_app = typer.Typer(help="The discovery sources: which are configured, check them, store their keys.",
                          invoke_without_command=True)
app.add_typer(sources_app, name="sources")


@sources_app.callback()
def sources_list(
    ctx: typer.Context,
    output_format: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """List every discovery source: configured or not, and the variables it still needs.

    Keys come from the environment (RECRUITER_REDDIT_CLIENT_ID, RECRUITER_YOUTUBE_API_KEY...) or from what
    `recruiter sources set` (or the web app's Sources panel) stored, owner-only, in $RECRUITER_HOME; they are
    only ever shown masked.

    Example: recruiter sources --format json
    """
    if ctx.invoked_subcommand is not None:
        return
    from recruiter.discovery.sources import contact_note, list_sources

    check_format(output_format, ("table", "json"))
    views = list_sources()
    if output_format == "json":
        sys.stdout.write(json.dumps([v.as_dict() for v in views], ensure_ascii=False, indent=2) + "\n")
        return
    from recruiter.cli.common import emit

    rows = [{"source": v.status.name, "configured": "yes" if v.status.configured else "no",
             "what": v.status.title, "status": v.status.message,
             "keys": ", ".join(f"{c.name}={c.shown}" for c in v.settings if c.is_set)} for v in views]
    emit(rows, "table", ["source", "configured", "what", "status", "keys"])
    typer.echo(contact_note(), err=True)


@sources_app.command("check")
def sources_check(
    names: list[str] = typer.Argument(None, help="Sources to check (default: all of them)."),
    output_format: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Make one cheap call per source: ok, or the exact problem (not configured, bad key, quota spent,
    rate-limited, robots, unreachable). Exits 1 when a configured source is not ok.

    Example: recruiter sources check --format json
    """
    from recruiter.discovery.sources import check_sources

    check_format(output_format, ("table", "json"))
    results = check_sources(list(names or []) or None)
    if output_format == "json":
        sys.stdout.write(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=2) + "\n")
    else:
        from recruiter.cli.common import emit

        emit([{"source": r.name, "status": r.status, "message": r.message} for r in results], "table",
             ["source", "status", "message"])
    if any(not r.ok and r.status != "not_configured" for r in results):
        raise typer.Exit(1)


@sources_app.command("set")
def sources_set(
    variable: str = typer.Argument(..., help="RECRUITER_YOUTUBE_API_KEY, RECRUITER_REDDIT_CLIENT_ID, ..."),
) -> None:
    """Store a source's key (read from standard input, never from the command line, where others could see
    it) in $RECRUITER_HOME, owner-only. The environment still wins over what is stored.

    Example: printf %s "$KEY" | recruiter sources set RECRUITER_YOUTUBE_API_KEY
    """
    from recruiter.discovery.sources import set_setting

    text = sys.stdin.read() if not sys.stdin.isatty() else typer.prompt(variable, hide_input=True)
    text = text.strip()
    if not text:
        raise typer.BadParameter("no value on standard input (use `recruiter sources unset` to remove one)",
                                 param_hint="VARIABLE")
    with session_scope() as session:
        stored = set_setting(variable, text, actor=cli_actor(), session=session)
    note = " (the environment's value is in force while it is set)" if stored.origin == "environment" else ""
    typer.echo(f"stored {stored.name} = {stored.shown}{note}", err=True)


@sources_app.command("unset")
def sources_unset(variable: str = typer.Argument(..., help="The variable to forget.")) -> None:
    """Remove a stored key (the environment is not touched).

    Example: recruiter sources unset RECRUITER_BRAVE_API_KEY
    """
    from recruiter.discovery.sources import set_setting

    with session_scope() as session:
        removed = set_setting(variable, "", actor=cli_actor(), session=session)
    typer.echo(f"removed {removed.name} from the stored settings", err=True)
