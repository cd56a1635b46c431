"""`recruiter sequence ...` and `recruiter outreach ...`: email sequences, enrolment, sending, reading replies.

`outreach send` and `outreach sync` are what a cron line calls (see README, "Email sequences"); both are safe to
run often and at the same time as each other.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer

from recruiter.cli.common import CliError, check_format, cli_actor, emit, session_scope
from recruiter.cli.root import app

sequence_app = typer.Typer(help="Email sequences: named, ordered steps.", no_args_is_help=True)
outreach_app = typer.Typer(help="Email outreach: enroll prospects in sequences, send due steps, read replies.",
                           no_args_is_help=True)
app.add_typer(sequence_app, name="sequence")
app.add_typer(outreach_app, name="outreach")

STATES = ("active", "replied", "bounced", "opted-out", "finished", "stopped")


def parse_now(value: str | None) -> datetime | None:
    """An ISO 8601 moment; without a zone it is UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 time (e.g. 2025-03-01T09:00:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- sequence -------------------------------------------------------------------------------------------------

@sequence_app.command("add")
def sequence_add(
    name: str = typer.Argument(..., help="The sequence's name."),
    steps: list[str] = typer.Option(..., "--step", help="DAYS|SUBJECT|BODY (repeat, in order); \\n in the body is a "
                                    "line break. Placeholders: {name} {community} {profile} {ref_link} {ref_code} "
                                    "{tracked_url} {merchant} {signature} {unsubscribe}."),
) -> None:
    """Create a sequence: each step is sent DAYS after the previous one (after enrolment for the first).

    Example: recruiter sequence add intro --step "0|Hello {name}|Hi {name}, ... {unsubscribe}" --step "3|Following up|Just checking in, {name}"
    """
    from recruiter.outreach.sequences import create_sequence, parse_step, sequence_steps

    specs = [parse_step(text, index=i) for i, text in enumerate(steps, start=1)]
    with session_scope() as session:
        sequence = create_sequence(name, specs, actor=cli_actor(), session=session)
        count = len(sequence_steps(sequence, session=session))
    typer.echo(f"sequence {sequence.name!r}: {count} step(s)")


@sequence_app.command("update")
def sequence_update(
    name: str = typer.Argument(..., help="The sequence's name."),
    steps: list[str] | None = typer.Option(None, "--step", help="Replace all steps: DAYS|SUBJECT|BODY (repeat)."),
    rename: str | None = typer.Option(None, "--rename", help="A new name."),
) -> None:
    """Replace a sequence's steps and/or rename it; prospects under way keep their progress.

    Example: recruiter sequence update intro --step "0|Hi {name}|..." --step "5|Any thoughts?|..."
    """
    from recruiter.outreach.sequences import parse_step, update_sequence

    if not steps and rename is None:
        raise CliError("nothing to change: give --step and/or --rename")
    specs = [parse_step(text, index=i) for i, text in enumerate(steps, start=1)] if steps else None
    with session_scope() as session:
        sequence = update_sequence(name, actor=cli_actor(), session=session, steps=specs, new_name=rename)
    typer.echo(f"sequence {sequence.name!r} updated")


@sequence_app.command("list")
def sequence_list(fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv.")) -> None:
    """List sequences with their steps and how their enrollments stand.

    Example: recruiter sequence list --format json
    """
    from recruiter.outreach.sequences import list_sequences

    check_format(fmt)
    with session_scope() as session:
        rows = [s.to_dict() for s in list_sequences(session=session)]
    emit(rows, fmt, ["name", "steps", "active", "replied", "bounced", "opted_out", "finished", "stopped"])


@sequence_app.command("show")
def sequence_show(
    name: str = typer.Argument(..., help="The sequence's name."),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
) -> None:
    """Show a sequence's steps.

    Example: recruiter sequence show intro
    """
    from recruiter.outreach.sequences import get_sequence, sequence_to_dict

    check_format(fmt, ("table", "json"))
    with session_scope() as session:
        data = sequence_to_dict(get_sequence(name, session=session), session=session)
    if fmt == "json":
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    typer.echo(f"sequence {data['name']!r}")
    for step in data["steps"]:
        typer.echo(f"\nstep {step['step']}, {step['wait_days']} day(s) after "
                   f"{'enrolment' if step['step'] == 1 else 'the previous step'}: {step['subject']}")
        for line in step["body"].splitlines():
            typer.echo(f"  {line}")


@sequence_app.command("delete")
def sequence_delete(
    name: str = typer.Argument(..., help="The sequence's name."),
    force: bool = typer.Option(False, "--force", help="Stop its active enrollments and delete it anyway."),
) -> None:
    """Delete a sequence (refused while prospects are active in it, unless --force); history is kept.

    Example: recruiter sequence delete intro --force
    """
    from recruiter.outreach.sequences import delete_sequence

    with session_scope() as session:
        stopped = delete_sequence(name, actor=cli_actor(), session=session, force=force)
    typer.echo(f"sequence {name!r} deleted" + (f"; {stopped} active enrollment(s) stopped" if stopped else ""))


# --- outreach -------------------------------------------------------------------------------------------------

@outreach_app.command("enroll")
def outreach_enroll(
    urls: list[str] = typer.Argument(..., help="Community URLs (any form; they are canonicalized)."),
    sequence: str = typer.Option(..., "--sequence", help="The sequence to enroll them in."),
    profile: str = typer.Option(..., "--profile", help="The profile they are recruited for ({profile})."),
) -> None:
    """Enroll communities with a known contact email in a sequence; the others are named and skipped.

    Skipped: no contact email, contacted before, bounced or opted out, already in a sequence. Exit 0 when
    any was enrolled.

    Example: recruiter outreach enroll https://yogablog.example/ https://www.reddit.com/r/yoga/ --sequence intro --profile yoga
    """
    from recruiter.outreach.sequences import enroll

    with session_scope() as session:
        report = enroll(urls, sequence=sequence, profile=profile, actor=cli_actor(), session=session)
    for item in report.enrolled:
        typer.echo(f"enrolled  {item.url}  {item.email}  first step due {item.first_due}")
    for skipped in report.skipped:
        typer.echo(f"skipped   {skipped.target}: {skipped.reason}")
    typer.echo(report.summary())
    if not report.enrolled:
        raise typer.Exit(1)


def _print_send(report, fmt: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    for o in report.outcomes:
        detail = f"  ({o.detail})" if o.detail else ""
        typer.echo(f"{o.result:<11} {o.url}  {o.email}  {o.sequence} step {o.step}: {o.subject}{detail}")
    typer.echo(report.summary())


@outreach_app.command("send")
def outreach_send(
    now: str | None = typer.Option(None, "--now", help="Send what is due at this ISO 8601 time (default: now)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be sent; send and change nothing."),
    max_per_day: int | None = typer.Option(None, "--max-per-day", min=0,
                                           help="Daily cap (default $RECRUITER_MAX_PER_DAY or 50)."),
    window: str | None = typer.Option(None, "--window", help="Send only between these hours, e.g. 09:00-17:00 "
                                      "(default $RECRUITER_SEND_WINDOW, else always)."),
    tz: str | None = typer.Option(None, "--timezone", help="Time zone of the window and the cap's day "
                                  "(default $RECRUITER_TIMEZONE or UTC)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
) -> None:
    """Send every sequence step that is due, over SMTP ($RECRUITER_SMTP_URL, from $RECRUITER_FROM).

    Safe to run from cron and twice at once: each message is claimed before it is sent. Exit 1 when a message
    failed, waits for a retry or is held (a placeholder without a value); exit 2 when the server cannot be used.

    Example: recruiter outreach send --window 09:00-17:00 --timezone Europe/Berlin
    """
    from recruiter.outreach.mail import send_due

    check_format(fmt, ("table", "json"))
    moment = parse_now(now)
    with session_scope() as session:
        report = send_due(actor=cli_actor(), session=session, now=moment, dry_run=dry_run, max_per_day=max_per_day,
                          window=window, timezone=tz)
    _print_send(report, fmt)
    if report.stopped:
        raise CliError(report.stopped)
    if report.problems:
        raise typer.Exit(1)


@outreach_app.command("sync")
def outreach_sync(
    now: str | None = typer.Option(None, "--now", help="Date the outcomes at this ISO 8601 time (default: now)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
) -> None:
    """Read new mail over IMAP ($RECRUITER_IMAP_URL): replies, bounces and opt-outs stop their sequences.

    Each message is read once; running it again changes nothing.

    Example: recruiter outreach sync
    """
    from recruiter.outreach.mail import sync_inbox

    check_format(fmt, ("table", "json"))
    moment = parse_now(now)
    with session_scope() as session:
        report = sync_inbox(actor=cli_actor(), session=session, now=moment)
    if fmt == "json":
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    for o in report.outcomes:
        typer.echo(f"{o.kind:<11} {o.url}  {o.email}  {o.detail}")
    typer.echo(report.summary())


@outreach_app.command("status")
def outreach_status(
    sequence: str | None = typer.Option(None, "--sequence", help="Only this sequence."),
    state: str | None = typer.Option(None, "--state", help=f"Only this state ({', '.join(STATES)})."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """Where each enrollment stands: address, sequence, steps sent, state and when the next step is due.

    Example: recruiter outreach status --format json
    """
    from recruiter.outreach.sequences import enrollment_rows

    check_format(fmt)
    if state is not None and state not in STATES:
        raise typer.BadParameter(f"{state!r} is not one of {', '.join(STATES)}")
    with session_scope() as session:
        rows = [r.to_dict() for r in enrollment_rows(session=session, sequence=sequence, state=state)]
    emit(rows, fmt, ["url", "email", "sequence", "step", "state", "next_at", "reason"])
