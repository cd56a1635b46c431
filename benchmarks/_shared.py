"""Helpers for benchmarks: where ../shared is, and a clean data dir per run."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    """The read-only shared data (../shared beside the repo, or $RECRUITER_SHARED); None when absent."""
    for candidate in (os.environ.get("RECRUITER_SHARED"), REPO.parent / "shared"):
        if candidate and Path(candidate, "datasets").is_dir():
            return Path(candidate)
    return None


def require_shared(what: str) -> Path:
    shared = shared_dir()
    if shared is None:
        print(f"skipped: {what} needs ../shared (or RECRUITER_SHARED); not present here")
        sys.exit(0)
    return shared


def fresh_home(prefix: str) -> Path:
    home = Path(tempfile.mkdtemp(prefix=f"recruiter-{prefix}-"))
    os.environ["RECRUITER_HOME"] = str(home)
    os.environ.pop("RECRUITER_DB", None)
    return home


def recruiter_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("recruiter")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "recruiter.cli"]


SYNTHETIC_WORDS = ["coffee", "espresso", "yoga", "running", "trail", "plants", "houseplants", "budget", "freelance", "games", "indie", "comics", "law", "landlord", "tax", "beer", "brewing", "baking", "sourdough", "podcast", "news", "politics", "fitness", "design", "photo", "music"]
SYNTHETIC_KINDS = ["subreddit", "podcast", "blog", "youtube", "newsletter", "forum"]


def insert_synthetic_communities(n: int, *, session) -> None:
    """Insert n synthetic communities with cached vectors (real-looking clusters plus noise).

    The vectors go straight into the embedding cache, so building the index costs no model time and a
    100,000-community database is ready in seconds; the caller syncs the index (as an import would)."""
    import numpy as np

    from recruiter.core.config import embedding_model_name
    from recruiter.core.db import bump_data_version
    from recruiter.core.models import Community, EmbeddingCache
    from recruiter.core.text import content_hash

    rng = np.random.default_rng(7)
    words = SYNTHETIC_WORDS
    base = rng.standard_normal((256, 384)).astype(np.float32)
    model = embedding_model_name()
    rows, cache = [], []
    for i in range(n):
        name = f"{words[i % len(words)]} {words[(i * 7) % len(words)]} community {i}"
        text = f"{name}\nSynthetic community number {i} about {words[(i * 3) % len(words)]}."
        digest = content_hash(text, model)
        vector = base[i % 256] + 0.6 * rng.standard_normal(384).astype(np.float32)
        vector /= np.linalg.norm(vector)
        rows.append({"url": f"https://c{i}.example.com", "kind": SYNTHETIC_KINDS[i % len(SYNTHETIC_KINDS)],
                     "name": name, "title": "", "description": text.split("\n", 1)[1],
                     "audience_size": int(rng.integers(0, 10**6)), "recent_posts": [], "emails": [], "socials": [],
                     "extra": {}, "source": "bench", "content_hash": digest})
        cache.append({"content_hash": digest, "model": model, "vector": vector.tobytes()})
    for start in range(0, n, 5000):
        session.execute(Community.__table__.insert(), rows[start:start + 5000])
        session.execute(EmbeddingCache.__table__.insert(), cache[start:start + 5000])
    session.commit()
    bump_data_version(session=session)
