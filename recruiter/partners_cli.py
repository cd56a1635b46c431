"""Commands for the partner stages: `platform`, `link`, `activation`, `performance` and `report`.

Registered on the main app by `recruiter.cli._register_extensions`. `recruiter.cli` is imported inside the
commands, not at the top, because that module imports this one while it is still loading.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Optional

import typer

platform_app = typer.Typer(help="Tracking platforms: compare them and choose one.", no_args_is_help=True)
activation_app = typer.Typer(help="Activate joined partners: checklists, messages, reminders.",
                             no_args_is_help=True)
performance_app = typer.Typer(help="Partner performance: import the numbers from your platform.",
                              no_args_is_help=True)
report_app = typer.Typer(help="Scorecards, segments, playbooks, funnel and trends.", no_args_is_help=True)


def _cli():  # noqa: ANN202
    from recruiter import cli

    return cli


def _since(value: Optional[str]) -> Optional[date]:
    """A date as YYYY-MM-DD, or a span back from today such as 30d, 8w or 3m."""
    if value is None:
        return None
    text = value.strip().lower()
    match = re.fullmatch(r"(\d+)\s*([dwm])", text)
    if match:
        from recruiter.models import utcnow

        days = int(match.group(1)) * {"d": 1, "w": 7, "m": 30}[match.group(2)]
        return utcnow().date() - timedelta(days=days)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD) or a span like 30d") from None


def _community(url: str, session) -> Any:  # noqa: ANN001
    from recruiter.pipeline import PipelineError, find_community

    try:
        return find_community(url, session=session)
    except PipelineError as exc:
        _cli().fail(str(exc))


# --- platform ---------------------------------------------------------------------------------------------

PLATFORM_COLUMNS = ["key", "name", "chosen", "link_format", "pricing_model"]  # the rest: `show` or --format json


@platform_app.command("list")
def platform_list(fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv.")) -> None:
    """List the tracking platforms with their link format, coupon tracking, payouts and pricing model.

    Example: recruiter platform list --format json
    """
    from recruiter.platforms import catalog_as_of, chosen_platform, has_chosen_platform, list_platforms

    cli = _cli()
    cli.check_format(fmt)
    with cli.session_scope() as session:
        chosen = chosen_platform(session=session).key if has_chosen_platform(session=session) else None
    rows = [{**p.to_dict(), "chosen": "yes" if p.key == chosen else ""} for p in list_platforms()]
    cli.emit(rows, fmt, PLATFORM_COLUMNS)
    if fmt == "table":
        typer.echo(f"Facts as of {catalog_as_of()}; check current pricing on each vendor's site. "
                   f"Chosen: {chosen or 'none (links use UTM parameters)'}")


@platform_app.command("show")
def platform_show(
    name: str = typer.Argument(..., help="Platform key or name, e.g. rewardful."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """Show everything known about one platform, with its sources and the date the facts are from.

    Example: recruiter platform show firstpromoter
    """
    from recruiter.platforms import PlatformError, catalog_as_of, get_platform

    cli = _cli()
    try:
        platform = get_platform(name)
    except PlatformError as exc:
        cli.fail(str(exc))
    data = {**platform.to_dict(), "as_of": catalog_as_of()}
    if fmt == "json":
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    cli.check_format(fmt, ("text", "json"))
    typer.echo(f"{platform.name} ({platform.key}) - {platform.website}")
    for key, label in [("best_for", "Best for"), ("link_format", "Referral link"), ("link_example", "Example"),
                       ("link_note", "Note"), ("coupon_tracking", "Coupons"), ("payouts", "Payouts"),
                       ("pricing_model", "Pricing model"), ("pricing_note", "Pricing"),
                       ("attribution", "Attribution")]:
        if data.get(key):
            typer.echo(f"  {label}: {data[key]}")
    typer.echo("  CSV columns (import preset):")
    for key, names in platform.csv_columns.items():
        typer.echo(f"    {key}: {', '.join(names)}")
    typer.echo(f"  Sources (as of {data['as_of']}): {', '.join(platform.sources)}")


@platform_app.command("choose")
def platform_choose(name: str = typer.Argument(..., help="Platform key or name, e.g. rewardful or utm.")) -> None:
    """Choose your tracking platform: it sets the referral link format and the performance import columns.

    Example: recruiter platform choose rewardful
    """
    from recruiter.platforms import PlatformError, choose_platform

    cli = _cli()
    with cli.session_scope() as session:
        try:
            platform = choose_platform(name, session=session)
        except PlatformError as exc:
            cli.fail(str(exc))
    typer.echo(f"tracking platform: {platform.name}; links look like {platform.link_format()}")


# --- link -------------------------------------------------------------------------------------------------

def link_command(
    url: str = typer.Argument(..., help="The partner's community URL (any form)."),
    destination: str = typer.Option(..., "--destination", "-d", help="The page the partner should link to."),
    platform: Optional[str] = typer.Option(None, "--platform", help="Link format of this platform instead of "
                                                                     "the chosen one."),
    ref_code: Optional[str] = typer.Option(None, "--ref-code", help="Use this code (e.g. the one your platform "
                                                                     "already gave the partner)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """Give a partner a stable, unique ref code and a tracked URL to the destination.

    JSON output is {"ref_code": ..., "tracked_url": ...}. Running it again gives the same code. Any known
    community can get a link (e.g. while negotiating); the link format is the chosen platform's.

    Example: recruiter link https://www.reddit.com/r/yoga/ --destination https://shop.example.com --format json
    """
    from recruiter.links import LinkError, create_link, set_ref_code
    from recruiter.platforms import PlatformError

    cli = _cli()
    cli.check_format(fmt)
    with cli.session_scope() as session:
        community = _community(url, session)
        try:
            if ref_code:
                set_ref_code(community, ref_code, session=session)
            result = create_link(community, destination, session=session, platform=platform)
        except (LinkError, PlatformError) as exc:
            cli.fail(str(exc))
    if fmt == "json":
        typer.echo(json.dumps({"ref_code": result.ref_code, "tracked_url": result.tracked_url}, indent=2))
    else:
        cli.emit([result.public()], fmt, ["name", "ref_code", "tracked_url", "platform"])


# --- activation -------------------------------------------------------------------------------------------

@activation_app.command("list")
def activation_list(fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv.")) -> None:
    """Every partner's activation checklist: steps done, next step, days to first click and first sale.

    Example: recruiter activation list --format csv
    """
    from recruiter.activation import STEPS, checklist_rows

    cli = _cli()
    cli.check_format(fmt)
    with cli.session_scope() as session:
        rows = checklist_rows(session=session)
    cli.emit(rows, fmt, ["name", "stage", "progress", *STEPS, "next_step", "days_to_first_click",
                         "days_to_first_sale"])


@activation_app.command("show")
def activation_show(
    url: str = typer.Argument(..., help="The partner's community URL."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """One partner's checklist, with when each step was done and the message for the next step.

    Example: recruiter activation show https://www.reddit.com/r/yoga/
    """
    from recruiter.activation import checklist, render_template

    cli = _cli()
    cli.check_format(fmt, ("text", "json"))
    with cli.session_scope() as session:
        community = _community(url, session)
        item = checklist(community, session=session)
        message = render_template(item["next_step"], community, session=session) if item["next_step"] else ""
    if fmt == "json":
        typer.echo(json.dumps({**item, "next_message": message}, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{item['name'] or item['url']} ({item['stage'] or 'not in the pipeline'}), "
               f"joined {item['joined_at'] or '-'}")
    for step in item["steps"]:
        typer.echo(f"  [{'x' if step['done'] else ' '}] {step['label']}"
                   + (f"  ({step['done_at'][:10]}, {step['source']})" if step["done"] else ""))
    typer.echo(f"  days to first click: {item['days_to_first_click'] if item['days_to_first_click'] is not None else '-'}"
               f"; to first sale: {item['days_to_first_sale'] if item['days_to_first_sale'] is not None else '-'}")
    if message:
        typer.echo(f"\nNext: {item['next_step']}. Message:\n\n{message}")


@activation_app.command("done")
def activation_done(
    url: str = typer.Argument(..., help="The partner's community URL."),
    step: str = typer.Argument(..., help="welcome_sent, link_created, assets_shared, first_promotion or "
                                         "first_sale."),
    on: Optional[str] = typer.Option(None, "--on", help="When it happened (YYYY-MM-DD; default now)."),
    note: str = typer.Option("", "--note", help="What was done."),
    undo: bool = typer.Option(False, "--undo", help="Untick the step instead."),
) -> None:
    """Tick (or untick) a checklist step; first promotion makes the partner activated, first sale performing.

    Example: recruiter activation done https://www.reddit.com/r/yoga/ welcome_sent --note "sent by email"
    """
    from recruiter.activation import ActivationError, mark_step, unmark_step

    cli = _cli()
    with cli.session_scope() as session:
        community = _community(url, session)
        try:
            if undo:
                removed = unmark_step(community, step, session=session)
                typer.echo(f"{community.url}: {step} {'unticked' if removed else 'was not ticked'}")
                return
            mark_step(community, step, session=session, note=note, at=_since(on) if on else None)
        except ActivationError as exc:
            cli.fail(str(exc))
        from recruiter.models import Prospect
        from sqlmodel import select

        prospect = session.exec(select(Prospect).where(Prospect.community_id == community.id)).first()
        typer.echo(f"{community.url}: {step} done ({prospect.stage if prospect else 'not in the pipeline'})")


@activation_app.command("stats")
def activation_stats(fmt: str = typer.Option("text", "--format", "-f", help="text or json.")) -> None:
    """How activation goes: partners who promoted and sold, median days from joining to first click and sale.

    Example: recruiter activation stats --format json
    """
    from recruiter.activation import DEFAULT_STUCK_DAYS, activation_summary

    cli = _cli()
    cli.check_format(fmt, ("text", "json"))
    with cli.session_scope() as session:
        stats = activation_summary(session=session)
    if fmt == "json":
        typer.echo(json.dumps(stats, indent=2))
        return

    def share(value: Optional[float]) -> str:
        return "-" if value is None else f"{value * 100:.0f} %"

    def days(value: Optional[float]) -> str:
        return "-" if value is None else f"{value:g} days"

    typer.echo(f"{stats['partners']} partners: {stats['promoted']} promoted ({share(stats['promoted_share'])}), "
               f"{stats['sold']} sold ({share(stats['sold_share'])})")
    typer.echo(f"median time from joining to first click: {days(stats['median_days_to_first_click'])}; "
               f"to first sale: {days(stats['median_days_to_first_sale'])}")
    typer.echo(f"{stats['stuck']} partners waiting {DEFAULT_STUCK_DAYS}+ days on a step "
               f"(recruiter activation reminders)")


@activation_app.command("reminders")
def activation_reminders(
    days: int = typer.Option(7, "--days", min=0, help="Remind about partners waiting this many days on a step."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """Partners stuck on a checklist step, longest wait first, with the step to push them past.

    Example: recruiter activation reminders --days 14
    """
    from recruiter.activation import reminders

    cli = _cli()
    cli.check_format(fmt)
    with cli.session_scope() as session:
        rows = [r.public() for r in reminders(session=session, days=days)]
    cli.emit(rows, fmt, ["name", "url", "stage", "label", "waiting_days", "since"])


@activation_app.command("template")
def activation_template(
    step: str = typer.Argument(..., help="The step the message is for, e.g. welcome_sent."),
    url: str = typer.Argument(..., help="The partner's community URL."),
) -> None:
    """Print the message for a step, filled in for the partner (name, link, ref code).

    Example: recruiter activation template welcome_sent https://www.reddit.com/r/yoga/
    """
    from recruiter.activation import ActivationError, render_template

    cli = _cli()
    with cli.session_scope() as session:
        community = _community(url, session)
        try:
            typer.echo(render_template(step, community, session=session))
        except ActivationError as exc:
            cli.fail(str(exc))


@activation_app.command("merchant")
def activation_merchant(name: str = typer.Argument(..., help="Your shop's name, as partners know it.")) -> None:
    """Set the shop name used in messages to partners.

    Example: recruiter activation merchant "Mat & Mind"
    """
    from recruiter.activation import MERCHANT_SETTING
    from recruiter.db import set_setting

    cli = _cli()
    with cli.session_scope() as session:
        set_setting(MERCHANT_SETTING, name.strip(), session=session)
    typer.echo(f"merchant name: {name.strip()}")


# --- performance ------------------------------------------------------------------------------------------

@performance_app.command("import")
def performance_import(
    file: Path = typer.Argument(..., help="CSV of date, partner, clicks, conversions, revenue, commission."),
    platform: Optional[str] = typer.Option(None, "--platform", help="Column preset of this platform (default: "
                                                                     "the chosen one)."),
    mapping: list[str] = typer.Option([], "--map", help="FIELD=Column, e.g. --map conversions=Sales "
                                                       "(repeatable)."),
    day_first: Optional[bool] = typer.Option(None, "--day-first/--month-first",
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
    from recruiter.performance import PerformanceError, import_performance, parse_mapping
    from recruiter.platforms import PlatformError

    cli = _cli()
    cli.check_format(fmt, ("text", "json"))
    if not file.exists():
        cli.fail(f"{file}: no such file")
    with cli.session_scope() as session:
        try:
            report = import_performance(file, session=session, platform=platform, mapping=parse_mapping(mapping),
                                        day_first=day_first)
        except (PerformanceError, PlatformError) as exc:
            cli.fail(str(exc))
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
    partner: Optional[str] = typer.Option(None, "--partner", help="Only this partner (community URL)."),
    since: Optional[str] = typer.Option(None, "--since", help="From this date (YYYY-MM-DD or 30d)."),
    limit: int = typer.Option(500, "--limit", "-n", min=1, help="At most this many days."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """List the stored daily numbers, newest first.

    Example: recruiter performance list --since 30d --format csv
    """
    from recruiter.performance import performance_rows

    cli = _cli()
    cli.check_format(fmt)
    start = _since(since)
    with cli.session_scope() as session:
        community_id = _community(partner, session).id if partner else None
        rows = performance_rows(session=session, community_id=community_id, since=start, limit=limit)
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

    from recruiter.performance import remove_days

    cli = _cli()
    name = Path(file).name
    if not yes and sys.stdin.isatty() and not typer.confirm(f"Delete the days imported from {name}?"):
        raise typer.Exit(1)
    with cli.session_scope() as session:
        count = remove_days(session=session, source_file=name)
    typer.echo(f"{count} days from {name} deleted")


# --- report -----------------------------------------------------------------------------------------------

@report_app.command("partners")
def report_partners(
    since: Optional[str] = typer.Option(None, "--since", help="Totals from this date (YYYY-MM-DD or 30d); "
                                                             "segments always look at the last 30 days."),
    segment: Optional[str] = typer.Option(None, "--segment", help="Only this segment (top, rising, steady, "
                                                                 "dormant, never-activated)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """Scorecards of partners (joined and later): clicks, conversions, revenue, commission, EPC, conversion rate,
    last activity and segment, best revenue first.

    Example: recruiter report partners --since 2026-01-01 --format csv
    """
    from recruiter.reports import PARTNER_COLUMNS, partner_scorecards

    cli = _cli()
    cli.check_format(fmt)
    start = _since(since)
    with cli.session_scope() as session:
        try:
            rows = partner_scorecards(session=session, since=start, segment=segment)
        except ValueError as exc:
            cli.fail(str(exc))
    cli.emit(rows, fmt, PARTNER_COLUMNS)


@report_app.command("playbook")
def report_playbook(
    segment: str = typer.Argument(..., help="top, rising, steady, dormant or never-activated."),
    partner: Optional[str] = typer.Option(None, "--partner", help="Fill the message in for this partner."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """What to do with a segment: the goal, the actions, a message template and the partners in it.

    Example: recruiter report playbook dormant --partner https://www.reddit.com/r/yoga/
    """
    from recruiter.reports import playbook

    cli = _cli()
    cli.check_format(fmt, ("text", "json"))
    with cli.session_scope() as session:
        community = _community(partner, session) if partner else None
        try:
            book = playbook(segment, session=session, community=community)
        except ValueError as exc:
            cli.fail(str(exc))
    if fmt == "json":
        typer.echo(json.dumps(book, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{segment}: {book['goal']}")
    for action in book["actions"]:
        typer.echo(f"  - {action}")
    typer.echo(f"\nMessage:\n\n{book['message']}\n")
    names = ", ".join(p["name"] or p["url"] for p in book["partners"]) or "none"
    typer.echo(f"Partners in {segment}: {names}")


@report_app.command("funnel")
def report_funnel(fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv.")) -> None:
    """The pipeline as a funnel: how many reached each stage, conversion from the stage before, median days.

    Example: recruiter report funnel --format json
    """
    from recruiter.reports import funnel

    cli = _cli()
    cli.check_format(fmt)
    with cli.session_scope() as session:
        rows = funnel(session=session)
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
    from recruiter.reports import trend

    cli = _cli()
    cli.check_format(fmt)
    with cli.session_scope() as session:
        try:
            rows = trend(session=session, by=by, periods=periods)
        except ValueError as exc:
            cli.fail(str(exc))
    cli.emit(rows, fmt, ["period", "clicks", "conversions", "revenue", "commission", "active_partners"])


@report_app.command("kinds")
def report_kinds(
    since: Optional[str] = typer.Option(None, "--since", help="From this date (YYYY-MM-DD or 30d)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """Which kinds of community (podcast, blog, subreddit...) perform best as partners.

    Example: recruiter report kinds --format json
    """
    from recruiter.reports import kind_performance

    cli = _cli()
    cli.check_format(fmt)
    start = _since(since)
    with cli.session_scope() as session:
        rows = kind_performance(session=session, since=start)
    cli.emit(rows, fmt, ["kind", "partners", "activated", "activation_rate", "clicks", "conversions", "revenue",
                         "revenue_per_partner", "epc", "conversion_rate"])


def register(app: typer.Typer) -> None:
    app.add_typer(platform_app, name="platform")
    app.command("link")(link_command)
    app.add_typer(activation_app, name="activation")
    app.add_typer(performance_app, name="performance")
    app.add_typer(report_app, name="report")
