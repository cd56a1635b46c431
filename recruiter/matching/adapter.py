"""The fast model's catalogue adapter: a linear map from the static model's vectors into all-MiniLM-L6-v2's
space, fitted on a sample of this catalogue's own texts, and kept beside the static vector.

Why: the fast model knows each word piece alone, while MiniLM reads the pieces in context; the static vectors
lose most where a catalogue's texts are alike in words but not in meaning. A ridge regression from the fast
vectors of a few thousand of the catalogue's texts to MiniLM's vectors of the same texts recovers part of
that, for every other text too, at the cost of one matrix product per vector. Fitting on the user's own
catalogue is what makes it work: the same map fitted on generic text (bags of the tokenizer's words) measured
worse than no map at all, and no generic corpus ships with the package anyway.

How: when a fast index syncs with at least `ADAPT_FROM` communities and has no adapter yet (or the catalogue
has grown `REFIT_GROWTH` times since the fit), `ADAPT_SAMPLE` distinct texts are embedded by both models and
the map solved. The sample is the texts with the smallest content hashes: uniform, deterministic, and mostly
the same sample as the catalogue grows. MiniLM's vectors go through the embedding cache, so a refit (or a
later switch to MiniLM) never embeds a text twice; this is the one step of a fast import that runs the neural
model (2,000 texts: 20-60 s on two cores), once per fourfold growth.

What the index stores, for every community and passage: the static vector and its mapped one side by side,
each scaled by 1/sqrt(2), `[raw, normalize(raw @ W)] / sqrt(2)`. Queries go through the same step, so every
cosine the ranking computes is the mean of the static cosine and the mapped one. The mean measured better than
the mapped vectors alone: the map, fitted on a few thousand texts, smooths away some of what the static vector
says about rare, specific words. W (256 x 384) has rank 256 at most, so it is kept as `U S` of its SVD
`U S Vt`: the same dot products (Vt only rotates) in 256 dimensions instead of 384, so the index holds 512 per
community instead of 640 (a fifth less to copy and search at a million). The raw fast vectors stay in the
embedding cache under the fast key, so a refit re-maps them without re-encoding.

Measured: README "Models, speed and scale" (`benchmarks/fitbench_run.py` with RECRUITER_MODEL=fast).
`RECRUITER_FAST_ADAPT=off` keeps the raw fast vectors (no neural model runs at all).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlmodel import Session

from recruiter.core.config import DEFAULT_MODEL
from recruiter.matching.backends import FAST_MODELS, normalized_rows
from recruiter.matching.embedding import EmbeddingService, cached_vectors, get_embedding_service, texts_by_hash

ADAPT_FROM = 1000  # communities before a catalogue gets its own map (fewer texts would over-fit it)
ADAPT_SAMPLE = 2000  # texts the map is fitted on
REFIT_GROWTH = 4  # refit once the catalogue is this many times the size it was fitted on
RIDGE = 0.1  # the ridge penalty (the fast vectors are unit length: their Gram matrix has trace = sample size)
TEACHER = DEFAULT_MODEL
FILE, META = "adapter.npy", "adapter.json"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Adapter:
    """The map (fast dims x fast dims: `U S` of W's SVD) and what it was fitted on; `apply` gives the index's
    vectors."""

    matrix: np.ndarray
    fitted_on: int  # communities in the catalogue at the fit
    sample: int  # texts the fit used
    teacher: str = TEACHER

    @property
    def dim(self) -> int:
        """The dimension of the index's vectors: the static vector and its mapped one, side by side."""
        return int(self.matrix.shape[0] + self.matrix.shape[1])

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """Raw fast vectors -> `[raw, normalize(raw @ W)] / sqrt(2)`: unit vectors whose dot products are the
        mean of the two cosines (a zero row stays zero)."""
        raw = normalized_rows(np.asarray(vectors, dtype=np.float32))
        return np.hstack([raw, normalized_rows(raw @ self.matrix)]) * np.float32(np.sqrt(0.5))

    def save(self, folder: Path) -> None:
        np.save(folder / FILE, self.matrix.astype(np.float32))
        (folder / META).write_text(json.dumps({"fitted_on": self.fitted_on, "sample": self.sample,
                                               "teacher": self.teacher, "ridge": RIDGE}))


def load_adapter(folder: Path | None) -> Adapter | None:
    """The adapter saved in an index generation, if it has one."""
    if folder is None or not (folder / META).is_file() or not (folder / FILE).is_file():
        return None
    meta = json.loads((folder / META).read_text())
    return Adapter(matrix=np.load(folder / FILE, allow_pickle=False), fitted_on=int(meta["fitted_on"]),
                   sample=int(meta["sample"]), teacher=str(meta.get("teacher", TEACHER)))


def adapts(model: str) -> bool:
    """Whether an index of this model gets a catalogue adapter (the fast model, unless switched off)."""
    setting = os.environ.get("RECRUITER_FAST_ADAPT", "on").strip().lower()
    return model in FAST_MODELS and setting not in ("0", "off", "no", "false")


def needs_fit(adapter: Adapter | None, count: int) -> bool:
    if count < ADAPT_FROM:
        return False
    return adapter is None or count >= REFIT_GROWTH * adapter.fitted_on


def sample_positions(hashes: np.ndarray, size: int | None = None) -> np.ndarray:
    """Positions of the `size` (ADAPT_SAMPLE) distinct content hashes that sort first, one position per hash."""
    _, first = np.unique(hashes, return_index=True)  # sorted by hash
    return np.sort(first[:ADAPT_SAMPLE if size is None else size])


def fit_adapter(ids: np.ndarray, hashes: np.ndarray, *, session: Session, model: str,
                service: EmbeddingService | None = None) -> Adapter | None:
    """Fit the map on a sample of the given communities (the database's ids and content hashes, aligned).

    Returns None (the index stays on raw fast vectors) when the teacher model cannot run here: the fast mode
    must keep working on a machine where only the static model is usable."""
    positions = sample_positions(hashes)
    texts = texts_by_hash({int(ids[p]): hashes[p].decode() for p in positions}, session=session)
    if len(texts) < min(ADAPT_FROM, len(positions)) // 2:
        return None
    order = list(texts)
    try:
        teacher = get_embedding_service(TEACHER)
        teacher.ensure_cached([(h, texts[h]) for h in order], session=session)
    except Exception as exc:  # any failure of the optional teacher leaves the fast mode as it was
        session.rollback()
        log.warning("the fast model stays unadapted: %s could not run (%s)", TEACHER, exc)
        return None
    found = cached_vectors(order, model=teacher.model_name, session=session)
    order = [h for h in order if h in found]
    targets = np.stack([found[h] for h in order]).astype(np.float64)
    inputs = (service or get_embedding_service(model)).encode([texts[h] for h in order]).astype(np.float64)
    gram = inputs.T @ inputs + RIDGE * np.eye(inputs.shape[1])
    w = np.linalg.solve(gram, inputs.T @ targets)
    u, singular, _ = np.linalg.svd(w, full_matrices=False)  # x @ W and x @ (U S) have the same dot products
    matrix = (u * singular).astype(np.float32)
    return Adapter(matrix=matrix, fitted_on=len(ids), sample=len(order), teacher=teacher.model_name)


__all__ = ["ADAPT_FROM", "ADAPT_SAMPLE", "REFIT_GROWTH", "Adapter", "adapts", "fit_adapter", "load_adapter",
           "needs_fit", "sample_positions"]
