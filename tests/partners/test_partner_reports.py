"""Activation checklists and reminders; scorecards, segments, playbooks, funnel, trend and kinds."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from recruiter.accounts.roles import Actor
from recruiter.core.models import Community, PerformanceDay, Prospect, Stage, utcnow
from recruiter.outreach.pipeline import set_stage, stage_history
from recruiter.partners.activation import (
    ActivationError,
    activation_summary,
    checklist,
    mark_step,
    next_step,
    reminders,
    render_template,
    unmark_step,
)
from recruiter.partners.links import create_link
from recruiter.partners.reports import funnel, kind_performance, partner_scorecards, playbook, segment_partners, trend

TODAY = utcnow().date()


def _partner(session, name: str, kind: str = "blog", stage: str = "joined", joined_days_ago: int = 0) -> Community:
    community = Community(url=f"https://{name.lower()}.example.com", name=name, kind=kind)
    session.add(community)
    session.commit()
    set_stage(community, stage, actor=Actor.cli(), session=session, at=utcnow() - timedelta(days=joined_days_ago))
    return community


def _numbers(session, community: Community, days_ago: int, clicks: int = 0, conversions: int = 0,
             revenue: float = 0.0) -> None:
    session.add(PerformanceDay(community_id=community.id, day=TODAY - timedelta(days=days_ago), clicks=clicks,
                               conversions=conversions, revenue=revenue))
    session.commit()


def test_checklist_ticks_and_the_stage_follows(memory_session) -> None:
    anna = _partner(memory_session, "Anna", joined_days_ago=10)
    mark_step(anna, "welcome-sent", actor=Actor.cli(), session=memory_session)
    create_link(anna, "https://shop.example.com", actor=Actor.cli(), session=memory_session)
    item = checklist(anna, session=memory_session)
    assert [s.done for s in item.steps] == [True, True, False, False, False]
    assert item.next_step == "assets_shared" and item.stage is Stage.joined
    assert item.public()["steps"][0]["done"] is True and item.row()["progress"] == "2/5"
    mark_step(anna, "first_sale", actor=Actor.cli(), session=memory_session)  # a sale implies a promotion happened
    prospect = memory_session.get(Prospect, memory_session.get(Prospect, 1).id)
    assert [c.to_stage for c in stage_history(prospect, session=memory_session)][-2:] == ["activated", "performing"]
    assert unmark_step(anna, "first_sale", actor=Actor.cli(), session=memory_session) is True
    with pytest.raises(ActivationError, match="unknown step 'party'"):
        mark_step(anna, "party", actor=Actor.cli(), session=memory_session)


def test_stages_never_move_back_and_non_partners_are_not_moved(memory_session) -> None:
    star = _partner(memory_session, "Star", stage="performing")
    lead = _partner(memory_session, "Lead", stage="contacted")
    mark_step(star, "first_promotion", actor=Actor.cli(), session=memory_session)
    mark_step(lead, "first_promotion", actor=Actor.cli(), session=memory_session)
    stages = {p.community_id: p.stage for p in memory_session.exec(select(Prospect)).all()}
    assert stages == {star.id: "performing", lead.id: "contacted"}


def test_time_to_first_click_and_sale(memory_session) -> None:
    from recruiter.partners.activation import sync_from_performance

    anna = _partner(memory_session, "Anna", joined_days_ago=20)
    _numbers(memory_session, anna, 15, clicks=30)
    _numbers(memory_session, anna, 8, clicks=40, conversions=2, revenue=90)
    assert sync_from_performance([anna.id], actor=Actor.cli(), session=memory_session) == 2
    item = checklist(anna, session=memory_session)
    assert (item.days_to_first_click, item.days_to_first_sale) == (5, 12)
    assert item.stage is Stage.performing
    _partner(memory_session, "Idle", joined_days_ago=3)
    stats = activation_summary(session=memory_session)
    assert (stats.partners, stats.promoted, stats.sold, stats.promoted_share) == (2, 1, 1, 0.5)
    assert (stats.median_days_to_first_click, stats.median_days_to_first_sale) == (5, 12)


def test_reminders_for_partners_stuck_on_a_step(memory_session) -> None:
    stuck = _partner(memory_session, "Stuck", joined_days_ago=12)
    fresh = _partner(memory_session, "Fresh", joined_days_ago=2)
    linked = _partner(memory_session, "Linked", joined_days_ago=30)
    mark_step(linked, "welcome_sent", actor=Actor.cli(), session=memory_session, at=utcnow() - timedelta(days=29))
    mark_step(linked, "link_created", actor=Actor.cli(), session=memory_session, at=utcnow() - timedelta(days=20))
    found = {r.name: r for r in reminders(session=memory_session, days=7)}
    assert set(found) == {"Stuck", "Linked"} and fresh.name not in found
    assert (found["Stuck"].step, found["Stuck"].waiting_days) == ("welcome_sent", 12)
    assert (found["Linked"].step, found["Linked"].waiting_days) == ("assets_shared", 20)
    assert [r.name for r in reminders(session=memory_session, days=7)] == ["Linked", "Stuck"]
    assert next_step({"first_sale"}) is None and stuck.id


def test_templates_are_filled_in(memory_session) -> None:
    anna = _partner(memory_session, "Anna")
    assert "[tracked link: make a link first]" in render_template("welcome_sent", anna, session=memory_session)
    link = create_link(anna, "https://shop.example.com", actor=Actor.cli(), session=memory_session)
    text = render_template("welcome_sent", anna, session=memory_session)
    assert "Hi Anna" in text and link.tracked_url in text and link.ref_code in text and "{" not in text


def test_segments(memory_session) -> None:
    names = ["Top", "Rising", "Steady", "Flat", "Dormant", "Never"]
    p = {n: _partner(memory_session, n) for n in names}
    _numbers(memory_session, p["Top"], 3, clicks=500, conversions=20, revenue=1000)
    _numbers(memory_session, p["Rising"], 5, clicks=100, conversions=5, revenue=300)
    _numbers(memory_session, p["Rising"], 40, clicks=100, conversions=1, revenue=50)
    _numbers(memory_session, p["Steady"], 5, clicks=100, conversions=2, revenue=100)
    _numbers(memory_session, p["Steady"], 45, clicks=100, conversions=4, revenue=200)
    _numbers(memory_session, p["Flat"], 29, clicks=3)  # 29 days ago is inside the 30-day window
    _numbers(memory_session, p["Dormant"], 30, clicks=50, conversions=3, revenue=150)
    segments = segment_partners([c.id for c in p.values()], session=memory_session)
    assert {n: segments[c.id] for n, c in p.items()} == {
        "Top": "top", "Rising": "rising", "Steady": "steady", "Flat": "steady", "Dormant": "dormant",
        "Never": "never-activated"}
    rows = partner_scorecards(session=memory_session)
    assert [r.name for r in rows][:2] == ["Top", "Rising"]
    recent = {r.name: r for r in partner_scorecards(session=memory_session, since=TODAY - timedelta(days=10))}
    assert recent["Steady"].revenue == Decimal("100.00") and recent["Dormant"].segment == "dormant"
    assert [r.name for r in partner_scorecards(session=memory_session, segment="never-activated")] == ["Never"]
    top = rows[0].public()
    assert list(top) == ["url", "name", "kind", "stage", "ref_code", "clicks", "conversions", "revenue", "commission",
                         "epc", "conversion_rate", "last_activity", "segment"]
    assert (top["stage"], top["revenue"], top["epc"]) == ("joined", 1000.0, 2.0)


def test_top_is_at_least_one_partner_and_about_a_fifth(memory_session) -> None:
    partners = [_partner(memory_session, f"P{i}") for i in range(10)]
    for i, community in enumerate(partners):
        _numbers(memory_session, community, 2, clicks=10, revenue=10 * (i + 1))
    segments = segment_partners([c.id for c in partners], session=memory_session)
    assert [c.name for c in partners if segments[c.id] == "top"] == ["P8", "P9"]


def test_playbooks_name_their_partners_and_fill_the_message(memory_session) -> None:
    star = _partner(memory_session, "Star", kind="podcast")
    quiet = _partner(memory_session, "Quiet")
    _numbers(memory_session, star, 1, clicks=100, conversions=5, revenue=250)
    _numbers(memory_session, quiet, 60, clicks=10)
    book = playbook("dormant", session=memory_session, community=quiet)
    assert [p.name for p in book.partners] == ["Quiet"]
    assert "last on" in book.message and (TODAY - timedelta(days=60)).isoformat() in book.message
    assert book.public()["partners"] == [{"url": quiet.url, "name": "Quiet"}]
    steady = playbook("steady", session=memory_session)
    assert "are mostly podcasts, send visitors on about 1 day a month and turn 5.0 % of their clicks" \
        in steady.message
    with pytest.raises(ValueError, match="unknown segment"):
        playbook("vip", session=memory_session)


def test_funnel_trend_and_kinds(memory_session) -> None:
    blog = _partner(memory_session, "Blog", kind="blog")
    pod = _partner(memory_session, "Pod", kind="podcast")
    lead = Community(url="https://lead.example.com", name="Lead")
    memory_session.add(lead)
    memory_session.commit()
    set_stage(lead, "contacted", actor=Actor.cli(), session=memory_session)
    _numbers(memory_session, pod, 1, clicks=100, conversions=4, revenue=400)
    _numbers(memory_session, blog, 8, clicks=50, conversions=1, revenue=20)
    rows = {r.stage: r for r in funnel(session=memory_session)}
    assert rows[Stage.contacted].reached == 3 and rows[Stage.joined].reached == 2
    # Skipped stages count as passed: a partner who joined was contacted and replied.
    assert rows[Stage.replied].conversion == pytest.approx(0.6667) and rows[Stage.joined].conversion == 1.0
    weekly = trend(session=memory_session, by="week", periods=4)
    assert len(weekly) == 4 and sum(w.clicks for w in weekly) == 150 and weekly[-1].period <= TODAY
    assert sum(w.revenue for w in weekly) == Decimal("420.00")
    daily = trend(session=memory_session, by="day", periods=3)
    assert [d.clicks for d in daily] == [0, 100, 0]
    kinds = kind_performance(session=memory_session)
    assert [k.kind for k in kinds] == ["podcast", "blog"] and kinds[0].epc == Decimal("4.00")
    assert kinds[0].public()["revenue_per_partner"] == 400.0
