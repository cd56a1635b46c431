"""The index of community vectors, persisted beside the database it mirrors, one folder per model.

Inner product over unit vectors (so scores are cosines); row i is community `ids[i]`. The index is derived
data: `sync_index` brings it in line with the database by comparing (id, content hash) pairs, taking vectors
from the embedding cache and embedding only what the cache lacks. Because every write path ends with a sync
and every read path starts with a cheap version check, an import interrupted between the database commit and
the index save is repaired by the next command.

Layout: `<index dir>/<model>/current.json` names the current generation folder (`g000012/`), which holds the
vectors (`vectors.npy`, memory-mapped when large, so a cold `rank` over a million communities reads only the
pages it touches), ids, content hashes, and the ranking data built for exactly those rows (BM25, neighbour
graph, passages; `recruiter.matching.rank_data`). A sync writes a new generation beside the current one and
switches `current.json` last (atomic rename), so a crash leaves the previous index whole, and a reader that
has the old generation open keeps valid files. Each model has its own folder: switching `RECRUITER_MODEL`
never mixes or overwrites another model's vectors. Writers take a file lock, so two processes syncing at once
do the work once.

Memory stays bounded on large catalogues: the database's (id, hash) pairs are read as numpy arrays, new
vectors are written into the memory-mapped file in chunks, and embeddings are committed to the cache every
`EMBED_CHUNK` texts, so a killed import resumes where it stopped. Past `partition.APPROX_FROM` rows the index
also keeps an IVF partition (`recruiter.matching.partition`) for approximate search and the neighbour graph.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlmodel import Session, func, select

from recruiter.core.arrays import load_array
from recruiter.core.config import index_dir
from recruiter.core.db import current_data_version, get_setting
from recruiter.core.models import Community
from recruiter.matching.adapter import Adapter, adapts, fit_adapter, load_adapter, needs_fit
from recruiter.matching.backends import model_key
from recruiter.matching.embedding import (
    EmbeddingService,
    cached_vectors,
    get_embedding_service,
    store_vectors,
    texts_by_hash,
)
from recruiter.matching.lexical import index_stamp
from recruiter.matching.partition import APPROX_FROM, Partition, load_partition, updated_partition
from recruiter.matching.partition import search as partition_search

INDEX_FORMAT = 2
EMBED_CHUNK = 512  # texts embedded, then committed to the cache, at a time (a killed import loses at most this)
_COPY_BLOCK = 65_536
DEFAULT_DIM = 384


def model_folder_name(model: str) -> str:
    """A folder name for a model: readable, and unique even when two names differ only in odd characters."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-.")[:48] or "model"
    return f"{readable}-{hashlib.sha256(model.encode()).hexdigest()[:8]}"


class IdPositions(Mapping):
    """community id -> index row, backed by numpy (a dict of a million ints would cost 100 MB and a second)."""

    def __init__(self, ids: np.ndarray) -> None:
        self._ids = ids
        if len(ids) < 2 or bool(np.all(ids[1:] > ids[:-1])):
            self._order = None
            self._sorted = ids
        else:
            self._order = np.argsort(ids, kind="stable")
            self._sorted = ids[self._order]

    def lookup(self, keys) -> np.ndarray:
        """Rows of many ids at once (-1 where absent)."""
        keys = np.asarray(keys, dtype=np.int64).ravel()
        if not len(self._sorted) or not len(keys):
            return np.full(len(keys), -1, dtype=np.int64)
        at = np.clip(np.searchsorted(self._sorted, keys), 0, len(self._sorted) - 1)
        found = self._sorted[at] == keys
        rows = at if self._order is None else self._order[at]
        return np.where(found, rows, -1).astype(np.int64)

    def get(self, key, default=None):
        try:
            row = int(self.lookup([int(key)])[0])
        except (TypeError, ValueError, OverflowError):
            return default
        return default if row < 0 else row

    def __getitem__(self, key) -> int:
        row = self.get(key)
        if row is None:
            raise KeyError(key)
        return row

    def __contains__(self, key) -> bool:
        return self.get(key) is not None

    def __iter__(self) -> Iterator[int]:
        return iter(int(i) for i in self._ids)

    def __len__(self) -> int:
        return len(self._ids)


