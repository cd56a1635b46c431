"""The fast model's recipe (its post-processing, its versioned key) and the background load of a model.

The fast tier runs these without the real fast model: the recipe's arithmetic runs on random piece vectors, and
the key's bookkeeping on an injected hashing service registered under the fast model's key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from sqlmodel import select

from recruiter.matching.artifacts import FAST_DIMS, FAST_DROP_TOP, FAST_VERSION, fast_embeddings
from recruiter.matching.backends import FAST_KEY, HashingBackend, model_key
from recruiter.matching.embedding import EmbeddingService, install_service

HEAVY = ("torch", "transformers", "sentence_transformers", "model2vec")


def _pieces(rows: int = 1500, dims: int = FAST_DIMS + 40, seed: int = 7) -> np.ndarray:
    """Stand-in piece vectors: a shared offset and a few dominant directions, like a real model's."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(rows, dims)) * np.linspace(4.0, 0.5, dims) + 3.0 * rng.normal(size=dims)


def test_the_fast_recipe_is_deterministic() -> None:
    raw = _pieces()
    first, second = fast_embeddings(raw), fast_embeddings(raw.copy())
    assert first.dtype == np.float32 and first.shape == (len(raw), FAST_DIMS)
    assert np.array_equal(first, second)  # the same weights always give the same model (and the same cache key)


def test_the_fast_recipe_drops_the_leading_components_and_weights_frequent_pieces_down() -> None:
    raw = _pieces()
    raw[-1] = raw[0]  # the same piece vector as the most frequent id and as the rarest
    out = fast_embeddings(raw).astype(np.float64)
    centred = raw - raw.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    inverse_rank = 1.0 / np.arange(2, len(raw) + 2)
    weights = 1e-4 / (1e-4 + inverse_rank / inverse_rank.sum())
    projection = np.linalg.lstsq(centred, out / weights[:, None], rcond=None)[0]  # out = weights * centred @ P
    assert np.allclose(centred @ projection, out / weights[:, None], atol=1e-3)
    dropped = components[:FAST_DROP_TOP] @ projection  # what the kept dimensions hold of the top components
    assert np.abs(dropped).max() < 1e-6
    kept = components[FAST_DROP_TOP:FAST_DROP_TOP + FAST_DIMS] @ projection
    assert np.allclose(np.abs(np.linalg.det(kept)), 1.0, atol=1e-6)  # the next FAST_DIMS, rotated at most
    assert np.linalg.norm(out[0]) < 0.1 * np.linalg.norm(out[-1])  # SIF: a frequent piece counts for less


def test_the_fast_model_is_keyed_by_its_recipe() -> None:
    assert f"fast-{FAST_VERSION}" == FAST_KEY and FAST_VERSION >= 2
    assert model_key("fast") == model_key(FAST_KEY) == FAST_KEY
    assert model_key("all-MiniLM-L6-v2") == "all-MiniLM-L6-v2" and model_key("hashing") == "hashing"
    assert EmbeddingService("fast", backend=HashingBackend()).model_name == FAST_KEY


def test_a_data_dir_of_an_older_fast_recipe_is_re_embedded_never_mixed(cli, db_url, monkeypatch, tmp_path) -> None:
    """A data dir indexed by an older distillation (cache rows and an index folder under `fast`): after the
    upgrade `rank` re-embeds with the current recipe into its own rows and folder, and leaves the old ones."""
    from recruiter.core.config import index_dir
    from recruiter.core.db import open_session
    from recruiter.core.models import EmbeddingCache
    from recruiter.matching.index import forget_loaded_indexes, model_folder_name

    monkeypatch.setenv("RECRUITER_MODEL", "fast")
    monkeypatch.setenv("RECRUITER_MODEL_CACHE", str(tmp_path / "no-models"))  # nothing for the warm-up to load
    previous = install_service(EmbeddingService(FAST_KEY, backend=HashingBackend()))
    try:
        rows = [{"url": "https://www.reddit.com/r/Sourdough/", "name": "r/Sourdough",
                 "description": "sourdough bread baking"},
                {"url": "https://www.reddit.com/r/espresso/", "name": "r/espresso",
                 "description": "espresso machines and grinders"}]
        data = tmp_path / "c.jsonl"
        data.write_text("\n".join(json.dumps(r) for r in rows))
        assert cli("import", data).exit_code == 0
        assert cli("profile", "add", "--name", "bread", "--description", "Sourdough bread baking kits").exit_code == 0
        assert json.loads(cli("rank", "bread", "--format", "json").stdout)[0]["name"] == "r/Sourdough"

        # Make it what recipe 1 left behind: its rows under `fast` (with other vectors), its folder `fast-...`.
        folder = index_dir(db_url)
        current = folder / model_folder_name(FAST_KEY)
        old = folder / model_folder_name("fast")
        assert current.is_dir() and not old.exists()
        current.rename(old)
        meta = json.loads((old / "current.json").read_text())
        (old / "current.json").write_text(json.dumps({**meta, "model": "fast"}))
        junk = np.full(256, 1 / 16, dtype=np.float32).tobytes()
        with open_session(db_url) as session:
            session.execute(EmbeddingCache.__table__.update().values(model="fast", vector=junk))
            session.commit()
        forget_loaded_indexes()

        ranked = json.loads(cli("rank", "bread", "--format", "json").stdout)
        assert ranked[0]["name"] == "r/Sourdough" and ranked[0]["score"] > ranked[1]["score"] + 0.05
        assert current.is_dir() and old.is_dir()  # a new folder for the new recipe; the old one left alone
        assert json.loads((old / "current.json").read_text())["model"] == "fast"
        with open_session(db_url) as session:
            cached = session.exec(select(EmbeddingCache.model, EmbeddingCache.vector)).all()
        by_model = {m: [v for mm, v in cached if mm == m] for m in {m for m, _ in cached}}
        assert set(by_model) == {FAST_KEY, "fast"}
        assert all(v == junk for v in by_model["fast"]) and all(v != junk for v in by_model[FAST_KEY])
        assert FAST_KEY in cli("index", "status").stdout
    finally:
        forget_loaded_indexes()
        if previous is not None:
            install_service(previous)


