"""The one ranking function: communities ordered by how well their audience fits an ideal-client profile.

The CLI, the web app and the benchmarks all call `rank_communities`. Each step was kept because it raised
nDCG@20 on both benchmark corpora — corpus 1 (subreddits, Apple podcasts, RSS blogs; the shared development
profiles and `benchmarks/fit_validation_profiles.json`) and corpus 2 (YouTube channels, newsletters, developer
podcasts, Discord/Slack servers, blogs; `benchmarks/fit_validation_profiles2.json`) — or, for BM25, passages
and the niche preference, was neutral there and covers a case those coarse topic labels cannot measure.
`benchmarks/fitbench_run.py --ablations` prints the table (README "How fit is calibrated").

1. **Facets** (`profiles.facets`): the description is split into audience, needs and topic queries; their
   embeddings are summed with weights into one query vector.
2. **Anchors** (Rocchio): example communities and prospects the user shortlisted for this profile pull the
   query toward their centroid; prospects marked "not a fit" leave the list and push the query away from
   what they have that the query lacks (their centroid minus its projection on the query: a community
   rejected for being British law pushes away from "British", not from "law").
3. **Common-direction centering**: 0.4 of the query's component along the database's mean vector is removed
   (`centering`). What every community of this database shares ("developer", a kind's text style) says
   nothing about which one fits; the query carries that direction in proportion to how generic it is *for
   this database*, so generic communities are penalized exactly that much: the embedding's counterpart of
   IDF, adaptive by construction. It is what made facets and feedback help on corpus 2 (all developer
   communities, where "a community of developers" matched everything) instead of hurting.
4. **Dense pass**: cosine with every community; a community whose text is longer than the model reads also
   scores by its best passage (`recruiter.matching.rank_data`).
5. **Pseudo-relevance feedback**: the centroid of the first pass's top 20 (one in 200 communities at most, at
   least 2) plus any anchors is added to the query, which moves it from the merchant's wording to the
   communities' own. Leave-one-out: each feedback community is scored with the *others'* centroid, so it is
   not lifted by its own share (with the 2 feedback communities of a 74-community database that share was
   half the centroid, and the community it happened to pick sat at fit 99).
6. **Niche preference**: the description is also embedded without its more specific half of words by IDF in
   this database (`generic_version`: "Trail running shoes for ultramarathon runners who run mountain races" ->
   "running for runners who run races."); 0.25 x (match to the whole - match to the generic version) is
   added, so of two communities on the topic the one that matches the specific words wins (r/Ultramarathon
   and r/trailrunning over r/running). A broad profile has no specific half worth the name, and nothing moves.
7. **BM25 fusion** (`recruiter.matching.lexical`): BM25 of the audience/topic/keyword words, divided by the
   query's best BM25 score, added with weight 0.06 so literal names and keywords are not lost.
8. **Neighbour smoothing**: each community's score is averaged with the mean of its 10 nearest
   communities' scores (`recruiter.matching.neighbors`), which rescues communities described in two words.
9. Exclusions subtract; audience size adds a user-weighted bonus of at most 0.03.

Tried on both corpora and dropped (README lists the numbers): kind balancing by each kind's mean score, per-kind
score offsets, style-centred or facet-agreement-weighted feedback, facet weights by the words' IDF or by their
association with the first pass, BM25 terms weighted by that association, and separate passages for recent
item titles. Each traded one corpus for the other or lost on both.

## Reasons

`why` claims only what matched (`explain_match`): a facet (audience, needs, topic, keywords) is named only when
the community is about as close to it as the best of the ranking's first 200, with the profile's words the
community really shares; the audience is never claimed for a community that matches the profile's generic
version better than the profile and shares none of the audience's specific words — it "fits the wider topic
without "ultramarathon", "mountain"" instead. A profile with no description, or under SHORT_PROFILE_WORDS
words, still ranks, and every reason starts by saying it is a guess.

## How fit is calibrated

`score` is a cosine-like number whose spread depends on the profile. `fit` is a probability: Platt scaling
(a logistic curve over the score) fitted on the benchmark's labelled pools — 58 profiles of both corpora,
every community in the first 200 of each ranking — with one shrunk offset per kind (a podcast's long
description lowers its cosine, a YouTube channel's tag list raises it):
`fit = 100 / (1 + exp(-(FIT_SLOPE * score + FIT_OFFSET + KIND_FIT_OFFSETS[kind])))`. A profile with nothing but
a name has its own, flatter curve (GUESS_*), fitted on the same profiles reduced to their names. A fit of 70
means that about 70% of communities of that kind ranked with that score were on the profile's topic, whatever
the profile; the list is ordered by score, so where kinds alternate a fit can step up by a few points down the
list. `benchmarks/fitbench_run.py --calibrate` re-fits the constants and prints the reliability tables.

The defaults and constants are all-MiniLM-L6-v2's. Another model (the fast mode's static distillation) ranks
with its own RankOptions changes and fit curve from `MODEL_TUNING`, the one place the ranking adapts to the
model: `RankOptions.for_model(model)` and `tuning_for(model).calibration_for(index)` (an index adapted to
its catalogue has its own curve), keyed by `backends.model_key`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from sqlmodel import Session, delete, select

from profiles.facets import Facet, profile_facets
from recruiter.core.db import chunked
from recruiter.core.models import Community, Match, Profile, Prospect, utcnow
from recruiter.core.text import content_terms, sentences, stem, words
from recruiter.matching.backends import FAST_KEY
from recruiter.matching.embedding import get_embedding_service
from recruiter.matching.index import CommunityIndex, session_index
from recruiter.matching.lexical import tokens
from recruiter.matching.rank_data import RankingData, audience_sizes, community_facts, ranking_data

# Platt-scaling constants for fit (see the module docstring); refit with `fitbench_run.py --calibrate`.
# These are all-MiniLM-L6-v2's; another model's are in MODEL_TUNING.
FIT_SLOPE = 10.87
FIT_OFFSET = -4.91
# Per kind, added to the logit: the same score is likelier on topic for a podcast (long descriptions lower the
# cosine) and less likely for a YouTube channel (tag lists raise it); kinds not listed get 0.
KIND_FIT_OFFSETS = {"blog": 0.04, "forum": 0.06, "newsletter": 0.06, "podcast": 0.49, "subreddit": 0.01,
                    "youtube": -0.65}
# The curve for a profile with nothing but a name (calibrated on the benchmark profiles reduced to their name).
GUESS_SLOPE = 7.66
GUESS_OFFSET = -3.54
SHORT_PROFILE_WORDS = 8
REMOVED = -10.0  # the score of a community that must not be listed ("not a fit")
SMOOTHING_FULL_AT = 2000


@dataclass
class RankOptions:
    """Every knob of the ranking; the defaults are the benchmarked configuration (0 switches a step off)."""

    use_facets: bool = True
    center: float = 0.4  # share of the query's component along the database's mean direction removed
    lexical_weight: float = 0.06
    prf_depth: int = 20
    prf_weight: float = 2.0
    prf_leave_one_out: bool = True
    niche: float = 0.25  # weight of (match to the whole description - match to its generic version)
    smoothing: float = 1.0
    use_passages: bool = True
    examples_weight: float = 0.5
    use_feedback: bool = True
    feedback_weight: float = 0.5  # Rocchio: the shortlisted centroid added to the query
    negative_weight: float = 0.25  # Rocchio: the "not a fit" direction (orthogonal to the query) subtracted
    feedback_local: float = 0.0  # alternative: judged communities' near neighbours inherit the verdict
    feedback_radius: float = 0.6
    exclusion_weight: float = 0.6
    # 0 = fit only (the product's promise); 1 = at most +0.03, about a tenth of the spread of a top 20. On the
    # benchmark 1 even helps a little (big communities are usually central to their topic) but stays opt-in.
    audience_weight: float = 0.0

    @classmethod
    def for_model(cls, model: str, **changes: Any) -> RankOptions:
        """The benchmarked configuration for a model's vectors (`MODEL_TUNING`), with `changes` on top."""
        return replace(cls(), **{**tuning_for(model).options, **changes})

    @classmethod
    def plain(cls) -> RankOptions:
        """Plain MiniLM cosine of the whole description: the baseline every step is measured against."""
        return cls(use_facets=False, center=0.0, lexical_weight=0.0, prf_depth=0, niche=0.0, smoothing=0.0,
                   use_passages=False)


