"""Numbers and what to do about them: `performance` imports and `report`s."""

from __future__ import annotations

import json
from pathlib import Path

import typer

import recruiter.cli.common as cli
from recruiter.cli.root import app

performance_app = typer.Typer(help="Partner performance: import the numbers from your platform.",
                              no_args_is_help=True)
report_app = typer.Typer(help="Scorecards, segments, playbooks, funnel and trends.", no_args_is_help=True)
app.add_typer(performance_app, name="performance")
app.add_typer(report_app, name="report")


# --- performance ------------------------------------------------------------------------------------------

@performance_app.command("import")
def performance_import(
    file: Path = typer.Argument(..., help="CSV of date, partner, clicks, conversions, revenue, commission."),
    platform: str | None = typer.Option(None, "--platform", help="Column preset of this platform (default: "
                                                                     "the chosen one)."),
    mapping: list[str] = typer.Option([], "--map", help="FIELD=Column, e.g. --map conversions=Sales "
                                                       "(repeatable)."),
    day_first: bool | None = typer.Option(None, "--day-first/--month-first",
                                             help="How to read dates like 03/04/2026 (default: guessed from "
                                                  "the file, else month-first)."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """Import partner performance; bad rows are reported as `line N: reason` and skipped, the rest kept.

    Partners are named by ref code or community URL and must be joined or later. Numbers are stored per
    partner, day and platform: re-importing a file changes nothing, and a newer export of the same day
    replaces the older numbers instead of adding to them.

    Example: recruiter performance import export.csv --platform rewardful --map conversions=Sales
    """
    from recruiter.partners.performance import import_performance, parse_mapping

    cli.check_format(fmt, ("text", "json"))
    if not file.exists():
        cli.fail(f"{file}: no such file")
    with cli.session_scope() as session:
        report = import_performance(file, actor=cli.cli_actor(), session=session, platform=platform,
                                    mapping=parse_mapping(mapping), day_first=day_first)
    if fmt == "json":
        typer.echo(json.dumps(report.public(), indent=2, ensure_ascii=False))
    else:
        for error in report.errors:
            typer.echo(error)
        for note in report.notes:
            typer.echo(f"note: {note}")
        typer.echo(report.summary())
    if report.kept == 0 and report.read > 0:
        raise typer.Exit(1)


@performance_app.command("list")
def performance_list(
    partner: str | None = typer.Option(None, "--partner", help="Only this partner (community URL)."),
    since: str | None = typer.Option(None, "--since", help="From this date (YYYY-MM-DD or 30d)."),
    limit: int = typer.Option(500, "--limit", "-n", min=1, help="At most this many days."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """List the stored daily numbers, newest first.

    Example: recruiter performance list --since 30d --format csv
    """
    from recruiter.outreach.pipeline import find_community
    from recruiter.partners.performance import performance_rows

    cli.check_format(fmt)
    start = cli.parse_since(since)
    with cli.session_scope() as session:
        community_id = find_community(partner, session=session).id if partner else None
        rows = [r.public() for r in performance_rows(session=session, community_id=community_id, since=start,
                                                      limit=limit)]
    cli.emit(rows, fmt, ["date", "name", "platform", "clicks", "conversions", "revenue", "commission",
                         "source_file"])


@performance_app.command("remove")
def performance_remove(
    file: str = typer.Option(..., "--file", help="Name of the imported file whose days to delete."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete the days an import of a file wrote (the file imported by mistake); other days stay.

    Example: recruiter performance remove --file wrong-export.csv --yes
    """
    import sys

    from recruiter.partners.performance import remove_days

    name = Path(file).name
    if not yes and sys.stdin.isatty() and not typer.confirm(f"Delete the days imported from {name}?"):
        raise typer.Exit(1)
    with cli.session_scope() as session:
        count = remove_days(actor=cli.cli_actor(), session=session, source_file=name)
    typer.echo(f"{count} days from {name} deleted")


# --- report -----------------------------------------------------------------------------------------------

@report_app.command("partners")
def report_partners(
    since: str | None = typer.Option(None, "--since", help="Totals from this date (YYYY-MM-DD or 30d); "
                                                             "segments always look at the last 30 days."),
    segment: str | None = typer.Option(None, "--segment", help="Only this segment (top, rising, steady, "
                                                                 "dormant, never-activated)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """Scorecards of partners (joined and later): clicks, conversions, revenue, commission, EPC, conversion rate,
    last activity and segment, best revenue first.

    Example: recruiter report partners --since 2026-01-01 --format csv
    """
    from recruiter.partners.reports import PARTNER_COLUMNS, partner_scorecards

    cli.check_format(fmt)
    start = cli.parse_since(since)
    with cli.session_scope() as session:
        rows = [card.public() for card in partner_scorecards(session=session, since=start, segment=segment)]
    cli.emit(rows, fmt, PARTNER_COLUMNS)


@report_app.command("playbook")
def report_playbook(
    segment: str = typer.Argument(..., help="top, rising, steady, dormant or never-activated."),
    partner: str | None = typer.Option(None, "--partner", help="Fill the message in for this partner."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """What to do with a segment: the goal, the actions, a message template and the partners in it.

    Example: recruiter report playbook dormant --partner https://www.reddit.com/r/yoga/
    """
    from recruiter.outreach.pipeline import find_community
    from recruiter.partners.reports import playbook

    cli.check_format(fmt, ("text", "json"))
    with cli.session_scope() as session:
        community = find_community(partner, session=session) if partner else None
        book = playbook(segment, session=session, community=community)
    if fmt == "json":
        typer.echo(json.dumps(book.public(), indent=2, ensure_ascii=False))
        return
    typer.echo(f"{segment}: {book.goal}")
    for action in book.actions:
        typer.echo(f"  - {action}")
    typer.echo(f"\nMessage:\n\n{book.message}\n")
    names = ", ".join(p.name or p.url for p in book.partners) or "none"
    typer.echo(f"Partners in {segment}: {names}")


@report_app.command("funnel")
def report_funnel(fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv.")) -> None:
    """The pipeline as a funnel: how many reached each stage, conversion from the stage before, median days.

    Example: recruiter report funnel --format json
    """
    from recruiter.partners.reports import funnel

    cli.check_format(fmt)
    with cli.session_scope() as session:
        rows = [row.public() for row in funnel(session=session)]
    cli.emit(rows, fmt, ["stage", "reached", "conversion", "now", "median_days_in_stage"])


@report_app.command("trend")
def report_trend(
    by: str = typer.Option("week", "--by", help="day, week or month."),
    periods: int = typer.Option(12, "--periods", min=1, max=366, help="How many periods back."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """Program totals per period: clicks, conversions, revenue, commission and active partners.

    Example: recruiter report trend --by month --periods 6
    """
    from recruiter.partners.reports import trend

    cli.check_format(fmt)
    with cli.session_scope() as session:
        rows = [row.public() for row in trend(session=session, by=by, periods=periods)]
    cli.emit(rows, fmt, ["period", "clicks", "conversions", "revenue", "commission", "active_partners"])


@report_app.command("kinds")
def report_kinds(
    since: str | None = typer.Option(None, "--since", help="From this date (YYYY-MM-DD or 30d)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """Which kinds of community (podcast, blog, subreddit...) perform best as partners.

    Example: recruiter report kinds --format json
    """
    from recruiter.partners.reports import kind_performance

    cli.check_format(fmt)
    start = cli.parse_since(since)
    with cli.session_scope() as session:
        rows = [row.public() for row in kind_performance(session=session, since=start)]
    cli.emit(rows, fmt, ["kind", "partners", "activated", "activation_rate", "clicks", "conversions", "revenue",
                         "revenue_per_partner", "epc", "conversion_rate"])
