"""`recruiter prospect ...`: the outreach pipeline from the command line.

`show` prints the same story the web app's prospect page shows (`recruiter.outreach.story`); the move rules
(no second first contact without `--force`) are the pipeline's, so the CLI refuses what the board refuses.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING

import typer

from recruiter.cli.common import CliError, check_format, cli_actor, emit, printable, session_scope
from recruiter.cli.root import app
from recruiter.core.vocabulary import STAGES

if TYPE_CHECKING:
    from recruiter.outreach.story import ProspectStory

prospect_app = typer.Typer(help="The outreach pipeline: prospects and their stages.", no_args_is_help=True)
app.add_typer(prospect_app, name="prospect")


@prospect_app.command("set-stage")
def prospect_set_stage(
    url: str = typer.Argument(..., help="Community URL (any form; it is canonicalized)."),
    stage: str = typer.Argument(..., help=f"One of: {', '.join(STAGES)}."),
    note: str = typer.Option("", "--note", help="A note recorded with the change."),
    profile: str | None = typer.Option(None, "--profile", help="The profile that surfaced this prospect."),
    force: bool = typer.Option(False, "--force", help="Move to contacted although the community heard from us "
                                                      "before (a second first contact)."),
) -> None:
    """Move a community's prospect to a stage (creating the prospect when absent); the change is timestamped.

    Moving to contacted a community that was contacted before (it replied, or was moved back) is refused
    unless --force: no double outreach.

    Example: recruiter prospect set-stage https://www.reddit.com/r/yoga/ contacted --note "DM to the mods"
    """
    from profiles.service import require_profile
    from recruiter.outreach.pipeline import find_community, set_stage

    with session_scope() as session:
        community = find_community(url, session=session)
        profile_id = require_profile(profile, session=session).id if profile else None
        prospect = set_stage(community, stage, actor=cli_actor(), session=session, note=note, profile_id=profile_id,
                             force=force)
        typer.echo(f"{community.url}: {prospect.stage}")


@prospect_app.command("show")
def prospect_show(
    url: str = typer.Argument(..., help="Community URL (any form; it is canonicalized)."),
    profile: str | None = typer.Option(None, "--profile", help="Show the fit for this profile (default: the "
                                                               "prospect's profile, else its best fit)."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """A prospect's whole story: stage, fit and why, contacts, stage history, notes, activities, next follow-up.

    Reads only: a community not in the pipeline yet is shown as such and nothing is created.

    Example: recruiter prospect show https://www.reddit.com/r/yoga/ --format json
    """
    from profiles.service import require_profile
    from recruiter.outreach.pipeline import find_community
    from recruiter.outreach.story import prospect_story

    check_format(fmt, ("text", "json"))
    with session_scope() as session:
        community = find_community(url, session=session)
        profile_id = require_profile(profile, session=session).id if profile else None
        story = prospect_story(community, session=session, profile_id=profile_id)
    if fmt == "json":
        typer.echo(json.dumps(story.public(), indent=2, ensure_ascii=False))
    else:
        typer.echo(story_text(story))


@prospect_app.command("note")
def prospect_note(
    url: str = typer.Argument(..., help="Community URL (any form; it is canonicalized)."),
    text: str = typer.Argument(..., help="The note."),
    profile: str | None = typer.Option(None, "--profile", help="The profile that surfaced this prospect (when "
                                                               "the note puts it in the pipeline)."),
) -> None:
    """Add a timestamped note to a prospect (a community not in the pipeline enters it as discovered).

    Example: recruiter prospect note https://www.reddit.com/r/yoga/ "Wrote to the mods on Monday"
    """
    from profiles.service import require_profile
    from recruiter.outreach.pipeline import find_community, note_prospect

    with session_scope() as session:
        community = find_community(url, session=session)
        profile_id = require_profile(profile, session=session).id if profile else None
        note_prospect(community, text, actor=cli_actor(), session=session, profile_id=profile_id)
        typer.echo(f"{community.url}: note added")


@prospect_app.command("follow-up")
def prospect_follow_up(
    url: str = typer.Argument(..., help="Community URL (any form; it is canonicalized)."),
    when: str = typer.Argument(..., help="YYYY-MM-DD, a span ahead such as 3d or 2w, or 'clear'."),
) -> None:
    """Set (or clear) the date of the next follow-up; the dashboard lists it when it comes near.

    Example: recruiter prospect follow-up https://www.reddit.com/r/yoga/ 7d
    """
    from recruiter.outreach.pipeline import find_community, schedule_follow_up

    day = None if when.strip().lower() == "clear" else parse_ahead(when)
    with session_scope() as session:
        community = find_community(url, session=session)
        prospect = schedule_follow_up(community, day, actor=cli_actor(), session=session)
        typer.echo(f"{community.url}: next follow-up {prospect.next_follow_up or 'none'}")


@prospect_app.command("list")
def prospect_list(
    stage: str | None = typer.Option(None, "--stage", help=f"Only this stage ({', '.join(STAGES)})."),
    profile: str | None = typer.Option(None, "--profile", help="Only prospects surfaced by this profile."),
    owner: str | None = typer.Option(None, "--owner", help="Only prospects this user (email) owns."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """List prospects in the pipeline, most recently moved first.

    Example: recruiter prospect list --stage contacted --format csv
    """
    from profiles.service import require_profile
    from recruiter.accounts.users import find_user
    from recruiter.outreach.pipeline import list_prospects, owner_emails, prospect_to_dict

    check_format(fmt)
    with session_scope() as session:
        profile_id = require_profile(profile, session=session).id if profile else None
        owner_id = find_user(owner, session=session).id if owner else None
        pairs = list_prospects(session=session, stage=stage, profile_id=profile_id, owner_id=owner_id)
        emails = owner_emails([p.owner_id for p, _ in pairs], session=session)
        rows = [prospect_to_dict(p, c, emails.get(p.owner_id)) for p, c in pairs]
    emit(rows, fmt, ["url", "name", "kind", "stage", "owner", "feedback", "next_follow_up", "stage_changed_at"])


@prospect_app.command("owner")
def prospect_owner(
    url: str = typer.Argument(..., help="Community URL."),
    email: str = typer.Argument(..., help="The user who works it (their email), or 'none'."),
) -> None:
    """Set who owns (works) a prospect; by default it is whoever shortlisted it in the web app.

    Example: recruiter prospect owner https://www.reddit.com/r/yoga/ m@example.com
    """
    from recruiter.outreach.pipeline import find_community, owner_email, set_owner

    with session_scope() as session:
        community = find_community(url, session=session)
        prospect = set_owner(community, None if email.strip().lower() == "none" else email, actor=cli_actor(),
                             session=session)
        typer.echo(f"{community.url}: owner {owner_email(prospect, session=session) or 'none'}")


@prospect_app.command("feedback")
def prospect_feedback(
    url: str = typer.Argument(..., help="Community URL."),
    verdict: str = typer.Argument(..., help="shortlist, not_a_fit or clear."),
    profile: str = typer.Option(..., "--profile", help="The profile this judgement is about."),
) -> None:
    """Tell the ranking that a community is a fit (shortlist) or not (not_a_fit); the next rank learns from it.

    Example: recruiter prospect feedback https://www.reddit.com/r/yoga/ shortlist --profile yoga
    """
    from profiles.service import require_profile
    from recruiter.outreach.pipeline import find_community, set_feedback

    with session_scope() as session:
        community = find_community(url, session=session)
        chosen = require_profile(profile, session=session)
        prospect = set_feedback(community, None if verdict == "clear" else verdict.replace("-", "_"),
                                actor=cli_actor(), session=session, profile_id=chosen.id)
        typer.echo(f"{community.url}: {prospect.feedback or 'no feedback'} ({prospect.stage})")


def parse_ahead(value: str, today: date | None = None) -> date:
    """A date as YYYY-MM-DD, or a span ahead of today such as 3d, 2w or 1m."""
    text = value.strip().lower()
    match = re.fullmatch(r"\+?(\d+)\s*([dwm])", text)
    if match:
        days = int(match.group(1)) * {"d": 1, "w": 7, "m": 30}[match.group(2)]
        return (today or date.today()) + timedelta(days=days)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(f"{value!r} is not a date (YYYY-MM-DD), a span like 7d, or 'clear'") from None


def story_text(story: ProspectStory) -> str:
    """The story for people: the facts first, then what happened, oldest first."""

    def when(at) -> str:
        return f"{at:%Y-%m-%d %H:%M}"

    lines = [f"{story.name} ({story.kind})", f"  {story.url}"]
    if story.in_pipeline:
        since = f" since {story.stage_changed_at:%Y-%m-%d}" if story.stage_changed_at else ""
        lines.append(f"Stage: {story.stage}{since}" + (f" (profile: {story.pipeline_profile})"
                                                         if story.pipeline_profile else ""))
    else:
        lines.append("Stage: not in the pipeline yet")
    if story.first_contacted_at:
        lines.append(f"First contacted: {when(story.first_contacted_at)} UTC")
    if story.fit:
        from recruiter.outreach.story import BASIS_LABELS

        lines.append(f"Fit: {story.fit.fit}/100 for profile {story.fit.profile!r} ({BASIS_LABELS[story.fit.basis]})")
        if story.fit.why:
            lines.append(f"  why: {story.fit.why}")
    else:
        lines.append("Fit: not ranked yet (recruiter rank PROFILE)")
    lines.append("Emails: " + (", ".join(story.emails) or "none known"))
    if story.socials:
        lines.append("Socials: " + ", ".join(story.socials))
    if story.audience_size:
        lines.append(f"Audience: {story.audience_size:,}")
    if story.next_follow_up:
        days = story.follow_up_in_days()
        due = "today" if days == 0 else f"in {days} d" if days > 0 else f"{-days} d overdue"
        lines.append(f"Next follow-up: {story.next_follow_up} ({due})")
    if story.next_stages:
        lines.append("Next moves: " + ", ".join(story.next_stages)
                     + "  (recruiter prospect set-stage URL STAGE)")
    if story.history:
        lines.append("History:")
        lines += [f"  {when(m.at)}  {m.from_stage or 'new'} -> {m.to_stage}" + (f"  ({m.note})" if m.note else "")
                  for m in story.history]
    if story.notes:
        lines.append("Notes:")
        for note in story.notes:
            first, *rest = note.detail.splitlines() or [""]
            lines.append(f"  {when(note.at)}  {first}")
            lines += [f"{'':20}{line}" for line in rest]
    if story.activities:
        lines.append("Activities:")
        lines += [f"  {when(a.at)}  {a.kind.replace('_', ' ')}" + (f": {a.detail}" if a.detail else "")
                  for a in reversed(story.activities)]
    return printable("\n".join(lines))
