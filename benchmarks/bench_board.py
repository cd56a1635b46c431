"""Pipeline read models over a big pipeline: the board, the funnel, follow-ups and one prospect's story.

    .venv/bin/python benchmarks/bench_board.py [--prospects N]

A fresh SQLite data dir gets N communities, each a prospect spread over the stages with its stage history, a
note and (for a third) a follow-up date, inserted directly. Timed, median of 5:

- `board()` (counts by GROUP BY, only the cards shown read by a window query), against the previous board that
  read every prospect to count them (its source taken from git, commit 922ffbe, when git is there);
- `board(text=...)` (a search), `funnel()` (one grouped query) against `recruiter.partners.reports.funnel`
  (walks every stage change in Python), `follow_ups()` and `prospect_story()`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
import types
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._shared import REPO, fresh_home

BASE_COMMIT = "922ffbe"
PATHS = [["shortlisted"], ["shortlisted", "contacted"], ["contacted", "replied"], ["declined"],
         ["shortlisted", "contacted", "replied", "negotiating", "joined"], [], ["shortlisted", "declined"]]


def populate(n: int) -> None:
    from recruiter.core.db import open_session
    from recruiter.core.models import Activity, Community, Prospect, StageChange, utcnow

    rng = random.Random(15)
    now = utcnow()
    with open_session() as session:
        for start in range(1, n + 1, 5000):
            rows: list = []
            prospects: list = []
            ids = range(start, min(n + 1, start + 5000))
            session.add_all([Community(id=i, url=f"https://blog{i}.example.com", name=f"Blog {i}",
                                       description="trail running", kind=rng.choice(["blog", "subreddit", "podcast"]))
                             for i in ids])
            session.flush()
            for i in ids:  # prospect i is community i's
                path = rng.choice(PATHS)
                at = now - timedelta(days=rng.randint(1, 300))
                follow_up = date.today() + timedelta(days=rng.randint(-5, 30)) if rng.random() < 0.33 else None
                changes = [StageChange(prospect_id=i, from_stage=None, to_stage="discovered", at=at)]
                previous = "discovered"
                for stage in path:
                    at += timedelta(hours=rng.randint(1, 200))
                    changes.append(StageChange(prospect_id=i, from_stage=previous, to_stage=stage, at=at))
                    previous = stage
                prospects.append(Prospect(id=i, community_id=i, stage=previous, created_at=changes[0].at,
                                          stage_changed_at=at, next_follow_up=follow_up))
                rows += changes
                rows.append(Activity(prospect_id=i, kind="note", detail="a note about this partner", at=at))
            session.add_all(prospects)
            session.flush()  # no relationships are mapped: parents first, by hand
            session.add_all(rows)
            session.commit()


def base_board():
    """The board of the base commit, loaded from git (None when git or the commit is not there)."""
    try:
        source = subprocess.run(["git", "-C", str(REPO), "show", f"{BASE_COMMIT}:recruiter/outreach/dashboard.py"],
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("base_dashboard")
    exec(compile(source, "base_dashboard.py", "exec"), module.__dict__)
    return module.board


def median_seconds(function, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prospects", type=int, default=20_000)
    args = parser.parse_args()
    fresh_home("bench-board")
    start = time.perf_counter()
    populate(args.prospects)
    print(f"{args.prospects:,} prospects with history inserted in {time.perf_counter() - start:.1f} s")

    from recruiter.core.db import open_session
    from recruiter.core.models import Community
    from recruiter.outreach.dashboard import board, follow_ups, funnel
    from recruiter.outreach.story import prospect_story
    from recruiter.partners.reports import funnel as report_funnel

    old_board = base_board()
    with open_session() as session:
        new = median_seconds(lambda: board(session=session))
        print(f"board():                {new * 1000:8.1f} ms")
        if old_board is not None:
            old = median_seconds(lambda: old_board(session=session))
            print(f"board() at {BASE_COMMIT}:     {old * 1000:8.1f} ms  (baseline, same run: {old / new:.1f}x slower)")
        else:
            print(f"board() at {BASE_COMMIT}: skipped (no git history here)")
        print(f"board(text='blog 12'):  {median_seconds(lambda: board(session=session, text='blog 12')) * 1000:8.1f} ms")
        new_funnel = median_seconds(lambda: funnel(session=session))
        old_funnel = median_seconds(lambda: report_funnel(session=session))
        print(f"funnel():               {new_funnel * 1000:8.1f} ms  (reports.funnel, same run: "
              f"{old_funnel * 1000:.1f} ms)")
        ours = funnel(session=session)
        theirs = {row["stage"]: row["reached"] for row in report_funnel(session=session)}
        agree = all(step.reached == theirs[step.stage] for step in ours.steps)
        print(f"  both funnels agree on every stage: {'yes' if agree else 'NO'}")
        print(f"follow_ups():           {median_seconds(lambda: follow_ups(session=session)) * 1000:8.1f} ms")
        community = session.get(Community, args.prospects // 2)
        print(f"prospect_story():       {median_seconds(lambda: prospect_story(community, session=session)) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
