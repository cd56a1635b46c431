"""Each community's nearest communities (by embedding), kept beside the index.

Ranking uses the graph to smooth scores: a community whose neighbours all fit the profile probably fits too,
even when its own description is two words long ("r/Homebrewing: Welcome brewers!"). The graph is derived
data like the index: built when the index is synced, saved in the index generation it was built for, and
updated incrementally — new or changed communities are searched against everything, and existing rows only
merge in the new candidates — so importing a few communities into a large database stays cheap.

Up to `partition.APPROX_FROM` communities the search is exact (faiss's blocked inner product). Past it, exact
all-pairs search grows with the square of the catalogue (hours at 1,000,000), so rows are searched through the
index's IVF partition: the rows of one list are searched together against the rows of the `NPROBE` lists
nearest their centroid (one matrix product per list), and a new community is offered to the existing rows of
the lists it probed. Both paths work on numpy arrays, never on per-row Python dicts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recruiter.core.arrays import load_array
from recruiter.matching.partition import NPROBE, Partition

NEIGHBORS_FORMAT = 2
DEFAULT_K = 10
_BLOCK = 4096
_FAISS_FROM = 64  # rows of one IVF list to search before faiss beats one numpy product (see _approx_pass)


def _lookup(ids: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Row in `ids` of each key (-1 where absent), vectorized."""
    keys = np.asarray(keys, dtype=np.int64)
    if not len(ids) or not keys.size:
        return np.full(keys.shape, -1, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    at = np.clip(np.searchsorted(sorted_ids, keys), 0, len(sorted_ids) - 1)
    return np.where(sorted_ids[at] == keys, order[at], -1).astype(np.int64)


@dataclass
class NeighborGraph:
    """`ids[i]`'s k nearest other communities: `neighbors[i]` (community ids) with cosines `similarity[i]`."""

    ids: np.ndarray
    neighbors: np.ndarray
    similarity: np.ndarray
    stamp: str = ""
    hashes: np.ndarray | None = None  # content hash of each row when built: a changed text means a new row

    def positions(self, index_ids: np.ndarray, position=None) -> np.ndarray:
        """The neighbour table in index positions (rows aligned with `index_ids`, -1 where unknown)."""
        k = self.neighbors.shape[1] if self.neighbors.ndim == 2 else DEFAULT_K
        index_ids = np.asarray(index_ids, dtype=np.int64)
        if len(self.ids) == len(index_ids) and np.array_equal(self.ids, index_ids):
            table = np.asarray(self.neighbors)
        else:
            table = np.full((len(index_ids), k), -1, dtype=np.int64)
            rows = _lookup(np.asarray(self.ids, dtype=np.int64), index_ids)
            table[rows >= 0] = self.neighbors[rows[rows >= 0]]
        out = _lookup(index_ids, table.ravel()).reshape(table.shape)
        return np.where(table >= 0, out, -1)

    def save(self, folder: Path, *, positions: np.ndarray | None = None) -> None:
        """Saved in an index generation folder (whose ids and hashes are the graph's rows)."""
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "neighbors.npy", np.asarray(self.neighbors, dtype=np.int64))
        np.save(folder / "neighbors_similarity.npy", np.asarray(self.similarity, dtype=np.float32))
        if positions is not None:
            np.save(folder / "neighbors_positions.npy", positions.astype(np.int32))
        tmp = folder / f"neighbors.json.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"format": NEIGHBORS_FORMAT, "stamp": self.stamp, "rows": len(self.ids)}))
        os.replace(tmp, folder / "neighbors.json")


def load_neighbors(folder: Path, *, ids: np.ndarray, hashes: np.ndarray | None = None,
                   stamp: str | None = None) -> NeighborGraph | None:
    """The graph saved in an index generation folder (rows = that generation's ids), if it is whole."""
    try:
        meta = json.loads((folder / "neighbors.json").read_text())
        if meta.get("format") != NEIGHBORS_FORMAT or (stamp is not None and meta.get("stamp") != stamp):
            return None
        neighbors = load_array(folder / "neighbors.npy")
        similarity = load_array(folder / "neighbors_similarity.npy")
    except (OSError, ValueError, KeyError):
        return None
    if len(neighbors) != len(ids) or len(similarity) != len(ids) or int(meta.get("rows", -1)) != len(ids):
        return None
    return NeighborGraph(ids=ids, neighbors=neighbors, similarity=similarity, stamp=meta.get("stamp", ""),
                         hashes=hashes)


