"""What each role sees and may do on the pages, through NiceGUI's simulated `user`, logged in for real.

How a page acts as a given user here: the team is added as the operator would (`account_helpers.add_team`, the
same service as `recruiter user add`), and the test logs in through the login form with the `user` fixture's own
HTTP client (`log_in_async(user.http_client, EMAIL)`); from then on `user.open` loads pages with that browser's
session cookie, so `ui.access.page_actor` gives the pages that user's actor, checked against the database by
every service call, exactly as in the running app.

The pages hide what a role may not use; the services refuse it on the server all the same. A viewer who sends by
hand the event of a control they cannot see (the prospect table's "move") is refused, and nothing changes.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from account_helpers import add_team, log_in_async
from nicegui import ui
from nicegui.testing import User
from sqlmodel import select
from ui_helpers import COOKS, community_id, profile_id, rank_now, wait_until

from recruiter.accounts import audit
from recruiter.accounts.roles import Actor
from recruiter.accounts.users import set_role
from recruiter.core.db import open_session
from recruiter.core.models import Prospect

CLI = Actor.cli()
BREADIT = "https://www.reddit.com/r/breadit/"  # as stored (canonical)
BAKING = "https://www.reddit.com/r/baking/"


def stage_of(db, name: str) -> str | None:
    db.rollback()  # a fresh snapshot (SQLite WAL readers keep their first read otherwise)
    prospect = db.exec(select(Prospect).where(Prospect.community_id == community_id(name))).first()
    return prospect.stage if prospect else None


def shortlisted(name: str, actor: Actor = CLI) -> int:
    from recruiter.outreach.pipeline import find_community, set_feedback

    with open_session() as session:
        community = find_community(community_id(name), session=session)
        return set_feedback(community, "shortlist", actor=actor, session=session, profile_id=profile_id(COOKS)).id


async def as_user(user: User, email: str, password: str | None = None) -> None:
    """Log this test's browser in as ``email`` (the team is added first)."""
    response = await log_in_async(user.http_client, email, password)
    assert response.status_code == 303, response.text


def refusals(user: User, role: str) -> int:
    return sum(f"a {role} cannot" in message for message in user.notify.messages)


def refused(user: User, role: str) -> bool:
    return refusals(user, role) > 0


# --- a viewer ---------------------------------------------------------------------------------------------

async def test_a_viewer_reads_the_prospect_but_gets_no_control_that_changes_it(user: User, db) -> None:
    add_team()
    prospect_id = shortlisted("r/Breadit")
    await as_user(user, "v@example.com")
    await user.open(f"/prospects/{prospect_id}")
    await user.should_see("r/Breadit")
    await user.should_see(marker="stage-badge", content="Shortlisted")
    await user.should_not_see(marker="next-moves")  # no move, no shortlist, no other stage
    await user.should_not_see("Mark contacted")
    await user.should_not_see(marker="note-input")
    await user.should_not_see(marker="add-note")
    await user.should_not_see(marker="copy-template")
    await user.should_not_see(marker="send-email")
    await user.should_not_see(marker="owner-select")
    await user.should_see(marker="follow-up", content="None set.")  # read, not a date input
    await user.should_not_see(ui.date_input)

    await user.open("/pipeline")
    await user.should_see("r/Breadit")
    await user.should_see("Read only: your role does not move prospects.")
    columns = [c for c in user.find(ui.column).elements if getattr(c, "stage", None)]
    assert columns and not any(c._event_listeners for c in columns)  # no drag and drop: nothing to drop on


async def test_a_viewers_hand_made_event_is_refused_and_changes_nothing(user: User, db) -> None:
    add_team()
    rank_now(COOKS)
    shortlisted("r/Breadit")
    await as_user(user, "v@example.com")
    await user.open(f"/prospects?profile={COOKS}")
    await user.should_not_see("Enroll in sequence…")  # no bulk bar, no action column, no checkboxes
    table = user.find(ui.table).elements.pop()
    assert "r/Breadit" in [r["name"] for r in table.rows]
    assert table.selection is None and "actions" not in [c["name"] for c in table.columns]
    # What the hidden Move menu would send: the table's own event, forged by hand.
    user.find(ui.table).trigger("move", {"community_id": community_id("r/Breadit"), "stage": "contacted"})
    await wait_until(lambda: refused(user, "viewer"))
    assert stage_of(db, "r/Breadit") == "shortlisted"
    user.find(ui.table).trigger("shortlist", {"community_id": community_id("r/Baking")})
    await wait_until(lambda: refusals(user, "viewer") >= 2)
    assert stage_of(db, "r/Baking") is None  # not even put in the pipeline
    db.rollback()
    assert audit.entries(session=db, user="v@example.com", action="prospect.stage") == []
    # Exporting is reading: a viewer may, and it is recorded.
    user.find("Export CSV").click()
    await wait_until(lambda: db.rollback() or bool(audit.entries(session=db, user="v@example.com",
                                                                   action="export")))


async def test_a_member_demoted_while_the_page_is_open_is_refused_at_the_next_click(user: User, db) -> None:
    add_team()
    prospect_id = shortlisted("r/Breadit")
    await as_user(user, "m@example.com")
    await user.open(f"/prospects/{prospect_id}")
    await user.should_see(marker="move-contacted")
    with open_session() as session:
        set_role("m@example.com", "viewer", actor=CLI, session=session)
    user.find(marker="move-contacted").click()  # the page still shows the button; the server says no
    await wait_until(lambda: refused(user, "viewer"))
    assert stage_of(db, "r/Breadit") == "shortlisted"


