"""What ranking needs besides the vectors: the BM25 index and the neighbour graph, kept in step with the index.

Both are derived from the faiss index's rows (same order) and persisted in the index folder with a stamp of
those rows. `refresh_ranking_data` runs at the end of every index sync that changed rows (so the work is done
at import time, once); `ranking_data` is the read path: an identity check against the loaded index, so a
query never rebuilds anything unless the files were deleted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sqlmodel import Session, select

from recruiter.embedding import community_text
from recruiter.lexical import LexicalIndex, build_lexical, document_tokens, index_stamp, load_lexical
from recruiter.models import Community
from recruiter.neighbors import NeighborGraph, build_neighbors, load_neighbors

if TYPE_CHECKING:  # recruiter.index imports this module lazily, at the end of a sync
    from recruiter.index import CommunityIndex


@dataclass
class RankingData:
    stamp: str
    ids: np.ndarray  # the index's ids array this was computed for (identity-checked)
    lexical: LexicalIndex
    graph: NeighborGraph
    neighbor_positions: np.ndarray  # (communities, k) index positions, -1 = none
    kinds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    audience: np.ndarray | None = None
    audience_version: int = -1


_cache: dict[str, RankingData] = {}
_lock = threading.Lock()


def _texts(index: CommunityIndex, *, session: Session) -> tuple[list[list[str]], np.ndarray]:
    by_id: dict[int, tuple[list[str], str]] = {}
    ids = index.ids.tolist()
    for start in range(0, len(ids), 900):
        for c in session.exec(select(Community).where(Community.id.in_(ids[start: start + 900]))).all():
            by_id[c.id] = (document_tokens(c.name or "", community_text(c)), c.kind)
    docs = [by_id.get(int(i), ([], ""))[0] for i in ids]
    kinds = np.array([by_id.get(int(i), ([], ""))[1] for i in ids], dtype=object)
    return docs, kinds


def refresh_ranking_data(index: CommunityIndex, *, session: Session, force: bool = False) -> RankingData:
    """Bring the persisted BM25 index and neighbour graph in line with the index rows; cache the result."""
    key = str(index.folder)
    with _lock:
        cached = _cache.get(key)
        if not force and cached is not None and cached.ids is index.ids:
            return cached
        stamp = index_stamp(index.ids, index.hashes)
        if not force and cached is not None and cached.stamp == stamp:
            cached.ids = index.ids
            return cached
        lexical = None if force else load_lexical(index.folder, stamp=stamp)
        graph = None if force else load_neighbors(index.folder)
        docs = kinds = None
        if lexical is None:
            docs, kinds = _texts(index, session=session)
            lexical = build_lexical(docs, stamp=stamp)
            if len(index):
                lexical.save(index.folder)
        if graph is None or graph.stamp != stamp:
            graph = build_neighbors(index.ids, index.vectors, stamp=stamp, hashes=index.hashes, previous=graph)
            if len(index):
                graph.save(index.folder)
        if kinds is None:
            kinds = _kinds(index, session=session)
        data = RankingData(stamp=stamp, ids=index.ids, lexical=lexical, graph=graph,
                           neighbor_positions=graph.positions(index.ids, index.position), kinds=kinds)
        _cache[key] = data
        return data


def _kinds(index: CommunityIndex, *, session: Session) -> np.ndarray:
    rows = dict(session.exec(select(Community.id, Community.kind)).all())
    return np.array([rows.get(int(i), "") for i in index.ids.tolist()], dtype=object)


def ranking_data(index: CommunityIndex, *, session: Session) -> RankingData:
    """The ranking data for the loaded index: cached, loaded from disk, or (only if missing) built."""
    cached = _cache.get(str(index.folder))
    if cached is not None and cached.ids is index.ids:
        return cached
    return refresh_ranking_data(index, session=session)


def audience_sizes(index: CommunityIndex, data: RankingData, *, session: Session) -> np.ndarray:
    """Audience size per index row, re-read only when the community data changed."""
    if data.audience is None or data.audience_version != index.data_version:
        sizes = dict(session.exec(select(Community.id, Community.audience_size)).all())
        data.audience = np.array([float(sizes.get(int(i)) or 0) for i in index.ids.tolist()], dtype=np.float32)
        data.audience_version = index.data_version
    return data.audience


def forget_ranking_data() -> None:
    with _lock:
        _cache.clear()


__all__ = ["RankingData", "ranking_data", "refresh_ranking_data", "audience_sizes", "forget_ranking_data"]
