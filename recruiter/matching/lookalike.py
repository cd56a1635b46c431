"""Lookalikes: communities like a few seed communities (the partners that sell), explained seed by seed.

A merchant who knows five partners that perform wants thirty more like them. The seeds say more than any
description: they *are* the audience. `find_lookalikes` ranks the catalogue against them with the scoring
primitives of `recruiter.matching.ranking`, in four steps (each measured by `benchmarks/lookalike_bench.py` on
both corpora, against the seeds' centroid and `rank PROFILE` in the same run; README "Lookalikes"):

1. **Niches.** Seeds that disagree are not averaged: they are grouped by average-linkage clustering (`niches`)
   of their vectors, each averaged with its nearest communities' (a seed's neighbourhood is a steadier sign of
   its niche than its own few words) and with the database's common direction removed, as `rank` does. From
   four seeds on, a group under two seeds joins its nearest: one seed off the others' topic is likelier a broad
   partner than a niche of its own. The centroid of "trail running" and "sourdough" is a community about
   neither.
2. **Each niche ranks like a profile.** The group's weighted centroid is the query, centred (what every
   community here shares says nothing about which one is like the seeds); pseudo-relevance feedback adds the
   centroid of its first pass's best communities; BM25 over the words the group's seeds share adds the literal
   names; scores are smoothed with each community's nearest neighbours'. Prospects marked not-a-fit or declined
   push the query away from what they have that it lacks. `niche_blend` of the all-seeds ranking is mixed in,
   which softens a split that should not have been made.
3. **Niches take turns** (`_interleave`): the k-th community of a niche of weight w is placed at k / w, so a
   two-niche seed set fills the list from both in proportion at every depth. Merging by score does not work: a
   denser niche's scores are simply higher, and it took nearly the whole list.
4. **With a profile** the profile's own ranking (its description, with as example communities the seeds of each
   niche that has a seed in the first quarter of the profile's ranking: a seed of another niche must not pull
   the profile toward it) and the best of the niches' rankings are standardized over their best candidates and
   added: a result must fit both.

Seeds from scorecards are weighted by performance (`Seed.weight`): a seed's weight moves its niche's centroid
and its niche's share of the list.

`like` lists the seeds a result is closest to, best first: those within LIKE_MARGIN of its closest seed and at
least LIKE_FLOOR similar, and always the closest one. `why` names them with the specific words (used by at most a
tenth of this database's communities) the result really shares with them, and says so when it shares none: it claims no more than matched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sqlmodel import Session, select

from recruiter.core.errors import InvalidValue, NotFound
from recruiter.core.models import Community, Profile, Prospect
from recruiter.core.text import content_terms
from recruiter.core.vocabulary import Stage
from recruiter.matching.index import CommunityIndex, session_index
from recruiter.matching.rank_data import RankingData, community_facts, ranking_data
from recruiter.matching.ranking import (
    REMOVED,
    SMOOTHING_FULL_AT,
    RankOptions,
    centering,
    communities_by_id,
    community_stems,
    dense_scores,
    rejected_direction,
    score_profile,
    smooth,
    stem_of,
    unit_vector,
)

MAX_SEEDS = 20
LIKE_FLOOR = 0.35  # a seed is named in `like` from this cosine on ...
LIKE_MARGIN = 0.08  # ... and when within this of the result's closest seed
SHARED_WORDS = 4
SPECIFIC_SHARE = 0.1  # a shared word is specific when at most 10% of the communities use it ...
SPECIFIC_FEW = 20  # ... or at most this many (a small catalogue)


@dataclass(frozen=True)
class Seed:
    """A community to find more of, and how much it counts (1.0 unless a scorecard says otherwise)."""

    community_id: int
    url: str
    name: str
    weight: float = 1.0


@dataclass
class LookalikeOptions:
    """Every knob of the method; the defaults are the benchmarked configuration (0 switches a step off)."""

    center: float = 0.4  # share of the database's common direction removed (as `rank` does)
    cluster_threshold: float = 0.3  # average-linkage similarity under which two groups of seeds are two niches
    min_niche: int = 2  # from 2 * min_niche seeds on, a smaller group joins its nearest niche
    smooth_seeds: bool = True  # cluster seeds by their vector averaged with their nearest communities'
    niche_blend: float = 0.3  # share of the all-seeds ranking mixed into each niche's
    prf_depth: int = 20
    prf_weight: float = 1.0
    lexical_weight: float = 0.06
    smoothing: float = 1.0
    use_passages: bool = True
    negative_weight: float = 0.25
    profile_weight: float = 1.0  # the profile's standardized score next to the seeds' (with --profile)
    examples_weight: float = 0.5  # the seeds as the profile's example communities (with --profile) ...
    example_share: float = 0.25  # ... those in the first quarter of the profile's own ranking ...
    niche_examples: bool = True  # ... and the other seeds of their niches
    z_pool: int = 1000  # scores are standardized over this many best candidates before they are added


@dataclass(frozen=True)
class Lookalike:
    """One result: the CLI's row is `public()`."""

    community_id: int
    url: str
    name: str
    kind: str
    audience_size: int | None
    score: int  # 0-100: how like its niche of seeds it is, on a cosine scale (the list interleaves niches)
    like: list[str]
    why: str
    stage: str | None = None

    def public(self) -> dict[str, Any]:
        """{url, name, kind, audience_size, score, like, why}."""
        return {"url": self.url, "name": self.name, "kind": self.kind, "audience_size": self.audience_size,
                "score": self.score, "like": list(self.like), "why": self.why}