@dataclass(frozen=True)
class FitCalibration:
    """The Platt constants that turn one model's scores into `fit` (see "How fit is calibrated")."""

    slope: float = FIT_SLOPE
    offset: float = FIT_OFFSET
    kind_offsets: tuple[tuple[str, float], ...] = tuple(KIND_FIT_OFFSETS.items())
    guess_slope: float = GUESS_SLOPE
    guess_offset: float = GUESS_OFFSET

    def fit(self, score: float, *, kind: str | None = None, guess: bool = False) -> int:
        if score <= REMOVED:
            return 0
        if guess:
            logit = self.guess_slope * score + self.guess_offset
        else:
            logit = self.slope * score + self.offset + dict(self.kind_offsets).get(kind or "", 0.0)
        return int(round(100.0 / (1.0 + math.exp(-logit))))


@dataclass(frozen=True)
class ModelTuning:
    """What the ranking does differently for one embedding model: RankOptions fields that differ from the
    defaults (which were benchmarked on all-MiniLM-L6-v2) and the model's own fit calibration."""

    options: dict[str, Any] = field(default_factory=dict)
    calibration: FitCalibration = FitCalibration()
    # The curve for the model's vectors once a catalogue adapter maps them (`recruiter.matching.adapter`).
    adapted_calibration: FitCalibration | None = None

    def calibration_for(self, index: CommunityIndex) -> FitCalibration:
        if index.adapter is not None and self.adapted_calibration is not None:
            return self.adapted_calibration
        return self.calibration


