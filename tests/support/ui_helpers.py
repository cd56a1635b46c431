"""Names and small helpers shared by the UI tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "ui" / "fixtures"
COOKS = "home bakers"
COOKS_DESCRIPTION = "Home cooks and bakers who bake sourdough bread and love trying new recipes"
YOGA = "yoga beginners"
YOGA_DESCRIPTION = "Beginners doing yoga at home to ease back pain"


def profile_id(name: str) -> int:
    from profiles.service import get_profile
    from recruiter.core.db import open_session

    with open_session() as session:
        return get_profile(name, session=session).id


def community_id(name: str) -> int:
    from sqlmodel import select

    from recruiter.core.db import open_session
    from recruiter.core.models import Community

    with open_session() as session:
        return session.exec(select(Community.id).where(Community.name == name)).one()


def rank_now(name: str) -> None:
    """Store the profile's ranking as the background task would (tests want it before the page opens)."""
    from recruiter.matching.matches import rank_profile

    rank_profile(profile_id(name))


async def wait_until(condition, timeout: float = 20.0) -> None:
    """Background work (ranking, the preview) runs in threads: poll until its result is on the page."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)