def seeds_from_urls(urls: list[str], *, session: Session, weights: list[float] | None = None) -> list[Seed]:
    """Seeds for communities of the catalogue, in the order given; an unknown URL is an error naming it."""
    from recruiter.core.canonical import canonical_url

    seeds: dict[int, Seed] = {}
    for n, url in enumerate(urls):
        candidates = [url]
        try:
            candidates.insert(0, canonical_url(url))
        except Exception:  # not a URL we can canonicalize: look it up as written
            pass
        community = session.exec(select(Community).where(Community.url.in_(candidates))).first()
        if community is None:
            raise NotFound(f"--seed {url}: not in your catalogue (import it or `recruiter scrape --save` it first)")
        weight = weights[n] if weights else 1.0
        seeds.setdefault(community.id, Seed(community.id, community.url, community.name or community.url, weight))
    return list(seeds.values())


def check_seeds(seeds: list[Seed]) -> None:
    if not seeds:
        raise InvalidValue("no seeds: give --seed URL, --from-top N or --segment NAME")
    if len(seeds) > MAX_SEEDS:
        raise InvalidValue(f"{len(seeds)} seeds: at most {MAX_SEEDS} (pick the ones that matter most)")


def _judged(session: Session) -> tuple[set[int], list[int]]:
    """Communities already worked (a prospect past `discovered`) and those judged wrong (declined or not a fit)."""
    known, rejected = set(), []
    for community_id, stage, feedback in session.exec(
            select(Prospect.community_id, Prospect.stage, Prospect.feedback)).all():
        if stage != Stage.discovered.value:
            known.add(community_id)
        if stage == Stage.declined.value or feedback == "not_a_fit":
            rejected.append(community_id)
    return known, rejected


def _seed_vector(row: int, vectors: np.ndarray, data: RankingData, smoothed: bool) -> np.ndarray:
    """A seed as clustering sees it: its vector, or averaged with its nearest communities' (less noisy: two
    seeds of one niche described in different words still share their neighbourhood)."""
    if smoothed and data.neighbor_positions.size:
        return unit_vector(vectors[row] + vectors[data.neighbor_positions[row]].mean(axis=0))
    return vectors[row]


def niches(vectors: np.ndarray, threshold: float, min_size: int = 1) -> list[list[int]]:
    """Average-linkage clusters of (centred, unit) seed vectors: merge the closest two groups while their mean
    pairwise similarity is at least `threshold`; then, from 2 * min_size seeds on, a group smaller than
    `min_size` joins its nearest group (one seed off the others' topic is likelier a broad partner than a niche
    of its own). Row indices, each group in input order."""
    groups = [[i] for i in range(len(vectors))]
    sims = vectors @ vectors.T

    def linkage(a: list[int], b: list[int]) -> float:
        return float(sims[np.ix_(a, b)].mean())

    def merge_closest(candidates: list[int] | None = None) -> tuple[float, tuple[int, int]]:
        best, pair = -2.0, (0, 1)
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                if candidates is not None and a not in candidates and b not in candidates:
                    continue
                value = linkage(groups[a], groups[b])
                if value > best:
                    best, pair = value, (a, b)
        return best, pair

    while len(groups) > 1:
        best, (a, b) = merge_closest()
        if best < threshold:
            break
        groups[a] = sorted(groups[a] + groups[b])
        del groups[b]
    if len(vectors) >= 2 * min_size:
        while len(groups) > 1:
            small = [i for i, g in enumerate(groups) if len(g) < min_size]
            if not small:
                break
            _, (a, b) = merge_closest(small)
            groups[a] = sorted(groups[a] + groups[b])
            del groups[b]
    return groups


