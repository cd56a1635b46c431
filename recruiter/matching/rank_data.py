"""What ranking needs besides the vectors: BM25, the neighbour graph and passage vectors of long texts.

All are derived from the faiss index's rows (same order) and persisted in the index folder with a stamp of
those rows. all-MiniLM-L6-v2 reads only about the first 1,000 characters of a text, so a community whose
text is longer (a long about page, many recent post titles) also gets one vector per passage of about 500
characters of the part the model did not read, and ranking scores it by its best passage too. Only long texts
get passages (2% of the benchmark's communities), and passage vectors go through the same embedding cache:
on the shared dataset they add about 2% to the embedding work of an import, BM25 and the graph about 1%.

`refresh_ranking_data` runs at the end of every index sync that changed rows and writes into the new index
generation (so the work is done at import time, once, and incrementally: the rows of unchanged communities
keep their term counts, passage vectors and neighbours; only new or changed communities are read, tokenized
in blocks, split into passages and searched for neighbours). `ranking_data` is the read path: the files of
the index's generation, memory-mapped when large, so a query never rebuilds anything unless they were
deleted, and a cold `rank` over a million communities reads only what it touches.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlmodel import Session, select

from recruiter.core.db import chunked
from recruiter.core.models import Community
from recruiter.core.text import community_text, content_hash
from recruiter.matching.embedding import cached_vectors, get_embedding_service
from recruiter.matching.lexical import (
    LexicalIndex,
    count_documents,
    document_tokens,
    index_stamp,
    lexical_from_counts,
    load_lexical,
    stack_counts,
)
from recruiter.matching.neighbors import NeighborGraph, build_neighbors, load_neighbors, load_positions

CHUNK_FROM = 1000  # characters: texts longer than what the model reads get passage vectors
CHUNK_OVERLAP = 150
CHUNK_SIZE = 500
CHUNKS_FORMAT = 4
TEXT_BLOCK = 5000  # communities read and tokenized at a time

if TYPE_CHECKING:  # recruiter.matching.index imports this module lazily, at the end of a sync
    from recruiter.matching.index import CommunityIndex


@dataclass
class RankingData:
    stamp: str
    ids: np.ndarray  # the index's ids array this was computed for (identity-checked)
    lexical: LexicalIndex
    neighbor_positions: np.ndarray  # (communities, k) index positions; a missing neighbour is the row itself
    chunk_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # index positions
    chunk_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 384), dtype=np.float32))
    graph: NeighborGraph | None = None  # only when just built (queries need the positions alone)
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


def _read_texts(index: CommunityIndex, positions: np.ndarray, *,
                session: Session) -> tuple[list[list[str]], list[tuple[int, str]]]:
    """Tokens of the given index rows (in that order) and the (position, passage) pairs of their long texts."""
    ids = [int(i) for i in index.ids[positions]]
    texts: dict[int, tuple[str, str]] = {}
    columns = (Community.id, Community.name, Community.title, Community.description, Community.recent_posts)
    for part in chunked(ids):
        for community_id, name, title, description, recent_posts in session.exec(
                select(*columns).where(Community.id.in_(part))).all():
            texts[community_id] = (name or "", community_text({"name": name, "title": title,
                                                               "description": description,
                                                               "recent_posts": recent_posts}))
    docs: list[list[str]] = []
    chunks: list[tuple[int, str]] = []
    for p, community_id in zip(positions.tolist(), ids, strict=True):
        name, text = texts.get(community_id, ("", ""))
        docs.append(document_tokens(name, text))
        chunks.extend((p, passage) for passage in passages(text))
    return docs, chunks


def _chunk_vectors(chunks: list[tuple[int, str]], *, index: CommunityIndex, session: Session) -> np.ndarray:
    """Passage vectors through the embedding cache (a passage is embedded once, ever)."""
    if not chunks:
        return np.zeros((0, index.dim), dtype=np.float32)
    items = [(content_hash(text, index.model), text) for _, text in chunks]
    found = cached_vectors(list(dict.fromkeys(h for h, _ in items)), model=index.model, session=session)
    missing = [(h, t) for h, t in dict(items).items() if h not in found]
    if missing:
        get_embedding_service(index.model).ensure_cached(missing, session=session)
        found.update(cached_vectors([h for h, _ in missing], model=index.model, session=session))
    return index.project(np.stack([found[h] for h, _ in items]).astype(np.float32))


def _save_chunks(folder: Path, stamp: str, rows: np.ndarray, hashes: np.ndarray, vectors: np.ndarray) -> None:
    np.save(folder / "chunks_rows.npy", rows.astype(np.int64))
    np.save(folder / "chunks_hashes.npy", hashes.astype("S64"))
    np.save(folder / "chunks_vectors.npy", vectors.astype(np.float32))
    tmp = folder / f"chunks.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"format": CHUNKS_FORMAT, "stamp": stamp, "count": len(rows)}))
    os.replace(tmp, folder / "chunks.json")


def _load_chunks(folder: Path, stamp: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(owner rows, owner content hashes, passage vectors) saved for exactly these index rows."""
    try:
        meta = json.loads((folder / "chunks.json").read_text())
        if meta.get("format") != CHUNKS_FORMAT or meta.get("stamp") != stamp:
            return None
        rows = np.load(folder / "chunks_rows.npy")
        hashes = np.load(folder / "chunks_hashes.npy")
        vectors = np.load(folder / "chunks_vectors.npy")
    except (OSError, ValueError, KeyError):
        return None
    if not (len(rows) == len(hashes) == len(vectors) == int(meta.get("count", -1))):
        return None
    return rows, hashes, vectors