@dataclass
class CommunityIndex:
    folder: Path  # this model's folder
    model: str
    dim: int
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, DEFAULT_DIM), dtype=np.float32))
    hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="S64"))
    data_version: int = -1
    database_id: str = ""
    generation: Path | None = None  # the folder the arrays (and ranking data) were loaded from or written to
    stamp: str = ""  # digest of (ids, hashes): what the ranking data must have been built for
    adapter: Adapter | None = None  # the fast model's catalogue map (`recruiter.matching.adapter`), if fitted
    _position: IdPositions | None = None
    _partition: Partition | None = None

    # --- reading ---------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids)

    @property
    def position(self) -> IdPositions:
        if self._position is None:
            self._position = IdPositions(self.ids)
        return self._position

    @property
    def partition(self) -> Partition | None:
        """The IVF partition (only past APPROX_FROM rows)."""
        if self._partition is None and len(self) >= APPROX_FROM and self.generation is not None:
            self._partition = load_partition(self.generation, len(self))
        return self._partition

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, community ids) for each query row: exact, or through the partition when large."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, len(self.ids))
        if k == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        partition = self.partition
        if partition is not None:
            scores, rows = partition_search(partition, self.vectors, queries, k)
        else:
            sims = queries @ np.asarray(self.vectors).T
            rows = np.argsort(-sims, axis=1, kind="stable")[:, :k]
            scores = np.take_along_axis(sims, rows, 1)
        return scores, np.where(rows >= 0, self.ids[np.clip(rows, 0, None)], -1)

    def project(self, vectors: np.ndarray) -> np.ndarray:
        """The model's vectors (of queries, passages) in this index's space: through the adapter when it has
        one, else as they are."""
        return self.adapter.apply(vectors) if self.adapter is not None else vectors

    def scores(self, queries: np.ndarray) -> np.ndarray:
        """Cosine of every indexed community with every query: shape (queries, communities)."""
        return np.atleast_2d(queries).astype(np.float32) @ np.asarray(self.vectors).T

    def vectors_for(self, community_ids: list[int]) -> np.ndarray:
        rows = self.position.lookup(list(community_ids))
        rows = rows[rows >= 0]
        return np.asarray(self.vectors[rows]) if len(rows) else np.zeros((0, self.dim), np.float32)

    def _replace(self, ids: np.ndarray, vectors: np.ndarray, hashes: np.ndarray) -> None:
        """Rows set by hand (benchmarks): an unsaved, in-memory index whose ranking data is built in memory."""
        self.ids, self.vectors, self.hashes = ids, np.ascontiguousarray(vectors, np.float32), hashes
        self.dim = int(self.vectors.shape[1]) if self.vectors.ndim == 2 else self.dim
        self.generation, self.stamp = None, ""
        self._position = None
        self._partition = None

    def _adopt(self, other: CommunityIndex) -> None:
        for name in ("ids", "vectors", "hashes", "data_version", "database_id", "generation", "stamp", "dim",
                     "adapter"):
            setattr(self, name, getattr(other, name))
        self._position = None
        self._partition = None

    def _clear(self, database_id: str) -> None:
        self.ids, self.hashes = np.zeros(0, np.int64), np.zeros(0, "S64")
        self.vectors = np.zeros((0, self.dim), np.float32)
        self.database_id, self.data_version, self.generation, self.stamp = database_id, -1, None, ""
        self.adapter = None
        self._position = None
        self._partition = None

    def write_meta(self) -> None:
        """Point `current.json` at this index's generation (atomic: the last step of every save)."""
        meta = {"format": INDEX_FORMAT, "model": self.model, "dim": self.dim, "count": len(self.ids),
                "data_version": self.data_version, "database_id": self.database_id, "stamp": self.stamp,
                "generation": self.generation.name if self.generation is not None else None}
        tmp = self.folder / f"current.json.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, self.folder / "current.json")


