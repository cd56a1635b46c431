"""The one ranking function: communities ordered by how well their audience fits an ideal-client profile.

The CLI, the web app and the benchmarks all call `rank_communities`. The score is a blend of cosine
similarities between the community's embedding and the profile's facets (description, sentences, keywords),
pulled toward example communities and the user's shortlisted prospects, pushed away from exclusions and
from prospects marked "not a fit". `fit` maps the score onto 0–100 with fixed anchors, so the same fit means
the same closeness whatever the profile; `why` names the facet, the shared terms, the passage and the
closest example.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sqlmodel import Session, delete, select

from profiles.facets import profile_facets
from recruiter.config import embedding_model_name
from recruiter.embedding import get_embedding_service
from recruiter.index import CommunityIndex, get_index
from recruiter.models import Community, Match, Profile, Prospect, utcnow
from recruiter.text import content_terms, sentences, stem

# Cosine anchors for fit: at or below FIT_FLOOR nothing in common (0), at FIT_CEILING as close as a
# community description gets to a merchant's paragraph (100). See docs in README "How fit is calibrated".
FIT_FLOOR = 0.10
FIT_CEILING = 0.60


@dataclass
class RankOptions:
    examples_weight: float = 0.35
    feedback_weight: float = 0.25
    exclusion_weight: float = 0.6
    audience_weight: float = 0.0  # 0 = fit only; 1 = at most +0.05 for the very largest audiences
    use_facets: bool = True


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


def fit_from_score(score: float) -> int:
    return int(round(100 * min(1.0, max(0.0, (score - FIT_FLOOR) / (FIT_CEILING - FIT_FLOOR)))))


def session_db_url(session: Session) -> str:
    return session.get_bind().url.render_as_string(hide_password=False)


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
    options = options or RankOptions()
    index = index or get_index(session_db_url(session), session=session, model=embedding_model_name())
    if len(index) == 0:
        return []
    service = get_embedding_service(index.model)
    facets = profile_facets(profile) if options.use_facets else profile_facets(profile)[:1]
    facet_vectors = service.encode_queries([f.text for f in facets])
    weights = np.array([f.weight for f in facets], dtype=np.float32)
    facet_scores = facet_vectors @ index.vectors.T  # (facets, communities)
    scores = (weights @ facet_scores) / weights.sum()

    example_ids = _community_ids(profile.examples or [], session=session)
    example_vectors = index.vectors_for(example_ids)
    if len(example_vectors) and options.examples_weight:
        example_scores = example_vectors @ index.vectors.T
        scores = (1 - options.examples_weight) * scores + options.examples_weight * example_scores.max(axis=0)

    if profile.exclusions and options.exclusion_weight:
        exclusion_scores = service.encode_queries(profile.exclusions) @ index.vectors.T
        penalty = np.clip(exclusion_scores.max(axis=0) - 0.25, 0, None)
        scores = scores - options.exclusion_weight * penalty

    positives, negatives = _feedback_ids(profile, session=session)
    if options.feedback_weight and (positives or negatives):
        for ids, sign in ((positives, 1.0), (negatives, -1.0)):
            vectors = index.vectors_for(ids)
            if len(vectors):
                centroid = vectors.mean(axis=0)
                centroid /= np.linalg.norm(centroid) or 1.0
                scores = scores + sign * options.feedback_weight * (centroid @ index.vectors.T - 0.2)
        for community_id in negatives:  # "not a fit" is a verdict, not a hint: it leaves the list
            if community_id in index.position:
                scores[index.position[community_id]] = -10.0

    if options.audience_weight:
        audience = _audience_array(index, session=session)
        scores = scores + options.audience_weight * 0.05 * np.log10(audience + 1) / 7

    rows = _top_rows(index, scores, session=session, want=offset + limit, kind=kind, min_audience=min_audience)
    rows = rows[offset: offset + limit]
    results = []
    for position, (community, score) in enumerate(rows, start=offset + 1):
        p = index.position[community.id]
        best_facet = facets[int(np.argmax(facet_scores[:, p]))] if len(facets) > 1 else facets[0]
        closest = None
        if len(example_vectors):
            closest = example_ids[int(np.argmax(example_vectors @ index.vectors[p]))]
        results.append(RankedCommunity(
            community_id=community.id, url=community.url, name=community.name or community.title or community.url,
            kind=community.kind, audience_size=community.audience_size, score=round(float(score), 4),
            fit=fit_from_score(float(score)), rank=position,
            why=explain_match(profile, community, best_facet.name, closest_id=closest, session=session),
        ))
    if store:
        store_matches(profile, results, session=session, replace=offset == 0)
    return results


def _top_rows(index: CommunityIndex, scores: np.ndarray, *, session: Session, want: int, kind: str | None,
              min_audience: int | None) -> list[tuple[Community, float]]:
    """The best `want` communities passing the filters: widen the candidate pool until enough pass."""
    n = len(scores)
    pool = min(n, max(want * 4, 200))
    while True:
        top = np.argpartition(-scores, pool - 1)[:pool] if pool < n else np.arange(n)
        top = top[np.argsort(-scores[top], kind="stable")]
        ids = [int(index.ids[i]) for i in top]
        by_id = _communities(ids, session=session)
        rows = []
        for i, community_id in zip(top, ids, strict=True):
            community = by_id.get(community_id)
            if community is None or scores[i] <= -10.0:
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


def _communities(ids: list[int], *, session: Session) -> dict[int, Community]:
    out: dict[int, Community] = {}
    for start in range(0, len(ids), 900):
        for c in session.exec(select(Community).where(Community.id.in_(ids[start: start + 900]))).all():
            out[c.id] = c
    return out


def _community_ids(urls: list[str], *, session: Session) -> list[int]:
    if not urls:
        return []
    rows = session.exec(select(Community.url, Community.id).where(Community.url.in_(urls))).all()
    by_url = dict(rows)
    return [by_url[u] for u in urls if u in by_url]


def _feedback_ids(profile: Profile, *, session: Session) -> tuple[list[int], list[int]]:
    rows = session.exec(
        select(Prospect.community_id, Prospect.feedback).where(
            Prospect.profile_id == profile.id, Prospect.feedback.is_not(None)
        )
    ).all()
    return ([c for c, f in rows if f == "shortlist"], [c for c, f in rows if f == "not_a_fit"])


def _audience_array(index: CommunityIndex, *, session: Session) -> np.ndarray:
    sizes = dict(session.exec(select(Community.id, Community.audience_size)).all())
    return np.array([float(sizes.get(int(i)) or 0) for i in index.ids], dtype=np.float32)


def explain_match(profile: Profile, community: Community, facet: str, *, closest_id: int | None = None,
                  session: Session | None = None) -> str:
    """A short human reason: the facet that matched, the shared terms, the passage, the closest example."""
    profile_terms = content_terms(" ".join([profile.description or "", *(profile.keywords or [])]))
    by_stem = {stem(t): t for t in profile_terms}
    text = " ".join([community.name or "", community.title or "", community.description or "",
                     " ".join(community.recent_posts or [])])
    community_stems = {stem(t) for t in content_terms(text)}
    shared = [term for s, term in by_stem.items() if s in community_stems][:5]
    parts = []
    if shared:
        parts.append("shares " + ", ".join(f'"{t}"' for t in shared))
    else:
        parts.append(f"close in meaning to the {facet}")
    passage = _best_passage(community, {stem(t) for t in shared})
    if passage:
        parts.append(f'"{passage}"')
    if closest_id and session is not None:
        example = session.get(Community, closest_id)
        if example is not None and example.id != community.id:
            parts.append(f"like example {example.name or example.url}")
        elif example is not None:
            parts.append("an example community")
    if shared and facet not in ("description",):
        parts.insert(1, f"via {facet}")
    return "; ".join(parts)


def _best_passage(community: Community, stems: set[str], width: int = 90) -> str:
    candidates = sentences(community.description or "") + [community.title or ""]
    best, best_hits = "", 0
    for sentence in candidates:
        hits = sum(1 for t in content_terms(sentence) if stem(t) in stems)
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


__all__ = ["rank_communities", "RankOptions", "RankedCommunity", "fit_from_score", "explain_match",
           "audience_label"]