@dataclass
class _Niche:
    weight: float  # share of the seeds' total weight
    scores: np.ndarray


def _niche_scores(seed_rows: list[int], seed_weights: np.ndarray, *, index: CommunityIndex, data: RankingData,
                  texts: dict[int, set[str]], removed: np.ndarray, negatives: np.ndarray,
                  options: LookalikeOptions) -> np.ndarray:
    vectors = index.vectors
    center = centering(index, options.center)
    query = center(unit_vector(seed_weights @ vectors[seed_rows]))
    query = unit_vector(query)
    if len(negatives) and options.negative_weight:
        query = unit_vector(query - options.negative_weight * rejected_direction(negatives, query))
    scores = dense_scores(query, vectors, data, options.use_passages)
    if options.prf_depth:
        ranked = scores.copy()
        ranked[removed] = -np.inf
        ranked[seed_rows] = -np.inf
        depth = min(options.prf_depth, max(2, len(ranked) // 200), len(ranked) - len(seed_rows))
        if depth > 0:
            top = np.argpartition(-ranked, depth - 1)[:depth]
            feedback = unit_vector(vectors[np.concatenate([top, np.asarray(seed_rows)])].mean(axis=0))
            expanded = unit_vector(query + options.prf_weight * center(feedback))
            scores = dense_scores(expanded, vectors, data, options.use_passages)
    if options.lexical_weight:
        terms = _shared_terms(seed_rows, texts, data)
        if terms:
            lexical = data.lexical.scores(terms)
            top = float(lexical.max()) if len(lexical) else 0.0
            if top > 0:
                scores = scores + options.lexical_weight * lexical / top
    if options.smoothing and data.neighbor_positions.size:
        weight = options.smoothing * min(1.0, len(scores) / SMOOTHING_FULL_AT)
        scores = smooth(scores, data.neighbor_positions, weight)
    return scores.astype(np.float32, copy=False)


def _shared_terms(seed_rows: list[int], texts: dict[int, set[str]], data: RankingData) -> list[str]:
    """The words a niche's seeds have in common (in at least half of them, and two when there are two or more),
    or a lone seed's own most specific words: the literal side of "like these"."""
    counts: dict[str, int] = {}
    for row in seed_rows:
        for term in texts.get(row, ()):
            counts[term] = counts.get(term, 0) + 1
    need = 1 if len(seed_rows) == 1 else max(2, math.ceil(len(seed_rows) / 2))
    vocabulary, idf = data.lexical.vocabulary, data.lexical.idf
    found = [t for t, c in counts.items() if c >= need and t in vocabulary]
    found.sort(key=lambda t: -float(idf[vocabulary[t]]))
    return found[:12]


def find_lookalikes(seeds: list[Seed], *, session: Session, profile: Profile | None = None, limit: int = 20,
                    kind: str | None = None, include_known: bool = False, options: LookalikeOptions | None = None,
                    index: CommunityIndex | None = None) -> list[Lookalike]:
    """Communities like the seeds, best first (see the module docstring); never a seed, and without
    `include_known` nothing already in the pipeline past `discovered`."""
    check_seeds(seeds)
    options = options or LookalikeOptions()
    index = index or session_index(session)
    if len(index) == 0:
        return []
    seeds = [s for s in seeds if s.community_id in index.position]
    if not seeds:
        raise InvalidValue("the seeds are not indexed yet: run `recruiter index rebuild` and try again")
    data = ranking_data(index, session=session)
    vectors = index.vectors
    seed_rows = [int(index.position[s.community_id]) for s in seeds]
    weights = np.array([max(s.weight, 1e-6) for s in seeds], dtype=np.float32)
    weights = weights / weights.sum()
    known, rejected = _judged(session)
    removed = np.array([index.position[i] for i in rejected if i in index.position], dtype=np.int64)
    negatives = vectors[removed] if len(removed) else np.zeros((0, vectors.shape[1]), dtype=np.float32)
    seed_communities = _communities_by_row(seed_rows, index=index, session=session)
    texts = {row: set(community_stems(c)) for row, c in seed_communities.items()}

    center = centering(index, options.center)
    centred = np.stack([unit_vector(center(_seed_vector(r, vectors, data, options.smooth_seeds)))
                        for r in seed_rows])
    groups = niches(centred, options.cluster_threshold, options.min_niche)
    found: list[_Niche] = []
    for group in groups:
        rows = [seed_rows[i] for i in group]
        share = weights[group]
        scores = _niche_scores(rows, share / share.sum(), index=index, data=data, texts=texts, removed=removed,
                               negatives=negatives, options=options)
        found.append(_Niche(float(share.sum()), scores))
    if len(found) > 1 and options.niche_blend:
        everyone = _niche_scores(seed_rows, weights, index=index, data=data, texts=texts, removed=removed,
                                 negatives=negatives, options=options)
        for niche in found:
            niche.scores = (1 - options.niche_blend) * niche.scores + options.niche_blend * everyone

    excluded = np.zeros(len(index), dtype=bool)
    excluded[seed_rows] = True
    excluded[removed] = True
    if not include_known:
        excluded[[index.position[i] for i in known if i in index.position]] = True
    if kind:
        kinds, _ = community_facts(index, data, session=session)
        excluded |= kinds != kind
    raw = np.max(np.stack([n.scores for n in found]), axis=0)
    excluded |= raw <= REMOVED
    if profile is not None:
        plain, fitting = _fitting_seeds(profile, seed_rows, index=index, data=data, session=session,
                                        options=options)
        if options.niche_examples:
            # a niche speaks for the profile when one of its seeds fits it: then all its seeds do
            fitting = sorted(i for g in groups if set(g) & set(fitting) for i in g)
        anchored = _anchored_scores(profile, [seeds[i].url for i in fitting], plain, index=index, data=data,
                                    session=session, options=options)
        fused = np.max(np.stack([_standardized(n.scores, excluded, options.z_pool) for n in found]), axis=0)
        fused = fused + options.profile_weight * _standardized(anchored, excluded, options.z_pool)
        top = _best(fused, excluded, limit)
        top = top[np.argsort(-fused[top], kind="stable")]
    elif len(found) == 1:
        top = _best(raw, excluded, limit)
        top = top[np.argsort(-raw[top], kind="stable")]
    else:
        top = _interleave(found, excluded, limit)
    if not len(top):
        return []
    return _results(top, raw, seeds, seed_rows, seed_communities, index=index, data=data, session=session,
                    texts=texts, with_profile=profile is not None)


def _interleave(found: list[_Niche], excluded: np.ndarray, limit: int) -> np.ndarray:
    """Niches take turns in proportion to their weight at every depth of the list (the k-th community of a
    niche of weight w is placed at k / w), so neither the denser niche nor `limit` decides the mix."""
    keyed: dict[int, float] = {}
    for niche in found:
        mine = _best(niche.scores, excluded, limit)
        mine = mine[np.argsort(-niche.scores[mine], kind="stable")]
        for k, row in enumerate(mine.tolist()):
            key = (k + 1) / max(niche.weight, 1e-6)
            if key < keyed.get(row, math.inf):
                keyed[row] = key
    ordered = sorted(keyed, key=lambda r: (keyed[r], r))
    return np.array(ordered[:limit], dtype=np.int64)


def _fitting_seeds(profile: Profile, seed_rows: list[int], *, index: CommunityIndex, data: RankingData,
                   session: Session, options: LookalikeOptions) -> tuple[np.ndarray, list[int]]:
    """The profile's own scores, and which seeds already fit it (in the first `example_share` of its ranking):
    with a profile, only those speak for it; a seed of another niche must not pull the profile toward it."""
    plain = score_profile(profile, index=index, data=data, session=session,
                          options=RankOptions.for_model(index.model)).scores
    depth = min(len(plain) - 1, max(20, int(options.example_share * len(plain))))
    bar = float(-np.partition(-plain, depth)[depth])
    return plain, [i for i, row in enumerate(seed_rows) if plain[row] >= bar]


def _anchored_scores(profile: Profile, examples: list[str], plain: np.ndarray, *, index: CommunityIndex,
                     data: RankingData, session: Session, options: LookalikeOptions) -> np.ndarray:
    """The profile's ranking with the fitting seeds as example communities (as `rank` uses a profile's)."""
    if not examples or not options.examples_weight:
        return plain
    anchored = Profile(name=profile.name, description=profile.description, keywords=list(profile.keywords or []),
                       exclusions=list(profile.exclusions or []),
                       examples=list(dict.fromkeys([*(profile.examples or []), *examples])))
    anchored.id = profile.id
    return score_profile(anchored, index=index, data=data, session=session,
                         options=replace(RankOptions.for_model(index.model),
                                         examples_weight=options.examples_weight)).scores

def _best(scores: np.ndarray, excluded: np.ndarray, size: int) -> np.ndarray:
    live = np.where(excluded, -np.inf, scores)
    size = min(size, int(np.isfinite(live).sum()))
    if size <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.argpartition(-live, size - 1)[:size]


def _standardized(scores: np.ndarray, excluded: np.ndarray, pool: int) -> np.ndarray:
    """(scores - mean) / std over the best `pool` candidates: what "high" means for this score's spread."""
    live = np.where(excluded, -np.inf, scores)
    size = min(pool, int(np.isfinite(live).sum()))
    if size < 2:
        return scores - float(scores.max(initial=0.0))
    best = live[np.argpartition(-live, size - 1)[:size]]
    spread = float(best.std()) or 1.0
    return (scores - float(best.mean())) / spread


def _communities_by_row(rows: list[int], *, index: CommunityIndex, session: Session) -> dict[int, Community]:
    ids = [int(index.ids[r]) for r in rows]
    found = communities_by_id(ids, session=session)
    return {r: found[i] for r, i in zip(rows, ids, strict=True) if i in found}


def _results(top: np.ndarray, raw: np.ndarray, seeds: list[Seed], seed_rows: list[int],
             seed_communities: dict[int, Community], *,
             index: CommunityIndex, data: RankingData, session: Session, texts: dict[int, set[str]],
             with_profile: bool) -> list[Lookalike]:
    by_row = _communities_by_row([int(r) for r in top], index=index, session=session)
    seed_vectors = index.vectors[seed_rows]
    stages = dict(session.exec(select(Prospect.community_id, Prospect.stage).where(
        Prospect.community_id.in_([c.id for c in by_row.values()]))).all())
    vocabulary, idf = data.lexical.vocabulary, data.lexical.idf
    # BM25's idf of a word that SPECIFIC_SHARE of the communities use: rarer words are specific
    n = len(data.lexical)
    df = max(SPECIFIC_SHARE * n, SPECIFIC_FEW)
    specific_from = math.log(1 + (n - df + 0.5) / (df + 0.5)) if n else 0.0
    out = []
    for row in top.tolist():
        community = by_row.get(row)
        if community is None:
            continue
        sims = seed_vectors @ index.vectors[row]
        order = np.argsort(-sims, kind="stable")
        best = float(sims[order[0]])
        like_idx = [int(j) for j in order if sims[j] >= max(LIKE_FLOOR, best - LIKE_MARGIN)] or [int(order[0])]
        like = [seeds[j].url for j in like_idx]
        own = community_stems(community)
        parts = []
        for j in like_idx[:3]:
            shared = _specific_shared(own, texts.get(seed_rows[j], set()), seed_communities.get(seed_rows[j]),
                                      vocabulary=vocabulary, idf=idf, floor=specific_from)
            label = f"{seeds[j].name} ({float(sims[j]):.2f})"
            parts.append(f"{label}: shares " + ", ".join(f'"{w}"' for w in shared) if shared
                         else f"{label}: close in meaning, no specific words in common")
        why = "like " + "; ".join(parts)
        if len(like_idx) > 3:
            why += f"; and {len(like_idx) - 3} more seed(s)"
        if best < LIKE_FLOOR:
            why += "; loosely: no seed is close"
        if with_profile:
            why += "; ranked with your profile too"
        score = int(round(100 * min(1.0, max(0.0, float(raw[row])))))
        out.append(Lookalike(community_id=community.id, url=community.url, name=community.name or community.url,
                             kind=community.kind, audience_size=community.audience_size, score=score, like=like,
                             why=why, stage=stages.get(community.id)))
    return out


def _specific_shared(own: set[str], seed_stems: set[str], seed: Community | None, *, vocabulary: dict[str, int],
                     idf: np.ndarray, floor: float) -> list[str]:
    """Words of the seed (as it writes them) whose stems the result also has and that are specific in this
    database (an IDF of at least `floor`: used by few communities), most specific first."""
    if seed is None:
        return []
    common = own & seed_stems
    surface: dict[str, str] = {}
    text = " ".join([seed.name or "", seed.title or "", seed.description or ""])
    for term in content_terms(text):
        key = stem_of(term)
        if key in common and key not in surface:
            surface[key] = term
    ranked = [(float(idf[vocabulary[k]]), w) for k, w in surface.items() if k in vocabulary
              and float(idf[vocabulary[k]]) >= floor]
    ranked.sort(key=lambda x: -x[0])
    return [w for _, w in ranked[:SHARED_WORDS]]


__all__ = ["Lookalike", "LookalikeOptions", "Seed", "check_seeds", "find_lookalikes", "niches", "seeds_from_urls"]
