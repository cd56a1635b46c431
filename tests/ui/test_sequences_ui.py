"""The web app's email sequences: the sequences page (create, edit, delete), enrolling selected prospects from the
ranked list, and the prospect page's outreach panel; through NiceGUI's simulated `user`."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User
from ui_helpers import COOKS, profile_id, rank_now, wait_until

from recruiter.accounts.roles import Actor

JOURNAL = "https://sourdoughjournal.example.com"


def sequence_names(db) -> list[str]:
    from recruiter.outreach.sequences import list_sequences

    db.rollback()
    return [s.name for s in list_sequences(session=db)]


async def test_sequences_page_creates_edits_and_deletes(user: User, db) -> None:
    from recruiter.outreach.sequences import get_sequence, sequence_steps

    await user.open("/sequences")
    await user.should_see("No sequence yet")
    await user.open("/sequences/new")
    user.find(marker="sequence-name").type("bakers intro")
    user.find(marker="subject-1").clear().type("Hello {nmae}")
    user.find(marker="save-sequence").click()
    await user.should_see("unknown placeholder {nmae}")
    assert sequence_names(db) == []
    user.find(marker="subject-1").clear().type("Hello {name}")
    user.find("Add step").click()
    user.find(marker="save-sequence").click()
    await wait_until(lambda: sequence_names(db) == ["bakers intro"])
    steps = sequence_steps(get_sequence("bakers intro", session=db), session=db)
    assert [(s.position, s.wait_days, s.subject) for s in steps] == [(1, 0, "Hello {name}"), (2, 3, "Following up")]

    sequence_id = get_sequence("bakers intro", session=db).id
    await user.open(f"/sequences/{sequence_id}")
    user.find(marker="subject-2").clear().type("Any thoughts, {name}?")
    user.find(marker="save-sequence").click()
    await user.should_see("Saved 'bakers intro'")
    db.rollback()
    assert sequence_steps(get_sequence("bakers intro", session=db), session=db)[1].subject == "Any thoughts, {name}?"
    await user.open("/sequences")
    await user.should_see("bakers intro")
    await user.open(f"/sequences/{sequence_id}")
    user.find("Delete").click()
    await user.should_see("Delete sequence 'bakers intro'?")
    user.find(marker="confirm-delete").click()
    await wait_until(lambda: sequence_names(db) == [])


async def test_enroll_selected_prospects_and_see_the_panel(user: User, db) -> None:
    from recruiter.outreach.pipeline import find_community, get_or_create_prospect
    from recruiter.outreach.sequences import StepSpec, create_sequence, enrollment_rows

    create_sequence("intro", [StepSpec(0, "Hello {name}", "Hi {name}")], actor=Actor.cli(), session=db)
    rank_now(COOKS)
    await user.open(f"/prospects?profile={COOKS}")
    table = user.find(ui.table).elements.pop()
    rows = [r for r in table.rows if r["name"] in ("The Sourdough Journal", "r/Breadit")]
    assert len(rows) == 2
    table.selected = rows
    user.find(marker="enroll-selected").click()
    await user.should_see("Enroll 2 selected in a sequence")
    user.find(marker="enroll-confirm").click()
    await user.should_see("1 enrolled in 'intro', 1 skipped")
    await user.should_see("no contact email")  # r/Breadit has no address
    db.rollback()
    [row] = enrollment_rows(session=db)
    assert row.url == JOURNAL and row.state == "active" and row.email == "hello@sourdoughjournal.example.com"

    prospect = get_or_create_prospect(find_community(JOURNAL, session=db), session=db)
    assert prospect.profile_id == profile_id(COOKS)
    await user.open(f"/prospects/{prospect.id}")
    panel = user.find(marker="outreach-panel")
    assert panel.elements
    await user.should_see("intro: step 0 of 1 sent")
    await user.should_see(marker="contact-email")


async def test_panel_enrolls_one_prospect(user: User, db) -> None:
    from recruiter.outreach.pipeline import find_community, get_or_create_prospect
    from recruiter.outreach.sequences import StepSpec, create_sequence, enrollment_rows

    create_sequence("intro", [StepSpec(0, "Hello {name}", "Hi {name}")], actor=Actor.cli(), session=db)
    prospect = get_or_create_prospect(find_community(JOURNAL, session=db), session=db)
    db.commit()
    await user.open(f"/prospects/{prospect.id}")
    await user.should_see("hello@sourdoughjournal.example.com")
    user.find("Enroll").click()
    await user.should_see("Enrolled in intro")
    db.rollback()
    assert [r.state for r in enrollment_rows(session=db)] == ["active"]
