"""BM25 over the communities' own words, persisted beside the faiss index.

Dense vectors know that "yoga" is close to "stretching"; they blur rare, literal names ("r/Homebrewing",
"Kubernetes") that a merchant types on purpose. BM25 over the same text the vectors come from (name, title,
description, recent post titles) keeps those literal matches. The per-(document, term) BM25 weights are
computed once when the index is synced and stored as a sparse matrix, so a query costs one sparse column sum
(milliseconds over 100,000 communities), never a rebuild.

Words are lower-cased, stop words dropped, stemmed with the Snowball English stemmer (PyStemmer), and a
community's CamelCase name is also split ("HomeBrewing" -> "home brewing") so subreddit names match words.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import Stemmer

from recruiter.core.arrays import load_array
from recruiter.core.text import STOP_WORDS, words

if TYPE_CHECKING:
    from scipy import sparse

LEXICAL_FORMAT = 2
K1 = 1.2
B = 0.75

_stemmer = Stemmer.Stemmer("english")
_stem_lock = threading.Lock()
_CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def split_camel(text: str) -> str:
    """'HomeBrewing AskNetsec' -> 'Home Brewing Ask Netsec' (the original words are kept by the caller)."""
    return _CAMEL_RE.sub(" ", text)


def tokens(text: str) -> list[str]:
    """Stemmed content words of a text, in order, repeats kept (BM25 counts them)."""
    raw = [w for w in words(text) if len(w) >= 2 and w not in STOP_WORDS and not w.isdigit()]
    with _stem_lock:  # PyStemmer objects are not thread-safe
        return _stemmer.stemWords(raw)


def document_tokens(name: str, text: str) -> list[str]:
    split = split_camel(name or "")
    extra = tokens(split) if split != (name or "") else []
    return tokens(text) + extra


class Compressed(NamedTuple):
    """A CSC or CSR matrix as its three arrays (possibly memory-mapped): what a query needs, without scipy.
    scipy.sparse costs a tenth of a second to import, which a cold `rank` does not pay."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]


def _csr(matrix) -> sparse.csr_matrix:
    from scipy import sparse

    if isinstance(matrix, Compressed):
        return sparse.csr_matrix((matrix.data, matrix.indices, matrix.indptr), shape=matrix.shape)
    return sparse.csr_matrix(matrix)


