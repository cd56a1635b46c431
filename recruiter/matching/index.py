"""The faiss index of community vectors, persisted beside the database it mirrors.

Inner product over unit vectors (so scores are cosines), faiss ids = community ids. The index is derived
data: `sync` brings it in line with the database by comparing (id, content hash) pairs, taking vectors from
the embedding cache and embedding only what the cache lacks. Because every write path ends with a sync and
every read path starts with a cheap version check, an import interrupted between the database commit and the
index save is repaired by the next command.

Several processes of one machine may write the same folder (worker processes finishing jobs, a CLI command,
the web app): writes and reads of the folder's files hold a file lock (`.lock` in the folder), so nobody reads
a half-replaced set of files and two writers never interleave. Other machines have their own folders and
catch up from the database's embedding cache.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np
from filelock import FileLock
from sqlmodel import Session, func, select

from recruiter.core.config import embedding_model_name, index_dir
from recruiter.core.db import chunked, current_data_version, get_setting
from recruiter.core.models import Community
from recruiter.core.text import community_text
from recruiter.matching.embedding import EmbeddingService, cached_vectors, get_embedding_service

INDEX_FORMAT = 1
LOCK_TIMEOUT = 600  # seconds a writer may wait for another (a big ranking-data refresh takes a while)


def folder_lock(folder: Path) -> FileLock:
    """The lock every reader and writer of an index folder holds while it touches the files."""
    folder.mkdir(parents=True, exist_ok=True)
    return FileLock(str(folder / ".lock"), timeout=LOCK_TIMEOUT)


@dataclass
class CommunityIndex:
    folder: Path
    model: str
    dim: int
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 384), dtype=np.float32))
    hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="S64"))
    data_version: int = -1
    database_id: str = ""
    _faiss: faiss.Index | None = None
    _position: dict[int, int] | None = None

    # --- reading ---------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids)

    @property
    def position(self) -> dict[int, int]:
        if self._position is None:
            self._position = {int(i): p for p, i in enumerate(self.ids)}
        return self._position

    @property
    def faiss_index(self) -> faiss.Index:
        if self._faiss is None:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
            if len(self.ids):
                index.add_with_ids(self.vectors, self.ids)
            self._faiss = index
        return self._faiss

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, community ids) for each query row."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, len(self.ids))
        if k == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        return self.faiss_index.search(queries, k)

    def scores(self, queries: np.ndarray) -> np.ndarray:
        """Cosine of every indexed community with every query: shape (queries, communities)."""
        return np.atleast_2d(queries).astype(np.float32) @ self.vectors.T

    def vectors_for(self, community_ids: list[int]) -> np.ndarray:
        rows = [self.position[i] for i in community_ids if i in self.position]
        return self.vectors[rows] if rows else np.zeros((0, self.dim), np.float32)

    # --- writing ---------------------------------------------------------------------------------------
    def _replace(self, ids: np.ndarray, vectors: np.ndarray, hashes: np.ndarray) -> None:
        self.ids, self.vectors, self.hashes = ids, np.ascontiguousarray(vectors, np.float32), hashes
        self._faiss = None
        self._position = None

    def save(self) -> None:
        """Write atomically: a crash mid-save leaves the previous index, never a torn one."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp_index = self.folder / "communities.faiss.tmp"
        faiss.write_index(self.faiss_index, str(tmp_index))
        tmp_meta = self.folder / "communities.meta.npz.tmp"
        with open(tmp_meta, "wb") as fh:
            np.savez(fh, ids=self.ids, hashes=self.hashes)
        meta = {"format": INDEX_FORMAT, "model": self.model, "dim": self.dim, "count": len(self.ids),
                "data_version": self.data_version, "database_id": self.database_id}
        tmp_json = self.folder / "communities.json.tmp"
        tmp_json.write_text(json.dumps(meta))
        os.replace(tmp_index, self.folder / "communities.faiss")
        os.replace(tmp_meta, self.folder / "communities.meta.npz")
        os.replace(tmp_json, self.folder / "communities.json")


def load_index(folder: Path, *, model: str, dim: int = 384) -> CommunityIndex:
    """Read the persisted index; a missing, torn or other-model index loads empty (a sync refills it)."""
    meta_path = folder / "communities.json"
    empty = CommunityIndex(folder=folder, model=model, dim=dim, vectors=np.zeros((0, dim), np.float32))
    try:
        with folder_lock(folder):
            meta = json.loads(meta_path.read_text())
            if meta.get("model") != model or meta.get("format") != INDEX_FORMAT:
                return empty
            index = faiss.read_index(str(folder / "communities.faiss"))
            with np.load(folder / "communities.meta.npz") as side:
                ids, hashes = side["ids"], side["hashes"]
    except (OSError, ValueError, RuntimeError, KeyError):
        return empty
    d = index.d
    stored_ids = faiss.vector_to_array(index.id_map).astype(np.int64)
    codes = faiss.vector_to_array(faiss.downcast_index(index.index).codes)
    vectors = codes.view(np.float32).reshape(-1, d)
    if len(stored_ids) != len(ids) or not np.array_equal(stored_ids, ids) or len(hashes) != len(ids):
        return empty
    loaded = CommunityIndex(folder=folder, model=model, dim=d, data_version=int(meta.get("data_version", -1)),
                            database_id=str(meta.get("database_id", "")))
    loaded._replace(ids, vectors, hashes)
    loaded._faiss = index
    return loaded