# The one place the ranking adapts to the model whose vectors it ranks (keyed by `backends.model_key`); a model
# not listed ranks with the defaults and MiniLM's calibration. Each entry is chosen on the benchmark's 58
# profiles of both corpora as a whole (`RECRUITER_MODEL=fast benchmarks/fitbench_run.py --ablations / --try /
# --calibrate`), never on single profiles; README "Models, speed and scale" has the numbers.
#
# The fast model (a static distillation): its dense scores are a weaker signal than MiniLM's, so BM25 counts
# for more (0.25 instead of 0.06) and best-passage scoring is off (it exists because MiniLM reads only 256 word
# pieces; the fast model averages up to 512 and its passages only added noise): together nDCG@20 dev 0.474 ->
# 0.541, val2 0.614 -> 0.624, val 0.681 -> 0.674; on the sealed sets, run once afterwards, 0.533 -> 0.565 and
# 0.534 -> 0.579. Its scores spread differently, so it has its own fit curve: with MiniLM's constants a fast
# fit of 80-100 was on topic 63% of the time (ECE 26 points), with its own 86% (ECE 1.6).
# A catalogue of 1,000 or more gets a catalogue adapter (`recruiter.matching.adapter`: each vector beside its map
# into MiniLM's space). The same options serve it (re-checked on the adapted vectors: BM25 0.12 / 0.25 / 0.4,
# feedback depth and weight, centring, smoothing, niche all stayed within noise of these), and nearly the same
# curve: re-fitted on the adapted scores its slope and offset barely moved, the kind offsets did (ECE 3.8 ->
# 2.9 points with its own constants, 1.6 -> 0.4 for name-only profiles; fit 80-100 on topic 83-84% either way).
MODEL_TUNING: dict[str, ModelTuning] = {
    FAST_KEY: ModelTuning(
        options={"lexical_weight": 0.25, "use_passages": False},
        calibration=FitCalibration(slope=8.55, offset=-4.93, guess_slope=4.43, guess_offset=-3.02, kind_offsets=(
            ("blog", 0.17), ("forum", -0.4), ("newsletter", 0.13), ("podcast", 0.07), ("subreddit", 0.12),
            ("youtube", -0.1))),
        adapted_calibration=FitCalibration(slope=8.65, offset=-4.93, guess_slope=5.09, guess_offset=-3.24,
                                           kind_offsets=(("blog", 0.17), ("forum", -0.28), ("newsletter", 0.15),
                                                         ("podcast", 0.27), ("subreddit", 0.04),
                                                         ("youtube", -0.35))),
    ),
}


def tuning_for(model: str) -> ModelTuning:
    return MODEL_TUNING.get(model) or ModelTuning()


@dataclass
class RankedCommunity:
    community_id: int
    url: str
    name: str
    kind: str
    audience_size: int | None
    score: float
    fit: int
    why: str
    rank: int = 0
    stage: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        return data

    def public(self) -> dict[str, Any]:
        """The CLI contract: {url, name, kind, audience_size, score, fit, why}."""
        return {k: getattr(self, k) for k in ("url", "name", "kind", "audience_size", "score", "fit", "why")}


def fit_from_score(score: float, *, kind: str | None = None, guess: bool = False) -> int:
    """Calibrated fit 0–100 on MiniLM's curve (a ranking uses its model's: `ModelTuning.calibration_for`): the
    share of communities of this kind with this score that were on the profile's topic in the benchmark. A profile with only a name (`guess`) has its own, flatter curve: a name is weak
    evidence. A short description keeps the full curve (its pool held descriptions of 6 and 7 words) but its
    reasons say it is a guess (`guess_reason`)."""
    return FitCalibration().fit(score, kind=kind, guess=guess)


def guess_reason(profile: Profile) -> str:
    """Why a ranking for this profile can only be a guess ("" when its description says enough)."""
    count = len(words(profile.description or ""))
    if count == 0:
        return "a guess from the profile name alone (it has no description)"
    if count < SHORT_PROFILE_WORDS:
        return f"a guess from a short description ({count} words)"
    return ""


