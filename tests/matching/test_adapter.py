"""The fast model's catalogue adapter: fitted once a fast catalogue is large enough, refitted only when it has
grown, kept across small imports, switched off on request, and never a reason for the fast mode to fail.

The fast tier runs this without real models: the "fast model" is a 16-dimensional hashing backend and the
"teacher" a fixed isometry of its vectors into 24 dimensions, so a correct fit recovers the teacher's vectors
exactly for communities it never saw. The index keeps both, side by side (16 + 16 dimensions: the
map keeps the teacher's dot products in the fast model's dimension). The
thresholds are lowered to a few dozen communities."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from sqlmodel import func, select

from recruiter.core.config import DEFAULT_MODEL
from recruiter.matching import adapter as adapter_module
from recruiter.matching.backends import FAST_KEY, HashingBackend
from recruiter.matching.embedding import EmbeddingService, install_service

WORDS = ["yoga", "mat", "breath", "pose", "studio", "sourdough", "bread", "flour", "oven", "espresso", "grinder",
         "bean", "roast", "trail", "running", "shoe", "marathon", "knitting", "yarn", "wool", "guitar", "chord", "amp",
         "synth", "budget", "saving", "invest", "garden", "compost", "seed"]


class Teacher:
    """The stand-in MiniLM: the fast stand-in's vector through a fixed 16 x 24 matrix that stretches some
    directions and shrinks others (so its cosines are not the fast model's), normalized."""

    dimension = 24

    def __init__(self) -> None:
        self.student = HashingBackend(16)
        rng = np.random.default_rng(3)
        q, _ = np.linalg.qr(rng.normal(size=(24, 16)))
        self.matrix = (np.linspace(3.0, 0.3, 16)[:, None] * q.T).astype(np.float32)
        self.calls = 0

    def encode(self, texts, *, batch_size: int = 32) -> np.ndarray:
        self.calls += len(texts)
        return _unit(self.student.encode(list(texts)) @ self.matrix)

    def encode_queries(self, texts) -> np.ndarray:
        return self.encode(texts)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


class BrokenTeacher(Teacher):
    def encode(self, texts, *, batch_size: int = 32) -> np.ndarray:
        raise RuntimeError("no ONNX runtime on this machine")


@pytest.fixture
def fast(monkeypatch, tmp_path):
    """RECRUITER_MODEL=fast on stand-ins, adapting from 60 communities on a sample of 50."""
    from recruiter.matching.index import forget_loaded_indexes

    monkeypatch.setenv("RECRUITER_MODEL", "fast")
    monkeypatch.setenv("RECRUITER_MODEL_CACHE", str(tmp_path / "no-models"))  # nothing for the warm-up to load
    monkeypatch.setattr(adapter_module, "ADAPT_FROM", 60)
    monkeypatch.setattr(adapter_module, "ADAPT_SAMPLE", 50)
    teacher = Teacher()
    installed = [install_service(EmbeddingService(FAST_KEY, backend=HashingBackend(16))),
                 install_service(EmbeddingService(DEFAULT_MODEL, backend=teacher))]
    forget_loaded_indexes()
    yield teacher
    forget_loaded_indexes()
    for service, name in zip(installed, (FAST_KEY, DEFAULT_MODEL), strict=True):
        install_service(service if service is not None else EmbeddingService(name))


def _rows(start: int, count: int) -> list[dict]:
    rng = np.random.default_rng(start)
    return [{"url": f"https://example.com/c{i}", "name": f"community {i}",
             "description": " ".join(rng.choice(WORDS, size=8))} for i in range(start, start + count)]


def _import(cli, tmp_path, rows: list[dict]) -> None:
    path = tmp_path / f"rows-{rows[0]['url'].rsplit('/', 1)[-1]}.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    result = cli("import", path)
    assert result.exit_code == 0, result.stdout


def _index():
    from recruiter.core.db import open_session
    from recruiter.matching.index import session_index

    with open_session() as session:
        return session_index(session)


def _teacher_rows() -> int:
    from recruiter.core.db import open_session
    from recruiter.core.models import EmbeddingCache

    with open_session() as session:
        return session.exec(select(func.count()).select_from(EmbeddingCache)
                            .where(EmbeddingCache.model == DEFAULT_MODEL)).one()


def test_a_fast_catalogue_gets_its_own_map_once_it_is_large_enough(cli, fast, tmp_path) -> None:
    _import(cli, tmp_path, _rows(0, 40))
    small = _index()
    assert small.adapter is None and small.dim == 16 and fast.calls == 0  # too few texts to fit on

    _import(cli, tmp_path, _rows(40, 60))
    index = _index()
    assert index.adapter is not None and index.dim == 32 and len(index) == 100
    assert index.adapter.fitted_on == 100 and index.adapter.sample == 50
    assert fast.calls == 50 and _teacher_rows() == 50  # the teacher saw the sample only, through the cache

    # Every community, the 50 the map never saw too: its static vector, and beside it the teacher's.
    from recruiter.core.db import open_session
    from recruiter.core.models import Community
    from recruiter.core.text import community_text

    with open_session() as session:
        by_id = {c.id: c for c in session.exec(select(Community)).all()}
    texts = [community_text({"name": by_id[int(i)].name, "title": by_id[int(i)].title,
                             "description": by_id[int(i)].description}) for i in index.ids]
    static = fast.student.encode(texts)
    truth = fast.encode(texts)
    vectors = np.asarray(index.vectors) * np.sqrt(2)
    assert np.allclose(vectors[:, :16], static, atol=1e-5)
    mapped = vectors[:, 16:]
    error = np.abs(mapped @ mapped.T - truth @ truth.T)  # against the teacher's cosines, pair by pair
    unmapped = np.abs(static @ static.T - truth @ truth.T)
    assert error.mean() < 0.4 * unmapped.mean()  # (a linear fit of normalized targets on 50 texts: close)
    assert np.allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-5)

    # Queries go through the same map: the ranking compares like with like.
    assert cli("profile", "add", "--name", "yoga", "--description", "yoga mat studio pose").exit_code == 0
    ranked = json.loads(cli("rank", "yoga", "--limit", "5", "--format", "json").stdout)
    assert len(ranked) == 5 and all("yoga" in r["why"].lower() or r["score"] > 0 for r in ranked)
    status = cli("index", "status").stdout
    assert "in sync" in status and "adapted to this catalogue: a map to all-MiniLM-L6-v2 fitted on 50 of 100 communities" in status, status


