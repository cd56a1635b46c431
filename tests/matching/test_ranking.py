"""Audience-fit ranking end to end on a small real-model database: order, reasons, fit, feedback, filters."""

from __future__ import annotations

import numpy as np
import pytest

from profiles.service import save_profile
from recruiter.accounts.roles import Actor
from recruiter.catalogue.importing import save_records
from recruiter.core.models import Profile, ProfileCreate
from recruiter.matching.ranking import RankOptions, fit_from_score, rank_communities
from recruiter.outreach.pipeline import find_community, set_feedback

COMMUNITIES = [
    ("https://www.reddit.com/r/houseplants/", "r/houseplants", "Indoor plant lovers trade care tips, rare finds "
     "and grow-light setups.", 1_200_000),
    ("https://www.reddit.com/r/IndoorGarden/", "r/IndoorGarden", "Growing herbs and vegetables inside with "
     "LED grow lights.", 90_000),
    ("https://www.reddit.com/r/succulents/", "r/succulents", "Cacti and succulent care, soil mixes, watering.",
     400_000),
    ("https://www.reddit.com/r/espresso/", "r/espresso", "Home baristas dialing in grinders and espresso "
     "machines.", 300_000),
    ("https://www.reddit.com/r/Coffee/", "r/Coffee", "Coffee beans, brewing methods, pour-over and roasting.",
     1_500_000),
    ("https://www.reddit.com/r/Homebrewing/", "r/Homebrewing", "Welcome brewers, mazers, vintners and cider "
     "makers!", 800_000),
    ("https://www.reddit.com/r/yoga/", "r/yoga", "Yoga practice, poses, flexibility and breathing.", 2_000_000),
    ("https://www.reddit.com/r/backpain/", "r/backpain", "Support for people living with back pain and sciatica.",
     60_000),
    ("https://www.reddit.com/r/kubernetes/", "r/kubernetes", "Kubernetes discussion, news and support.", 150_000),
    ("https://www.reddit.com/r/sre/", "r/sre", "Site reliability engineering: on-call, SLOs, monitoring.", 30_000),
    ("https://www.reddit.com/r/comicbooks/", "r/comicbooks", "Fans of comic books and graphic novels.", 900_000),
    ("https://www.reddit.com/r/pics/", "r/pics", "A place for pictures and photographs.", 30_000_000),
    ("https://www.reddit.com/r/AskReddit/", "r/AskReddit", "Ask and answer thought-provoking questions.",
     40_000_000),
    ("https://example.com/garden-blog", "Balcony Garden Blog", "Notes on balcony plants, pots and potting soil.",
     None),
]

PLANTS = "Indoor plant shop: rare houseplants, grow lights and potting soil for urban plant lovers."


@pytest.fixture(scope="module")
def ranked_db(tmp_path_factory, embedding_service):
    """One database for the module (embedding is the slow part); tests that write use their own profile."""
    from recruiter.core.db import open_session

    url = f"sqlite:///{tmp_path_factory.mktemp('ranking') / 'recruiter.db'}"
    with pytest.MonkeyPatch.context() as patch, open_session(url) as session:
        patch.setenv("RECRUITER_MODEL", embedding_service.model_name)  # wider than a test: set it here too
        save_records([{"url": u, "name": n, "description": d, "audience_size": a, "kind": None}
                      for u, n, d, a in COMMUNITIES], session=session)
        yield session


def urls(results) -> list[str]:
    return [r.url.lower() for r in results]  # canonical subreddit URLs are lower-cased


def test_public_rows_keep_the_cli_contract_and_fit_is_0_to_100(ranked_db) -> None:
    results = rank_communities(Profile(name="plants", description=PLANTS), session=ranked_db, limit=5,
                               store=False)
    assert len(results) == 5
    row = results[0].public()
    assert set(row) == {"url", "name", "kind", "audience_size", "score", "fit", "why"}
    assert all(0 <= r.fit <= 100 for r in results)
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    assert [r.fit for r in results] == sorted((r.fit for r in results), reverse=True)


def test_plant_communities_come_first_with_reasons_naming_facets_and_terms(ranked_db) -> None:
    results = rank_communities(Profile(name="plants", description=PLANTS), session=ranked_db, limit=4,
                               store=False)
    top = set(urls(results))
    assert "https://www.reddit.com/r/houseplants/" in top
    assert "https://www.reddit.com/r/indoorgarden/" in top
    assert not top & {"https://www.reddit.com/r/askreddit/", "https://www.reddit.com/r/pics/"}
    why = results[0].why
    assert why.startswith("matches ")
    houseplants = next(r for r in results if r.url.lower().endswith("/r/houseplants/"))
    assert '"rare"' in houseplants.why or '"indoor"' in houseplants.why or '"plant"' in houseplants.why


def test_short_literal_name_is_found_for_its_topic(ranked_db) -> None:
    results = rank_communities(Profile(name="beer", description="Craft beer and home brewing kits for beer geeks."),
                               session=ranked_db, limit=2, store=False)
    assert results[0].url == "https://www.reddit.com/r/homebrewing/"