def refresh_ranking_data(index: CommunityIndex, *, session: Session, previous: CommunityIndex | None = None,
                         kept_rows: np.ndarray | None = None, force: bool = False) -> RankingData:
    """Build the BM25 index, passages and neighbour graph of the index's rows into its generation folder.

    With `previous` (the index before a sync) and `kept_rows` (which of its rows are the new rows 0..m-1, in
    order; the rest are new), everything of the kept rows is reused and only the new rows are read."""
    folder = index.generation
    with _lock:
        stamp = index.stamp or _stamp(index)
        if not force and folder is not None:
            loaded = _load_data(index, stamp)
            if loaded is not None:
                _cache[str(folder)] = loaded
                return loaded
        n = len(index)
        old_lexical = old_chunks = old_graph = None
        if previous is not None and kept_rows is not None and previous.generation is not None and not force:
            old_lexical = load_lexical(previous.generation, stamp=previous.stamp or None)
            old_chunks = _load_chunks(previous.generation, previous.stamp)
            old_graph = load_neighbors(previous.generation, ids=previous.ids, hashes=previous.hashes,
                                       stamp=previous.stamp or None)
        reuse = old_lexical is not None and old_chunks is not None and old_lexical.counts is not None
        kept = np.asarray(kept_rows if reuse else np.zeros(0, np.int64), dtype=np.int64)
        vocabulary = dict(old_lexical.vocabulary) if reuse else {}
        fresh_counts, new_chunks = [], []
        for start in range(len(kept), n, TEXT_BLOCK):
            positions = np.arange(start, min(n, start + TEXT_BLOCK))
            docs, chunks = _read_texts(index, positions, session=session)
            fresh_counts.append(count_documents(docs, vocabulary))
            new_chunks.extend(chunks)
        counts = stack_counts(old_lexical.counts if reuse else None, kept, fresh_counts, len(vocabulary))
        lexical = lexical_from_counts(counts, vocabulary, stamp=stamp)
        new_vectors = _chunk_vectors(new_chunks, index=index, session=session)
        new_rows = np.array([p for p, _ in new_chunks], dtype=np.int64)
        new_hashes = np.asarray(index.hashes[new_rows], dtype="S64") if len(new_rows) else np.zeros(0, "S64")
        if reuse:
            old_rows, old_hashes, old_vectors = old_chunks
            old_to_new = np.full(len(previous), -1, dtype=np.int64)
            old_to_new[kept] = np.arange(len(kept))
            moved = old_to_new[old_rows] if len(old_rows) else np.zeros(0, np.int64)
            valid = moved >= 0
            chunk_rows = np.concatenate([moved[valid], new_rows])
            chunk_hashes = np.concatenate([old_hashes[valid], new_hashes])
            chunk_vectors = np.concatenate([np.asarray(old_vectors[valid]).reshape(-1, index.dim), new_vectors])
        else:
            chunk_rows, chunk_hashes, chunk_vectors = new_rows, new_hashes, new_vectors
        graph = build_neighbors(index.ids, index.vectors, stamp=stamp, hashes=index.hashes,
                                previous=old_graph if reuse else None, partition=index.partition)
        positions = _self_filled(graph.positions(index.ids))
        if folder is not None:
            lexical.save(folder)
            _save_chunks(folder, stamp, chunk_rows, chunk_hashes, chunk_vectors)
            graph.save(folder, positions=positions)
        data = RankingData(stamp=stamp, ids=index.ids, lexical=lexical, neighbor_positions=positions,
                           chunk_rows=chunk_rows, chunk_vectors=chunk_vectors.astype(np.float32), graph=graph)
        _cache[str(folder)] = data
        return data


