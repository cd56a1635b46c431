"""Reading the saved arrays of an index generation (vectors, hashes, BM25 counts, the neighbour graph).

One rule for all of them: an array larger than `MMAP_FROM_BYTES` is memory-mapped rather than read, so a
million-community index opens in a fraction of a second and only the pages a query touches are read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MMAP_FROM_BYTES = 32 << 20  # arrays larger than this are memory-mapped rather than read


def load_array(path: Path) -> np.ndarray:
    """A saved array, memory-mapped when large. Handed out as a plain ndarray view of the map: np.memmap's own
    slicing wraps every result in a new memmap object, which costs more than the arithmetic on small slices."""
    if path.stat().st_size >= MMAP_FROM_BYTES:
        return np.load(path, mmap_mode="r", allow_pickle=False).view(np.ndarray)
    return np.load(path, allow_pickle=False)


__all__ = ["MMAP_FROM_BYTES", "load_array"]