def test_a_failed_background_load_never_breaks_the_command(cli, monkeypatch, tmp_path) -> None:
    from recruiter.matching import backends

    def broken(model_name: str) -> None:
        raise RuntimeError("the disk is on fire")

    escaped: list[BaseException] = []
    threads: list[threading.Thread] = []
    start = backends.start_loading_model

    def recording_start() -> threading.Thread:
        thread = start()
        threads.append(thread)
        return thread

    monkeypatch.setattr(backends, "prefetch", broken)
    monkeypatch.setattr(backends, "start_loading_model", recording_start)
    monkeypatch.setattr(threading, "excepthook", lambda args: escaped.append(args.exc_value))
    monkeypatch.setenv("RECRUITER_MODEL", "hashing")
    data = tmp_path / "c.jsonl"
    data.write_text(json.dumps({"url": "https://www.reddit.com/r/Sourdough/", "name": "r/Sourdough",
                                "description": "sourdough bread"}))
    assert cli("import", data).exit_code == 0
    assert cli("profile", "add", "--name", "bread", "--description", "Sourdough bread baking kits").exit_code == 0
    result = cli("rank", "bread", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)[0]["name"] == "r/Sourdough"
    for thread in threads:
        thread.join(10)
    assert threads and not any(t.is_alive() for t in threads)
    assert not escaped


def test_a_damaged_model_folder_fails_the_background_load_quietly(monkeypatch, tmp_path) -> None:
    """A prepared folder whose weights are unreadable: the warm-up gives up without a word (the command's own
    load then reports it), and nothing is held for the next load."""
    from recruiter.matching import artifacts, backends

    monkeypatch.setenv("RECRUITER_MODEL_CACHE", str(tmp_path))
    monkeypatch.setenv("RECRUITER_MODEL", "fast")
    monkeypatch.delenv("RECRUITER_EMBEDDING_BACKEND", raising=False)
    monkeypatch.setattr(artifacts, "source_model_path", lambda: tmp_path / "weights")
    # No earlier test's loads in this process: a model the process already loaded itself is never prefetched.
    monkeypatch.setattr(backends, "_asked", set())
    monkeypatch.setattr(backends, "_prefetched", {})
    folder = artifacts.fast_model_dir()
    folder.mkdir(parents=True)
    (folder / artifacts.META).write_text("{}")
    (folder / "config.json").write_text("{}")
    (folder / "embeddings.npy").write_bytes(b"not a numpy file")
    with pytest.raises(Exception):  # noqa: B017 - whatever numpy raises; the point is the warm-up swallows it
        backends.prefetch(FAST_KEY)
    escaped: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: escaped.append(args.exc_value))
    backends.start_loading_model().join(10)
    assert not escaped and not backends._prefetched


@pytest.mark.slow  # a fresh interpreter and the real models
@pytest.mark.parametrize("model", ["fast", "all-MiniLM-L6-v2"])
def test_the_background_load_never_imports_pytorch(model, tmp_path) -> None:
    script = """
import sys
from recruiter.matching import backends
backends.start_loading_model().join(60)
print(len(backends._prefetched), ",".join(m for m in sys.argv[1:] if m in sys.modules) or "none")
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "RECRUITER_"))}
    env.update(RECRUITER_MODEL=model, RECRUITER_HOME=str(tmp_path / "home"))
    result = subprocess.run([sys.executable, "-c", script, *HEAVY], env=env, capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["1", "none"]  # the backend was loaded, and nothing heavy with it


@pytest.mark.slow  # the installed fast model
def test_the_installed_fast_model_is_the_current_recipe() -> None:
    from recruiter.matching.artifacts import META, ensure_fast_model

    folder = ensure_fast_model()
    meta = json.loads((folder / META).read_text())
    assert meta["version"] == FAST_VERSION and meta["dims"] == FAST_DIMS
    assert meta["dropped_components"] == FAST_DROP_TOP
    assert np.load(folder / "embeddings.npy", mmap_mode="r").shape[1] == FAST_DIMS


@pytest.mark.slow  # the installed fast model
def test_bulk_and_query_encoding_of_the_fast_model_agree() -> None:
    """Bulk texts go through a sparse product, a few queries through a numpy gather: the same vectors, with
    unknown pieces ignored and texts of no known piece left at zero."""
    from recruiter.matching.artifacts import ensure_fast_model
    from recruiter.matching.backends import StaticBackend

    backend = StaticBackend(ensure_fast_model())
    texts = ["Yoga mats and online classes for beginners", "", "   ", "☃ yoga ☃", "x" * 5000,
             "Kubernetes on-call SLOs and monitoring", "\x00\x01\x02"] * 3
    bulk, queries = backend.encode(texts), backend.encode_queries(texts)
    assert bulk.shape == queries.shape == (len(texts), FAST_DIMS) and bulk.dtype == np.float32
    assert np.allclose(bulk, queries, atol=1e-6)
    norms = np.linalg.norm(bulk, axis=1)
    assert np.allclose(norms[[0, 3, 5]], 1.0, atol=1e-5) and np.all(norms[[1, 2, 4]] == 0)
    assert float(bulk[0] @ bulk[3]) > float(bulk[0] @ bulk[5])  # "yoga" survives the unknown snowmen
