"""Partner stages from the command line: `platform`, `link` and `activation`."""

from __future__ import annotations

import json

import typer

import recruiter.cli.common as cli
from recruiter.cli.root import app

platform_app = typer.Typer(help="Tracking platforms: compare them and choose one.", no_args_is_help=True)
activation_app = typer.Typer(help="Activate joined partners: checklists, messages, reminders.",
                             no_args_is_help=True)
app.add_typer(platform_app, name="platform")
app.add_typer(activation_app, name="activation")


# --- platform ---------------------------------------------------------------------------------------------

PLATFORM_COLUMNS = ["key", "name", "chosen", "link_format", "pricing_model"]  # the rest: `show` or --format json


@platform_app.command("list")
def platform_list(fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv.")) -> None:
    """List the tracking platforms with their link format, coupon tracking, payouts and pricing model.

    Example: recruiter platform list --format json
    """
    from recruiter.partners.platforms import catalog_as_of, chosen_platform, has_chosen_platform, list_platforms

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
    from recruiter.partners.platforms import catalog_as_of, get_platform

    platform = get_platform(name)
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
    from recruiter.partners.platforms import choose_platform

    with cli.session_scope() as session:
        platform = choose_platform(name, actor=cli.cli_actor(), session=session)
    typer.echo(f"tracking platform: {platform.name}; links look like {platform.link_format()}")


# --- link -------------------------------------------------------------------------------------------------
@app.command("link")
def link_command(
    url: str = typer.Argument(..., help="The partner's community URL (any form)."),
    destination: str = typer.Option(..., "--destination", "-d", help="The page the partner should link to."),
    platform: str | None = typer.Option(None, "--platform", help="Link format of this platform instead of "
                                                                     "the chosen one."),
    ref_code: str | None = typer.Option(None, "--ref-code", help="Use this code (e.g. the one your platform "
                                                                     "already gave the partner)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """Give a partner a stable, unique ref code and a tracked URL to the destination.

    JSON output is {"ref_code": ..., "tracked_url": ...}. Running it again gives the same code. Any known
    community can get a link (e.g. while negotiating); the link format is the chosen platform's.

    Example: recruiter link https://www.reddit.com/r/yoga/ --destination https://shop.example.com --format json
    """
    from recruiter.outreach.pipeline import find_community
    from recruiter.partners.links import create_link, set_ref_code

    cli.check_format(fmt)
    with cli.session_scope() as session:
        community = find_community(url, session=session)
        if ref_code:
            set_ref_code(community, ref_code, actor=cli.cli_actor(), session=session)
        result = create_link(community, destination, actor=cli.cli_actor(), session=session, platform=platform)
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
    from recruiter.partners.activation import STEPS, checklists

    cli.check_format(fmt)
    with cli.session_scope() as session:
        rows = [item.row() for item in checklists(session=session)]
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
    from recruiter.outreach.pipeline import find_community
    from recruiter.partners.activation import checklist, render_template

    cli.check_format(fmt, ("text", "json"))
    with cli.session_scope() as session:
        community = find_community(url, session=session)
        item = checklist(community, session=session)
        message = render_template(item.next_step, community, session=session) if item.next_step else ""
    if fmt == "json":
        typer.echo(json.dumps({**item.public(), "next_message": message}, indent=2, ensure_ascii=False))
        return

    def days(value: int | None) -> str:
        return "-" if value is None else str(value)

    typer.echo(f"{item.name or item.url} ({item.stage or 'not in the pipeline'}), "
               f"joined {item.joined_at.isoformat(timespec='seconds') if item.joined_at else '-'}")
    for step in item.steps:
        typer.echo(f"  [{'x' if step.done else ' '}] {step.label}"
                   + (f"  ({step.done_at.date().isoformat()}, {step.source})" if step.done_at else ""))
    typer.echo(f"  days to first click: {days(item.days_to_first_click)}; "
               f"to first sale: {days(item.days_to_first_sale)}")
    if message:
        typer.echo(f"\nNext: {item.next_step}. Message:\n\n{message}")


@activation_app.command("done")
def activation_done(
    url: str = typer.Argument(..., help="The partner's community URL."),
    step: str = typer.Argument(..., help="welcome_sent, link_created, assets_shared, first_promotion or "
                                         "first_sale."),
    on: str | None = typer.Option(None, "--on", help="When it happened (YYYY-MM-DD; default now)."),
    note: str = typer.Option("", "--note", help="What was done."),
    undo: bool = typer.Option(False, "--undo", help="Untick the step instead."),
) -> None:
    """Tick (or untick) a checklist step; first promotion makes the partner activated, first sale performing.

    Example: recruiter activation done https://www.reddit.com/r/yoga/ welcome_sent --note "sent by email"
    """
    from recruiter.outreach.pipeline import find_community
    from recruiter.partners.activation import mark_step, unmark_step

    with cli.session_scope() as session:
        community = find_community(url, session=session)
        if undo:
            removed = unmark_step(community, step, actor=cli.cli_actor(), session=session)
            typer.echo(f"{community.url}: {step} {'unticked' if removed else 'was not ticked'}")
            return
        mark_step(community, step, actor=cli.cli_actor(), session=session, note=note,
                  at=cli.parse_since(on) if on else None)
        from sqlmodel import select

        from recruiter.core.models import Prospect

        prospect = session.exec(select(Prospect).where(Prospect.community_id == community.id)).first()
        typer.echo(f"{community.url}: {step} done ({prospect.stage if prospect else 'not in the pipeline'})")


@activation_app.command("stats")
def activation_stats(fmt: str = typer.Option("text", "--format", "-f", help="text or json.")) -> None:
    """How activation goes: partners who promoted and sold, median days from joining to first click and sale.

    Example: recruiter activation stats --format json
    """
    from recruiter.partners.activation import DEFAULT_STUCK_DAYS, activation_summary

    cli.check_format(fmt, ("text", "json"))
    with cli.session_scope() as session:
        stats = activation_summary(session=session)
    if fmt == "json":
        typer.echo(json.dumps(stats.public(), indent=2))
        return

    def share(value: float | None) -> str:
        return "-" if value is None else f"{value * 100:.0f} %"

    def days(value: float | None) -> str:
        return "-" if value is None else f"{value:g} days"

    typer.echo(f"{stats.partners} partners: {stats.promoted} promoted ({share(stats.promoted_share)}), "
               f"{stats.sold} sold ({share(stats.sold_share)})")
    typer.echo(f"median time from joining to first click: {days(stats.median_days_to_first_click)}; "
               f"to first sale: {days(stats.median_days_to_first_sale)}")
    typer.echo(f"{stats.stuck} partners waiting {DEFAULT_STUCK_DAYS}+ days on a step "
               f"(recruiter activation reminders)")


@activation_app.command("reminders")
def activation_reminders(
    days: int = typer.Option(7, "--days", min=0, help="Remind about partners waiting this many days on a step."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """Partners stuck on a checklist step, longest wait first, with the step to push them past.

    Example: recruiter activation reminders --days 14
    """
    from recruiter.partners.activation import reminders

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
    from recruiter.outreach.pipeline import find_community
    from recruiter.partners.activation import render_template

    with cli.session_scope() as session:
        community = find_community(url, session=session)
        typer.echo(render_template(step, community, session=session))


@activation_app.command("merchant")
def activation_merchant(name: str = typer.Argument(..., help="Your shop's name, as partners know it.")) -> None:
    """Set the shop name used in messages to partners.

    Example: recruiter activation merchant "Mat & Mind"
    """
    from recruiter.outreach.templates import set_merchant_name

    with cli.session_scope() as session:
        set_merchant_name(name, actor=cli.cli_actor(), session=session)
    typer.echo(f"merchant name: {name.strip()}")