def unit_vector(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


@dataclass
class Scored:
    """Everything the scoring computed that the explanation needs."""

    scores: np.ndarray
    facets: list[Facet]
    facet_vectors: np.ndarray
    query_terms: list[str]
    anchor_ids: list[int]  # examples first, then shortlisted
    example_count: int
    dense: np.ndarray  # the score before neighbour smoothing
    guess: str = ""  # guess_reason(profile)
    generic: str = ""  # the description without its specific words, when it has some
    niche_direction: np.ndarray | None = None  # community @ this = match to the whole minus the generic version
    specific: tuple[str, ...] = ()  # the description's specific words, as written (those not in `generic`)
    claim_floors: np.ndarray | None = None  # per facet: the similarity a community needs for a claim
    generic_floor: float = -1.0  # a community whose niche gap is below this fits only the wider topic


def score_profile(profile: Profile, *, index: CommunityIndex, data: RankingData, session: Session,
                  options: RankOptions) -> Scored:
    """Score every indexed community for the profile (higher = better fit); see the module docstring."""
    service = get_embedding_service(index.model)
    vectors = index.vectors
    facets = profile_facets(profile) if options.use_facets else profile_facets(profile)[:1]
    texts = [f.text for f in facets]
    exclusions = [e for e in (profile.exclusions or []) if e.strip()] if options.exclusion_weight else []
    description = " ".join((profile.description or "").split())
    generic = generic_version(description, data) if options.niche and description else ""
    generic = generic if generic and generic != description else ""
    encoded = index.project(service.encode_queries(texts + exclusions + ([generic] if generic else [])))
    facet_vectors = encoded[: len(texts)]
    exclusion_vectors = encoded[len(texts): len(texts) + len(exclusions)]
    weights = np.array([f.weight for f in facets], dtype=np.float32)
    query = unit_vector(weights @ facet_vectors)

    example_ids = _community_ids(profile.examples or [], session=session) if options.examples_weight else []
    positives, negatives = _feedback_ids(profile, session=session) if options.use_feedback else ([], [])
    positives = [i for i in positives if i not in set(example_ids)]
    anchors = [i for i in example_ids + positives if i in index.position]
    if example_ids:
        query = query + options.examples_weight * unit_vector(index.vectors_for(example_ids).mean(axis=0))
    if positives and options.feedback_weight:
        query = query + options.feedback_weight * unit_vector(index.vectors_for(positives).mean(axis=0))
    negative_vectors = index.vectors_for(negatives)
    query = unit_vector(query)
    if len(negative_vectors) and options.negative_weight:
        query = unit_vector(query - options.negative_weight * rejected_direction(negative_vectors, query))

    center = centering(index, options.center)
    query = center(query)
    dense = dense_scores(query, vectors, data, options.use_passages)
    scores = dense.copy()
    query_terms = data.lexical.query_terms(" ".join([profile.description or "", *(profile.keywords or [])]))
    removed = [index.position[i] for i in negatives if i in index.position]
    if options.prf_depth:
        scores = _feedback_pass(query, scores, anchors=[index.position[i] for i in anchors], removed=removed,
                                vectors=vectors, data=data, options=options, center=center)
    niche_direction = None
    if generic and facets[0].name == "description":
        niche_direction = center(facet_vectors[0]) - center(encoded[-1])
        scores = scores + options.niche * (vectors @ niche_direction)
    if options.lexical_weight:
        # BM25 over the words of the audience, topic and keyword facets (the description's commerce words and
        # needs clause only add noise), normalized by the query's best document.
        lexical_text = " ".join(_facet_phrase(f) for f in facets if f.name in ("audience", "topic", "keywords"))
        lexical = data.lexical.scores(lexical_text or " ".join(f.text for f in facets))
        top = float(lexical.max()) if len(lexical) else 0.0
        if top > 0:
            scores = scores + options.lexical_weight * lexical / top
    own = scores
    if options.smoothing and data.neighbor_positions.size:
        # Neighbourhoods mean something only in a large database: full weight from SMOOTHING_FULL_AT on.
        weight = options.smoothing * min(1.0, len(scores) / SMOOTHING_FULL_AT)
        scores = smooth(scores, data.neighbor_positions, weight)
    if options.feedback_local and (positives or len(negative_vectors)):
        # Communities very like a judged one inherit the verdict; the rest of the list keeps its breadth.
        for ids_, sign in ((positives, 1.0), (negatives, -1.0)):
            judged = index.vectors_for(ids_)
            if len(judged):
                near = np.clip((judged @ vectors.T).max(axis=0) - options.feedback_radius, 0, None)
                scores = scores + sign * options.feedback_local * near
    if len(exclusion_vectors):
        penalty = np.clip((exclusion_vectors @ vectors.T).max(axis=0) - 0.25, 0, None)
        scores = scores - options.exclusion_weight * penalty
    if options.audience_weight:
        audience = audience_sizes(index, data, session=session)
        scores = scores + options.audience_weight * 0.03 * np.clip(np.log10(audience + 1) / 7, 0, 1)
    scores = scores.astype(np.float32, copy=False)
    scores[removed] = REMOVED
    return Scored(scores=scores, facets=facets, facet_vectors=facet_vectors, query_terms=query_terms,
                  anchor_ids=anchors, example_count=len([i for i in example_ids if i in index.position]),
                  dense=own, guess=guess_reason(profile), generic=generic, niche_direction=niche_direction,
                  specific=_specific_words(description, generic) if generic else ())


def _feedback_pass(query: np.ndarray, first: np.ndarray, *, anchors: list[int], removed: list[int],
                   vectors: np.ndarray, data: RankingData, options: RankOptions, center) -> np.ndarray:
    """Pseudo-relevance feedback: the first pass's best communities (and any anchors) move the query toward
    the communities' own wording; the scores of the expanded query."""
    ranked = first.copy()
    ranked[removed] = -np.inf
    # A small database has no "top 20" worth averaging: one community in 200 at most (and at least 2).
    depth = min(options.prf_depth, max(2, len(ranked) // 200), len(ranked))
    top = np.argpartition(-ranked, depth - 1)[:depth]
    rows = np.unique(np.concatenate([top, anchors]).astype(np.int64))
    feedback = vectors[rows]
    expanded = unit_vector(query + options.prf_weight * center(unit_vector(feedback.mean(axis=0))))
    scores = dense_scores(expanded, vectors, data, options.use_passages)
    if options.prf_leave_one_out and len(rows) > 1:
        # A feedback community's own vector is 1/m of the centroid and would lift its score by construction
        # (with the 2 feedback communities of a small database, by half): score it with the others' centroid.
        total = feedback.sum(axis=0)
        for j, row in enumerate(rows.tolist()):
            own = unit_vector(query + options.prf_weight * center(unit_vector(total - feedback[j])))
            value = float(vectors[row] @ own)
            if options.use_passages and len(data.chunk_rows):
                mine = data.chunk_rows == row
                if mine.any():
                    value = max(value, float((data.chunk_vectors[mine] @ own).max()))
            scores[row] = value
    return scores


_direction_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def corpus_direction(index: CommunityIndex) -> np.ndarray:
    """The unit mean vector of every indexed community: what all of them have in common."""
    key = str(index.folder)
    cached = _direction_cache.get(key)
    if cached is not None and cached[0] is index.ids:
        return cached[1]
    direction = unit_vector(index.vectors.mean(axis=0).astype(np.float32)) if len(index) else np.zeros(index.dim,
                                                                                                np.float32)
    _direction_cache[key] = (index.ids, direction)
    return direction


def centering(index: CommunityIndex, share: float):
    """x -> x minus `share` of its component along the database's mean direction (identity for share 0).

    What every community of this database has in common ("developer", "podcast about", a kind's text style)
    says nothing about which of them fits; a query shares that direction in proportion to how generic it is
    for this database, so removing a share of it penalizes generic communities exactly as much as the query
    is generic — the embedding's counterpart of IDF, and adaptive by construction."""
    if not share or len(index) < 2:
        return lambda x: x
    direction = corpus_direction(index)
    return lambda x: (x - share * float(x @ direction) * direction).astype(np.float32)


def generic_version(description: str, data: RankingData) -> str:
    """The description without its more specific half of content words (by IDF in this database): "Trail
    running shoes for ultramarathon runners who run mountain races" -> "running for runners who run races.".
    A community that matches this better than the whole description fits the topic, not the niche."""
    lexical = data.lexical
    unknown = float(np.log(1 + max(1, len(lexical))))  # a word no community uses is as specific as it gets
    found: list[tuple[str, float | None]] = []
    for word in description.split():
        stems = tokens(word)
        column = lexical.vocabulary.get(stems[0]) if stems else None
        found.append((word, None if not stems else float(lexical.idf[column]) if column is not None else unknown))
    values = sorted(v for _, v in found if v is not None)
    if len(values) < 2:
        return description
    median = values[(len(values) - 1) // 2]
    return " ".join(w for w, v in found if v is None or v <= median)


def _specific_words(description: str, generic: str) -> tuple[str, ...]:
    kept = set(tokens(generic))
    return tuple(w for w in content_terms(description) if stem_of(w) not in kept)


def rejected_direction(rejected: np.ndarray, query: np.ndarray) -> np.ndarray:
    """What the rejected communities have that the query does not: their centroid minus its projection on the
    query. A community rejected for being British law, not law, should push the list away from "British",
    not from "law" (plain Rocchio did the latter and halved nDCG on such profiles)."""
    centroid = unit_vector(rejected.mean(axis=0))
    return unit_vector(centroid - float(centroid @ query) * query)


def dense_scores(query: np.ndarray, vectors: np.ndarray, data: RankingData, use_passages: bool) -> np.ndarray:
    """Cosine with every community; a long text scores by its whole vector or its best passage."""
    scores = vectors @ query
    if use_passages and len(data.chunk_rows):
        best = np.full(len(scores), -np.inf, dtype=np.float32)
        np.maximum.at(best, data.chunk_rows, data.chunk_vectors @ query)
        scores = np.maximum(scores, best)
    return scores


def smooth(scores: np.ndarray, neighbors: np.ndarray, weight: float) -> np.ndarray:
    """score + weight * mean(neighbours' scores), rescaled by 1 + weight to keep the cosine scale."""
    return (scores + weight * scores[neighbors].mean(axis=1)) / (1 + weight)


def rank_communities(
    profile: Profile,
    *,
    session: Session,
    limit: int = 50,
    offset: int = 0,
    kind: str | None = None,
    min_audience: int | None = None,
    options: RankOptions | None = None,
    store: bool = True,
    index: CommunityIndex | None = None,
) -> list[RankedCommunity]:
    """Rank every indexed community for the profile; return `limit` rows after `offset`, best first."""
    index = index or session_index(session)
    options = options or RankOptions.for_model(index.model)
    if len(index) == 0:
        return []
    data = ranking_data(index, session=session)
    scored = score_profile(profile, index=index, data=data, session=session, options=options)
    if kind or min_audience:
        kinds, audience = community_facts(index, data, session=session)
        mask = np.ones(len(scored.scores), dtype=bool)
        if kind:
            mask &= kinds == kind
        if min_audience:
            mask &= audience >= min_audience
        scored.scores = np.where(mask, scored.scores, REMOVED).astype(np.float32)
    rows = _top_rows(index, scored.scores, session=session, want=offset + limit, kind=kind,
                     min_audience=min_audience)
    rows = rows[offset: offset + limit]
    anchors = communities_by_id(scored.anchor_ids, session=session)
    prepare_claims(scored, index)
    name_only = not words(profile.description or "")  # ranked on its name: the guess curve
    calibration = tuning_for(index.model).calibration_for(index)
    results = []
    for position, (community, score) in enumerate(rows, start=offset + 1):
        p = index.position[community.id]
        results.append(RankedCommunity(
            community_id=community.id, url=community.url, name=community.name or community.title or community.url,
            kind=community.kind, audience_size=community.audience_size, score=round(float(score), 4),
            fit=calibration.fit(float(score), kind=community.kind, guess=name_only), rank=position,
            why=explain_match(profile, community, index=index, scored=scored, position=p, anchors=anchors),
        ))
    if store:
        store_matches(profile, results, session=session, replace=offset == 0)
    return results


def _top_rows(index: CommunityIndex, scores: np.ndarray, *, session: Session, want: int, kind: str | None,
              min_audience: int | None) -> list[tuple[Community, float]]:
    """The best `want` communities passing the filters: widen the candidate pool until enough pass."""
    n = int(np.count_nonzero(scores > REMOVED))  # filtered-out and rejected communities sort last
    if n == 0:
        return []
    pool = min(n, max(want * 4, 200))
    while True:
        top = np.argpartition(-scores, pool - 1)[:pool]
        top = top[np.argsort(-scores[top], kind="stable")]
        ids = [int(index.ids[i]) for i in top]
        by_id = communities_by_id(ids, session=session)
        rows = []
        for i, community_id in zip(top, ids, strict=True):
            community = by_id.get(community_id)
            if community is None or scores[i] <= REMOVED:
                continue
            if kind and community.kind != kind:
                continue
            if min_audience and (community.audience_size or 0) < min_audience:
                continue
            rows.append((community, float(scores[i])))
            if len(rows) >= want:
                return rows
        if pool >= n:
            return rows
        pool = min(n, pool * 8)


def communities_by_id(ids: list[int], *, session: Session) -> dict[int, Community]:
    out: dict[int, Community] = {}
    for part in chunked(ids):
        for c in session.exec(select(Community).where(Community.id.in_(part))).all():
            out[c.id] = c
    return out


def _community_ids(urls: list[str], *, session: Session) -> list[int]:
    if not urls:
        return []
    from recruiter.core.canonical import canonical_url

    wanted = []
    for url in urls:
        try:
            wanted.append(canonical_url(url))
        except Exception:
            wanted.append(url)
    rows = session.exec(select(Community.url, Community.id).where(Community.url.in_(wanted + list(urls)))).all()
    by_url = dict(rows)
    found = [by_url.get(c) or by_url.get(u) for c, u in zip(wanted, urls, strict=True)]
    return list(dict.fromkeys(i for i in found if i is not None))


def _feedback_ids(profile: Profile, *, session: Session) -> tuple[list[int], list[int]]:
    if profile.id is None:
        return [], []
    rows = session.exec(
        select(Prospect.community_id, Prospect.feedback).where(
            Prospect.profile_id == profile.id, Prospect.feedback.is_not(None)
        )
    ).all()
    return ([c for c, f in rows if f == "shortlist"], [c for c, f in rows if f == "not_a_fit"])


FACET_LABELS = {"description": "the description", "audience": "the audience", "needs": "their needs",
                "topic": "the topic", "keywords": "the keywords", "name": "the profile name"}
CLAIM_FLOOR = 0.45  # a facet is claimed only from this cosine on ...
CLAIM_MARGIN = 0.08  # ... and within this of the facet's best match among the ranking's first 200
CLAIM_POOL = 200
GENERIC_MARGIN = 0.05  # niche gap this far below the pool's median: the community fits the wider topic


def prepare_claims(scored: Scored, index: CommunityIndex) -> None:
    """What a reason needs to claim a match, from the ranking's first CLAIM_POOL communities: per facet the
    similarity a community needs (at least CLAIM_FLOOR and close to that facet's best match there, so
    "matches the audience" means "as close to the audience as anything this database has"), and the niche
    gap below which a community fits the generic version of the profile rather than the profile."""
    n = len(scored.scores)
    size = min(CLAIM_POOL, n)
    pool = np.argpartition(-scored.scores, size - 1)[:size] if size else np.zeros(0, dtype=np.int64)
    if not len(pool):
        scored.claim_floors = np.full(len(scored.facets), CLAIM_FLOOR, dtype=np.float32)
        return
    best = (scored.facet_vectors @ index.vectors[pool].T).max(axis=1)
    scored.claim_floors = np.maximum(CLAIM_FLOOR, best - CLAIM_MARGIN).astype(np.float32)
    if scored.niche_direction is not None:
        top = pool[np.argsort(-scored.scores[pool])[:20]]
        scored.generic_floor = float(np.median(index.vectors[top] @ scored.niche_direction)) - GENERIC_MARGIN


def explain_match(profile: Profile, community: Community, *, index: CommunityIndex, scored: Scored,
                  position: int, anchors: dict[int, Community] | None = None) -> str:
    """A short reason that claims only what matched: which facets (audience, needs, topic, keywords) the
    community is about as close to as the best of the ranking's first 200, with the profile's words it really
    shares; "fits the wider topic without ..." when it matches the generic version of a specific profile
    unusually well and none of the audience's specific words; the passage; the closest example or shortlisted
    community; and first, when the profile is only a name or a few words, that the ranking is a guess."""
    vector = index.vectors[position]
    if scored.claim_floors is None:
        prepare_claims(scored, index)
    floors = scored.claim_floors
    sims = scored.facet_vectors @ vector
    text_stems = community_stems(community)
    # Fits only the wider topic: matches the profile's generic version unusually well for this list, and
    # shares none of the specific words of the audience (or of the description, without an audience).
    who = [f for f in scored.facets if f.name in ("audience", "needs")] or scored.facets[:1]
    who_specific = {t for f in who for t in tokens(_facet_phrase(f))} & {stem_of(w) for w in scored.specific}
    generic = (scored.niche_direction is not None
               and float(vector @ scored.niche_direction) < scored.generic_floor
               and not who_specific & text_stems)
    parts = [scored.guess] if scored.guess else []
    claims, claimed_words = [], set()
    for facet, sim, floor in zip(scored.facets, sims, floors, strict=True):
        if facet.name == "description" or sim < floor:
            continue
        if generic and facet.name in ("audience", "needs"):
            continue  # as close to the generic version: the audience's qualifiers did not match
        phrase = _facet_phrase(facet)
        shared = [w for w in content_terms(phrase) if stem_of(w) in text_stems]
        claimed_words.update(shared)
        claim = f'{FACET_LABELS.get(facet.name, facet.name)} ("{_short(phrase)}")'
        if shared:
            claim += " with " + ", ".join(f'"{w}"' for w in shared[:4])
        claims.append(claim)
    description_floor = floors[0] if scored.facets and scored.facets[0].name == "description" else CLAIM_FLOOR
    shared = [t for t in _shared_terms(profile, community, scored.query_terms, text_stems)
              if t not in claimed_words]
    if claims:
        parts.append("matches " + "; ".join(claims))
    elif len(sims) and scored.facets[0].name in ("description", "name") and sims[0] >= description_floor:
        parts.append(f"close to {FACET_LABELS[scored.facets[0].name]}")
    elif not shared:
        parts.append("loosely related: no part of the profile matches closely")
    if generic:
        missing = [w for w in scored.specific if stem_of(w) not in text_stems][:4]
        parts.append("fits the wider topic" + (" without " + ", ".join(f'"{w}"' for w in missing) if missing
                                                else " more than the niche"))
    if shared:
        parts.append(("also shares " if claims else "shares ") + ", ".join(f'"{t}"' for t in shared))
    evidence = {stem_of(t) for t in shared} | {stem_of(t) for t in claimed_words}
    passage = _best_passage(community, evidence) if evidence else ""
    if passage:
        parts.append(f'"{passage}"')
    if scored.anchor_ids and anchors:
        anchor_sims = index.vectors_for(scored.anchor_ids) @ vector
        j = int(np.argmax(anchor_sims))
        anchor = anchors.get(scored.anchor_ids[j])
        if anchor is not None and anchor.id == community.id:
            parts.append("an example community" if j < scored.example_count else "you shortlisted it")
        elif anchor is not None:
            label = "example" if j < scored.example_count else "shortlisted"
            parts.append(f"closest {label}: {anchor.name or anchor.url} ({anchor_sims[j]:.2f})")
    if position < len(scored.dense) and scored.dense[position] < scored.scores[position] - 0.03:
        parts.append("its nearest communities fit too")
    return "; ".join(parts)


def _facet_phrase(facet: Facet) -> str:
    for prefix in ("a community of ", "people interested in "):
        if facet.text.startswith(prefix):
            return facet.text[len(prefix):]
    return facet.text


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + "…"


def stem_of(word: str) -> str:
    found = tokens(word)
    return found[0] if found else stem(word.lower())


def community_stems(community: Community) -> set[str]:
    text = " ".join([community.name or "", community.title or "", community.description or "",
                     " ".join(community.recent_posts or [])])
    return set(tokens(text)) | {stem(t) for t in content_terms(text)}


def _shared_terms(profile: Profile, community: Community, query_terms: list[str],
                  community_stems: set[str] | None = None) -> list[str]:
    """Profile words (as the merchant wrote them) whose stems occur in the community's text."""
    community_stems = community_stems if community_stems is not None else community_stems(community)
    wanted = set(query_terms)
    out = []
    for term in content_terms(" ".join([profile.description or "", *(profile.keywords or [])])):
        stems = tokens(term)
        if stems and stems[0] in wanted and stems[0] in community_stems:
            out.append(term)
    return out[:5]


def _best_passage(community: Community, stems: set[str], width: int = 90) -> str:
    candidates = sentences(community.description or "") + [community.title or ""]
    best, best_hits = "", 0
    for sentence in candidates:
        hits = sum(1 for t in content_terms(sentence) if stem_of(t) in stems or stem(t) in stems)
        if hits > best_hits:
            best, best_hits = sentence, hits
    if not best:
        return ""
    return best if len(best) <= width else best[: width - 1].rsplit(" ", 1)[0] + "…"


def store_matches(profile: Profile, results: list[RankedCommunity], *, session: Session, replace: bool) -> None:
    """Keep the latest ranking as Match rows (one per profile × community); prospects are untouched."""
    if replace:
        session.exec(delete(Match).where(Match.profile_id == profile.id))
    else:
        ids = [r.community_id for r in results]
        session.exec(delete(Match).where(Match.profile_id == profile.id, Match.community_id.in_(ids)))
    now = utcnow()
    session.add_all(
        Match(profile_id=profile.id, community_id=r.community_id, score=r.score, fit=r.fit, why=r.why,
              rank=r.rank, ranked_at=now)
        for r in results
    )
    profile.last_used_at = now
    session.add(profile)
    session.commit()


def audience_label(size: int | None) -> str:
    if not size:
        return "—"
    for unit, value in (("M", 1e6), ("k", 1e3)):
        if size >= value:
            return f"{size / value:.1f}{unit}".replace(".0", "")
    return str(size)


__all__ = [
    "MODEL_TUNING",
    "FitCalibration",
    "ModelTuning",
    "RankOptions",
    "RankedCommunity",
    "audience_label",
    "explain_match",
    "fit_from_score",
    "generic_version",
    "guess_reason",
    "rank_communities",
    "score_profile",
    "tuning_for",
]
