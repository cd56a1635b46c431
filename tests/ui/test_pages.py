"""Each page's main flows through NiceGUI's simulated `user` (no browser): the same handlers a click runs."""

from __future__ import annotations

import asyncio

import pytest
from nicegui import ui
from nicegui.testing import User
from sqlmodel import select
from ui_helpers import COOKS, YOGA, community_id, profile_id, rank_now, wait_until

from recruiter.accounts.roles import Actor
from recruiter.core.models import Community


def latest(db, statement):
    """Run a query on a fresh snapshot (SQLite WAL readers otherwise keep seeing their first read)."""
    db.rollback()
    return db.exec(statement)


def sees(user: User, text: str) -> bool:
    try:
        return bool(user._sees(text))  # the same test should_see uses, without its short retry budget
    except Exception:
        return False


async def test_dashboard_shows_funnel_follow_ups_and_profiles(user: User, db) -> None:
    from datetime import date, timedelta

    from recruiter.outreach.pipeline import find_community, set_follow_up, set_stage

    prospect = set_stage(find_community("https://www.reddit.com/r/Breadit/", session=db), "contacted", actor=Actor.cli(), session=db)
    set_follow_up(prospect, date.today() - timedelta(days=2), actor=Actor.cli(), session=db)
    await user.open("/")
    await user.should_see("Pipeline funnel")
    await user.should_see(marker="conversion-contacted")  # a conversion per step, not only a count
    await user.should_see("Overdue (1)")
    await user.should_see("r/Breadit")
    await user.should_see(COOKS)
    await user.should_see(YOGA)


async def test_profile_editor_preview_follows_typing(user: User) -> None:
    await user.open(f"/profiles/{profile_id(YOGA)}")
    await wait_until(lambda: sees(user, "r/yoga"))
    user.find("Description: who buys, what problems they have, what you sell").clear() \
        .type("PC gamers building their own gaming computers")
    user.find("Keywords (terms the audience uses)")  # the other fields are there too
    await wait_until(lambda: sees(user, "r/buildapc"))
    preview = user.find(marker="preview").elements.pop()
    first = [e.text for e in preview.descendants() if isinstance(e, ui.label) and e.text.startswith("r/")][:3]
    assert "r/buildapc" in first or "r/pcgaming" in first, first


async def test_profile_save_duplicate_delete(user: User, db) -> None:
    from profiles.service import get_profile, list_profiles

    await user.open(f"/profiles/{profile_id(YOGA)}")
    user.find("Name").clear().type("yoga at home")
    user.find("Save").click()
    await user.should_see("saved")
    assert get_profile("yoga at home", session=db) is not None
    user.find("Duplicate").click()
    await wait_until(lambda: db.rollback() or any(p.name == "yoga at home (copy)" for p in list_profiles(session=db)))
    copy = get_profile("yoga at home (copy)", session=db)
    await user.open(f"/profiles/{copy.id}")
    user.find("Delete").click()
    await user.should_see("Delete profile 'yoga at home (copy)'?")
    user.find(marker="confirm-delete").click()
    await wait_until(lambda: db.rollback() or get_profile("yoga at home (copy)", session=db) is None)


async def test_profiles_page_lists_and_creates(user: User, db) -> None:
    from profiles.service import get_profile

    await user.open("/profiles")
    await user.should_see(COOKS)
    user.find("Name").type("trail runners")
    user.find("Create").click()
    await wait_until(lambda: db.rollback() or get_profile("trail runners", session=db) is not None)


async def test_prospects_opens_last_used_profile_and_ranks_in_background(user: User, db) -> None:
    from recruiter.core.models import Match

    await user.open("/prospects")  # no profile: the only ranked/last used one, else the first by name
    await user.should_see(f"Ideal client: {COOKS}")
    table = user.find(ui.table).elements.pop()
    await wait_until(lambda: len(table.rows) >= 10)  # small collection: the first visit waits for its ranking
    names = [row["name"] for row in table.rows]
    assert names[0] in ("r/Breadit", "The Sourdough Journal", "r/Baking", "Pastry <b>Lab</b>"), names[:5]
    assert db.exec(select(Match).where(Match.profile_id == profile_id(COOKS))).first() is not None


async def test_prospects_filters_sort_and_paging(user: User) -> None:
    rank_now(COOKS)
    await user.open(f"/prospects?profile={COOKS}&kind=blog")
    table = user.find(ui.table).elements.pop()
    assert table.rows and {row["kind"] for row in table.rows} == {"blog"}
    user.find("Search name, description, URL").type("sourdough")
    await wait_until(lambda: all("sourdough" in (r["name"] + r["why"] + r["url"]).lower() or r["name"] == "Pastry <b>Lab</b>"
                                 for r in table.rows))
    await user.open(f"/prospects?profile={COOKS}&sort=audience")
    table = user.find(ui.table).elements.pop()
    sizes = [row["audience_size"] or 0 for row in table.rows]
    assert sizes == sorted(sizes, reverse=True)