def load_index(folder: Path, *, model: str, dim: int = DEFAULT_DIM) -> CommunityIndex:
    """Read the persisted index of `model` under a database's index folder; a missing, torn or other-format
    index loads empty (a sync refills it from the embedding cache)."""
    model_dir = folder / model_folder_name(model)
    empty = CommunityIndex(folder=model_dir, model=model, dim=dim, vectors=np.zeros((0, dim), np.float32))
    try:
        meta = json.loads((model_dir / "current.json").read_text())
        if meta.get("format") != INDEX_FORMAT or meta.get("model") != model or not meta.get("generation"):
            return empty
        generation = model_dir / str(meta["generation"])
        ids = np.load(generation / "ids.npy", allow_pickle=False)
        hashes = load_array(generation / "hashes.npy")
        vectors = load_array(generation / "vectors.npy")
        adapter = load_adapter(generation)
    except (OSError, ValueError, KeyError, TypeError):
        return empty
    count = int(meta.get("count", -1))
    if not (len(ids) == len(hashes) == len(vectors) == count) or vectors.ndim != 2:
        return empty
    if adapter is not None and adapter.dim != vectors.shape[1]:
        return empty
    return CommunityIndex(folder=model_dir, model=model, dim=int(vectors.shape[1]), ids=ids, vectors=vectors,
                          hashes=hashes, data_version=int(meta.get("data_version", -1)),
                          database_id=str(meta.get("database_id", "")), generation=generation,
                          stamp=str(meta.get("stamp") or ""), adapter=adapter)


@dataclass
class SyncReport:
    added: int = 0
    removed: int = 0
    embedded: int = 0
    total: int = 0