def _stamp(index: CommunityIndex) -> str:
    index.stamp = index_stamp(index.ids, index.hashes)
    return index.stamp


def _load_data(index: CommunityIndex, stamp: str) -> RankingData | None:
    folder = index.generation
    lexical = load_lexical(folder, stamp=stamp)
    chunks = _load_chunks(folder, stamp)
    try:
        meta = json.loads((folder / "neighbors.json").read_text())
    except (OSError, ValueError):
        return None
    positions = load_positions(folder, len(index)) if meta.get("stamp") == stamp else None
    if lexical is None or chunks is None or positions is None or len(lexical) != len(index):
        return None
    rows, _, vectors = chunks
    return RankingData(stamp=stamp, ids=index.ids, lexical=lexical, neighbor_positions=positions,
                       chunk_rows=rows, chunk_vectors=np.asarray(vectors, dtype=np.float32))


def _self_filled(positions: np.ndarray) -> np.ndarray:
    """A missing neighbour (-1) becomes the row itself, so smoothing is one gather and a mean."""
    rows = np.arange(len(positions))[:, None]
    return np.where(positions >= 0, positions, rows)


def ranking_data(index: CommunityIndex, *, session: Session) -> RankingData:
    """The ranking data for the loaded index: cached, loaded from its generation, or (only if missing) built."""
    cached = _cache.get(str(index.generation))
    if cached is not None and cached.ids is index.ids:
        return cached
    if index.generation is not None:
        with _lock:
            loaded = _load_data(index, index.stamp or _stamp(index))
            if loaded is not None:
                _cache[str(index.generation)] = loaded
                return loaded
    return refresh_ranking_data(index, session=session)


def audience_sizes(index: CommunityIndex, data: RankingData, *, session: Session) -> np.ndarray:
    """Audience size per index row (0 when unknown), re-read only when the community data changed."""
    return community_facts(index, data, session=session)[1]


def community_facts(index: CommunityIndex, data: RankingData, *, session: Session) -> tuple[np.ndarray, np.ndarray]:
    """(kind, audience size) per index row, so filters cost a numpy mask, not a widening database scan."""
    if data.audience is None or data.audience_version != index.data_version:
        kinds = np.full(len(index), "", dtype=object)
        audience = np.zeros(len(index), dtype=np.float32)
        table = Community.__table__
        statement = select(table.c.id, table.c.kind, table.c.audience_size)
        for part in session.connection().execute(statement.execution_options(yield_per=50_000)).partitions():
            rows = index.position.lookup([r[0] for r in part])
            found = rows >= 0
            kinds[rows[found]] = np.array([str(r[1] or "") for r in part], dtype=object)[found]
            audience[rows[found]] = np.array([float(r[2] or 0) for r in part], dtype=np.float32)[found]
        data.kinds, data.audience, data.audience_version = kinds, audience, index.data_version
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