def test_the_map_is_kept_until_the_catalogue_has_grown_and_then_refitted(cli, fast, tmp_path, monkeypatch) -> None:
    from recruiter.matching import index as index_module

    monkeypatch.setattr(index_module, "APPROX_FROM", 60)  # an IVF partition too: it must follow the space
    _import(cli, tmp_path, _rows(0, 70))
    index = _index()
    first = index.adapter
    assert first is not None and first.fitted_on == 70
    assert index.partition is not None and index.partition.centroids.shape[1] == 32
    calls = fast.calls

    _import(cli, tmp_path, _rows(70, 100))  # 170 < 4 x 70: the same map, only the new rows embedded and mapped
    index = _index()
    assert np.array_equal(index.adapter.matrix, first.matrix) and index.adapter.fitted_on == 70
    assert fast.calls == calls and len(index) == 170

    _import(cli, tmp_path, _rows(170, 120))  # 290 >= 4 x 70: refitted on the grown catalogue
    index = _index()
    assert index.adapter.fitted_on == 290 and len(index) == 290 and index.dim == 32
    assert index.partition.trained_on == 290  # a new space: the partition was trained again, not extended
    assert not np.array_equal(index.adapter.matrix, first.matrix)
    assert fast.calls - calls <= 50  # sample texts already in the teacher's cache are not embedded again


def test_switching_the_adapter_off_goes_back_to_the_raw_vectors(cli, fast, tmp_path, monkeypatch) -> None:
    _import(cli, tmp_path, _rows(0, 80))
    assert _index().adapter is not None

    monkeypatch.setenv("RECRUITER_FAST_ADAPT", "off")
    _import(cli, tmp_path, _rows(80, 5))
    index = _index()
    assert index.adapter is None and index.dim == 16 and len(index) == 85
    assert cli("profile", "add", "--name", "bread", "--description", "sourdough bread flour").exit_code == 0
    assert cli("rank", "bread", "--format", "json").exit_code == 0


def test_a_teacher_that_cannot_run_leaves_the_fast_mode_working(cli, fast, tmp_path, caplog) -> None:
    install_service(EmbeddingService(DEFAULT_MODEL, backend=BrokenTeacher()))
    with caplog.at_level(logging.WARNING, logger="recruiter.matching.adapter"):
        _import(cli, tmp_path, _rows(0, 80))
    index = _index()
    assert index.adapter is None and index.dim == 16 and len(index) == 80
    assert "stays unadapted" in caplog.text and "no ONNX runtime" in caplog.text
    assert cli("profile", "add", "--name", "bread", "--description", "sourdough bread flour").exit_code == 0
    assert json.loads(cli("rank", "bread", "--format", "json").stdout)


def test_the_sample_is_one_row_per_distinct_text_smallest_hashes_first() -> None:
    hashes = np.array([b"c", b"a", b"d", b"a", b"b"], dtype="S64")
    assert adapter_module.sample_positions(hashes, 3).tolist() == [0, 1, 4]  # a (first of two), b, c


@pytest.mark.slow  # the installed fast model and all-MiniLM-L6-v2 (ONNX)
def test_the_real_fast_model_adapts_to_a_catalogue_through_minilm(cli, monkeypatch, tmp_path) -> None:
    """The real pair on the packaged sample communities (74), with the thresholds lowered to fit them."""
    from recruiter.matching.embedding import forget_services
    from recruiter.matching.index import forget_loaded_indexes

    monkeypatch.setenv("RECRUITER_MODEL", "fast")
    monkeypatch.setattr(adapter_module, "ADAPT_FROM", 60)
    monkeypatch.setattr(adapter_module, "ADAPT_SAMPLE", 60)
    forget_services()
    forget_loaded_indexes()
    try:
        assert cli("seed").exit_code == 0
        index = _index()
        assert index.adapter is not None and index.dim == 256 + 256 and index.adapter.sample == 60
        assert (index.generation / "adapter.npy").is_file()
        assert cli("profile", "add", "--name", "yoga", "--description",
                   "Yoga mats and props for people who practise yoga at home").exit_code == 0
        ranked = json.loads(cli("rank", "yoga", "--limit", "3", "--format", "json").stdout)
        assert ranked and all(0 <= r["fit"] <= 100 for r in ranked)
    finally:
        forget_loaded_indexes()
        forget_services()