async def test_shortlist_then_board_then_drag_to_contacted(user: User, db) -> None:
    from recruiter.core.models import Prospect, StageChange

    rank_now(COOKS)
    await user.open(f"/prospects?profile={COOKS}")
    table = user.find(ui.table).elements.pop()
    row = next(r for r in table.rows if r["name"] == "r/Breadit")
    table.selected = [row]
    user.find("Shortlist").click()
    await user.should_see("1 shortlisted")
    prospect = db.exec(select(Prospect).where(Prospect.community_id == community_id("r/Breadit"))).one()
    assert (prospect.stage, prospect.feedback, prospect.profile_id) == ("shortlisted", "shortlist", profile_id(COOKS))

    await user.open(f"/pipeline?profile={COOKS}")
    await user.should_see("r/Breadit")
    await user.should_see("Negotiating")
    card = user.find(marker=f"card-{prospect.id}").elements.pop()
    source = user.find(marker="stage-shortlisted").elements.pop()
    target = user.find(marker="stage-contacted").elements.pop()
    # what SortableJS sends when the card is dropped on the Contacted column
    user.find(marker="stage-shortlisted").trigger("sortend", {"item_id": card.id, "from_id": source.id,
                                                              "to_id": target.id, "old_index": 0, "new_index": 0})
    await wait_until(lambda: latest(db, select(StageChange).where(StageChange.prospect_id == prospect.id,
                                                                  StageChange.to_stage == "contacted")).first() is not None)
    change = db.exec(select(StageChange).where(StageChange.prospect_id == prospect.id,
                                               StageChange.to_stage == "contacted")).one()
    assert change.from_stage == "shortlisted" and change.at is not None
    db.rollback()
    assert db.get(Prospect, prospect.id).stage == "contacted"


async def test_board_warns_before_contacting_twice(user: User, db) -> None:
    from recruiter.core.models import Prospect
    from recruiter.outreach.pipeline import find_community, set_stage

    community = find_community("https://www.reddit.com/r/Baking/", session=db)
    set_stage(community, "contacted", actor=Actor.cli(), session=db)
    prospect = set_stage(community, "shortlisted", actor=Actor.cli(), session=db)  # moved back: contacted before all the same
    await user.open("/pipeline")
    card = user.find(marker=f"card-{prospect.id}").elements.pop()
    source = user.find(marker="stage-shortlisted").elements.pop()
    target = user.find(marker="stage-contacted").elements.pop()
    user.find(marker="stage-shortlisted").trigger("sortend", {"item_id": card.id, "from_id": source.id,
                                                              "to_id": target.id, "old_index": 0, "new_index": 0})
    await user.should_see("Contacted before")
    await user.should_see("double outreach")
    user.find("Keep where it was").click()
    await asyncio.sleep(0.2)
    db.rollback()
    assert db.get(Prospect, prospect.id).stage == "shortlisted"


async def test_prospect_detail_template_mailto_and_follow_up(user: User, db) -> None:
    from recruiter.core.models import Activity, Prospect
    from recruiter.outreach.pipeline import find_community, set_stage

    community = find_community("https://sourdoughjournal.example.com/", session=db)
    prospect = set_stage(community, "shortlisted", actor=Actor.cli(), session=db, profile_id=profile_id(COOKS))
    await user.open(f"/prospects/{prospect.id}")
    await user.should_see("The Sourdough Journal")
    await user.should_see("hello@sourdoughjournal.example.com")
    body = user.find(marker="rendered-body").elements.pop()
    assert "The Sourdough Journal" in body.value and "{community}" not in body.value
    subject = user.find(marker="rendered-subject").elements.pop()
    assert subject.value == "A partnership for The Sourdough Journal?"
    user.find(marker="send-email").click()
    await wait_until(lambda: latest(db, select(Activity).where(Activity.prospect_id == prospect.id,
                                                               Activity.kind == "mailto")).first() is not None)
    db.rollback()
    assert db.get(Prospect, prospect.id).stage == "contacted"
    await user.should_see("Contact logged")
    await user.should_not_see(marker="contacted-warning")  # right after the first contact: no warning
    user.find("+7 d").click()
    await wait_until(lambda: (db.rollback(), db.get(Prospect, prospect.id).next_follow_up)[1] is not None)
    user.find("Add a note").type("Replied on Instagram instead")
    user.find("Add note").click()
    await user.should_see("Replied on Instagram instead")


