"""An inverted-file (IVF) partition of the community vectors: the approximate structure of a large index.

Up to `APPROX_FROM` communities every search is exact (one matrix product). Past it, exact all-pairs work
grows with the square of the catalogue (the neighbour graph of 1,000,000 communities would take hours), so
the vectors are partitioned with spherical k-means (faiss) into about `sqrt(n)` lists and a search looks only
at the lists of the `nprobe` centroids nearest to the query. The partition is kept beside the vectors and is
incremental: new communities join the list of their nearest centroid, removed ones leave theirs, and only
when the catalogue has grown well past the size the centroids were trained on are they trained again.

Measured on the shared corpus embedded with the fast model and repeated with noise (`benchmarks/bench_scale.py
--graph`, load average 3): the exact graph took 2.1 s at 10,000 rows, 10.3 s at 25,000 and 33.8 s at 50,000
(quadratic); the IVF graph 3.6 s, 5.7 s and 8.2 s with recall@10 of 0.80-0.85 against the exact one. Hence
`APPROX_FROM` = 20,000, a little past the crossing. For smoothing, a neighbour that is the 12th nearest
instead of the 10th changes little; a graph that takes hours is not an option.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Rows from which the neighbour graph and `CommunityIndex.search` use the partition instead of exact search.
APPROX_FROM = 20_000
NPROBE = 8  # lists searched per query
RETRAIN_GROWTH = 4.0  # retrain the centroids when the catalogue is this many times the size they were trained on
_TRAIN_PER_LIST = 40  # training sample: this many vectors per centroid (faiss asks for at least 39)
_ASSIGN_BLOCK = 65_536


def list_count(n: int) -> int:
    """About sqrt(n) lists, at least 16: a list of ~1,000 rows at 1M, so a probe of 8 lists scans ~0.8%."""
    return max(16, int(np.sqrt(max(n, 1))))


@dataclass
class Partition:
    centroids: np.ndarray  # (lists, dim) float32, unit length
    lists: np.ndarray  # (rows,) int32: the list of each index row
    trained_on: int
    _members: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def members(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows ordered by list, bounds): the rows of list L are order[bounds[L]:bounds[L + 1]]."""
        if self._members is None:
            order = np.argsort(self.lists, kind="stable")
            bounds = np.searchsorted(self.lists[order], np.arange(len(self.centroids) + 1))
            self._members = (order.astype(np.int64), bounds)
        return self._members

    def rows_of(self, lists: np.ndarray) -> np.ndarray:
        order, bounds = self.members
        parts = [order[bounds[x]:bounds[x + 1]] for x in np.unique(lists)]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def probes(self, queries: np.ndarray, nprobe: int = NPROBE) -> np.ndarray:
        """The `nprobe` nearest lists of each query row."""
        nprobe = min(nprobe, len(self.centroids))
        sims = np.atleast_2d(queries).astype(np.float32) @ self.centroids.T
        return np.argsort(-sims, axis=1)[:, :nprobe]

    def list_probes(self, nprobe: int = NPROBE) -> np.ndarray:
        """For each list, the `nprobe` lists nearest its centroid (itself first)."""
        return self.probes(self.centroids, nprobe)

    def needs_training(self, rows: int, dim: int) -> bool:
        return self.centroids.shape[1] != dim or rows > RETRAIN_GROWTH * max(self.trained_on, 1)

    def save(self, folder: Path) -> None:
        np.save(folder / "centroids.npy", self.centroids)
        np.save(folder / "lists.npy", self.lists)
        np.save(folder / "trained_on.npy", np.array([self.trained_on], dtype=np.int64))


def load_partition(folder: Path, rows: int) -> Partition | None:
    try:
        centroids = np.load(folder / "centroids.npy")
        lists = np.load(folder / "lists.npy")
        trained_on = int(np.load(folder / "trained_on.npy")[0])
    except (OSError, ValueError, IndexError):
        return None
    if len(lists) != rows:
        return None
    return Partition(centroids=centroids, lists=lists, trained_on=trained_on)


def assign(vectors: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The nearest centroid of each vector, in blocks (bounded memory on a memory-mapped array)."""
    out = np.empty(len(vectors), dtype=np.int32)
    for start in range(0, len(vectors), _ASSIGN_BLOCK):
        block = np.asarray(vectors[start:start + _ASSIGN_BLOCK], dtype=np.float32)
        out[start:start + len(block)] = np.argmax(block @ centroids.T, axis=1)
    return out


def train_partition(vectors: np.ndarray, *, seed: int = 1234) -> Partition:
    """Spherical k-means (faiss) on a sample, then every row assigned to its nearest centroid."""
    import faiss

    n, dim = vectors.shape
    nlist = list_count(n)
    rng = np.random.default_rng(seed)
    sample_size = min(n, nlist * _TRAIN_PER_LIST)
    sample = np.sort(rng.choice(n, size=sample_size, replace=False)) if sample_size < n else np.arange(n)
    training = np.ascontiguousarray(vectors[sample], dtype=np.float32)
    kmeans = faiss.Kmeans(dim, nlist, niter=12, spherical=True, seed=seed, verbose=False,
                          max_points_per_centroid=_TRAIN_PER_LIST * 2)
    kmeans.train(training)
    centroids = np.ascontiguousarray(kmeans.centroids, dtype=np.float32)
    return Partition(centroids=centroids, lists=assign(vectors, centroids), trained_on=n)


def updated_partition(previous: Partition | None, vectors: np.ndarray, kept_rows: np.ndarray,
                      fresh_start: int) -> Partition:
    """The partition of the new rows: rows [0, fresh_start) are previous rows `kept_rows` (in order), the
    rest are new and join their nearest list; retrained when missing or outgrown."""
    n, dim = vectors.shape
    if previous is None or previous.needs_training(n, dim):
        return train_partition(vectors)
    lists = np.empty(n, dtype=np.int32)
    lists[:fresh_start] = previous.lists[kept_rows]
    lists[fresh_start:] = assign(vectors[fresh_start:], previous.centroids)
    return Partition(centroids=previous.centroids, lists=lists, trained_on=previous.trained_on)


def search(partition: Partition, vectors: np.ndarray, queries: np.ndarray, k: int,
           nprobe: int = NPROBE) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, rows) of each query among the rows of its `nprobe` nearest lists."""
    queries = np.atleast_2d(queries).astype(np.float32)
    scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    rows = np.full((len(queries), k), -1, dtype=np.int64)
    for q, probe in enumerate(partition.probes(queries, nprobe)):
        candidates = partition.rows_of(probe)
        if not len(candidates):
            continue
        sims = np.asarray(vectors[np.sort(candidates)], dtype=np.float32) @ queries[q]
        candidates = np.sort(candidates)
        take = min(k, len(candidates))
        top = np.argpartition(-sims, take - 1)[:take]
        top = top[np.argsort(-sims[top], kind="stable")]
        scores[q, :take], rows[q, :take] = sims[top], candidates[top]
    return scores, rows


__all__ = ["APPROX_FROM", "NPROBE", "Partition", "assign", "list_count", "load_partition", "search",
           "train_partition", "updated_partition"]