# --- a member ---------------------------------------------------------------------------------------------

async def test_a_member_moves_a_prospect_on_and_the_audit_log_says_who_what_where_and_when(user: User, db) -> None:
    from recruiter.outreach.pipeline import find_community, set_stage

    add_team()
    with open_session() as session:
        prospect_id = set_stage(find_community(BREADIT, session=session), "contacted", actor=CLI,
                                session=session).id
    await as_user(user, "m@example.com")
    await user.open(f"/prospects/{prospect_id}")
    user.find("They replied").click()
    await user.should_see("Moved to Replied")
    assert stage_of(db, "r/Breadit") == "replied"
    db.rollback()
    entry = audit.entries(session=db, action="prospect.stage", user="m@example.com")[0]
    assert (entry.via, entry.target, entry.detail["from"], entry.detail["to"]) == ("web", BREADIT, "contacted",
                                                                                 "replied")
    assert entry.ip  # the browser's address, as the request gave it
    assert entry.as_dict()["at"]

    user.find(marker="note-input").type("Asked about a giveaway")
    user.find(marker="add-note").click()
    await user.should_see("Note saved")
    db.rollback()
    assert audit.entries(session=db, action="prospect.note")[0].detail == {"text": "Asked about a giveaway"}


async def test_a_member_sees_no_delete_no_platform_choice_and_no_source_keys(user: User, db) -> None:
    from recruiter.outreach.sequences import StepSpec, create_sequence

    add_team()
    with open_session() as session:
        sequence_id = create_sequence("intro", [StepSpec(0, "Hi {name}", "Hello {name} {unsubscribe}")],
                                      actor=CLI, session=session).id
    await as_user(user, "m@example.com")
    await user.open(f"/profiles/{profile_id(COOKS)}")
    await user.should_see("Save")
    await user.should_not_see(marker="delete-profile")
    await user.open(f"/sequences/{sequence_id}")
    await user.should_see(marker="save-sequence")
    await user.should_not_see(marker="delete-sequence")
    await user.open("/platforms")
    await user.should_see("Rewardful")
    await user.should_not_see(marker="choose-rewardful")
    await user.open("/discover")
    await user.should_see(marker="sources-panel")
    await user.should_see(marker="check-sources")  # checking reads; storing a key is an admin's
    await user.should_not_see(marker="keys-youtube")
    await user.should_not_see(marker="key-RECRUITER_YOUTUBE_API_KEY")
    await user.should_see(marker="start-scrape")


async def test_an_admin_sees_the_delete_buttons_the_platform_choice_and_the_keys(user: User) -> None:
    add_team({"o@example.com": "owner", "a@example.com": "admin"})
    await as_user(user, "a@example.com", "a password 0")  # account_helpers' password for those not in TEAM
    await user.open(f"/profiles/{profile_id(COOKS)}")
    await user.should_see(marker="delete-profile")
    await user.open("/platforms")
    await user.should_see(marker="choose-rewardful")
    await user.open("/discover")
    await user.should_see(marker="keys-youtube")


# --- owners and "mine" ------------------------------------------------------------------------------------

async def test_shortlisting_on_the_page_makes_the_member_the_owner_and_mine_filters_to_it(user: User, db) -> None:
    from recruiter.outreach.pipeline import find_community, schedule_follow_up

    add_team()
    rank_now(COOKS)
    shortlisted("r/Baking")  # by the operator: nobody's
    await as_user(user, "m@example.com")
    await user.open(f"/prospects?profile={COOKS}")
    table = user.find(ui.table).elements.pop()
    table.selected = [next(r for r in table.rows if r["name"] == "r/Breadit")]
    user.find("Shortlist").click()
    await user.should_see("1 shortlisted")
    db.rollback()
    breadit = db.exec(select(Prospect).where(Prospect.community_id == community_id("r/Breadit"))).one()
    member_id = breadit.owner_id
    assert member_id is not None

    await user.open(f"/prospects?profile={COOKS}&mine=1")
    table = user.find(ui.table).elements.pop()
    assert [r["name"] for r in table.rows] == ["r/Breadit"] and table.rows[0]["owner"] == "m@example.com"

    await user.open("/pipeline")
    await user.should_see("r/Baking")
    user.find(marker="mine-filter").click()
    await asyncio.sleep(0.2)
    await user.should_see(marker=f"card-{breadit.id}")
    await user.should_not_see("r/Baking")

    with open_session() as session:  # the operator's prospect is due sooner; the member's own comes first
        schedule_follow_up(find_community(BAKING, session=session), date.today(), actor=CLI, session=session)
        schedule_follow_up(find_community(BREADIT, session=session), date.today() + timedelta(days=2), actor=CLI,
                           session=session)
    await user.open("/")
    await user.should_see("Yours (1)")
    mine = user.find(marker="my-follow-ups").elements.pop()
    others = user.find(marker="other-follow-ups").elements.pop()
    assert "r/Breadit" in [e.text for e in mine.descendants() if isinstance(e, ui.link)]
    assert "r/Baking" in [e.text for e in others.descendants() if isinstance(e, ui.link)]