@contextlib.contextmanager
def _write_lock(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(folder / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def database_rows(session: Session) -> tuple[np.ndarray, np.ndarray]:
    """Every community's (id, content hash), in id order, as numpy arrays (streamed: no million-row list)."""
    ids_parts, hash_parts = [], []
    table = Community.__table__
    statement = select(table.c.id, table.c.content_hash).order_by(table.c.id)
    # Core rows on the session's connection, not ORM rows: a million (id, hash) pairs in seconds, in batches.
    result = session.connection().execute(statement.execution_options(yield_per=50_000))
    for part in result.partitions():
        ids_parts.append(np.fromiter((r[0] for r in part), dtype=np.int64, count=len(part)))
        hash_parts.append(np.array([(r[1] or "").encode() for r in part], dtype="S64"))
    if not ids_parts:
        return np.zeros(0, np.int64), np.zeros(0, "S64")
    return np.concatenate(ids_parts), np.concatenate(hash_parts)


def sync_index(
    index: CommunityIndex,
    *,
    session: Session,
    service: EmbeddingService | None = None,
    progress: Callable[[int], None] | None = None,
    force: bool = False,
) -> SyncReport:
    """Bring the index in line with the database's communities (add, replace, remove), then save it."""
    data_version = current_data_version(session=session)
    database_id = str(get_setting("database_id", "", session=session))
    if index.database_id != database_id:  # an index of another database (same URL, new file): start over
        index._clear(database_id)
    report = SyncReport(total=len(index))
    if not force and index.data_version == data_version:
        return report
    with _write_lock(index.folder):
        if not force:  # another process may have synced while we waited for the lock
            on_disk = load_index(index.folder.parent, model=index.model, dim=index.dim)
            if on_disk.database_id == database_id and on_disk.data_version == data_version:
                index._adopt(on_disk)
                report.total = len(index)
                return report
        db_ids, db_hashes = database_rows(session)
        adapter = index.adapter if adapts(index.model) else None  # switched off: back to the raw vectors
        if adapts(index.model) and needs_fit(adapter, len(db_ids)):
            adapter = fit_adapter(db_ids, db_hashes, session=session, model=index.model, service=service) or adapter
        rows = index.position.lookup(db_ids)
        found = rows >= 0
        same = np.zeros(len(db_ids), dtype=bool)
        if adapter is index.adapter:  # else a new space: every row is re-mapped from the cached raw vectors
            same[found] = index.hashes[rows[found]] == db_hashes[found]
        keep = np.zeros(len(index), dtype=bool)
        keep[rows[same]] = True
        kept_rows = np.nonzero(keep)[0]
        fresh = np.nonzero(~same)[0]  # positions in db_ids
        report.added, report.removed = len(fresh), int(len(index) - len(kept_rows))
        if not fresh.size and not report.removed and not force and index.generation is not None:
            index.data_version = data_version
            index.write_meta()  # nothing changed but the version: no array is rewritten
            report.total = len(index)
            return report
        new = _write_generation(index, kept_rows=kept_rows, fresh_ids=db_ids[fresh], fresh_hashes=db_hashes[fresh],
                                session=session, service=service, progress=progress, report=report,
                                adapter=adapter)
        new.data_version, new.database_id = data_version, database_id
        from recruiter.matching.rank_data import refresh_ranking_data  # BM25, graph, passages: built here

        same_space = index.generation is not None and new.adapter is index.adapter
        refresh_ranking_data(new, session=session, previous=index if same_space else None,
                             kept_rows=kept_rows, force=force)
        new.write_meta()
        index._adopt(new)
        _remove_old_generations(index.folder, keep=index.generation)
    report.total = len(index)
    return report


def _write_generation(index: CommunityIndex, *, kept_rows: np.ndarray, fresh_ids: np.ndarray,
                      fresh_hashes: np.ndarray, session: Session, service: EmbeddingService | None,
                      progress: Callable[[int], None] | None, report: SyncReport,
                      adapter: Adapter | None = None) -> CommunityIndex:
    """A new generation folder: kept rows copied in order, new rows appended (embedded in committed chunks,
    and mapped by the catalogue adapter when there is one; kept rows were mapped by the same one)."""
    for stale in index.folder.glob(".tmp-*"):  # a generation a killed process was writing (we hold the lock)
        shutil.rmtree(stale, ignore_errors=True)
    tmp = index.folder / f".tmp-{os.getpid()}-{threading.get_ident()}"
    tmp.mkdir(parents=True)
    try:
        chunks = _fresh_vectors(fresh_ids, fresh_hashes, session=session, service=service, model=index.model,
                                progress=progress, report=report)
        if adapter is not None:
            chunks = ((offset, adapter.apply(block)) for offset, block in chunks)
            adapter.save(tmp)
        first = next(chunks, None)
        dim = index.dim if len(kept_rows) or first is None else first[1].shape[1]
        n = len(kept_rows) + len(fresh_ids)
        if n:
            vectors = np.lib.format.open_memmap(tmp / "vectors.npy", mode="w+", dtype=np.float32, shape=(n, dim))
            for start in range(0, len(kept_rows), _COPY_BLOCK):
                part = kept_rows[start:start + _COPY_BLOCK]
                vectors[start:start + len(part)] = index.vectors[part]
            at = len(kept_rows)
            pending = [first] if first is not None else []
            for offset, block in itertools.chain(pending, chunks):
                vectors[at + offset: at + offset + len(block)] = block
            vectors.flush()
            del vectors
        else:
            np.save(tmp / "vectors.npy", np.zeros((0, dim), np.float32))
        ids = np.concatenate([index.ids[kept_rows], fresh_ids]).astype(np.int64)
        hashes = np.concatenate([np.asarray(index.hashes[kept_rows], dtype="S64"), fresh_hashes.astype("S64")])
        np.save(tmp / "ids.npy", ids)
        np.save(tmp / "hashes.npy", hashes)
        vectors = load_array(tmp / "vectors.npy")
        partition = None
        if n >= APPROX_FROM:
            previous = index.partition if adapter is index.adapter else None  # a new space: a new partition
            partition = updated_partition(previous, vectors, kept_rows, len(kept_rows))
            partition.save(tmp)
        generation = index.folder / _next_generation_name(index.folder)
        os.replace(tmp, generation)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    new = CommunityIndex(folder=index.folder, model=index.model, dim=dim, ids=ids,
                         vectors=load_array(generation / "vectors.npy"), hashes=load_array(generation / "hashes.npy"),
                         generation=generation, stamp=index_stamp(ids, hashes), adapter=adapter)
    new._partition = partition
    return new


def _next_generation_name(folder: Path) -> str:
    numbers = [int(p.name[1:]) for p in folder.glob("g*") if p.name[1:].isdigit()]
    return f"g{max(numbers, default=0) + 1:06d}"


# Files of the first index format (one faiss index for whatever model wrote last, beside the database): derived
# data, rebuilt from the embedding cache into the per-model folders, so they are removed once that is done.
LEGACY_FILES = ("communities.faiss", "communities.meta.npz", "communities.json", "lexical.npz", "lexical.json",
                "neighbors.npz", "neighbors.json", "chunks.npz", "chunks.json")


def _remove_old_generations(folder: Path, *, keep: Path | None) -> None:
    """Generations other than the current one are garbage (readers that still map them keep valid files)."""
    for path in folder.glob("g*"):
        if path.is_dir() and path != keep and path.name[1:].isdigit():
            shutil.rmtree(path, ignore_errors=True)
    for name in LEGACY_FILES:
        (folder.parent / name).unlink(missing_ok=True)


def _fresh_vectors(ids: np.ndarray, hashes: np.ndarray, *, session: Session, service: EmbeddingService | None,
                   model: str, progress: Callable[[int], None] | None,
                   report: SyncReport) -> Iterator[tuple[int, np.ndarray]]:
    """(offset, vectors) of the given communities, EMBED_CHUNK at a time: cached vectors are read, missing ones
    embedded and committed to the cache before the next chunk (so a killed run keeps its work)."""
    for start in range(0, len(ids), EMBED_CHUNK):
        part_ids = ids[start:start + EMBED_CHUNK]
        part_hashes = [h.decode() for h in hashes[start:start + EMBED_CHUNK].tolist()]
        found = cached_vectors(list(dict.fromkeys(part_hashes)), model=model, session=session)
        missing_hashes = [h for h in dict.fromkeys(part_hashes) if h not in found]
        if missing_hashes:
            wanted = set(missing_hashes)
            texts = texts_by_hash({i: h for i, h in zip(part_ids.tolist(), part_hashes, strict=True) if h in wanted},
                                  session=session)
            todo = [h for h in missing_hashes if h in texts]
            service = service or get_embedding_service(model)
            encoded = service.encode([texts[h] for h in todo])
            store_vectors(todo, encoded, model=model, session=session)
            report.embedded += len(todo)
            found.update(zip(todo, encoded, strict=True))
        if progress:
            progress(len(part_ids))
        if any(h not in found for h in part_hashes):  # a community deleted while we ran: the next sync sees it
            dim = next(iter(found.values())).shape[0] if found else DEFAULT_DIM
            zero = np.zeros(dim, np.float32)
            yield start, np.stack([found.get(h, zero) for h in part_hashes]).astype(np.float32)
        else:
            yield start, np.stack([found[h] for h in part_hashes]).astype(np.float32)


_loaded: dict[tuple[str, str], CommunityIndex] = {}
_loaded_lock = threading.Lock()


def get_index(db_url: str, *, session: Session, model: str, service: EmbeddingService | None = None,
              progress: Callable[[int], None] | None = None) -> CommunityIndex:
    """The process-wide index for a database, loaded once and synced whenever the data changed."""
    with _loaded_lock:
        key = (db_url, model)
        index = _loaded.get(key)
        if index is None:
            index = load_index(index_dir(db_url), model=model)
            _loaded[key] = index
        sync_index(index, session=session, service=service, progress=progress)
        return index


def session_url(session: Session) -> str:
    return session.get_bind().url.render_as_string(hide_password=False)


def session_index(session: Session, *, progress: Callable[[int], None] | None = None) -> CommunityIndex:
    """The loaded, synced index of the database this session talks to (the one read path for everyone)."""
    return get_index(session_url(session), session=session, model=model_key(), progress=progress)


def forget_loaded_indexes() -> None:
    with _loaded_lock:
        _loaded.clear()


def refresh_index(*, session: Session, progress: Callable[[str, int, int], None] | None = None) -> int:
    """Embed what is new and sync the index of the session's database; returns how many texts were embedded.

    Every write path (import, scrape, discovery) ends with this, and every read path syncs the same way, so an
    import interrupted between the database commit and the index save is repaired by the next command."""
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        if progress:
            progress("embedding", done[0], 0)

    with _loaded_lock:
        key = (session_url(session), model_key())
        index = _loaded.get(key)
        if index is None:
            index = load_index(index_dir(key[0]), model=key[1])
            _loaded[key] = index
        report = sync_index(index, session=session, progress=step)
    return report.embedded


@dataclass(frozen=True)
class IndexStatus:
    communities: int
    vectors: int
    model: str
    in_sync: bool
    adapter: Adapter | None = None


def index_status(*, session: Session) -> IndexStatus:
    """How many communities the database and the persisted index hold, and whether they agree (no sync)."""
    count = session.exec(select(func.count()).select_from(Community)).one()
    version = current_data_version(session=session)
    index = load_index(index_dir(session_url(session)), model=model_key())
    return IndexStatus(communities=int(count), vectors=len(index), model=index.model,
                       in_sync=index.data_version == version and len(index) == count, adapter=index.adapter)


def rebuild_index(*, session: Session, progress: Callable[[int], None] | None = None) -> SyncReport:
    """Rebuild the index from the database (vectors from the cache; only texts the cache lacks are embedded)."""
    model = model_key()
    fresh = CommunityIndex(folder=index_dir(session_url(session)) / model_folder_name(model), model=model,
                           dim=DEFAULT_DIM)
    fresh.database_id = str(get_setting("database_id", "", session=session))
    report = sync_index(fresh, session=session, force=True, progress=progress)
    forget_loaded_indexes()
    return report