async def test_login_required_when_password_set(user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    """The login is a plain form (it needs no websocket); the page asked for opens after it.

    This test used to fail most runs: it clicked "Log in" and gave the page opened next (/prospects, which waits
    for its first ranking) 0.3 s to show up. Now each step is an HTTP request the test awaits to the end.
    """
    import re

    monkeypatch.setenv("RECRUITER_PASSWORD", "s3cret")
    client = user.http_client
    asked = await client.get("/prospects?kind=blog")
    assert asked.status_code == 303 and asked.headers["location"].startswith("/login?redirect_to=")
    form = await client.get(asked.headers["location"])
    assert "Enter the password set in RECRUITER_PASSWORD." in form.text and COOKS not in form.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    target = re.search(r'name="redirect_to" value="([^"]+)"', form.text).group(1)
    assert target == "/prospects?kind=blog"
    wrong = await client.post("/login", data={"password": "wrong", "csrf": csrf, "redirect_to": target})
    assert wrong.status_code == 401 and "Wrong password" in wrong.text
    right = await client.post("/login", data={"password": "s3cret", "csrf": csrf, "redirect_to": target})
    assert right.status_code == 303 and right.headers["location"] == "/prospects?kind=blog"
    await user.open(right.headers["location"])
    # The page opens once the profile's first ranking is stored: longer than should_see's 0.3 s of retries.
    await wait_until(lambda: sees(user, f"Ideal client: {COOKS}"))
    monkeypatch.setenv("RECRUITER_PASSWORD", "changed")  # a new password ends the session
    assert (await client.get("/prospects")).status_code == 303


async def test_discover_page_lists_jobs(user: User, db) -> None:
    from recruiter.core.models import Job

    db.add(Job(kind="discover", state="running", total=10, done=4, progress=0.4))
    db.commit()
    await user.open("/discover")
    await user.should_see("Jobs")
    await user.should_see("#1 discover")
    await user.should_see("4/10")


async def test_discover_scrape_failure_is_shown_with_its_reason_and_can_be_retried(
        user: User, db, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15: a job with a failed URL ends `partial`, lists the URL with its reason, keeps the input, and
    "Retry failed" re-runs only that URL (here after the site came back)."""
    from recruiter.core.jobs import job_view
    from recruiter.core.models import Job
    from scrapers.loopback import LoopbackServer, send

    monkeypatch.setenv("RECRUITER_ALLOW_PRIVATE", "*")
    monkeypatch.delenv("RECRUITER_BROKER", raising=False)
    page = ("<html><head><title>Crumb Club</title><meta name='description' content='A blog for sourdough "
            "bakers'></head><body>Crumb Club</body></html>")
    with LoopbackServer({"/": lambda r: send(r, 200, page)}) as server:
        typed = f"{server.url('/')}\n{server.url('/gone')}"
        await user.open("/discover")
        user.find(marker="scrape-urls").type(typed)
        user.find(marker="start-scrape").click()
        await wait_until(lambda: sees(user, "HTTP 404 Not Found"))
        await user.should_see("partial")
        assert user.find(marker="scrape-urls").elements.pop().value == typed  # the input is kept
        job_id = latest(db, select(Job)).all()[-1].id
        assert db.exec(select(Community).where(Community.name == "Crumb Club")).one()

        server.routes["/gone"] = lambda r: send(r, 200, page.replace("Crumb Club", "Gone Again"))
        user.find(marker=f"retry-{job_id}").click()
        await wait_until(lambda: job_view(job_id, session=db).state == "done")
    view = job_view(job_id, session=db)
    assert (view.done, view.failed, view.total) == (2, 0, 2)


async def test_row_not_a_fit_leaves_the_list_and_export_downloads_csv(user: User, db) -> None:
    from recruiter.core.models import Prospect

    rank_now(COOKS)
    await user.open(f"/prospects?profile={COOKS}")
    table = user.find(ui.table).elements.pop()
    row = next(r for r in table.rows if r["name"] == "r/Baking")
    user.find(ui.table).trigger("reject", row)  # the row's thumb-down button
    await wait_until(lambda: all(r["name"] != "r/Baking" for r in table.rows))
    prospect = latest(db, select(Prospect).where(Prospect.community_id == community_id("r/Baking"))).one()
    assert (prospect.feedback, prospect.stage) == ("not_a_fit", "declined")
    user.find("Export CSV").click()
    await wait_until(lambda: len(user.download.http_responses) > 0)
    text = user.download.http_responses[-1].text
    assert text.startswith("rank,fit,score,name,url") and "r/Breadit" in text and "r/Baking" not in text


async def test_joined_partner_detail_shows_activation_checklist(user: User, db) -> None:
    from recruiter.outreach.pipeline import find_community, set_stage

    community = find_community("https://sourdoughjournal.example.com/", session=db)
    prospect = set_stage(community, "joined", actor=Actor.cli(), session=db, profile_id=profile_id(COOKS))
    await user.open(f"/prospects/{prospect.id}")
    await user.should_see(marker="activation-card")
    await user.should_see(marker="step-welcome_sent")


async def test_prospects_shows_which_kinds_perform(user: User) -> None:
    await user.open(f"/prospects?profile={COOKS}")
    await user.should_see("Which kinds of partner perform")
