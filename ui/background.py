"""Rankings running in worker threads, one per profile at a time, shared by every open tab.

A page that finds its profile's matches stale asks for a ranking here: if one is already running it gets that
task to await, so ten tabs (or a tab and the startup warm-up) never rank the same profile ten times.
"""

from __future__ import annotations

import asyncio
import logging

from nicegui import background_tasks, run

from recruiter.core.db import open_session
from recruiter.core.models import Profile
from recruiter.matching.matches import rank_profile, ranking_state

log = logging.getLogger(__name__)
_tasks: dict[int, asyncio.Task] = {}


def ensure_ranking(profile_id: int) -> asyncio.Task:
    """The running ranking of this profile, started when there is none."""
    task = _tasks.get(profile_id)
    if task is None or task.done():
        task = background_tasks.create(run.io_bound(rank_profile, profile_id), name=f"rank profile {profile_id}")
        _tasks[profile_id] = task
    return task


def is_ranking(profile_id: int) -> bool:
    task = _tasks.get(profile_id)
    return task is not None and not task.done()


async def warm_up() -> None:
    """At startup: load the model and bring every stale profile's ranking up to date, before anyone asks."""
    try:
        from recruiter.matching.embedding import get_embedding_service

        await run.io_bound(lambda: get_embedding_service().encode_queries(["warm up"]))
        with open_session() as session:
            profiles = session.exec(Profile.__table__.select()).all()
            stale = [row.id for row in profiles
                     if ranking_state(session.get(Profile, row.id), session=session).stale]
        for profile_id in stale:
            await ensure_ranking(profile_id)
    except Exception:
        log.exception("warm-up failed")
