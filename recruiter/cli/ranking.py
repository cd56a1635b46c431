"""`recruiter rank`: communities best first for a profile, with a reason for each."""

from __future__ import annotations

import typer

from recruiter.cli.common import (
    CliError,
    check_format,
    check_kind,
    emit,
    parse_since,
    progress_bar,
    session_scope,
)
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
    from recruiter.matching.backends import start_loading_model

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


LOOKALIKE_COLUMNS = ["url", "name", "kind", "audience_size", "score", "like", "why"]


@app.command("lookalike")
def lookalike_command(
    seed: list[str] = typer.Option([], "--seed", help="A community to find more of (repeatable, up to 20)."),
    from_top: int | None = typer.Option(None, "--from-top", min=1, max=20,
                                        help="Seed with your N best partners by --by."),
    by: str | None = typer.Option(None, "--by", help="revenue (default), conversions, epc or clicks (with "
                                                     "--from-top)."),
    since: str | None = typer.Option(None, "--since", help="Judge --from-top on performance since this date "
                                                           "(YYYY-MM-DD, or 30d)."),
    segment: str | None = typer.Option(None, "--segment", help="Seed with a partner segment (top, rising, steady, "
                                                               "dormant, never-activated)."),
    profile: str | None = typer.Option(None, "--profile", help="Results must also fit this profile."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=1000, help="How many communities."),
    kind: str | None = typer.Option(None, "--kind", help=f"Only this kind ({', '.join(KINDS)})."),
    include_known: bool = typer.Option(False, "--include-known",
                                       help="Also list communities already in the pipeline past discovered."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
) -> None:
    """Find more communities like a few you know work: partners that sell, or any communities you name.

    Seeds come from exactly one of --seed URL (repeatable), --from-top N --by MEASURE (your best partners by
    their scorecards, weighted by it) or --segment NAME. Seeds that disagree are kept apart: seeds from two
    niches bring results from both. Never lists a seed; by default nothing already worked in the pipeline
    (past discovered); prospects marked declined or not a fit push the results away from their kind.

    Prints url, name, kind, audience_size, score (0-100), like (the seeds each result is closest to, best
    first) and why (the seeds it resembles and the specific words they share). Nothing is stored.

    Example: recruiter lookalike --from-top 5 --by revenue --profile yoga --limit 30 --format json
    """
    check_format(fmt)
    check_kind(kind)
    from recruiter.partners.lookalikes import SeedChoice, lookalikes

    if by is not None and from_top is None:
        raise CliError("--by goes with --from-top (it says which measure makes a partner one of the best)")
    choice = SeedChoice(urls=tuple(seed), top=from_top, by=by or "revenue", since=parse_since(since),
                        segment=segment)
    with session_scope() as session:
        with progress_bar("indexing") as progress:
            from recruiter.matching.index import refresh_index

            refresh_index(session=session, progress=progress)
        results = lookalikes(choice, session=session, profile_name=profile, limit=limit, kind=kind,
                             include_known=include_known).results
    rows = [r.public() for r in results]
    if fmt != "json":
        rows = [{**row, "like": " ".join(row["like"])} for row in rows]
    emit(rows, fmt, LOOKALIKE_COLUMNS)
    if not results and fmt == "table":
        typer.echo("nothing like these yet: import or discover more communities", err=True)
