"""Lookalikes (issue 23), the service: `find_lookalikes` on a small hand-made catalogue in three clearly
different niches (sourdough baking, trail running, kubernetes; `tests/support/lookalike_catalogue.py`),
imported through the real import path and embedded with the deterministic hashing model (texts that share
words are close). Real behaviour throughout: no mocks.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from lookalike_catalogue import CATALOGUE, KUBERNETES, RUNNING, SOURDOUGH, niche, records
from sqlmodel import select

from recruiter.accounts.roles import Actor
from recruiter.core.errors import InvalidValue, NotFound
from recruiter.core.models import Community, Profile
from recruiter.matching.index import session_index
from recruiter.matching.lexical import tokens
from recruiter.matching.lookalike import (
    LIKE_FLOOR,
    LIKE_MARGIN,
    MAX_SEEDS,
    Seed,
    find_lookalikes,
    niches,
    seeds_from_urls,
)
from recruiter.outreach.pipeline import find_community, set_feedback, set_stage
from recruiter.partners.lookalikes import SeedChoice

BREAD = [SOURDOUGH[0][0], SOURDOUGH[2][0], SOURDOUGH[3][0]]  # r/Sourdough, Crumb and Crust, Levain Lab
TRAIL = [RUNNING[0][0], RUNNING[2][0], RUNNING[3][0]]  # r/trailrunning, Singletrack Stories, Vert Meters
RYE, RYE_CLUB = "https://ryeandspelt.example.com/", "https://ryebreadclub.example.com/"


def _import(session, rows: list[dict]) -> None:
    from recruiter.catalogue.importing import save_records
    from recruiter.matching.index import refresh_index

    report = save_records(rows, session=session)
    assert report.error_count == 0, report.errors
    refresh_index(session=session)  # what `recruiter import` does after saving


@pytest.fixture
def catalogue(session):
    _import(session, records())
    return session


def find(session, urls: list[str], weights: list[float] | None = None, **options):
    return find_lookalikes(seeds_from_urls(urls, session=session, weights=weights), session=session, **options)


def canonical(session, url: str) -> str:
    return find_community(url, session=session).url


def niches_of(results) -> list[str]:
    return [niche(r.url) for r in results]


# --- never a seed; the pipeline ------------------------------------------------------------------------------

@pytest.mark.parametrize("seeds", [BREAD[:1], BREAD, BREAD + TRAIL, [u for u, *_ in CATALOGUE[:20]]],
                         ids=["one", "three", "two-niches", "twenty"])
def test_never_returns_a_seed(catalogue, seeds) -> None:
    results = find(catalogue, seeds, limit=len(CATALOGUE), include_known=True)
    assert results
    assert not {r.url for r in results} & {canonical(catalogue, u) for u in seeds}
    assert len({r.url for r in results}) == len(results)  # and nothing twice


def test_one_seed_finds_its_own_niche_first(catalogue) -> None:
    results = find(catalogue, BREAD[:1], limit=5)
    assert niches_of(results) == ["sourdough"] * 5
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True) and all(isinstance(s, int) and 0 <= s <= 100 for s in scores)


@pytest.mark.parametrize("stage", ["shortlisted", "contacted", "joined", "performing"])
def test_known_prospects_are_left_out_unless_include_known(catalogue, stage) -> None:
    before = find(catalogue, BREAD, limit=5)
    worked, untouched = before[0], before[1]
    set_stage(find_community(worked.url, session=catalogue), stage, actor=Actor.cli(), session=catalogue)
    set_stage(find_community(untouched.url, session=catalogue), "discovered", actor=Actor.cli(), session=catalogue)

    default = [r.url for r in find(catalogue, BREAD, limit=10)]
    assert worked.url not in default
    assert untouched.url in default  # a prospect still at `discovered` is not "known"
    known = find(catalogue, BREAD, limit=10, include_known=True)
    assert worked.url in [r.url for r in known]
    assert next(r for r in known if r.url == worked.url).stage == stage


@pytest.mark.parametrize("how", ["not_a_fit", "declined"])
def test_rejected_prospects_are_not_returned_and_push_their_lookalikes_down(catalogue, how) -> None:
    before = find(catalogue, BREAD, limit=12)
    order = [r.url for r in before]
    assert canonical(catalogue, RYE) in order and canonical(catalogue, RYE_CLUB) in order
    rye = find_community(RYE, session=catalogue)
    if how == "not_a_fit":
        set_feedback(rye, "not_a_fit", actor=Actor.cli(), session=catalogue)
    else:
        set_stage(rye, "declined", actor=Actor.cli(), session=catalogue)

    for include_known in (False, True):
        after = find(catalogue, BREAD, limit=len(CATALOGUE), include_known=include_known)
        assert rye.url not in [r.url for r in after]
    after = {r.url: r.score for r in find(catalogue, BREAD, limit=12)}
    club = canonical(catalogue, RYE_CLUB)
    # The other rye community is pushed away: it loses more of its score than any other result does.
    drops = {r.url: r.score - after[r.url] for r in before if r.url in after}
    assert drops[club] > max(d for u, d in drops.items() if u != club), drops


# --- niches ----------------------------------------------------------------------------------------------------

def test_seeds_from_two_niches_bring_both_niches_not_their_average(catalogue) -> None:
    results = find(catalogue, BREAD + TRAIL, limit=10)
    found = niches_of(results)
    assert found.count("sourdough") >= 3 and found.count("running") >= 3, found
    assert set(found) == {"sourdough", "running"}  # the average of the two is neither: nothing else comes in


def test_seeds_from_three_niches_bring_all_three(catalogue) -> None:
    seeds = BREAD[:2] + TRAIL[:2] + [KUBERNETES[0][0], KUBERNETES[2][0]]
    found = niches_of(find(catalogue, seeds, limit=9))
    assert all(found.count(n) >= 2 for n in ("sourdough", "running", "kubernetes")), found


def _unit(*rows: list[float]) -> np.ndarray:
    vectors = np.array(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


A1, A2, A3 = [1.0, 0.1, 0.0, 0.0], [1.0, -0.1, 0.05, 0.0], [1.0, 0.0, -0.1, 0.0]
B1, B2 = [0.0, 0.0, 1.0, 0.1], [0.05, 0.0, 1.0, -0.1]
LONER = [0.25, 0.0, 0.0, 1.0]  # off both topics, a little nearer the A group


def test_niches_two_clear_groups_are_two() -> None:
    assert niches(_unit(A1, A2, B1, B2), 0.3) == [[0, 1], [2, 3]]
    assert niches(_unit(A1, B1, A2, B2), 0.3) == [[0, 2], [1, 3]]  # each group in input order


def test_niches_one_group_is_one() -> None:
    assert niches(_unit(A1, A2, A3), 0.3) == [[0, 1, 2]]
    assert niches(_unit(A1), 0.3) == [[0]]


def test_niches_a_lone_outlier_among_four_or_more_joins_its_nearest_group() -> None:
    vectors = _unit(A1, A2, B1, LONER, B2, A3)
    assert sorted(niches(vectors, 0.3)) == [[0, 1, 5], [2, 4], [3]]  # by similarity alone it is its own group
    groups = niches(vectors, 0.3, min_size=2)
    assert sorted(groups) == [[0, 1, 3, 5], [2, 4]]  # a pair is a niche, a loner joins the nearer group
    # Under 2 * min_size seeds nothing is forced: three seeds, one off topic, are two niches.
    assert sorted(niches(_unit(A1, A2, LONER), 0.3, min_size=2)) == [[0, 1], [2]]


def test_niches_partition_every_seed_once() -> None:
    rng = np.random.default_rng(23)
    vectors = _unit(*rng.normal(size=(12, 8)).tolist())
    for threshold in (-1.0, 0.0, 0.3, 0.9):
        groups = niches(vectors, threshold, min_size=2)
        assert sorted(i for g in groups for i in g) == list(range(12))
        assert all(g == sorted(g) for g in groups)
    assert niches(vectors, -1.0) == [list(range(12))]  # everything is similar enough: one niche


# --- like and why ------------------------------------------------------------------------------------------

def _similarities(session, result, seed_urls: list[str]) -> dict[str, float]:
    index = session_index(session)
    row = index.vectors[index.position[result.community_id]]
    out = {}
    for url in seed_urls:
        community = find_community(url, session=session)
        out[community.url] = float(index.vectors[index.position[community.id]] @ row)
    return out


def test_like_lists_only_seeds_closest_first(catalogue) -> None:
    seeds = BREAD + TRAIL
    for result in find(catalogue, seeds, limit=len(CATALOGUE)):
        sims = _similarities(catalogue, result, seeds)
        assert result.like and set(result.like) <= set(sims), result
        assert len(set(result.like)) == len(result.like)
        values = [sims[u] for u in result.like]
        assert values == sorted(values, reverse=True), (result.name, result.like, values)
        best = max(sims.values())
        assert values[0] == pytest.approx(best, abs=1e-6)  # always its closest seed
        # every seed within the margin of the closest (and not too far) is named, no other
        bar = max(LIKE_FLOOR, best - LIKE_MARGIN)
        expected = {u for u, s in sims.items() if s >= bar} or {result.like[0]}
        assert set(result.like) == expected | {result.like[0]}, (result.name, sims)


CLAUSE = re.compile(r"^(?:like )?(?P<name>.+?) \((?P<sim>-?\d\.\d\d)\): (?P<rest>.*)$")


def _clauses(why: str) -> list[tuple[str, float, list[str]]]:
    """(seed name, similarity, quoted words) for each seed the reason names."""
    out = []
    for part in why.split("; "):
        match = CLAUSE.match(part)
        if match:
            words = re.findall(r'"([^"]+)"', match["rest"]) if match["rest"].startswith("shares ") else []
            out.append((match["name"], float(match["sim"]), words))
    return out


def _text(community: Community) -> str:
    return " ".join([community.name or "", community.title or "", community.description or ""]).lower()


def _has(text: str, word: str) -> bool:
    """The text has the word, by stem prefix ("baking" -> "bak", which "bake" and "bakers" start with too)."""
    word, stem = word.lower(), tokens(word)[0]
    size = next((i for i, (a, b) in enumerate(zip(word, stem, strict=False)) if a != b), min(len(word), len(stem)))
    root = word[:size]
    return len(root) >= 3 and any(w.startswith(root) for w in re.findall(r"\w+", text))


def _check_reasons(session, results, seed_urls: list[str]) -> int:
    """Every result's reason names the seeds in its `like` (best first, with their true similarity) and quotes
    only words both texts have; returns how many words were quoted in all."""
    names = {find_community(u, session=session).url: find_community(u, session=session) for u in seed_urls}
    quoted = 0
    for result in results:
        clauses = _clauses(result.why)
        assert clauses, result.why
        assert result.why.startswith(f"like {names[result.like[0]].name} (")
        assert [c[0] for c in clauses] == [names[u].name for u in result.like[:3]], result.why
        own = _text(session.get(Community, result.community_id))
        sims = _similarities(session, result, seed_urls)
        for (_, sim, words), url in zip(clauses, result.like, strict=False):
            assert sim == pytest.approx(sims[url], abs=0.006), result.why
            seed_text = _text(names[url])
            for word in words:
                quoted += 1
                assert word.lower() in seed_text, (word, names[url].name, result.why)  # as the seed writes it
                assert _has(own, word), (word, result.name, result.why)
                assert _has(seed_text, word)
        if max(sims.values()) < LIKE_FLOOR:
            assert "loosely: no seed is close" in result.why
        else:
            assert "loosely" not in result.why
    return quoted


def test_why_names_the_seeds_and_only_words_both_texts_have(catalogue) -> None:
    seeds = BREAD + TRAIL
    _check_reasons(catalogue, find(catalogue, seeds, limit=len(CATALOGUE)), seeds)


# A catalogue written from a closed vocabulary (eight words a niche, every word in several communities): the
# words two communities share here are the database's specific ones, so the reasons quote some.
WORDS = {"bake": ["sourdough", "starter", "levain", "crumb", "crust", "bread", "flour", "banneton"],
         "run": ["trail", "ultramarathon", "mountain", "shoes", "vest", "races", "pacing", "singletrack"],
         "k8s": ["kubernetes", "helm", "pods", "ingress", "operators", "cluster", "container", "nodes"]}


def closed_vocabulary() -> list[dict]:
    rows = []
    for name, words in WORDS.items():
        for i in range(8):
            turned = words[i:] + words[:i]
            rows.append({"url": f"https://{name}{i}.example.com/", "name": " ".join(w.title() for w in turned[:2]),
                         "kind": "blog", "description": " ".join(turned[:3 + i % 4])})
    return rows


def test_why_quotes_shared_words_and_nothing_more_on_a_closed_vocabulary(session) -> None:
    _import(session, closed_vocabulary())
    seeds = ["https://bake0.example.com/", "https://bake3.example.com/", "https://run1.example.com/"]
    results = find(session, seeds, limit=24)
    assert _check_reasons(session, results, seeds) > 0
    assert any("shares " in r.why for r in results)


def test_why_quotes_the_niche_words_a_result_shares_with_its_seed(catalogue) -> None:
    # Bread Hands and r/Sourdough share "sourdough", "starter", "levain", "crumb", "crust" (levain is in 6 of
    # the 39 communities): the reason should quote some of them.
    results = find(catalogue, BREAD[:1], limit=3)
    hands = next(r for r in results if r.name == "Bread Hands")
    assert "no specific words in common" not in hands.why
    assert {w for _, _, words in _clauses(hands.why) for w in words} & {"sourdough", "starter", "levain", "crumb",
                                                                         "crust"}


# --- filters, weights, profile, limits -----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["youtube", "podcast", "forum"])
def test_kind_keeps_only_that_kind(catalogue, kind) -> None:
    results = find(catalogue, BREAD + TRAIL, limit=len(CATALOGUE), kind=kind)
    assert results and all(r.kind == kind for r in results)
    wanted = {u for u, _, k, *_ in SOURDOUGH + RUNNING if k == kind} - {*BREAD, *TRAIL}
    assert {r.url.rstrip("/") for r in results[:len(wanted)]} == {u.rstrip("/") for u in wanted}


@pytest.mark.parametrize("heavy", ["sourdough", "running"])
def test_a_heavier_seed_gets_its_niche_more_of_the_list(catalogue, heavy) -> None:
    seeds = BREAD[:2] + TRAIL[:2]
    weights = [3.0, 3.0, 1.0, 1.0] if heavy == "sourdough" else [1.0, 1.0, 3.0, 3.0]
    found = niches_of(find(catalogue, seeds, weights=weights, limit=8))
    light = "running" if heavy == "sourdough" else "sourdough"
    assert found.count(heavy) > found.count(light) >= 1, found  # more of the list, and the other niche still in
    even = niches_of(find(catalogue, seeds, limit=8))
    assert found.count(heavy) > even.count(heavy), (found, even)


@pytest.mark.parametrize("wanted, description", [
    ("running", "Trail running shoes for ultramarathon runners in mountain races."),
    ("sourdough", "Sourdough starter kits and bread flour for home bakers who love an open crumb."),
])
def test_with_a_profile_results_fit_both_the_seeds_and_the_profile(catalogue, wanted, description) -> None:
    profile = Profile(name=wanted, description=description)
    results = find(catalogue, BREAD + TRAIL, limit=5, profile=profile)
    assert niches_of(results) == [wanted] * 5  # of the seeds' two niches, the one the profile wants
    assert all(r.why.endswith("; ranked with your profile too") for r in results)
    assert all(isinstance(r.score, int) and 0 <= r.score <= 100 for r in results)
    assert all(set(r.like) <= {canonical(catalogue, u) for u in BREAD + TRAIL} for r in results)


def test_twenty_seeds_work_and_twenty_one_are_refused(catalogue) -> None:
    urls = [u for u, *_ in CATALOGUE]
    assert find(catalogue, urls[:MAX_SEEDS], limit=5)
    with pytest.raises(InvalidValue, match="21 seeds: at most 20"):
        find(catalogue, urls[:MAX_SEEDS + 1])
    with pytest.raises(InvalidValue, match="at most 20"):
        SeedChoice(urls=tuple(urls[:MAX_SEEDS + 1])).seeds(session=catalogue)
    with pytest.raises(InvalidValue, match="no seeds"):
        find_lookalikes([], session=catalogue)


def test_an_unknown_seed_is_named(catalogue) -> None:
    with pytest.raises(NotFound, match=re.escape("https://nowhere.example.com/")):
        seeds_from_urls([BREAD[0], "https://nowhere.example.com/"], session=catalogue)


def test_seed_urls_are_matched_in_any_form_and_once(catalogue) -> None:
    seeds = seeds_from_urls(["https://reddit.com/r/Sourdough", BREAD[0], "http://www.reddit.com/r/sourdough"],
                            session=catalogue)
    assert [s.url for s in seeds] == [canonical(catalogue, BREAD[0])]


def test_limit_caps_the_list_and_everything_else_can_come(catalogue) -> None:
    assert len(find(catalogue, BREAD, limit=3)) == 3
    everything = find(catalogue, BREAD, limit=1000)
    assert len(everything) == len(CATALOGUE) - len(BREAD)


def test_an_empty_catalogue_returns_nothing(session) -> None:
    assert session.exec(select(Community)).first() is None
    assert find_lookalikes([Seed(1, "https://www.reddit.com/r/sourdough/", "r/Sourdough")], session=session) == []
