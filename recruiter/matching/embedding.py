"""The one embedding service: texts to normalized vectors, batched by length, cached by (model, text digest).

The model is named by `RECRUITER_MODEL` (the packaged all-MiniLM-L6-v2 by default) and run by a backend from
`recruiter.matching.backends`; weights never come from a model hub at run time. Vectors are cached in the
database by a digest of (model, text), so an unchanged community is never embedded twice and the index can be
rebuilt from the cache alone. Tests inject a backend with `install_service` (like an httpx transport).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np
from sqlmodel import Session, select

from recruiter.core.db import chunked
from recruiter.core.models import Community, EmbeddingCache
from recruiter.core.text import community_text
from recruiter.matching.backends import EmbeddingBackend, backend_for, model_key

COMMIT_EVERY = 512  # texts embedded between two commits of the cache


class EmbeddingService:
    """Turns texts into unit-length float32 vectors. Thread-safe; the backend loads on first use."""

    def __init__(self, model_name: str | None = None, batch_size: int = 32,
                 backend: EmbeddingBackend | None = None) -> None:
        self.model_name = model_key(model_name)
        self.batch_size = batch_size
        self._backend = backend
        self._lock = threading.Lock()

    @property
    def backend(self) -> EmbeddingBackend:
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = backend_for(self.model_name)
        return self._backend

    @property
    def dimension(self) -> int:
        return int(self.backend.dimension)

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Encode texts, longest-first in batches (less padding), returned in input order."""
        backend = self.backend
        if not texts:
            return np.zeros((0, backend.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), backend.dimension), dtype=np.float32)
        with self._lock:
            for idx in chunked(order, self.batch_size * 8):
                out[idx] = backend.encode([texts[i] for i in idx], batch_size=self.batch_size)
                if progress:
                    progress(len(idx))
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """A handful of short query texts, with the least latency (see the backend)."""
        texts = list(texts)
        if not texts or len(texts) > 16:
            return self.encode(texts)
        backend = self.backend
        with self._lock:
            return backend.encode_queries(texts)

    def ensure_cached(
        self,
        items: Sequence[tuple[str, str]],
        *,
        session: Session,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Make sure every (content_hash, text) has a cached vector; embed only the missing ones.

        Returns how many texts were embedded. Commits every `COMMIT_EVERY` texts so an interrupted run keeps its
        work (a killed import resumes where it stopped)."""
        wanted = {h: t for h, t in items}
        if not wanted:
            return 0
        have = cached_hashes(list(wanted), model=self.model_name, session=session)
        missing = [(h, t) for h, t in wanted.items() if h not in have]
        if progress and len(have):
            progress(len(wanted) - len(missing))
        for part in chunked(missing, COMMIT_EVERY):
            vectors = self.encode([t for _, t in part], progress=progress)
            store_vectors([h for h, _ in part], vectors, model=self.model_name, session=session)
        return len(missing)


def store_vectors(hashes: Sequence[str], vectors: np.ndarray, *, model: str, session: Session) -> None:
    """Write (content hash, vector) rows of one model to the cache and commit.

    A row another process wrote since we looked is kept, not an error: it holds the same text's vector from the
    same model. That happens when two commands embed the same new communities at once, or when the fast model's
    adapter fills MiniLM's rows for its sample while a MiniLM import embeds the same communities."""
    if not len(hashes):
        return
    table = EmbeddingCache.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:  # pragma: no cover - the two databases we support
        insert = None
    statement = insert(table).on_conflict_do_nothing() if insert is not None else table.insert()
    session.execute(statement, [{"content_hash": h, "model": model, "vector": v.tobytes()}
                                for h, v in zip(hashes, vectors, strict=True)])
    session.commit()


def texts_by_hash(listed: dict[int, str], *, session: Session) -> dict[str, str]:
    """Content hash -> the text a community is embedded by, for the communities `listed` (id -> the content hash
    it had when listed). One whose text changed since is left out: the next sync embeds its new text."""
    columns = (Community.id, Community.content_hash, Community.name, Community.title, Community.description,
               Community.recent_posts)
    texts: dict[str, str] = {}
    for part in chunked(list(listed)):
        for community_id, now, name, title, description, posts in session.exec(
                select(*columns).where(Community.id.in_(part))).all():
            if now == listed[community_id]:
                texts.setdefault(now, community_text({"name": name, "title": title, "description": description,
                                                      "recent_posts": posts}))
    return texts


def cached_hashes(hashes: list[str], *, model: str, session: Session) -> set[str]:
    found: set[str] = set()
    for part in chunked(hashes):
        found.update(
            session.exec(
                select(EmbeddingCache.content_hash).where(
                    EmbeddingCache.model == model, EmbeddingCache.content_hash.in_(part)
                )
            ).all()
        )
    return found


def cached_vectors(hashes: list[str], *, model: str, session: Session) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for part in chunked(hashes):
        rows = session.exec(
            select(EmbeddingCache.content_hash, EmbeddingCache.vector).where(
                EmbeddingCache.model == model, EmbeddingCache.content_hash.in_(part)
            )
        ).all()
        for h, blob in rows:
            out[h] = np.frombuffer(blob, dtype=np.float32)
    return out


_services: dict[str, EmbeddingService] = {}
_services_lock = threading.Lock()


def get_embedding_service(model_name: str | None = None) -> EmbeddingService:
    """The process-wide service for a model (loading a model twice costs seconds and hundreds of MB)."""
    name = model_key(model_name)
    with _services_lock:
        if name not in _services:
            _services[name] = EmbeddingService(name)
        return _services[name]


def install_service(service: EmbeddingService) -> EmbeddingService | None:
    """Make `service` the process-wide one for its model name (tests inject a backend this way); returns the
    service it replaced, if any, so it can be put back."""
    with _services_lock:
        previous = _services.get(service.model_name)
        _services[service.model_name] = service
        return previous


def forget_services() -> None:
    with _services_lock:
        _services.clear()
