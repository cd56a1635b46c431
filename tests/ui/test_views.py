"""The read models behind the screens: paging and filters in SQL, staleness, the board, templates, guards."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select
from ui_helpers import COOKS, YOGA, community_id, profile_id, rank_now

from profiles.service import default_profile, touch_profile
from recruiter.accounts.roles import Actor
from recruiter.core.errors import InvalidValue
from recruiter.core.models import Community, Feedback, Profile, Stage
from recruiter.matching.matches import MatchFilters, match_page, matches_csv, ranking_state
from recruiter.outreach.dashboard import board, follow_ups, funnel_counts
from recruiter.outreach.pipeline import (
    DoubleContactError,
    apply_feedback,
    find_community,
    move_prospect,
    set_follow_up,
    set_stage,
)
from recruiter.outreach.templates import render_template


def test_ranking_state_follows_profile_and_data_changes(db) -> None:
    from profiles.service import get_profile, update_profile

    profile = get_profile(COOKS, session=db)
    assert ranking_state(profile, session=db).reason == "not ranked yet"
    rank_now(COOKS)
    db.rollback()
    assert not ranking_state(profile, session=db).stale
    update_profile(profile, actor=Actor.cli(), session=db, description="Bread bakers")
    assert ranking_state(profile, session=db).reason == "the profile changed"
    rank_now(COOKS)
    db.rollback()
    from recruiter.core.db import bump_data_version

    bump_data_version(session=db)
    assert ranking_state(get_profile(COOKS, session=db), session=db).reason == "communities changed"
    rank_now(COOKS)
    db.rollback()
    apply_feedback([community_id("r/Breadit")], "shortlist", actor=Actor.cli(), session=db, profile_id=profile_id(COOKS))
    assert ranking_state(get_profile(COOKS, session=db), session=db).reason == "new feedback to learn from"


def test_match_page_filters_sorts_pages_in_sql(db) -> None:
    rank_now(COOKS)
    pid = profile_id(COOKS)
    rows, total = match_page(pid, session=db, limit=5)
    assert total == 24 and len(rows) == 5
    assert [r.score for r in rows] == sorted((r.score for r in rows), reverse=True)
    second, _ = match_page(pid, session=db, offset=5, limit=5)
    assert not {r.community_id for r in rows} & {r.community_id for r in second}
    blogs, total = match_page(pid, session=db, filters=MatchFilters(kind="blog"))
    assert total == 2 and {r.kind for r in blogs} == {"blog"}
    big, _ = match_page(pid, session=db, filters=MatchFilters(min_audience=5_000_000))
    assert big and all(r.audience_size >= 5_000_000 for r in big)
    found, total = match_page(pid, session=db, filters=MatchFilters(text="SOURDOUGH starters"))
    assert total == 2 and {r.name for r in found} == {"The Sourdough Journal", "r/Breadit"}
    by_name, _ = match_page(pid, session=db, filters=MatchFilters(sort="name"))
    assert [r.name.lower() for r in by_name] == sorted(r.name.lower() for r in by_name)
    with pytest.raises(InvalidValue, match="unknown kind"):
        match_page(pid, session=db, filters=MatchFilters(kind="zine"))


def test_not_a_fit_leaves_the_list_and_stage_filter(db) -> None:
    rank_now(COOKS)
    pid = profile_id(COOKS)
    apply_feedback([community_id("r/Baking")], "not_a_fit", actor=Actor.cli(), session=db, profile_id=pid)
    apply_feedback([community_id("r/Breadit")], "shortlist", actor=Actor.cli(), session=db, profile_id=pid)
    rows, total = match_page(pid, session=db, limit=100)
    assert total == 23 and "r/Baking" not in {r.name for r in rows}
    shortlisted, _ = match_page(pid, session=db, filters=MatchFilters(stage="shortlisted"))
    assert [(r.name, r.stage, r.feedback) for r in shortlisted] == [("r/Breadit", Stage.shortlisted, Feedback.shortlist)]
    declined, _ = match_page(pid, session=db, filters=MatchFilters(stage="declined"))
    assert [r.name for r in declined] == ["r/Baking"]
    assert declined[0].as_dict()["stage"] == "declined" and declined[0].as_dict()["feedback"] == "not_a_fit"


def test_csv_export_neutralises_formulas(db) -> None:
    rank_now(COOKS)
    community = db.exec(select(Community).where(Community.name == "r/cats")).one()
    community.name = "=HYPERLINK(\"http://evil\")"
    db.add(community)
    db.commit()
    text = matches_csv(profile_id(COOKS), actor=Actor.cli(), session=db)
    assert text.splitlines()[0].startswith("rank,fit,score,name,url")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


def test_default_profile_is_last_used_then_first(db) -> None:
    assert default_profile(session=db).name == COOKS  # none used yet: first by name
    touch_profile(db.get(Profile, profile_id(YOGA)), session=db)
    assert default_profile(session=db).name == YOGA


def test_double_contact_guard_and_board(db) -> None:
    community = find_community("https://www.reddit.com/r/Coffee/", session=db)
    prospect = set_stage(community, "contacted", actor=Actor.cli(), session=db)
    set_stage(community, "shortlisted", actor=Actor.cli(), session=db)
    with pytest.raises(DoubleContactError, match="double outreach"):
        move_prospect(prospect.id, "contacted", actor=Actor.cli(), session=db)
    assert move_prospect(prospect.id, "contacted", actor=Actor.cli(), session=db, force=True).stage == "contacted"
    columns = board(session=db).columns
    card = columns["contacted"][0]
    assert card.name == "r/Coffee" and card.contacted_at
    assert funnel_counts(session=db)["contacted"] == 1


def test_follow_ups_split_overdue_today_and_upcoming(db) -> None:
    for url, days in (("https://www.reddit.com/r/cats/", 0), ("https://www.reddit.com/r/knitting/", -3),
                      ("https://www.reddit.com/r/hiking/", 2), ("https://www.reddit.com/r/Coffee/", 30)):
        prospect = set_stage(find_community(url, session=db), "contacted", actor=Actor.cli(), session=db)
        set_follow_up(prospect, date.today() + timedelta(days=days), actor=Actor.cli(), session=db)
    items = follow_ups(session=db)
    assert [(i.name, i.status, i.days_late) for i in items] == [
        ("r/knitting", "overdue", 3), ("r/cats", "today", 0), ("r/hiking", "upcoming", 0)]
    assert [i.when for i in items] == ["3 d late", "today", "in 2 d"]
    assert {i.source for i in items} == {"prospect"}
    assert "r/Coffee" in [i.name for i in follow_ups(session=db, days=31)]


def test_templates_fill_only_the_four_placeholders(db) -> None:
    community = db.exec(select(Community).where(Community.name == "The Sourdough Journal")).one()
    profile = db.get(Profile, profile_id(COOKS))
    text = render_template("Hi {name} of {community}! {profile} {ref_link} {other} {0} {name.__class__}",
                           community=community, profile=profile, ref_link="https://shop.example/?ref=sj")
    assert text.startswith("Hi The Sourdough Journal of The Sourdough Journal! Home cooks")
    assert "https://shop.example/?ref=sj {other} {0} {name.__class__}" in text



def test_board_filters_cards_and_last_activity(db) -> None:
    from recruiter.outreach.pipeline import add_note

    rank_now(COOKS)
    breadit = set_stage(find_community("https://www.reddit.com/r/Breadit/", session=db), "shortlisted",
                        actor=Actor.cli(), session=db, profile_id=profile_id(COOKS))
    add_note(breadit, "Asked the mods   about a giveaway", actor=Actor.cli(), session=db)
    set_stage(find_community("https://sourdoughjournal.example.com/", session=db), "contacted", actor=Actor.cli(), session=db)
    whole = board(session=db)
    assert whole.totals["shortlisted"] == 1 and whole.totals["contacted"] == 1 and not whole.empty
    card = whole.columns["shortlisted"][0]
    assert card.last_activity == "note: Asked the mods about a giveaway" and card.last_activity_at
    assert card.fit is not None  # ranked for the bakers
    assert [c.name for c in board(session=db, kind="blog").columns["contacted"]] == ["The Sourdough Journal"]
    assert board(session=db, kind="blog").totals["shortlisted"] == 0
    assert board(session=db, text="BREAD").totals == {**dict.fromkeys(whole.totals, 0), "shortlisted": 1}
    assert board(session=db, text="sourdoughjournal.example").totals["contacted"] == 1
    assert board(session=db, text="100%_").empty  # LIKE wildcards in a search are text, not patterns
    journal = find_community("https://sourdoughjournal.example.com/", session=db)
    journal.name = "Sourdough 50%_off"
    db.add(journal)
    db.commit()
    assert board(session=db, text="50%_").totals["contacted"] == 1 and board(session=db, text="50x_").empty
    set_stage(find_community("https://www.reddit.com/r/cats/", session=db), "contacted", actor=Actor.cli(), session=db)
    limited = board(session=db, per_stage=1)
    assert limited.totals["contacted"] == 2 and [c.name for c in limited.columns["contacted"]] == ["r/cats"]
    assert limited.hidden("contacted") == 1
    assert board(session=db, profile_id=profile_id(COOKS)).totals["contacted"] == 0


def test_funnel_converts_between_successive_stages_and_counts_the_declined(db) -> None:
    from recruiter.outreach.dashboard import funnel

    urls = ["https://www.reddit.com/r/cats/", "https://www.reddit.com/r/knitting/",
            "https://www.reddit.com/r/hiking/", "https://www.reddit.com/r/Coffee/"]
    communities = [find_community(u, session=db) for u in urls]
    for community in communities:
        set_stage(community, "shortlisted", actor=Actor.cli(), session=db)
    for community in communities[:3]:
        set_stage(community, "contacted", actor=Actor.cli(), session=db)
    set_stage(communities[0], "replied", actor=Actor.cli(), session=db)
    set_stage(communities[1], "declined", actor=Actor.cli(), session=db)  # said no after we wrote
    set_stage(communities[3], "declined", actor=Actor.cli(), session=db)  # not a fit, never written to
    data = funnel(session=db)
    steps = {s.stage: s for s in data.steps}
    assert (steps["discovered"].reached, steps["shortlisted"].reached, steps["contacted"].reached,
            steps["replied"].reached) == (4, 4, 3, 1)
    assert steps["contacted"].conversion == 0.75 and steps["replied"].conversion == round(1 / 3, 4)
    assert steps["discovered"].conversion is None and steps["negotiating"].conversion == 0
    assert steps["contacted"].now == 1 and steps["replied"].now == 1
    assert (data.declined, data.declined_before_contact, data.declined_after_contact) == (2, 1, 1)


def test_follow_ups_merge_items_from_other_sources(db) -> None:
    from dataclasses import dataclass
    from datetime import UTC, datetime, time

    from recruiter.outreach.dashboard import FollowUp

    @dataclass
    class Step:  # the fields of recruiter.outreach.sequences.DueStep that a follow-up reads
        prospect_id: int
        community_id: int
        name: str
        sequence: str
        step: int
        subject: str
        due_at: datetime

    prospect = set_stage(find_community("https://www.reddit.com/r/cats/", session=db), "contacted", actor=Actor.cli(), session=db)
    set_follow_up(prospect, date.today() + timedelta(days=3), actor=Actor.cli(), session=db)
    due = datetime.combine(date.today() + timedelta(days=1), time(12), UTC)
    step = FollowUp.of_sequence_step(Step(prospect.id, prospect.community_id, "r/cats", "welcome", 2, "Any news?", due))
    items = follow_ups(session=db, more=[step])
    assert [(i.source, i.when) for i in items] == [("sequence", "tomorrow"), ("prospect", "in 3 d")]
    assert items[0].detail == "welcome, step 2: Any news?"
