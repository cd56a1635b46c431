"""`recruiter scrape` and `recruiter discover`: the crawler and discovery from the command line.

JSON goes to stdout only; logs and progress go to stderr, and progress bars are drawn only when stderr is a
terminal.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import typer

from recruiter.cli.common import session_scope, stderr_console
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


@app.command("scrape")
def scrape_command(
    urls: list[str] = typer.Argument(..., help="Pages, feeds, subreddits, channels, podcasts or OPML URLs."),
    delay: float = typer.Option(1.0, "--delay", min=0.0, help="Seconds between two requests to the same host."),
    output_format: str = typer.Option("table", "--format", help="table or json."),
    save: bool = typer.Option(False, "--save", help="Upsert the successful records into the database."),
    user_agent: str | None = typer.Option(None, "--user-agent", help="User-Agent sent and matched in robots.txt."),
    timeout: float = typer.Option(20.0, "--timeout", min=0.1, help="Total seconds allowed for one request."),
    concurrency: int = typer.Option(16, "--concurrency", min=1, help="Requests in flight across all hosts."),
) -> None:
    """Scrape URLs into community records, one per URL, in input order.

    Example: recruiter scrape https://example.com/blog https://www.reddit.com/r/python --delay 1 --format json

    Exits 0 only when every URL succeeded; a failed URL gets ok=false and an error.
    robots.txt is obeyed; services can be pointed elsewhere with RECRUITER_REDDIT_BASE,
    RECRUITER_YOUTUBE_BASE, RECRUITER_ITUNES_BASE and RECRUITER_WEB_SEARCH_BASE.
    """
    from scrapers.config import ScrapeSettings

    if output_format not in ("table", "json"):
        raise typer.BadParameter("--format must be table or json", param_hint="--format")
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
            report = save_scraped(records, session=session)
        if report is not None:
            typer.echo(f"saved: {report}", err=True)
    raise typer.Exit(0 if all(r["ok"] for r in records) else 1)


@app.command("discover")
def discover_command(
    profile: str = typer.Argument(..., help="Name of the merchant profile to find partners for."),
    source: list[str] = typer.Option(..., "--source", help="reddit, podcasts, youtube or web (repeatable)."),
    query: list[str] = typer.Option([], "--query", help="Extra search query (repeatable)."),
    limit: int = typer.Option(25, "--limit", min=1, help="Search results kept per query and source."),
    delay: float = typer.Option(1.0, "--delay", min=0.0, help="Seconds between two requests to the same host."),
    resume: int | None = typer.Option(None, "--resume", help="Id of an interrupted discover job to resume."),
    output_format: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Search sources for communities matching a profile, scrape and save them, then rank.

    Example: recruiter discover "Trail running shoes" --source reddit --source podcasts --query "ultramarathon" --limit 20

    Runs as a persisted job; an interrupted run resumes where it stopped (same profile and sources).
    """
    import asyncio

    from profiles.service import require_profile
    from recruiter.discovery.discover import SOURCES, run_discovery
    from scrapers.config import ScrapeSettings

    bad = [s for s in source if s not in SOURCES]
    if bad:
        raise typer.BadParameter(f"unknown source {bad[0]!r}; choose from {', '.join(SOURCES)}", param_hint="--source")
    if output_format not in ("table", "json"):
        raise typer.BadParameter("--format must be table or json", param_hint="--format")
    settings = ScrapeSettings(per_host_delay=delay)
    with session_scope() as session:
        chosen = require_profile(profile, session=session)

        def go(progress) -> dict:
            return asyncio.run(run_discovery(chosen, session=session, sources=source, queries=query, limit=limit,
                                             settings=settings, job_id=resume, progress=progress))

        try:
            if sys.stderr.isatty():
                from rich.progress import Progress as Bar

                with Bar(console=stderr_console(), transient=True) as bar:
                    task = bar.add_task("discovering", total=None)

                    def update(stage: str, done: int, total: int) -> None:
                        bar.update(task, description=stage, completed=done, total=total or None)

                    result = go(update)
            else:
                result = go(None)
        except KeyboardInterrupt:
            typer.echo("interrupted; run the same command again to resume", err=True)
            raise typer.Exit(130) from None
    typer.echo(
        f"job {result['job_id']}: {result['searched']} searches, {result['scraped']} URLs scraped, "
        f"{result['saved']} saved, {result['failed']} failed, {result['good_matches']} good matches",
        err=True,
    )
    for error in result["errors"]:
        typer.echo(f"  {error}", err=True)
    if output_format == "json":
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        for row in result["ranked"]:
            audience = "" if row.get("audience_size") is None else f"  ({row['audience_size']})"
            typer.echo(f"{row.get('rank', ''):>3}  {row.get('score', 0):.3f}  {row.get('kind', ''):10} "
                       f"{row.get('name') or row['url']}{audience}")
