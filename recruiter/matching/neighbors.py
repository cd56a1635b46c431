"""Each community's nearest communities (by embedding), kept beside the faiss index.

Ranking uses the graph to smooth scores: a community whose neighbours all fit the profile probably fits too,
even when its own description is two words long ("r/Homebrewing: Welcome brewers!"). The graph is derived
data like the faiss index: built when the index is synced, saved with a stamp of the rows it was built for,
and updated incrementally — new or changed communities are searched against everything, and existing rows
only merge in the new candidates — so importing a few communities into a large database stays cheap.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NEIGHBORS_FORMAT = 1
DEFAULT_K = 10
_BLOCK = 4096


@dataclass
class NeighborGraph:
    """`ids[i]`'s k nearest other communities: `neighbors[i]` (community ids) with cosines `similarity[i]`."""

    ids: np.ndarray
    neighbors: np.ndarray
    similarity: np.ndarray
    stamp: str = ""
    hashes: np.ndarray | None = None  # content hash of each row when built: a changed text means a new row

    def positions(self, index_ids: np.ndarray, position: dict[int, int]) -> np.ndarray:
        """The neighbour table in index positions (rows aligned with `index_ids`, -1 where unknown)."""
        if len(self.ids) == len(index_ids) and np.array_equal(self.ids, index_ids):
            order = np.argsort(index_ids, kind="stable")
            sorted_ids = index_ids[order]
            flat = self.neighbors.ravel()
            at = np.clip(np.searchsorted(sorted_ids, flat), 0, max(len(sorted_ids) - 1, 0))
            found = (sorted_ids[at] == flat) if len(sorted_ids) else np.zeros(len(flat), bool)
            return np.where(found, order[at], -1).astype(np.int64).reshape(self.neighbors.shape)
        out = np.full((len(index_ids), self.neighbors.shape[1] if self.neighbors.ndim == 2 else DEFAULT_K), -1,
                      dtype=np.int64)
        mine = {int(i): r for r, i in enumerate(self.ids)}
        for p, community_id in enumerate(index_ids.tolist()):
            r = mine.get(community_id)
            if r is not None:
                out[p] = [position.get(int(n), -1) for n in self.neighbors[r]]
        return out

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "neighbors.npz.tmp"
        with open(tmp, "wb") as fh:
            hashes = self.hashes if self.hashes is not None else np.zeros(len(self.ids), dtype="S64")
            np.savez(fh, ids=self.ids, neighbors=self.neighbors, similarity=self.similarity, hashes=hashes)
        meta = folder / "neighbors.json.tmp"
        meta.write_text(json.dumps({"format": NEIGHBORS_FORMAT, "stamp": self.stamp}))
        os.replace(tmp, folder / "neighbors.npz")
        os.replace(meta, folder / "neighbors.json")


def load_neighbors(folder: Path) -> NeighborGraph | None:
    try:
        meta = json.loads((folder / "neighbors.json").read_text())
        if meta.get("format") != NEIGHBORS_FORMAT:
            return None
        with np.load(folder / "neighbors.npz") as z:
            return NeighborGraph(ids=z["ids"], neighbors=z["neighbors"], similarity=z["similarity"],
                                 stamp=meta.get("stamp", ""), hashes=z["hashes"])
    except (OSError, ValueError, KeyError):
        return None