def test_examples_pull_and_are_named_as_closest(ranked_db) -> None:
    profile = Profile(name="calm", description="Products for a calmer morning routine.",
                      examples=["https://reddit.com/r/espresso"])
    results = rank_communities(profile, session=ranked_db, limit=3, store=False)
    assert {"https://www.reddit.com/r/espresso/", "https://www.reddit.com/r/coffee/"} <= set(urls(results))
    coffee = next(r for r in results if r.url.lower().endswith("/r/coffee/"))
    assert "closest example: r/espresso" in coffee.why
    assert "an example community" in next(r for r in results if r.url.lower().endswith("/r/espresso/")).why


def test_exclusions_push_matching_communities_down(ranked_db) -> None:
    base = Profile(name="fit", description="Gear for people who want to feel better every day.")
    before = urls(rank_communities(base, session=ranked_db, limit=20, store=False))
    excluded = Profile(name="fit2", description=base.description, exclusions=["yoga"])
    after = urls(rank_communities(excluded, session=ranked_db, limit=20, store=False))
    assert after.index("https://www.reddit.com/r/yoga/") > before.index("https://www.reddit.com/r/yoga/")


def test_feedback_removes_not_a_fit_and_shortlist_reranks_the_rest(ranked_db) -> None:
    profile = save_profile(ProfileCreate(name="morning", description="Products for a better morning."),
                           actor=Actor.cli(), session=ranked_db)
    before = urls(rank_communities(profile, session=ranked_db, limit=20, store=False))
    set_feedback(find_community("https://www.reddit.com/r/espresso/", session=ranked_db), "shortlist",
                 actor=Actor.cli(), session=ranked_db, profile_id=profile.id)
    set_feedback(find_community("https://www.reddit.com/r/yoga/", session=ranked_db), "not_a_fit",
                 actor=Actor.cli(), session=ranked_db, profile_id=profile.id)
    results = rank_communities(profile, session=ranked_db, limit=20, store=False)
    after = urls(results)
    assert "https://www.reddit.com/r/yoga/" not in after
    espresso, coffee = "https://www.reddit.com/r/espresso/", "https://www.reddit.com/r/coffee/"
    assert after.index(espresso) <= before.index(espresso)
    assert after.index(coffee) <= 2  # the shortlisted community's neighbourhood comes up with it
    assert "shortlisted" in next(r for r in results if r.url.lower() == coffee).why


def test_audience_weight_reorders_near_ties_but_never_beats_fit(ranked_db) -> None:
    profile = Profile(name="plants", description=PLANTS)
    plain = rank_communities(profile, session=ranked_db, limit=20, store=False)
    weighted = rank_communities(profile, session=ranked_db, limit=20, store=False,
                                options=RankOptions(audience_weight=1.0))
    off_topic = {"https://www.reddit.com/r/askreddit/", "https://www.reddit.com/r/pics/"}
    assert not off_topic & set(urls(weighted)[:4])
    bonus = max(w.score - p.score for w in weighted for p in plain if w.url == p.url)
    assert 0 < bonus <= 0.03 + 1e-6


def test_kind_min_audience_and_offset(ranked_db) -> None:
    profile = Profile(name="plants", description=PLANTS)
    blog_kind = find_community("https://example.com/garden-blog", session=ranked_db).kind
    blogs = rank_communities(profile, session=ranked_db, kind=blog_kind, limit=5, store=False)
    assert urls(blogs) == ["https://example.com/garden-blog"]
    big = rank_communities(profile, session=ranked_db, min_audience=1_000_000, limit=20, store=False)
    assert all((r.audience_size or 0) >= 1_000_000 for r in big)
    first = rank_communities(profile, session=ranked_db, limit=6, store=False)
    page = rank_communities(profile, session=ranked_db, limit=3, offset=3, store=False)
    assert urls(page) == urls(first)[3:6] and [r.rank for r in page] == [4, 5, 6]


def test_ranking_is_stored_as_matches(ranked_db) -> None:
    from sqlmodel import select

    from recruiter.core.models import Match

    profile = save_profile(ProfileCreate(name="plants", description=PLANTS), actor=Actor.cli(), session=ranked_db)
    results = rank_communities(profile, session=ranked_db, limit=3)
    matches = ranked_db.exec(select(Match).where(Match.profile_id == profile.id).order_by(Match.rank)).all()
    assert [(m.community_id, m.fit, m.why) for m in matches] == [(r.community_id, r.fit, r.why) for r in results]


def test_fit_is_a_monotone_calibrated_curve() -> None:
    values = [fit_from_score(s) for s in np.linspace(-0.2, 1.0, 50)]
    assert values == sorted(values) and values[0] == 0 and values[-1] == 100
    assert fit_from_score(-10.0) == 0


def test_rejected_direction_keeps_what_the_query_shares_with_the_rejected() -> None:
    from recruiter.matching.ranking import rejected_direction

    query = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    rejected = np.array([[0.8, 0.6, 0.0]], dtype=np.float32)  # on topic (x) but also about y
    direction = rejected_direction(rejected, query)
    assert abs(float(direction @ query)) < 1e-6 and direction[1] > 0.99
