"""The index at scale: one folder per model, resumable embedding, incremental rebuilds, the IVF partition."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from recruiter.matching.backends import HashingBackend

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _clustered(n: int, dim: int = 32, centers: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(centers, dim))
    x = base[rng.integers(0, centers, n)] + 0.5 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _recall(graph_ids: np.ndarray, exact_ids: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(graph_ids, exact_ids, strict=True)]))


def test_approximate_neighbour_graph_agrees_with_the_exact_one_and_updates_incrementally() -> None:
    from recruiter.matching.neighbors import build_neighbors
    from recruiter.matching.partition import train_partition, updated_partition

    vectors = _clustered(3000)
    ids = np.arange(10, 3010, dtype=np.int64)
    hashes = np.array([str(i).encode() for i in ids], dtype="S64")
    exact = build_neighbors(ids, vectors, k=5, hashes=hashes)
    partition = train_partition(vectors)
    approx = build_neighbors(ids, vectors, k=5, hashes=hashes, partition=partition)
    assert _recall(approx.neighbors, exact.neighbors) >= 0.9
    # 200 more rows: the partition grows without retraining, old rows are kept and offered the newcomers
    more = _clustered(3200, seed=0)[3000:] * 1.0
    all_vectors = np.concatenate([vectors, more])
    all_ids = np.arange(10, 3210, dtype=np.int64)
    all_hashes = np.array([str(i).encode() for i in all_ids], dtype="S64")
    grown = updated_partition(partition, all_vectors, np.arange(3000), 3000)
    assert grown.centroids is partition.centroids and len(grown.lists) == 3200
    updated = build_neighbors(all_ids, all_vectors, k=5, hashes=all_hashes, previous=approx, partition=grown)
    truth = build_neighbors(all_ids, all_vectors, k=5, hashes=all_hashes)
    assert _recall(updated.neighbors, truth.neighbors) >= 0.9


def test_both_searches_of_an_ivf_list_find_the_same_neighbours(monkeypatch) -> None:
    """A list with few rows to search goes through one numpy product, a list with many through faiss: the
    same graph either way."""
    from recruiter.matching import neighbors
    from recruiter.matching.partition import train_partition

    vectors = _clustered(3000)
    ids = np.arange(3000, dtype=np.int64)
    partition = train_partition(vectors)
    graphs = []
    for threshold in (1, 10**9):
        monkeypatch.setattr(neighbors, "_FAISS_FROM", threshold)
        graphs.append(neighbors.build_neighbors(ids, vectors, k=5, partition=partition))
    assert np.allclose(graphs[0].similarity, graphs[1].similarity, atol=1e-5)
    assert (graphs[0].neighbors == graphs[1].neighbors).mean() > 0.99  # (ties may swap)


def test_the_graph_is_built_on_one_faiss_thread_and_the_setting_restored(monkeypatch) -> None:
    """The graph's many small searches run on one OpenMP thread (cheaper on a busy machine); the process's own
    setting comes back afterwards, also when the build fails, and the graph is the exact one."""
    import faiss

    from recruiter.matching import neighbors
    from recruiter.matching.neighbors import build_neighbors

    vectors = _clustered(500)
    ids = np.arange(500, dtype=np.int64)
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    try:
        graph = build_neighbors(ids, vectors, k=4)
        assert faiss.omp_get_max_threads() == 2
        sims = vectors @ vectors.T
        np.fill_diagonal(sims, -np.inf)
        assert _recall(graph.neighbors, np.argsort(-sims, axis=1)[:, :4]) == 1.0
        seen = []

        def failing(*args, **kwargs):
            seen.append(faiss.omp_get_max_threads())
            raise RuntimeError("out of memory")

        monkeypatch.setattr(neighbors, "_exact_top_k", failing)
        with pytest.raises(RuntimeError):
            build_neighbors(ids, vectors, k=4)
        assert seen == [1] and faiss.omp_get_max_threads() == 2
    finally:
        faiss.omp_set_num_threads(before)


def test_large_index_searches_through_its_partition_and_grows_without_retraining(cli, db_url, monkeypatch,
                                                                                 tmp_path) -> None:
    from recruiter.core.config import index_dir
    from recruiter.matching import index as index_module

    monkeypatch.setenv("RECRUITER_MODEL", "hashing")
    monkeypatch.setattr(index_module, "APPROX_FROM", 300)
    words = ["yoga", "coffee", "beer", "running", "plants", "chess", "guitar", "baking"]
    rows = [{"url": f"https://c{i}.example.com", "name": f"{words[i % 8]} club {i}",
             "description": f"people who love {words[i % 8]} and {words[(i * 3) % 8]}"} for i in range(400)]
    data = tmp_path / "c.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows))
    assert cli("import", data).exit_code == 0
    index_module.forget_loaded_indexes()
    index = index_module.load_index(index_dir(db_url), model="hashing")
    assert len(index) == 400 and index.partition is not None
    centroids = index.partition.centroids.copy()
    target = index.vectors_for([int(index.ids[7])])
    _, found = index.search(target, 1)
    assert found[0][0] == index.ids[7]
    more = tmp_path / "more.jsonl"
    more.write_text("\n".join(json.dumps({"url": f"https://d{i}.example.com", "name": f"yoga nook {i}"})
                              for i in range(20)))
    assert cli("import", more).exit_code == 0
    index_module.forget_loaded_indexes()
    grown = index_module.load_index(index_dir(db_url), model="hashing")
    assert len(grown) == 420 and np.array_equal(grown.partition.centroids, centroids)


def test_each_model_has_its_own_index_and_switching_back_embeds_nothing(cli, db_url, monkeypatch) -> None:
    from recruiter.core.config import index_dir
    from recruiter.matching.index import forget_loaded_indexes, load_index

    calls: list[int] = []
    original = HashingBackend.encode

    def counting(self, texts, *args, **kwargs):
        calls.append(len(texts))
        return original(self, texts, *args, **kwargs)

    monkeypatch.setattr(HashingBackend, "encode", counting)
    assert cli("profile", "add", "--name", "plants", "--description", "Grow lights for houseplants").exit_code == 0
    monkeypatch.setenv("RECRUITER_MODEL", "hashing")
    assert cli("import", FIXTURES / "communities.csv").exit_code == 0
    first = json.loads(cli("rank", "plants", "--format", "json").stdout)
    monkeypatch.setenv("RECRUITER_MODEL", "hashing-384")
    assert cli("rank", "plants", "--format", "json").exit_code == 0
    folders = {p.name for p in index_dir(db_url).iterdir() if (p / "current.json").exists()}
    assert len(folders) == 2
    calls.clear()
    forget_loaded_indexes()
    monkeypatch.setenv("RECRUITER_MODEL", "hashing")
    again = json.loads(cli("rank", "plants", "--format", "json").stdout)
    assert [r["url"] for r in again] == [r["url"] for r in first]
    assert sum(calls) <= 8  # only the profile's query texts, no community re-embedded
    for model in ("hashing", "hashing-384"):
        assert len(load_index(index_dir(db_url), model=model)) == 4


def test_adding_communities_reuses_every_unchanged_row(cli, monkeypatch, tmp_path) -> None:
    from recruiter.matching import rank_data

    monkeypatch.setenv("RECRUITER_MODEL", "hashing")
    rows = [{"url": f"https://c{i}.example.com", "name": f"club {i}", "description": f"topic {i % 7}"}
            for i in range(300)]
    data = tmp_path / "c.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows))
    assert cli("import", data).exit_code == 0
    tokenized: list[str] = []
    embedded: list[int] = []
    original_tokens, original_encode = rank_data.document_tokens, HashingBackend.encode
    monkeypatch.setattr(rank_data, "document_tokens", lambda name, text: tokenized.append(name) or
                        original_tokens(name, text))
    monkeypatch.setattr(HashingBackend, "encode", lambda self, texts, *a, **k: embedded.append(len(texts)) or
                        original_encode(self, texts, *a, **k))
    more = tmp_path / "more.jsonl"
    more.write_text("\n".join(json.dumps({"url": f"https://n{i}.example.com", "name": f"new {i}"}) for i in range(5)))
    result = cli("import", more)
    assert result.exit_code == 0 and "5 embedded" in result.stdout
    assert sorted(tokenized) == [f"new {i}" for i in range(5)] and sum(embedded) == 5


@pytest.mark.slow  # a real import killed mid-way and run again: seconds
def test_a_killed_import_resumes_where_it_stopped(tmp_path) -> None:
    """Embeddings are committed every 512 texts: kill -9 in the middle, run again, only the rest is embedded."""
    n = 30_000
    data = tmp_path / "many.jsonl"
    with open(data, "w") as fh:
        for i in range(n):
            fh.write(json.dumps({"url": f"https://site{i}.example.org", "name": f"Community {i}",
                                 "description": f"All about topic {i} and hobby {i % 97}"}) + "\n")
    home = tmp_path / "home"
    env = {**os.environ, "RECRUITER_HOME": str(home), "RECRUITER_MODEL": "hashing"}
    env.pop("RECRUITER_DB", None)
    exe = Path(sys.executable).with_name("recruiter")
    cli = [str(exe)] if exe.exists() else [sys.executable, "-m", "recruiter.cli"]
    proc = subprocess.Popen([*cli, "import", str(data)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = home / "recruiter.db"
    cached = 0
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                try:
                    with sqlite3.connect(db, timeout=1) as conn:
                        cached = conn.execute("SELECT count(*) FROM embedding_cache").fetchone()[0]
                except sqlite3.OperationalError:
                    cached = 0
                if cached >= 1024:
                    break
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
    if cached < 1024 or cached >= n:
        pytest.skip(f"could not catch the import mid-way (cache held {cached} of {n})")
    with sqlite3.connect(db) as conn:
        kept = conn.execute("SELECT count(*) FROM embedding_cache").fetchone()[0]
    assert kept % 512 == 0 and kept < n  # whole batches of at most 512 were committed
    again = subprocess.run([*cli, "import", str(data)], env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr
    embedded = int(re.search(r"(\d+) embedded", again.stdout).group(1))
    assert embedded == n - kept
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM embedding_cache").fetchone()[0] == n
    status = subprocess.run([*cli, "index", "status"], env=env, capture_output=True, text=True, timeout=300)
    assert f"index: {n} vectors" in status.stdout and "in sync" in status.stdout
