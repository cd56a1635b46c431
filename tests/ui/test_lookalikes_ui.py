"""Finding more partners like the ones that sell, on the web: from the Partners page, a community's page and the
dashboard, to a result list that reads like the prospect list (issue 23).

The story: a baking shop has recruited r/Breadit, The Sourdough Journal and r/yoga (joined); the first two sell
(their performance is imported as the Partners page would), r/yoga does not yet. The catalogue is the UI tests'
24 communities, embedded with the hashing model: more bread and baking communities than anything else, so
"like our best partners" means baking.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from account_helpers import add_team, log_in_async
from nicegui import ui
from nicegui.testing import User
from sqlmodel import select
from ui_helpers import community_id, wait_until

from recruiter.accounts.roles import Actor
from recruiter.core.models import Prospect, utcnow

BREADIT = "https://www.reddit.com/r/breadit/"  # as stored (canonical)
JOURNAL = "https://sourdoughjournal.example.com/"
YOGA = "https://www.reddit.com/r/yoga/"
SELLERS = ("r/Breadit", "The Sourdough Journal")
PARTNERS = (*SELLERS, "r/yoga")


def recruit() -> None:
    """The three communities join (as a member moving them on the board would)."""
    from recruiter.core.db import open_session
    from recruiter.outreach.pipeline import find_community, set_stage

    with open_session() as session:
        for url in (BREADIT, JOURNAL, YOGA):
            set_stage(find_community(url, session=session), "joined", actor=Actor.cli(), session=session)


def import_sales() -> None:
    """Yesterday's numbers from the affiliate platform: the two bread partners sell, r/yoga does not."""
    from recruiter.core.db import open_session
    from recruiter.partners.performance import import_performance

    day = (utcnow().date() - timedelta(days=1)).isoformat()
    csv_text = (f"date,partner,clicks,conversions,revenue\n{day},{BREADIT},1000,50,2500\n"
                f"{day},{JOURNAL},400,12,600\n")
    with open_session() as session:
        report = import_performance("export.csv", actor=Actor.cli(), session=session, text=csv_text)
    assert not report.errors, report.errors


@pytest.fixture
def selling() -> None:
    recruit()
    import_sales()


def prospect(db, name: str) -> Prospect | None:
    db.rollback()  # a fresh snapshot (SQLite WAL readers keep their first read otherwise)
    return db.exec(select(Prospect).where(Prospect.community_id == community_id(name))).first()


async def results(user: User) -> ui.table:
    """The result list, once the search (a worker thread) has filled it in."""
    await user.should_see(marker="lookalikes", retries=200)
    return user.find(marker="lookalikes").elements.pop()


def names(table: ui.table) -> list[str]:
    return [row["name"] for row in table.rows]


# --- from the Partners page ------------------------------------------------------------------------------------

async def test_find_more_like_the_top_performers(selling, user: User) -> None:
    await user.open("/partners")
    user.find(marker="find-lookalikes").click()
    await user.should_see("Your best partners")
    user.find(marker="lookalike-find").click()  # the default: the five best by revenue
    table = await results(user)
    await user.should_see("Like your 2 best partners by revenue")  # only two have any revenue
    await user.should_see(kind=ui.link, content="r/Breadit")  # the seeds, each a link to its page
    found = names(table)
    assert found and not set(found) & set(PARTNERS)  # never a seed, never a partner already worked
    assert found[0] in ("r/Baking", "Pastry <b>Lab</b>", "r/Cooking", "The Home Kitchen Podcast"), found
    first = table.rows[0]
    assert first["like"] and set(first["like"]) <= set(SELLERS)  # the seeds it is like, by name
    assert first["why"].startswith("like ") and 0 <= first["score"] <= 100
    assert first["href"] == f"/community/{first['community_id']}"


async def test_find_more_like_a_segment_and_like_selected_partners(selling, user: User) -> None:
    await user.open("/partners")
    user.find(marker="segment-top").click()  # the segment filtered is the dialog's first guess
    await user.should_see("Scorecards · Top")
    user.find(marker="find-lookalikes").click()
    assert user.find(marker="lookalike-source").elements.pop().value == "segment"
    user.find(marker="lookalike-find").click()
    table = await results(user)
    await user.should_see("Like your partners in the Top segment")
    assert table.rows and "r/Breadit" not in names(table)

    await user.open("/partners")
    scorecards = user.find(marker="scorecards").elements.pop()
    scorecards.selected = [row for row in scorecards.rows if row["name"] == "r/yoga"]
    user.find(marker="find-lookalikes").click()
    assert user.find(marker="lookalike-source").elements.pop().value == "selected"
    user.find(marker="lookalike-find").click()
    table = await results(user)
    await user.should_see("Like this community")
    assert "Yoga with Maya" in names(table)[:3] and "r/yoga" not in names(table)


# --- working the results ---------------------------------------------------------------------------------------