@dataclass
class LexicalIndex:
    """BM25 weights as a (documents x terms) CSC matrix; row i is the community at position i of the index."""

    vocabulary: dict[str, int]
    weights: sparse.csc_matrix | Compressed
    idf: np.ndarray
    stamp: str = ""
    # Term counts per row and which (community, content hash) each row is: the next sync re-tokenizes only
    # new or changed communities and recomputes the weights from these counts (idf changes with every row).
    counts: sparse.csr_matrix | Compressed | None = None
    row_ids: np.ndarray | None = None
    row_hashes: np.ndarray | None = None

    def __len__(self) -> int:
        return self.weights.shape[0]

    def query_terms(self, text: str) -> list[str]:
        return [t for t in dict.fromkeys(tokens(text)) if t in self.vocabulary]

    def scores(self, text: str | Sequence[str], term_weights: dict[str, float] | None = None) -> np.ndarray:
        """BM25 score of every document for the query (each distinct query term counted once)."""
        terms = self.query_terms(text) if isinstance(text, str) else [t for t in text if t in self.vocabulary]
        out = np.zeros(len(self), dtype=np.float32)
        if not terms:
            return out
        data, indices, indptr = self.weights.data, self.weights.indices, self.weights.indptr
        for term in terms:  # a column's rows are distinct: a fancy-indexed add is exact
            column = self.vocabulary[term]
            start, end = int(indptr[column]), int(indptr[column + 1])
            weight = term_weights.get(term, 1.0) if term_weights else 1.0
            out[indices[start:end]] += weight * np.asarray(data[start:end], dtype=np.float32)
        return out

    # --- persistence ----------------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Arrays as .npy files (memory-mapped when read back: a query reads only its terms' columns), the
        vocabulary and stamp in lexical.json, written last."""
        folder.mkdir(parents=True, exist_ok=True)
        n = self.weights.shape[0]
        counts = self.counts if self.counts is not None else Compressed(
            np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(n + 1, np.int32), self.weights.shape)
        arrays = {"weights_data": self.weights.data, "weights_indices": self.weights.indices,
                  "weights_indptr": self.weights.indptr, "idf": self.idf, "counts_data": counts.data,
                  "counts_indices": counts.indices, "counts_indptr": counts.indptr}
        if self.row_ids is not None:
            arrays["row_ids"] = self.row_ids
        if self.row_hashes is not None:
            arrays["row_hashes"] = self.row_hashes
        for name, array in arrays.items():
            np.save(folder / f"lexical_{name}.npy", np.asarray(array))
        tmp = folder / f"lexical.json.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"format": LEXICAL_FORMAT, "stamp": self.stamp, "shape": [n, self.weights.shape[1]],
                                   "arrays": sorted(arrays), "vocabulary": list(self.vocabulary)}))
        os.replace(tmp, folder / "lexical.json")


def count_documents(documents: Iterable[list[str]], vocabulary: dict[str, int]) -> sparse.csr_matrix:
    """Term counts of tokenized documents; new terms are appended to `vocabulary`."""
    from scipy import sparse

    rows: list[int] = []
    cols: list[int] = []
    counts: list[int] = []
    n = 0
    for row, doc in enumerate(documents):
        n = row + 1
        tf: dict[int, int] = {}
        for term in doc:
            col = vocabulary.setdefault(term, len(vocabulary))
            tf[col] = tf.get(col, 0) + 1
        rows.extend([row] * len(tf))
        cols.extend(tf)
        counts.extend(tf.values())
    return sparse.csr_matrix((np.array(counts, dtype=np.float32), (np.array(rows, dtype=np.int64),
                              np.array(cols, dtype=np.int64))), shape=(n, len(vocabulary)))


def _weights(counts: sparse.csr_matrix) -> tuple[sparse.csc_matrix, np.ndarray]:
    """BM25 (k1=1.2, b=0.75, Lucene idf) weights from term counts (on the CSR arrays: no COO copy)."""
    from scipy import sparse

    counts = _csr(counts)
    n, width = counts.shape
    tf = np.asarray(counts.data, dtype=np.float32)
    cols = np.asarray(counts.indices)
    per_row = np.diff(counts.indptr)
    length = np.asarray(counts.sum(axis=1)).ravel().astype(np.float32) if n else np.zeros(0, np.float32)
    avg = float(length.mean()) if n else 1.0
    df = np.bincount(cols, minlength=width).astype(np.float32)
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
    norm = K1 * (1 - B + B * np.repeat(length, per_row) / (avg or 1.0))
    values = (idf[cols] * tf * (K1 + 1) / (tf + norm)).astype(np.float32)
    weights = sparse.csr_matrix((values, cols, counts.indptr), shape=(n, width)).tocsc()
    return weights, idf


def build_lexical(documents: Iterable[list[str]], *, stamp: str = "", row_ids: np.ndarray | None = None,
                  row_hashes: np.ndarray | None = None) -> LexicalIndex:
    """BM25 index of tokenized documents (row i = document i)."""
    vocabulary: dict[str, int] = {}
    counts = count_documents(documents, vocabulary)
    weights, idf = _weights(counts)
    return LexicalIndex(vocabulary=vocabulary, weights=weights, idf=idf, stamp=stamp, counts=counts,
                        row_ids=row_ids, row_hashes=row_hashes)


def reusable_rows(previous: LexicalIndex | None, ids: np.ndarray, hashes: np.ndarray) -> dict[int, int]:
    """Index position -> row of `previous` for every community whose text is unchanged."""
    if previous is None or previous.counts is None or previous.row_ids is None or previous.row_hashes is None:
        return {}
    old = {(int(i), bytes(h)): r for r, (i, h) in enumerate(zip(previous.row_ids.tolist(),
                                                                 previous.row_hashes.tolist(), strict=True))}
    out = {}
    for p, (i, h) in enumerate(zip(ids.tolist(), hashes.tolist(), strict=True)):
        r = old.get((int(i), bytes(h)))
        if r is not None:
            out[p] = r
    return out


def update_lexical(previous: LexicalIndex, reuse: dict[int, int], new_documents: dict[int, list[str]], *,
                   ids: np.ndarray, hashes: np.ndarray, stamp: str) -> LexicalIndex:
    """The index for `ids` (in that order): counts of reused rows copied, `new_documents` (position -> tokens)
    counted, weights recomputed for all."""
    from scipy import sparse

    vocabulary = dict(previous.vocabulary)
    new_positions = sorted(new_documents)
    fresh = count_documents([new_documents[p] for p in new_positions], vocabulary)
    width = len(vocabulary)
    kept_positions = sorted(reuse)
    kept = _csr(previous.counts)[[reuse[p] for p in kept_positions]] if kept_positions else None
    blocks = []
    if kept is not None:
        kept = sparse.csr_matrix((kept.data, kept.indices, kept.indptr), shape=(kept.shape[0], width))
        blocks.append(kept)
    if fresh.shape[0]:
        blocks.append(sparse.csr_matrix((fresh.data, fresh.indices, fresh.indptr), shape=(fresh.shape[0], width)))
    stacked = sparse.vstack(blocks, format="csr") if blocks else sparse.csr_matrix((0, width), dtype=np.float32)
    order = np.empty(len(ids), dtype=np.int64)
    order[kept_positions] = np.arange(len(kept_positions))
    order[new_positions] = len(kept_positions) + np.arange(len(new_positions))
    counts = stacked[order] if len(ids) else stacked
    weights, idf = _weights(counts)
    return LexicalIndex(vocabulary=vocabulary, weights=weights, idf=idf, stamp=stamp, counts=counts.tocsr(),
                        row_ids=np.asarray(ids, dtype=np.int64), row_hashes=np.asarray(hashes, dtype="S64"))


def load_lexical(folder: Path, *, stamp: str | None) -> LexicalIndex | None:
    """The persisted lexical index when it was built for exactly this stamp (any stamp with None)."""
    try:
        meta = json.loads((folder / "lexical.json").read_text())
        if meta.get("format") != LEXICAL_FORMAT or (stamp is not None and meta.get("stamp") != stamp):
            return None
        z = {name: load_array(folder / f"lexical_{name}.npy") for name in meta["arrays"]}
        shape = tuple(int(x) for x in meta["shape"])
        weights = Compressed(z["weights_data"], z["weights_indices"], z["weights_indptr"], shape)
        counts = Compressed(z["counts_data"], z["counts_indices"], z["counts_indptr"], shape)
        if len(weights.indptr) != shape[1] + 1 or len(counts.indptr) != shape[0] + 1:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    vocabulary = {t: i for i, t in enumerate(meta["vocabulary"])}
    return LexicalIndex(vocabulary=vocabulary, weights=weights, idf=z["idf"], stamp=meta.get("stamp", ""),
                        counts=counts, row_ids=z.get("row_ids"), row_hashes=z.get("row_hashes"))


def stack_counts(previous: sparse.csr_matrix | Compressed | None, kept_rows: np.ndarray, fresh: list[sparse.csr_matrix],
                 width: int) -> sparse.csr_matrix:
    """Counts of the new rows: `previous` rows `kept_rows` (in order), then the fresh blocks, `width` terms."""
    from scipy import sparse

    blocks = []
    if previous is not None and len(kept_rows):
        kept = _csr(previous)
        if not (len(kept_rows) == kept.shape[0] and np.array_equal(kept_rows, np.arange(len(kept_rows)))):
            kept = kept[kept_rows]  # rows removed or changed: select; else every row is kept as it is
        blocks.append(sparse.csr_matrix((kept.data, kept.indices, kept.indptr), shape=(kept.shape[0], width)))
    for block in fresh:
        if block.shape[0]:
            blocks.append(sparse.csr_matrix((block.data, block.indices, block.indptr), shape=(block.shape[0], width)))
    if not blocks:
        return sparse.csr_matrix((0, width), dtype=np.float32)
    return sparse.vstack(blocks, format="csr").astype(np.float32)


def lexical_from_counts(counts: sparse.csr_matrix, vocabulary: dict[str, int], *, stamp: str) -> LexicalIndex:
    weights, idf = _weights(counts)
    return LexicalIndex(vocabulary=vocabulary, weights=weights, idf=idf, stamp=stamp, counts=counts)


def index_stamp(ids: np.ndarray, hashes: np.ndarray) -> str:
    """Which (community, content) rows, in which order, a lexical index was built for."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(ids, dtype=np.int64).tobytes())
    for start in range(0, len(hashes), 65_536):  # in blocks: `hashes` may be a memory-mapped million rows
        digest.update(np.ascontiguousarray(hashes[start:start + 65_536], dtype="S64").tobytes())
    return digest.hexdigest()


__all__ = [
    "LexicalIndex",
    "build_lexical",
    "count_documents",
    "document_tokens",
    "index_stamp",
    "lexical_from_counts",
    "load_lexical",
    "reusable_rows",
    "split_camel",
    "stack_counts",
    "tokens",
    "update_lexical",
]