@dataclass
class SyncReport:
    added: int = 0
    removed: int = 0
    embedded: int = 0
    total: int = 0


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
        index._replace(np.zeros(0, np.int64), np.zeros((0, index.dim), np.float32), np.zeros(0, "S64"))
        index.database_id, index.data_version = database_id, -1
    report = SyncReport(total=len(index))
    if not force and index.data_version == data_version:
        return report
    rows = session.exec(select(Community.id, Community.content_hash)).all()
    wanted = {int(i): (h or "").encode() for i, h in rows}
    current = {int(i): h for i, h in zip(index.ids.tolist(), index.hashes.tolist(), strict=True)}
    stale = [i for i, h in current.items() if wanted.get(i) != h]
    fresh = [i for i, h in wanted.items() if current.get(i) != h]
    if stale or fresh:
        keep = np.array([wanted.get(int(i)) == h for i, h in zip(index.ids, index.hashes, strict=True)], bool)
        ids, vectors, hashes = index.ids[keep], index.vectors[keep], index.hashes[keep]
        if fresh:
            new_vectors, embedded = _vectors_for(fresh, session=session, service=service, progress=progress,
                                                 model=index.model)
            report.embedded = embedded
            ids = np.concatenate([ids, np.array(fresh, dtype=np.int64)])
            vectors = np.concatenate([vectors, new_vectors]) if len(vectors) else new_vectors
            hashes = np.concatenate([hashes, np.array([wanted[i] for i in fresh], dtype="S64")])
        if len(vectors):
            index.dim = vectors.shape[1]
        index._replace(ids, vectors.reshape(len(ids), index.dim), hashes)
        report.added, report.removed = len(fresh), len(stale)
    index.data_version = data_version
    with folder_lock(index.folder):
        index.save()
        if stale or fresh or force:
            from recruiter.matching.rank_data import (
                refresh_ranking_data,  # BM25 + neighbour graph: built here, not per query
            )

            refresh_ranking_data(index, session=session)
    report.total = len(index)
    return report


def _vectors_for(
    community_ids: list[int],
    *,
    session: Session,
    service: EmbeddingService | None,
    progress: Callable[[int], None] | None,
    model: str,
) -> tuple[np.ndarray, int]:
    by_id: dict[int, tuple[str, str]] = {}
    for part in chunked(community_ids):
        for community in session.exec(select(Community).where(Community.id.in_(part))).all():
            by_id[community.id] = (community.content_hash, community_text(community))
    embedded = 0
    found = cached_vectors([h for h, _ in by_id.values()], model=model, session=session)
    missing = [(h, t) for h, t in by_id.values() if h not in found]
    if missing:
        service = service or get_embedding_service(model)
        embedded = service.ensure_cached(missing, session=session, progress=progress)
        found.update(cached_vectors([h for h, _ in missing], model=model, session=session))
    vectors = np.stack([found[by_id[i][0]] for i in community_ids]).astype(np.float32)
    return vectors, embedded


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
    return get_index(session_url(session), session=session, model=embedding_model_name(), progress=progress)


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

    session_index(session, progress=step)
    return done[0]


@dataclass(frozen=True)
class IndexStatus:
    communities: int
    vectors: int
    model: str
    in_sync: bool


def index_status(*, session: Session) -> IndexStatus:
    """How many communities the database and the persisted index hold, and whether they agree (no sync)."""
    count = session.exec(select(func.count()).select_from(Community)).one()
    version = current_data_version(session=session)
    index = load_index(index_dir(session_url(session)), model=embedding_model_name())
    return IndexStatus(communities=int(count), vectors=len(index), model=index.model,
                       in_sync=index.data_version == version and len(index) == count)


def rebuild_index(*, session: Session, progress: Callable[[int], None] | None = None) -> SyncReport:
    """Rebuild the index from the database (vectors from the cache; only texts the cache lacks are embedded)."""
    fresh = CommunityIndex(folder=index_dir(session_url(session)), model=embedding_model_name(), dim=384)
    report = sync_index(fresh, session=session, force=True, progress=progress)
    forget_loaded_indexes()
    return report