async def test_shortlisting_a_result_puts_it_in_the_pipeline_and_not_a_fit_takes_it_off(selling, user: User,
                                                                                          db) -> None:
    await user.open("/lookalikes?top=5&by=revenue")
    table = await results(user)
    keep, drop = table.rows[0], table.rows[1]
    assert prospect(db, keep["name"]) is None  # finding them created nothing

    user.find(marker="lookalikes").trigger("shortlist", keep)  # the row's thumb-up
    await user.should_see("1 shortlisted")
    assert (prospect(db, keep["name"]).stage, prospect(db, keep["name"]).feedback) == ("shortlisted", "shortlist")
    row = next(r for r in table.rows if r["community_id"] == keep["community_id"])
    assert row["stage_label"] == "Shortlisted"  # still listed, marked

    user.find(marker="lookalikes").trigger("reject", drop)  # the row's thumb-down
    await wait_until(lambda: drop["name"] not in names(table))
    assert (prospect(db, drop["name"]).stage, prospect(db, drop["name"]).feedback) == ("declined", "not_a_fit")

    await user.open("/pipeline")
    await user.should_see(keep["name"])
    await user.open("/lookalikes?top=5&by=revenue")  # worked or judged: neither comes back
    table = await results(user)
    assert keep["name"] not in names(table) and drop["name"] not in names(table)


async def test_find_more_like_this_from_a_community_page(user: User) -> None:
    await user.open(f"/community/{community_id('r/yoga')}")  # not a partner, not even in the pipeline
    user.find(marker="find-lookalikes").click()
    table = await results(user)
    await user.should_see("Like this community")
    assert "Yoga with Maya" in names(table)[:3] and "r/yoga" not in names(table)
    assert {tuple(row["like"]) for row in table.rows} == {("r/yoga",)}


async def test_narrowing_to_a_kind_and_to_a_profile_keeps_the_link_shareable(user: User) -> None:
    from ui_helpers import COOKS, profile_id

    await user.open(f"/lookalikes?seed={BREADIT}")
    await results(user)
    user.find("Kind").elements.pop().set_value("blog")  # the choice goes into the link
    await wait_until(lambda: user.back_history[-1] == f"/lookalikes?seed={quote(BREADIT, safe='')}&kind=blog")
    table = await results(user)
    assert table.rows and {row["kind"] for row in table.rows} == {"blog"}

    await user.open(f"/lookalikes?seed={BREADIT}&profile={COOKS}")
    table = await results(user)
    assert all(row["why"].endswith("ranked with your profile too") for row in table.rows)
    assert table.rows[0]["href"] == f"/community/{table.rows[0]['community_id']}?profile={profile_id(COOKS)}"


# --- the dashboard ---------------------------------------------------------------------------------------------

async def test_the_dashboard_shows_like_your_top_partners_once_partners_sell(user: User) -> None:
    await user.open("/")
    await user.should_see("Pipeline funnel")
    await user.should_not_see(marker="like-top-partners")  # no partner at all: nothing
    await user.should_not_see(marker="like-top-partners-hint")

    recruit()
    await user.open("/")
    await user.should_see(marker="like-top-partners-hint")  # partners, no revenue yet: a hint, no error
    await user.should_not_see("Like your top partners")

    import_sales()
    await user.open("/")
    await user.should_see("Like your top partners")
    await user.should_see("like r/Breadit", retries=200)  # filled in after the page is shown
    links = [link for link in user.find(ui.link).elements if link.props.get("href", "").startswith("/community/")]
    assert 1 <= len(links) <= 5
    user.find(marker="like-top-partners-all").click()
    table = await results(user)
    assert len(table.rows) > 5


# --- who may do what -------------------------------------------------------------------------------------------

async def test_a_viewer_sees_the_results_but_no_button_that_changes_them(selling, user: User, db) -> None:
    add_team()
    assert (await log_in_async(user.http_client, "v@example.com")).status_code == 303
    await user.open("/lookalikes?segment=top")
    table = await results(user)
    assert table.rows
    assert "actions" not in [column["name"] for column in table.columns]
    assert table.props.get("selection") in (None, "none")
    await user.should_not_see(marker="lookalike-bulk")
    target = table.rows[0]
    user.find(marker="lookalikes").trigger("shortlist", target)  # sent by hand: the service refuses it
    await wait_until(lambda: any("a viewer cannot" in m for m in user.notify.messages))
    assert prospect(db, target["name"]) is None


# --- a link that asks for the wrong thing ----------------------------------------------------------------------

@pytest.mark.parametrize(("query", "message"), [
    ("segment=nope", "choose one of top, rising"),
    ("top=5&by=happiness", "choose one of revenue, conversions, epc, clicks"),
    ("top=lots", "a whole number from 1 to 20"),
    ("seed=not-a-url", "not in your catalogue"),
    ("&".join(f"seed=https://x{i}.example.com/" for i in range(21)), "at most 20"),
    ("", "give exactly one of"),
    ("top=5&since=yesterday", "a date"),
    ("segment=dormant", "no partner is in the 'dormant' segment"),
])
async def test_a_bad_link_shows_a_message_not_a_crash(selling, user: User, query: str, message: str) -> None:
    await user.open(f"/lookalikes?{query}")
    await user.should_see(marker="lookalike-error", retries=200)
    await user.should_see(message)
    await user.should_not_see(marker="lookalikes")
