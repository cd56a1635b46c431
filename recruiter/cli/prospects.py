"""`recruiter prospect ...`: the outreach pipeline from the command line."""

from __future__ import annotations

import typer

from recruiter.cli.common import check_format, emit, session_scope
from recruiter.cli.root import app
from recruiter.core.vocabulary import STAGES

prospect_app = typer.Typer(help="The outreach pipeline: prospects and their stages.", no_args_is_help=True)
app.add_typer(prospect_app, name="prospect")


@prospect_app.command("set-stage")
def prospect_set_stage(
    url: str = typer.Argument(..., help="Community URL (any form; it is canonicalized)."),
    stage: str = typer.Argument(..., help=f"One of: {', '.join(STAGES)}."),
    note: str = typer.Option("", "--note", help="A note recorded with the change."),
    profile: str | None = typer.Option(None, "--profile", help="The profile that surfaced this prospect."),
) -> None:
    """Move a community's prospect to a stage (creating the prospect when absent); the change is timestamped.

    Example: recruiter prospect set-stage https://www.reddit.com/r/yoga/ contacted --note "DM to the mods"
    """
    from profiles.service import require_profile
    from recruiter.outreach.pipeline import find_community, set_stage

    with session_scope() as session:
        community = find_community(url, session=session)
        profile_id = require_profile(profile, session=session).id if profile else None
        prospect = set_stage(community, stage, session=session, note=note, profile_id=profile_id)
        typer.echo(f"{community.url}: {prospect.stage}")


@prospect_app.command("list")
def prospect_list(
    stage: str | None = typer.Option(None, "--stage", help=f"Only this stage ({', '.join(STAGES)})."),
    profile: str | None = typer.Option(None, "--profile", help="Only prospects surfaced by this profile."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """List prospects in the pipeline, most recently moved first.

    Example: recruiter prospect list --stage contacted --format csv
    """
    from profiles.service import require_profile
    from recruiter.outreach.pipeline import list_prospects, prospect_to_dict

    check_format(fmt)
    with session_scope() as session:
        profile_id = require_profile(profile, session=session).id if profile else None
        rows = [prospect_to_dict(p, c) for p, c in list_prospects(session=session, stage=stage,
                                                                  profile_id=profile_id)]
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
    from profiles.service import require_profile
    from recruiter.outreach.pipeline import find_community, set_feedback

    with session_scope() as session:
        community = find_community(url, session=session)
        chosen = require_profile(profile, session=session)
        prospect = set_feedback(community, None if verdict == "clear" else verdict.replace("-", "_"),
                                session=session, profile_id=chosen.id)
        typer.echo(f"{community.url}: {prospect.feedback or 'no feedback'} ({prospect.stage})")
