"""What ranking needs besides the vectors: BM25, the neighbour graph and passage vectors of long texts.

All are derived from the faiss index's rows (same order) and persisted in the index folder with a stamp of
those rows. all-MiniLM-L6-v2 reads only about the first 1,000 characters of a text, so a community whose
text is longer (a long about page, many recent post titles) also gets one vector per passage of about 500
characters of the part the model did not read, and ranking scores it by its best passage too. Only long texts
get passages (2% of the benchmark's communities), and passage vectors go through the same embedding cache:
on the shared dataset they add about 2% to the embedding work of an import, BM25 and the graph about 1%.

`refresh_ranking_data` runs at the end of every index sync that changed rows (so the work is done at import
time, once, and incrementally: only new or changed communities are read, tokenized, split into
passages and searched for neighbours — 1.6 s for 10 new communities in a 100,000-community database);
`ranking_data` is the read path: an identity check against the loaded index, so a query never rebuilds
anything unless the files were deleted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sqlmodel import Session, select

from recruiter.core.db import chunked
from recruiter.core.models import Community
from recruiter.core.text import community_text, content_hash
from recruiter.matching.embedding import cached_vectors, get_embedding_service
from recruiter.matching.lexical import (
    LexicalIndex,
    build_lexical,
    document_tokens,
    index_stamp,
    load_lexical,
    reusable_rows,
    update_lexical,
)
from recruiter.matching.neighbors import NeighborGraph, build_neighbors, load_neighbors

CHUNK_FROM = 1000  # characters: texts longer than what the model reads get passage vectors
CHUNK_OVERLAP = 150
CHUNK_SIZE = 500
CHUNKS_FORMAT = 3

if TYPE_CHECKING:  # recruiter.matching.index imports this module lazily, at the end of a sync
    from recruiter.matching.index import CommunityIndex


@dataclass
class RankingData:
    stamp: str
    ids: np.ndarray  # the index's ids array this was computed for (identity-checked)
    lexical: LexicalIndex
    graph: NeighborGraph
    neighbor_positions: np.ndarray  # (communities, k) index positions, -1 = none
    chunk_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # index positions
    chunk_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 384), dtype=np.float32))
    audience: np.ndarray | None = None
    kinds: np.ndarray | None = None
    audience_version: int = -1


_cache: dict[str, RankingData] = {}
_lock = threading.Lock()


def passages(text: str, size: int = CHUNK_SIZE) -> list[str]:
    """The part of a long text the model never read (from about CHUNK_FROM characters on), cut into passages
    of about `size` characters at sentence or line ends; [] for a text the whole-text vector covers."""
    if len(text) <= CHUNK_FROM:
        return []
    import re

    tail = text[CHUNK_FROM - CHUNK_OVERLAP:]
    start = re.search(r"(?<=[.!?;\n])\s*", tail)  # begin at a sentence boundary when there is one nearby
    if start and start.end() < CHUNK_OVERLAP * 2:
        tail = tail[start.end():]
    pieces = [p.strip() for p in re.split(r"(?<=[.!?;])\s+|\n+", tail) if p.strip()]
    out, current = [], ""
    for piece in pieces:
        while len(piece) > size:  # a run-on sentence: cut at a space
            cut = piece.rfind(" ", 0, size)
            cut = cut if cut > size // 2 else size
            head, piece = piece[:cut], piece[cut:].strip()
            if current:
                out.append(current)
                current = ""
            out.append(head)
        if current and len(current) + 1 + len(piece) > size:
            out.append(current)
            current = piece
        else:
            current = f"{current} {piece}".strip()
    if current and (len(current) >= 80 or not out):
        out.append(current)
    elif current:
        out[-1] = f"{out[-1]} {current}"
    return out


def _texts(index: CommunityIndex, positions: list[int], *,
           session: Session) -> tuple[dict[int, list[str]], list[tuple[int, str]]]:
    """Tokens of the given index rows, and the (position, passage) pairs of their long texts."""
    ids = [int(index.ids[p]) for p in positions]
    position_of = dict(zip(ids, positions, strict=True))
    docs: dict[int, list[str]] = {p: [] for p in positions}
    chunks: list[tuple[int, str]] = []
    columns = (Community.id, Community.name, Community.title, Community.description, Community.recent_posts)
    for part in chunked(ids):
        rows = session.exec(select(*columns).where(Community.id.in_(part))).all()
        for community_id, name, title, description, recent_posts in rows:
            text = community_text({"name": name, "title": title, "description": description,
                                   "recent_posts": recent_posts})
            p = position_of[community_id]
            docs[p] = document_tokens(name or "", text)
            chunks.extend((p, passage) for passage in passages(text))
    return docs, chunks


def _chunk_vectors(chunks: list[tuple[int, str]], *, index: CommunityIndex, session: Session) -> np.ndarray:
    """Passage vectors through the embedding cache (a passage is embedded once, ever)."""
    if not chunks:
        return np.zeros((0, index.dim), dtype=np.float32)
    items = [(content_hash(text, index.model), text) for _, text in chunks]
    found = cached_vectors([h for h, _ in items], model=index.model, session=session)
    missing = [(h, t) for h, t in dict(items).items() if h not in found]
    if missing:
        get_embedding_service(index.model).ensure_cached(missing, session=session)
        found.update(cached_vectors([h for h, _ in missing], model=index.model, session=session))
    return np.stack([found[h] for h, _ in items]).astype(np.float32)


def _save_chunks(folder, stamp: str, owners: np.ndarray, hashes: np.ndarray, vectors: np.ndarray) -> None:
    import json
    import os

    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "chunks.npz.tmp"
    with open(tmp, "wb") as fh:
        np.savez(fh, owners=owners, hashes=hashes, vectors=vectors)
    meta = folder / "chunks.json.tmp"
    meta.write_text(json.dumps({"format": CHUNKS_FORMAT, "stamp": stamp}))
    os.replace(tmp, folder / "chunks.npz")
    os.replace(meta, folder / "chunks.json")


def _load_chunks(folder) -> tuple[str, np.ndarray, np.ndarray, np.ndarray] | None:
    """(stamp, owner community ids, owner content hashes, passage vectors) as last saved."""
    import json

    try:
        meta = json.loads((folder / "chunks.json").read_text())
        if meta.get("format") != CHUNKS_FORMAT:
            return None
        with np.load(folder / "chunks.npz") as z:
            return meta.get("stamp", ""), z["owners"], z["hashes"], z["vectors"]
    except (OSError, ValueError, KeyError):
        return None


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
        previous = None if force else load_lexical(index.folder, stamp=None)
        saved_chunks = None if force else _load_chunks(index.folder)
        graph = None if force else load_neighbors(index.folder)
        n = len(index)
        if previous is not None and saved_chunks is not None and previous.stamp == saved_chunks[0] == stamp:
            lexical, (_, owners, owner_hashes, chunk_vectors) = previous, saved_chunks
        else:
            # Only new or changed communities are read and tokenized; the rest reuse their saved term
            # counts and passage vectors (both files are saved together, so they describe the same rows).
            consistent = previous is not None and saved_chunks is not None and previous.stamp == saved_chunks[0]
            reuse = reusable_rows(previous, index.ids, index.hashes) if consistent else {}
            docs, chunks = _texts(index, [p for p in range(n) if p not in reuse], session=session)
            if reuse:
                lexical = update_lexical(previous, reuse, docs, ids=index.ids, hashes=index.hashes, stamp=stamp)
                kept_pairs = {(int(index.ids[p]), bytes(index.hashes[p])) for p in reuse}
                keep = np.array([(int(o), bytes(h)) in kept_pairs for o, h in
                                 zip(saved_chunks[1].tolist(), saved_chunks[2].tolist(), strict=True)], dtype=bool)
                old_owners, old_hashes, old_vectors = saved_chunks[1][keep], saved_chunks[2][keep], saved_chunks[3][keep]
            else:
                lexical = build_lexical([docs[p] for p in range(n)], stamp=stamp, row_ids=index.ids,
                                        row_hashes=index.hashes)
                old_owners = np.zeros(0, np.int64)
                old_hashes = np.zeros(0, "S64")
                old_vectors = np.zeros((0, index.dim), np.float32)
            new_vectors = _chunk_vectors(chunks, index=index, session=session)
            owners = np.concatenate([old_owners, np.array([int(index.ids[p]) for p, _ in chunks], dtype=np.int64)])
            owner_hashes = np.concatenate([old_hashes, np.array([index.hashes[p] for p, _ in chunks], dtype="S64")])
            chunk_vectors = np.concatenate([old_vectors.reshape(-1, index.dim), new_vectors]).astype(np.float32)
            if n:
                lexical.save(index.folder)
                _save_chunks(index.folder, stamp, owners, owner_hashes, chunk_vectors)
        chunk_rows = np.array([index.position.get(int(o), -1) for o in owners.tolist()], dtype=np.int64)
        valid = chunk_rows >= 0
        chunked = (chunk_rows[valid], chunk_vectors[valid])
        if graph is None or graph.stamp != stamp:
            graph = build_neighbors(index.ids, index.vectors, stamp=stamp, hashes=index.hashes, previous=graph)
            if len(index):
                graph.save(index.folder)
        data = RankingData(stamp=stamp, ids=index.ids, lexical=lexical, graph=graph,
                           neighbor_positions=_self_filled(graph.positions(index.ids, index.position)),
                           chunk_rows=chunked[0], chunk_vectors=chunked[1])
        _cache[key] = data
        return data


def _self_filled(positions: np.ndarray) -> np.ndarray:
    """A missing neighbour (-1) becomes the row itself, so smoothing is one gather and a mean."""
    rows = np.arange(len(positions))[:, None]
    return np.where(positions >= 0, positions, rows)


def ranking_data(index: CommunityIndex, *, session: Session) -> RankingData:
    """The ranking data for the loaded index: cached, loaded from disk, or (only if missing) built."""
    cached = _cache.get(str(index.folder))
    if cached is not None and cached.ids is index.ids:
        return cached
    return refresh_ranking_data(index, session=session)


def audience_sizes(index: CommunityIndex, data: RankingData, *, session: Session) -> np.ndarray:
    """Audience size per index row (0 when unknown), re-read only when the community data changed."""
    return community_facts(index, data, session=session)[1]


def community_facts(index: CommunityIndex, data: RankingData, *, session: Session) -> tuple[np.ndarray, np.ndarray]:
    """(kind, audience size) per index row, so filters cost a numpy mask, not a widening database scan."""
    if data.audience is None or data.audience_version != index.data_version:
        rows = {i: (k, a) for i, k, a in session.exec(select(Community.id, Community.kind, Community.audience_size))}
        facts = [rows.get(int(i), ("", None)) for i in index.ids.tolist()]
        data.kinds = np.array([str(k or "") for k, _ in facts], dtype=object)
        data.audience = np.array([float(a or 0) for _, a in facts], dtype=np.float32)
        data.audience_version = index.data_version
    return data.kinds, data.audience


def forget_ranking_data() -> None:
    with _lock:
        _cache.clear()


__all__ = [
    "RankingData",
    "audience_sizes",
    "community_facts",
    "forget_ranking_data",
    "ranking_data",
    "refresh_ranking_data",
]
