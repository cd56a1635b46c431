"""The embedding seam: a weightless deterministic backend for tests that are not about the model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recruiter.matching.backends import HashingBackend
from recruiter.matching.embedding import EmbeddingService, get_embedding_service, install_service


def test_hashing_backend_is_deterministic_normalized_and_topical() -> None:
    backend = HashingBackend()
    a, b, c, empty = backend.encode(["sourdough bread baking", "baking sourdough loaves", "espresso grinders", ""])
    assert np.allclose([np.linalg.norm(v) for v in (a, b, c, empty)], 1.0, atol=1e-5)
    assert np.array_equal(a, HashingBackend().encode(["sourdough bread baking"])[0])
    assert float(a @ b) > float(a @ c) + 0.2


def test_a_service_can_be_injected_like_a_transport() -> None:
    service = EmbeddingService("hashing-test", backend=HashingBackend())
    previous = install_service(service)
    try:
        assert get_embedding_service("hashing-test") is service
        assert service.encode(["x", "yy"]).shape == (2, 384)
    finally:
        if previous is not None:
            install_service(previous)


def test_the_cli_runs_end_to_end_on_the_hashing_model(cli, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("RECRUITER_MODEL", "hashing")
    rows = [{"url": "https://www.reddit.com/r/Sourdough/", "name": "r/Sourdough", "description": "sourdough bread"},
            {"url": "https://www.reddit.com/r/espresso/", "name": "r/espresso", "description": "espresso machines"}]
    data = tmp_path / "c.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows))
    assert cli("import", data).exit_code == 0
    assert cli("profile", "add", "--name", "bread", "--description", "Sourdough bread baking kits").exit_code == 0
    ranked = json.loads(cli("rank", "bread", "--format", "json").stdout)
    assert ranked[0]["name"] == "r/Sourdough"


@pytest.mark.slow  # a fresh interpreter importing the whole app: seconds (the fast tier checks itself at its end)
def test_the_hashing_model_never_imports_pytorch(tmp_path) -> None:
    """Import the CLI and the web app's pages, embed and rank on RECRUITER_MODEL=hashing in a fresh interpreter:
    PyTorch, sentence-transformers and transformers stay unloaded (that is what keeps the fast tier fast)."""
    import os
    import subprocess
    import sys

    script = """
import sys
from recruiter.cli import app  # every command module
import ui.main, ui.pages  # the web app's entry point
from ui.main import register_pages
register_pages()
from recruiter.core.db import open_session
from recruiter.catalogue.importing import save_records
from recruiter.core.models import Profile
from recruiter.matching.ranking import rank_communities
with open_session() as session:
    save_records([{"url": "https://www.reddit.com/r/Sourdough/", "name": "r/Sourdough",
                   "description": "sourdough bread"}], session=session)
    assert rank_communities(Profile(name="p", description="bread"), session=session, limit=1, store=False)
heavy = [m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules]
print(",".join(heavy) or "none")
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "NICEGUI"))}
    env.update(RECRUITER_MODEL="hashing", RECRUITER_HOME=str(tmp_path / "home"))
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "none"


def _real_texts(limit: int = 200) -> list[str]:
    """Texts as recruiter embeds them: 200 communities of ../shared when present, else the packaged samples."""
    from recruiter.core.text import community_text

    shared = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "communities.jsonl"
    rows = []
    if shared.exists():
        with open(shared, encoding="utf-8") as fh:
            for line in fh:
                rows.append(json.loads(line))
                if len(rows) >= limit:
                    break
    else:
        samples = Path(__file__).resolve().parents[2] / "recruiter" / "catalogue" / "samples"
        for path in sorted(samples.glob("communities*.json*")):
            text = path.read_text(encoding="utf-8")
            rows += json.loads(text) if path.suffix == ".json" else [json.loads(x) for x in text.splitlines() if x]
    texts = [community_text(r) for r in rows if isinstance(r, dict)][:limit]
    return texts + ["", "   padded   ", "x " * 600]  # empty, stripped and truncated (over 256 tokens) texts


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return _real_texts()


@pytest.mark.slow  # the real model's weights (torch or model2vec)
def test_onnx_backend_gives_the_sentence_transformers_vectors(texts) -> None:
    from recruiter.matching.artifacts import ensure_onnx_model
    from recruiter.matching.backends import OnnxMiniLMBackend, SentenceTransformersBackend, resolve_model_path

    onnx = OnnxMiniLMBackend(ensure_onnx_model()).encode(texts, batch_size=32)
    torch_vectors = SentenceTransformersBackend(resolve_model_path("all-MiniLM-L6-v2")).encode(texts, batch_size=32)
    assert onnx.shape == torch_vectors.shape == (len(texts), 384)
    cosines = (onnx * torch_vectors).sum(axis=1)
    assert cosines.min() >= 0.9999, f"worst cosine {cosines.min():.6f}"
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow  # the real model's weights (torch or model2vec)
def test_the_default_backend_is_onnx_and_sentence_transformers_is_the_fallback(monkeypatch) -> None:
    from recruiter.matching.backends import (
        ModelUnavailable,
        OnnxMiniLMBackend,
        SentenceTransformersBackend,
        backend_for,
    )

    monkeypatch.delenv("RECRUITER_EMBEDDING_BACKEND", raising=False)
    assert isinstance(backend_for("all-MiniLM-L6-v2"), OnnxMiniLMBackend)
    monkeypatch.setenv("RECRUITER_EMBEDDING_BACKEND", "sentence-transformers")
    assert isinstance(backend_for("all-MiniLM-L6-v2"), SentenceTransformersBackend)
    monkeypatch.setenv("RECRUITER_EMBEDDING_BACKEND", "tensorflow")
    with pytest.raises(ModelUnavailable, match="RECRUITER_EMBEDDING_BACKEND"):
        backend_for("all-MiniLM-L6-v2")


