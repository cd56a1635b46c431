"""The Partners and Platforms pages and the activation card, driven by NiceGUI's simulated user."""

from datetime import timedelta

import pytest
from nicegui import ui
from nicegui.testing import User
from sqlmodel import select

from recruiter.accounts.roles import Actor
from recruiter.core.models import Community, Prospect, utcnow


@pytest.fixture
def program(tmp_path, monkeypatch):
    """A data dir with three partners (one selling, one dormant, one new) and a contacted lead."""
    from recruiter.core.db import dispose_engines, open_session
    from recruiter.core.models import PerformanceDay
    from recruiter.outreach.pipeline import set_stage

    monkeypatch.setenv("RECRUITER_HOME", str(tmp_path))
    monkeypatch.delenv("RECRUITER_DB", raising=False)
    monkeypatch.delenv("RECRUITER_PASSWORD", raising=False)
    today = utcnow().date()
    ids = {}
    with open_session() as session:
        for name, kind, stage in [("Anna", "blog", "joined"), ("Pod", "podcast", "joined"),
                                  ("Newbie", "youtube", "joined"), ("Lead", "blog", "contacted")]:
            community = Community(url=f"https://{name.lower()}.example.com", name=name, kind=kind)
            session.add(community)
            session.commit()
            ids[name] = set_stage(community, stage, actor=Actor.cli(), session=session).id
        anna, pod = (session.exec(select(Community).where(Community.name == n)).one() for n in ("Anna", "Pod"))
        session.add(PerformanceDay(community_id=anna.id, day=today - timedelta(days=2), clicks=1000,
                                   conversions=50, revenue=2500))
        session.add(PerformanceDay(community_id=pod.id, day=today - timedelta(days=75), clicks=200))
        session.commit()
    yield ids
    dispose_engines()


async def test_partners_page_shows_scorecards_segments_and_charts(program, user: User) -> None:
    await user.open("/partners")
    await user.should_see("Scorecards")
    await user.should_see("Anna")
    await user.should_not_see("Lead")  # still in outreach
    await user.should_see("Which kinds of community perform")
    (scorecards,) = user.find(marker="scorecards").elements
    by_name = {r["name"]: r for r in scorecards.rows}
    assert by_name["Anna"]["segment"] == "top" and by_name["Anna"]["epc_text"] == "2.50"
    assert by_name["Pod"]["segment"] == "dormant" and by_name["Newbie"]["segment"] == "never-activated"
    user.find(marker="segment-dormant").click()
    await user.should_see("Scorecards · Dormant")
    (scorecards,) = user.find(marker="scorecards").elements
    assert [r["name"] for r in scorecards.rows] == ["Pod"]
    assert len(user.find(ui.echart).elements) >= 3


async def test_platforms_page_compares_and_chooses(program, user: User) -> None:
    await user.open("/platforms")
    await user.should_see("Rewardful")
    await user.should_see("?fpr={ref_code}")
    await user.should_see("No platform chosen yet")
    user.find(marker="choose-tapfiliate").click()
    await user.should_see("chosen")
    from recruiter.core.db import open_session
    from recruiter.partners.platforms import chosen_platform

    with open_session() as session:
        assert chosen_platform(session=session).key == "tapfiliate"


async def test_activation_card(program, user: User) -> None:
    from recruiter.core.db import open_session
    from recruiter.partners.activation import steps_by_community
    from ui.components.activation import render_activation_checklist

    @ui.page("/test-activation/{prospect_id}")
    def page(prospect_id: int) -> None:
        render_activation_checklist(prospect_id)

    await user.open(f"/test-activation/{program['Lead']}")
    await user.should_see("starts when this community joins")
    await user.open(f"/test-activation/{program['Newbie']}")
    await user.should_see("0/5 steps")
    await user.should_see("Welcome to the")  # the next step's message
    user.find(marker="step-welcome_sent").click()
    await user.should_see("1/5 steps")
    with open_session() as session:
        prospect = session.get(Prospect, program["Newbie"])
        assert "welcome_sent" in steps_by_community([prospect.community_id], session=session)[prospect.community_id]
    user.find("Destination page").type("https://shop.example.com")
    user.find("Make link").click()
    await user.should_see("2/5 steps")
    await user.should_see("utm_source=newbie-")


async def test_kind_performance_card(program, user: User) -> None:
    from ui.components.kind_performance import render_kind_performance

    @ui.page("/test-kinds")
    def page() -> None:
        render_kind_performance("blog")

    await user.open("/test-kinds")
    await user.should_see("Which kinds of partner perform")
    await user.should_see("2,500.00 / partner")


async def test_performance_upload_on_the_partners_page(program, user: User) -> None:
    from nicegui.elements.upload_files import SmallFileUpload

    day = (utcnow().date() - timedelta(days=1)).isoformat()
    csv_text = (f"Date,Partner,Clicks,Sales,Revenue\n{day},https://newbie.example.com,40,2,80\n"
                f"{day},https://lead.example.com,5,0,0\n")
    await user.open("/partners")
    user.find("Import performance").click()
    user.find("Column names (optional)").type("conversions=Sales")
    upload = user.find(ui.upload).elements.pop()
    await upload.handle_uploads([SmallFileUpload(name="export.csv", content_type="text/csv",
                                                 _data=csv_text.encode())])
    await user.should_see("1 kept")
    await user.should_see("line 3: https://lead.example.com is a known community but not a partner")
    (scorecards,) = user.find(marker="scorecards").elements
    assert {r["name"]: r["segment"] for r in scorecards.rows}["Newbie"] in ("top", "rising", "steady")