def _top_k(queries: np.ndarray, vectors: np.ndarray, ids: np.ndarray, k: int,
           exclude: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The k most similar rows of `vectors` for each query; `exclude[i]` is query i's own row (never listed).

    faiss's exact inner-product search (BLAS plus a heap) rather than numpy: selecting the top k of a
    100,000-wide similarity block is what costs, and faiss does it without materializing the block's order."""
    import faiss

    out_ids = np.full((len(queries), k), -1, dtype=np.int64)
    out_sim = np.full((len(queries), k), -1.0, dtype=np.float32)
    if len(vectors) == 0 or len(queries) == 0:
        return out_ids, out_sim
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    want = min(k + (1 if exclude is not None else 0), len(vectors))
    for start in range(0, len(queries), _BLOCK):
        block = np.ascontiguousarray(queries[start: start + _BLOCK], dtype=np.float32)
        sims, rows = flat.search(block, want)
        if exclude is not None:
            own = exclude[start: start + _BLOCK]
            keep = (rows != own[:, None]) & (rows >= 0)
            # drop the query's own row (or, when a duplicate tied with it, the last column)
            drop_last = keep.all(axis=1)
            keep[drop_last, -1] = False if want > k else keep[drop_last, -1]
            for r in range(len(block)):
                chosen = rows[r][keep[r]][:k]
                out_ids[start + r, : len(chosen)] = ids[chosen]
                out_sim[start + r, : len(chosen)] = sims[r][keep[r]][:k]
        else:
            valid = rows[:, :k] >= 0
            out_ids[start: start + len(block), : rows.shape[1]][:, :k] = np.where(valid, ids[np.clip(rows[:, :k], 0, None)], -1)
            out_sim[start: start + len(block), : rows.shape[1]][:, :k] = np.where(valid, sims[:, :k], -1.0)
    return out_ids, out_sim


def build_neighbors(ids: np.ndarray, vectors: np.ndarray, *, k: int = DEFAULT_K, stamp: str = "",
                    hashes: np.ndarray | None = None, previous: NeighborGraph | None = None) -> NeighborGraph:
    """The k-nearest-neighbour graph of the vectors; reuses `previous` rows that are still valid."""
    ids = np.asarray(ids, dtype=np.int64)
    if previous is not None and hashes is not None and previous.hashes is not None and len(previous.ids):
        # A community whose text changed has a new vector: forget its old row (and rows pointing at it).
        now = {int(i): h for i, h in zip(ids.tolist(), hashes.tolist(), strict=True)}
        keep = np.array([now.get(int(i)) == h for i, h in zip(previous.ids.tolist(), previous.hashes.tolist(),
                                                              strict=True)], dtype=bool)
        previous = NeighborGraph(ids=previous.ids[keep], neighbors=previous.neighbors[keep],
                                 similarity=previous.similarity[keep], hashes=previous.hashes[keep])
    elif hashes is None:
        previous = None
    n = len(ids)
    if n == 0:
        return NeighborGraph(ids=ids, neighbors=np.zeros((0, k), np.int64), similarity=np.zeros((0, k), np.float32),
                             stamp=stamp)
    neighbors = np.full((n, k), -1, dtype=np.int64)
    similarity = np.full((n, k), -1.0, dtype=np.float32)
    recompute = np.ones(n, dtype=bool)
    fresh = np.arange(n)
    if previous is not None and previous.neighbors.shape[1:] == (k,) and len(previous.ids):
        # Rows survive when the community is unchanged and all its neighbours still exist unchanged; the
        # caller passes `previous` only with ids whose vectors did not change (changed ones are dropped).
        old_row = {int(i): r for r, i in enumerate(previous.ids)}
        alive = set(ids.tolist()) & set(old_row)
        for p, community_id in enumerate(ids.tolist()):
            r = old_row.get(community_id)
            if r is None:
                continue
            row = previous.neighbors[r]
            if all(int(x) in alive for x in row if x >= 0):
                neighbors[p], similarity[p], recompute[p] = row, previous.similarity[r], False
        fresh = np.array([p for p, i in enumerate(ids.tolist()) if int(i) not in old_row], dtype=np.int64)
    position = np.arange(n)
    todo = np.nonzero(recompute)[0]
    if len(todo):
        neighbors[todo], similarity[todo] = _top_k(vectors[todo], vectors, ids, k, exclude=position[todo])
    kept = np.nonzero(~recompute)[0]
    if len(kept) and len(fresh):
        # Existing rows only need to consider the newcomers: merge them into the current top k.
        cand_ids, cand_sim = _top_k(vectors[kept], vectors[fresh], ids[fresh], k, exclude=None)
        merged_ids = np.concatenate([neighbors[kept], cand_ids], axis=1)
        merged_sim = np.concatenate([similarity[kept], cand_sim], axis=1)
        order = np.argsort(-merged_sim, axis=1, kind="stable")[:, :k]
        neighbors[kept] = np.take_along_axis(merged_ids, order, 1)
        similarity[kept] = np.take_along_axis(merged_sim, order, 1)
    return NeighborGraph(ids=ids, neighbors=neighbors, similarity=similarity, stamp=stamp, hashes=hashes)


__all__ = ["DEFAULT_K", "NeighborGraph", "build_neighbors", "load_neighbors"]