@pytest.mark.slow  # the real model's weights (torch or model2vec)
def test_fast_backend_computes_what_model2vec_computes(texts) -> None:
    from model2vec import StaticModel

    from recruiter.matching.artifacts import ensure_fast_model
    from recruiter.matching.backends import StaticBackend

    folder = ensure_fast_model()
    ours = StaticBackend(folder).encode(texts)
    theirs = StaticModel.from_pretrained(str(folder / "model2vec")).encode(texts[:-3])
    theirs = theirs / np.linalg.norm(theirs, axis=1, keepdims=True)
    cosines = (ours[:-3] * theirs).sum(axis=1)
    assert ours.shape[1] == 256 and cosines.min() >= 0.999, f"worst cosine {cosines.min():.6f}"
    assert np.allclose(np.linalg.norm(ours[:-3], axis=1), 1.0, atol=1e-5)


@pytest.mark.slow  # the real model's weights (torch or model2vec)
def test_model_artifacts_are_prepared_once_by_concurrent_processes(tmp_path, monkeypatch) -> None:
    """Two processes asking for the same missing artifact: one builds it, both get the same whole folder."""
    import subprocess
    import sys

    from recruiter.matching import artifacts

    monkeypatch.setenv("RECRUITER_MODEL_CACHE", str(tmp_path))
    probe = (
        "import json, sys, time\n"
        "from recruiter.matching import artifacts\n"
        "def build(target):\n"
        "    (target / 'log').write_text('built')\n"
        "    with open(sys.argv[1], 'a') as fh: fh.write('x')\n"
        "    time.sleep(1.0)\n"
        "    return {'kind': 'test'}\n"
        "print(artifacts._prepared(artifacts.model_cache_dir() / 'thing-v1', build, what='a test', say=lambda m: None))\n"
    )
    counter = tmp_path / "builds"
    procs = [subprocess.Popen([sys.executable, "-c", probe, str(counter)], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert outputs == {str(tmp_path / "thing-v1")}
    assert counter.read_text() == "x"  # built once
    assert artifacts.is_prepared(tmp_path / "thing-v1")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".thing-v1.") and p.is_dir()]


def test_prefetch_never_prepares_a_missing_model(tmp_path, monkeypatch) -> None:
    """The background load of a cold command only takes models already on disk: preparing one (seconds, torch,
    a message) is the command's own business."""
    from recruiter.matching import backends

    monkeypatch.setenv("RECRUITER_MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RECRUITER_EMBEDDING_BACKEND", raising=False)
    for model in ("all-MiniLM-L6-v2", "fast", "hashing"):
        backends.prefetch(model)
    assert not backends._prefetched
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


@pytest.mark.slow  # the real ONNX session
def test_a_prefetched_backend_is_the_one_the_next_load_takes(monkeypatch) -> None:
    from recruiter.matching import backends

    monkeypatch.delenv("RECRUITER_EMBEDDING_BACKEND", raising=False)
    monkeypatch.setattr(backends, "_asked", set())  # as in a fresh process: no command has loaded it yet
    backends.prefetch("all-MiniLM-L6-v2")
    held = backends._prefetched[("all-MiniLM-L6-v2", "")]
    assert held._sessions  # the query session was made in the background
    assert backends.backend_for("all-MiniLM-L6-v2") is held
    assert ("all-MiniLM-L6-v2", "") not in backends._prefetched
    queries = held.encode_queries(["yoga for beginners", "back pain"])
    bulk = held.encode(["yoga for beginners", "back pain"] * 10, batch_size=8)  # the pre-packed session
    assert np.allclose(queries, bulk[:2], atol=1e-5) and len(held._sessions) == 2


def test_prefetch_after_the_command_loaded_the_model_loads_nothing(monkeypatch) -> None:
    """The background load is late when the command got to the model first: it must not load a second copy
    that nobody takes (hundreds of MB and a tenth of a second of CPU)."""
    from recruiter.matching import backends

    monkeypatch.setattr(backends, "_asked", set())
    monkeypatch.setattr(backends, "_prefetched", {})
    monkeypatch.delenv("RECRUITER_EMBEDDING_BACKEND", raising=False)
    loads = []
    monkeypatch.setattr(backends, "StaticBackend", lambda folder: loads.append(folder) or object())
    monkeypatch.setattr("recruiter.matching.artifacts.ensure_fast_model", lambda: "folder")
    monkeypatch.setattr("recruiter.matching.artifacts.fast_model_dir", lambda: "folder")
    monkeypatch.setattr("recruiter.matching.artifacts.is_prepared", lambda folder: True)
    backends.backend_for("fast")
    backends.prefetch("fast")
    assert loads == ["folder"] and not backends._prefetched
