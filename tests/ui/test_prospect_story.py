"""The prospect page tells the prospect's whole story and creates nothing until the user acts."""

from __future__ import annotations

import asyncio

from nicegui import ui
from nicegui.testing import User
from sqlmodel import select
from ui_helpers import COOKS, community_id, profile_id, rank_now

from recruiter.accounts.roles import Actor

JOURNAL = "https://sourdoughjournal.example.com/"
JOURNAL_EMAIL = "hello@sourdoughjournal.example.com"


def prospects(db) -> list:
    from recruiter.core.models import Prospect

    db.rollback()
    return list(db.exec(select(Prospect)).all())


def button_texts(user: User) -> set[str]:
    return {b.text for b in user.find(ui.button).elements}


async def test_opening_a_community_creates_nothing_and_shows_fit_and_address(user: User, db) -> None:
    from recruiter.core.models import Activity, StageChange

    rank_now(COOKS)
    cid = community_id("The Sourdough Journal")
    await user.open(f"/community/{cid}?profile={profile_id(COOKS)}")
    await user.should_see("Not in the pipeline")
    await user.should_see(f"for profile {COOKS}")
    why = user.find(marker="fit-why").elements.pop()
    assert why.text  # the stored reason of the ranking
    to = user.find(marker="to").elements.pop()
    assert to.value == JOURNAL_EMAIL
    assert prospects(db) == []
    assert db.exec(select(StageChange)).first() is None and db.exec(select(Activity)).first() is None

    user.find("Add a note").type("Met the editor at a fair")
    user.find("Add note").click()
    await user.should_see("Note saved")
    [prospect] = prospects(db)
    assert (prospect.community_id, prospect.stage, prospect.profile_id) == (cid, "discovered", profile_id(COOKS))


async def test_stage_appropriate_moves_and_a_genuine_second_contact(user: User, db) -> None:
    from recruiter.outreach.pipeline import find_community, set_stage

    community = find_community(JOURNAL, session=db)
    set_stage(community, "contacted", actor=Actor.cli(), session=db)
    await user.open(f"/community/{community.id}")
    await user.should_see("They replied")
    buttons = button_texts(user)
    assert "Shortlist" not in buttons and "Not a fit" not in buttons
    await user.should_not_see(marker="contacted-warning")

    user.find(marker="move-replied").click()
    await user.should_see("Moved to Replied")
    await user.should_see("Negotiating")
    assert prospects(db)[0].stage == "replied"

    set_stage(community, "shortlisted", actor=Actor.cli(), session=db, force=True)  # moved back after we wrote: a repeat now
    await user.open(f"/community/{community.id}")
    await user.should_see(marker="contacted-warning")
    await user.should_see("second first contact")


async def test_follow_up_and_note_give_feedback(user: User, db) -> None:
    from recruiter.outreach.pipeline import find_community, set_stage

    prospect = set_stage(find_community(JOURNAL, session=db), "contacted", actor=Actor.cli(), session=db)
    await user.open(f"/prospects/{prospect.id}")
    user.find("+3 d").click()
    await user.should_see("Next follow-up:")
    await asyncio.sleep(0.1)
    assert prospects(db)[0].next_follow_up is not None
    user.find("Add note").click()
    await user.should_see("a note needs text")