def load_positions(folder: Path, rows: int) -> np.ndarray | None:
    try:
        positions = load_array(folder / "neighbors_positions.npy")
    except (OSError, ValueError):
        return None
    return positions if len(positions) == rows else None


def _exact_top_k(queries: np.ndarray, vectors: np.ndarray, ids: np.ndarray, k: int,
                 exclude: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The k most similar rows of `vectors` for each query; `exclude[i]` is query i's own row (never listed).

    faiss's exact inner-product search (BLAS plus a heap) rather than numpy: selecting the top k of a
    100,000-wide similarity block is what costs, and faiss does it without materializing the block's order."""
    out_ids = np.full((len(queries), k), -1, dtype=np.int64)
    out_sim = np.full((len(queries), k), -1.0, dtype=np.float32)
    if len(vectors) == 0 or len(queries) == 0:
        return out_ids, out_sim
    search = _faiss_search(np.ascontiguousarray(vectors, dtype=np.float32))
    want = min(k + (1 if exclude is not None else 0), len(vectors))
    for start in range(0, len(queries), _BLOCK):
        block = np.ascontiguousarray(queries[start: start + _BLOCK], dtype=np.float32)
        sims, rows = search(block, want)
        own = exclude[start: start + _BLOCK] if exclude is not None else None
        chosen_rows, chosen_sims = _drop_own(rows, sims, own, k)
        valid = chosen_rows >= 0
        out_ids[start: start + len(block)] = np.where(valid, ids[np.clip(chosen_rows, 0, None)], -1)
        out_sim[start: start + len(block)] = np.where(valid, chosen_sims, -1.0)
    return out_ids, out_sim


def _drop_own(rows: np.ndarray, sims: np.ndarray, own: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The first k results of each row without the query's own row; padded with -1."""
    out_rows = np.full((len(rows), k), -1, dtype=np.int64)
    out_sims = np.full((len(rows), k), -1.0, dtype=np.float32)
    if not len(rows):
        return out_rows, out_sims
    keep = rows >= 0
    if own is not None:
        keep &= rows != own[:, None]
    # stable compaction: the kept columns of each row, in order
    order = np.argsort(~keep, axis=1, kind="stable")[:, :k]
    taken = np.take_along_axis(keep, order, 1)
    width = min(k, rows.shape[1])
    out_rows[:, :width] = np.where(taken, np.take_along_axis(rows, order, 1), -1)[:, :width]
    out_sims[:, :width] = np.where(taken, np.take_along_axis(sims, order, 1), -1.0)[:, :width]
    return out_rows, out_sims


def _grouped(rows: np.ndarray, lists: np.ndarray) -> dict[int, np.ndarray]:
    """`rows` grouped by their list number (one argsort, not one scan per list)."""
    if not len(rows):
        return {}
    order = np.argsort(lists, kind="stable")
    numbers, starts = np.unique(lists[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    return {int(x): rows[order[a:b]] for x, a, b in zip(numbers, starts, ends, strict=True)}


def _approx_pass(neighbors: np.ndarray, similarity: np.ndarray, *, todo: np.ndarray, kept: np.ndarray,
                 fresh: np.ndarray, vectors: np.ndarray, ids: np.ndarray, k: int, partition: Partition) -> None:
    """Through the partition, list by list (in place): the `todo` rows of a list get their neighbours among the
    rows of the lists nearest its centroid, and the `fresh` rows of the list are offered to the `kept` rows
    of those lists (a row takes one if it beats its k-th).

    Both steps read the same candidate rows, so their vectors are gathered once per list: adding 1,000
    communities to a million touches some 400 lists of about 8,000 candidates each, and that gathering (from
    the memory-mapped vectors) is most of the work. A list with few rows to search is searched with one
    matrix product; faiss (BLAS plus a heap) is for the full build, a thousand queries per list."""

    probes = partition.list_probes(NPROBE)
    to_search = _grouped(todo, partition.lists[todo])
    to_offer = _grouped(fresh, partition.lists[fresh]) if len(kept) else {}
    is_kept = np.zeros(len(ids), dtype=bool)
    is_kept[kept] = True
    for list_no in sorted(to_search.keys() | to_offer.keys()):
        candidates = np.sort(partition.rows_of(probes[list_no]))
        if not len(candidates):
            continue
        block = np.ascontiguousarray(vectors[candidates], dtype=np.float32)
        query_rows = to_search.get(list_no)
        if query_rows is not None:
            want = min(k + 1, len(candidates))
            search = _faiss_search(block) if len(query_rows) >= _FAISS_FROM else _numpy_search(block)
            for part in np.array_split(query_rows, -(-len(query_rows) // _BLOCK)):
                sims, found = search(np.ascontiguousarray(vectors[part], dtype=np.float32), want)
                found_rows = np.where(found >= 0, candidates[np.clip(found, 0, None)], -1)
                chosen_rows, chosen_sims = _drop_own(found_rows, sims, part, k)
                valid = chosen_rows >= 0
                neighbors[part] = np.where(valid, ids[np.clip(chosen_rows, 0, None)], -1)
                similarity[part] = np.where(valid, chosen_sims, -1.0)
        newcomers = to_offer.get(list_no)
        if newcomers is not None:
            keep = is_kept[candidates]
            takers = candidates[keep]
            if not len(takers):
                continue
            sims = block[keep] @ np.asarray(vectors[newcomers], dtype=np.float32).T
            worst = similarity[takers, -1]
            hit = np.nonzero((sims > worst[:, None]).any(axis=1))[0]
            if not len(hit):
                continue
            take = min(k, len(newcomers))
            top = np.argsort(-sims[hit], axis=1, kind="stable")[:, :take]
            _merge(neighbors, similarity, takers[hit], ids[newcomers][top], np.take_along_axis(sims[hit], top, 1), k)


def _faiss_search(block: np.ndarray):
    """(queries, want) -> the `want` best (similarities, rows of `block`) per query, best first, through faiss."""
    import faiss

    flat = faiss.IndexFlatIP(block.shape[1])
    flat.add(block)
    return flat.search


def _numpy_search(block: np.ndarray):
    """The same as `_faiss_search` with one matrix product: for a few queries, faiss's copy of the block costs
    more than the search."""
    def search(queries: np.ndarray, want: int) -> tuple[np.ndarray, np.ndarray]:
        sims = queries @ block.T
        top = np.argpartition(-sims, want - 1, axis=1)[:, :want] if want < sims.shape[1] else \
            np.broadcast_to(np.arange(sims.shape[1]), sims.shape)
        top_sims = np.take_along_axis(sims, top, 1)
        order = np.argsort(-top_sims, axis=1, kind="stable")
        return np.take_along_axis(top_sims, order, 1), np.take_along_axis(top, order, 1)

    return search


def _merge(neighbors: np.ndarray, similarity: np.ndarray, targets: np.ndarray, cand_ids: np.ndarray,
           cand_sim: np.ndarray, k: int) -> None:
    """Merge candidates into the current top k of the target rows (in place)."""
    merged_ids = np.concatenate([neighbors[targets], cand_ids], axis=1)
    merged_sim = np.concatenate([similarity[targets], cand_sim], axis=1)
    order = np.argsort(-merged_sim, axis=1, kind="stable")[:, :k]
    neighbors[targets] = np.take_along_axis(merged_ids, order, 1)
    similarity[targets] = np.take_along_axis(merged_sim, order, 1)


def build_neighbors(ids: np.ndarray, vectors: np.ndarray, *, k: int = DEFAULT_K, stamp: str = "",
                    hashes: np.ndarray | None = None, previous: NeighborGraph | None = None,
                    partition: Partition | None = None) -> NeighborGraph:
    """The k-nearest-neighbour graph of the vectors (through `partition` when given); reuses `previous` rows
    whose community and neighbours are unchanged, and offers them only the new rows."""
    ids = np.asarray(ids, dtype=np.int64)
    n = len(ids)
    if n == 0:
        return NeighborGraph(ids=ids, neighbors=np.zeros((0, k), np.int64), similarity=np.zeros((0, k), np.float32),
                             stamp=stamp, hashes=hashes)
    neighbors = np.full((n, k), -1, dtype=np.int64)
    similarity = np.full((n, k), -1.0, dtype=np.float32)
    recompute = np.ones(n, dtype=bool)
    unchanged = np.zeros(n, dtype=bool)  # the community was in `previous` with the same text
    if (previous is not None and hashes is not None and previous.hashes is not None and len(previous.ids)
            and previous.neighbors.shape[1:] == (k,)):
        old = _lookup(np.asarray(previous.ids, dtype=np.int64), ids)
        prev_hashes = np.asarray(previous.hashes)
        unchanged = old >= 0
        unchanged[unchanged] = prev_hashes[old[unchanged]] == np.asarray(hashes)[unchanged]
        rows = np.nonzero(unchanged)[0]
        if len(rows):
            # A row survives when all its neighbours still exist unchanged (a changed one has a new vector).
            table = np.asarray(previous.neighbors[old[rows]])
            where = _lookup(ids, table.ravel()).reshape(table.shape)
            alive = (table < 0) | ((where >= 0) & unchanged[np.clip(where, 0, None)])
            ok = alive.all(axis=1)
            neighbors[rows[ok]] = table[ok]
            similarity[rows[ok]] = np.asarray(previous.similarity[old[rows[ok]]])
            recompute[rows[ok]] = False
    todo = np.nonzero(recompute)[0]
    with _one_thread():
        _search(neighbors, similarity, todo=todo, kept=np.nonzero(~recompute)[0], fresh=np.nonzero(~unchanged)[0],
                vectors=vectors, ids=ids, k=k, partition=partition)
    return NeighborGraph(ids=ids, neighbors=neighbors, similarity=similarity, stamp=stamp, hashes=hashes)


@contextmanager
def _one_thread() -> Iterator[None]:
    """faiss on one OpenMP thread while the graph is built.

    The graph is thousands of small searches (one per IVF list: ~1,000 queries against ~8,000 rows at a million
    communities), where a second thread saves little and OpenMP's hand-offs cost a lot when the cores are
    busy: on this shared two-core machine (load 2.7) such a search took 0.056 s wall / 0.051 s CPU on one
    thread and 0.077 s / 0.098 s on two; at the 100,000-row list size (316 x 2,530) 13 ms / 13 ms against
    17 ms / 21 ms. Restored afterwards (the setting is process-wide)."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _search(neighbors: np.ndarray, similarity: np.ndarray, *, todo: np.ndarray, kept: np.ndarray,
            fresh: np.ndarray, vectors: np.ndarray, ids: np.ndarray, k: int, partition: Partition | None) -> None:
    """Fill the `todo` rows' neighbours, and offer the `fresh` rows to the `kept` ones (in place)."""
    if partition is not None:
        _approx_pass(neighbors, similarity, todo=todo, kept=kept, fresh=fresh, vectors=vectors, ids=ids, k=k,
                     partition=partition)
        return
    for start in range(0, len(todo), 65_536):
        part = todo[start:start + 65_536]
        neighbors[part], similarity[part] = _exact_top_k(np.asarray(vectors[part]), vectors, ids, k, exclude=part)
    if len(kept) and len(fresh):
        # Existing rows only need to consider the newcomers: merge them into the current top k.
        fresh_vectors = np.asarray(vectors[fresh])
        for start in range(0, len(kept), 65_536):
            part = kept[start:start + 65_536]
            cand_ids, cand_sim = _exact_top_k(np.asarray(vectors[part]), fresh_vectors, ids[fresh], k,
                                              exclude=None)
            _merge(neighbors, similarity, part, cand_ids, cand_sim, k)


__all__ = ["DEFAULT_K", "NeighborGraph", "build_neighbors", "load_neighbors", "load_positions"]
