"""`recruiter rank`: communities best first for a profile, with a reason for each."""

from __future__ import annotations

import typer

from recruiter.cli.common import CliError, check_format, check_kind, emit, progress_bar, session_scope
from recruiter.cli.root import app
from recruiter.core.vocabulary import KINDS

RANK_COLUMNS = ["url", "name", "kind", "audience_size", "score", "fit", "why"]


@app.command("rank")
def rank_command(
    profile: str = typer.Argument(..., help="Profile name."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=10000, help="How many communities."),
    kind: str | None = typer.Option(None, "--kind", help=f"Only this kind ({', '.join(KINDS)})."),
    min_audience: int | None = typer.Option(None, "--min-audience", min=0, help="Smallest audience to show."),
    audience_weight: float = typer.Option(0.0, "--audience-weight", min=0.0, max=1.0,
                                          help="How much audience size counts next to fit (0 = fit only)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """Rank communities by how well their audience fits a profile, best first, with a reason for each.

    Prints url, name, kind, audience_size, score, fit (0-100) and why; the ranking is stored as matches.
    With no communities yet it stops and says how to get some (import or seed).

    Example: recruiter rank yoga --limit 20 --kind subreddit --format json
    """
    check_format(fmt)
    check_kind(kind)
    from recruiter.matching.warmup import start_loading_model

    start_loading_model()  # the model loads in a thread while the database layer is imported and read
    from profiles.service import require_profile
    from recruiter.matching.backends import model_key
    from recruiter.matching.matches import ranking_state
    from recruiter.matching.ranking import RankOptions, rank_communities

    with session_scope() as session:
        chosen = require_profile(profile, session=session)
        if ranking_state(chosen, session=session).communities == 0:
            raise CliError("no communities to rank yet: import some (recruiter import communities.csv) "
                           "or load the samples (recruiter seed)")
        with progress_bar("indexing") as progress:
            from recruiter.matching.index import refresh_index

            refresh_index(session=session, progress=progress)
        results = rank_communities(chosen, session=session, limit=limit, kind=kind, min_audience=min_audience,
                                   options=RankOptions.for_model(model_key(), audience_weight=audience_weight))
    emit([r.public() for r in results], fmt, RANK_COLUMNS)
    if not results and fmt == "table":
        typer.echo("no community matched: try without --kind / --min-audience", err=True)
