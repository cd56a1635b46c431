from datetime import date

import pytest

from recruiter.accounts.roles import Actor
from recruiter.catalogue.importing import save_records
from recruiter.core.errors import RecruiterError
from recruiter.outreach.pipeline import (
    PipelineError,
    activities,
    add_note,
    contacted_before,
    find_community,
    list_prospects,
    set_feedback,
    set_follow_up,
    set_stage,
    stage_history,
)


@pytest.fixture
def community(memory_session):
    save_records([{"url": "https://www.reddit.com/r/yoga/", "name": "r/yoga"}], session=memory_session)
    return find_community("reddit.com/r/Yoga", session=memory_session)


def test_stage_history_and_contacted_before(memory_session, community) -> None:
    prospect = set_stage(community, "shortlisted", actor=Actor.cli(), session=memory_session)
    assert contacted_before(prospect, session=memory_session) is None
    set_stage(community, "contacted", actor=Actor.cli(), session=memory_session, note="email to mods")
    set_stage(community, "replied", actor=Actor.cli(), session=memory_session)
    history = [(h.from_stage, h.to_stage) for h in stage_history(prospect, session=memory_session)]
    assert history == [(None, "discovered"), ("discovered", "shortlisted"), ("shortlisted", "contacted"),
                       ("contacted", "replied")]
    assert contacted_before(prospect, session=memory_session) is not None
    kinds = [a.kind for a in activities(prospect, session=memory_session)]
    assert "contacted" in kinds and "note" in kinds


def test_one_prospect_per_community(memory_session, community) -> None:
    set_stage(community, "contacted", actor=Actor.cli(), session=memory_session)
    set_stage(community, "joined", actor=Actor.cli(), session=memory_session)
    assert len(list_prospects(session=memory_session)) == 1


def test_feedback_moves_new_prospects(memory_session, community) -> None:
    prospect = set_feedback(community, "shortlist", actor=Actor.cli(), session=memory_session)
    assert (prospect.stage, prospect.feedback) == ("shortlisted", "shortlist")
    prospect = set_feedback(community, "not_a_fit", actor=Actor.cli(), session=memory_session)
    assert (prospect.stage, prospect.feedback) == ("declined", "not_a_fit")
    with pytest.raises(PipelineError):
        set_feedback(community, "maybe", actor=Actor.cli(), session=memory_session)


def test_notes_and_follow_up(memory_session, community) -> None:
    prospect = set_stage(community, "contacted", actor=Actor.cli(), session=memory_session)
    add_note(prospect, "Prefers email", actor=Actor.cli(), session=memory_session)
    set_follow_up(prospect, date(2030, 1, 2), actor=Actor.cli(), session=memory_session)
    assert list_prospects(session=memory_session, stage="contacted")[0][0].next_follow_up == date(2030, 1, 2)
    with pytest.raises(PipelineError):
        add_note(prospect, "  ", actor=Actor.cli(), session=memory_session)


def test_unknown_stage_and_community(memory_session, community) -> None:
    with pytest.raises(RecruiterError, match="unknown stage"):
        set_stage(community, "won", actor=Actor.cli(), session=memory_session)
    with pytest.raises(RecruiterError, match="no community"):
        find_community("https://nowhere.example.com", session=memory_session)


def test_a_community_is_found_by_its_feed_url_too(memory_session) -> None:
    from recruiter.outreach.pipeline import find_community

    save_records([{"url": "https://show.example.com/", "name": "The Show", "feed_url": "https://feeds.example.com/show.xml"}],
                 session=memory_session)
    assert find_community("https://feeds.example.com/show.xml", session=memory_session).name == "The Show"
