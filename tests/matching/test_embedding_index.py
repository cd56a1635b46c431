"""The embedding cache, the faiss index's persistence, and its agreement with the database.

Tests that count what reaches the model, or check agreement, run the real model (`embedding_service`); the
index's persistence and repair run on whichever model the tier uses (hashing in the fast tier)."""

from pathlib import Path

import numpy as np
import pytest
from sqlmodel import func, select

from recruiter.catalogue.importing import read_rows, save_records
from recruiter.core.config import embedding_model_name, index_dir
from recruiter.core.models import Community, EmbeddingCache
from recruiter.core.text import community_text, content_hash
from recruiter.matching.index import forget_loaded_indexes, get_index, load_index, refresh_index

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def counting(embedding_service, monkeypatch):
    """Count the texts that really reach the model.

    The run-wide real service is installed again first: a test that swapped in a stand-in for the model may
    have put back a new service object, and patching one that nothing uses would count nothing."""
    from recruiter.matching import embedding

    monkeypatch.setitem(embedding._services, embedding_service.model_name, embedding_service)
    calls: list[int] = []
    original = embedding_service.backend.encode

    def encode(texts, *args, **kwargs):
        calls.append(len(texts))
        return original(texts, *args, **kwargs)

    monkeypatch.setattr(embedding_service.backend, "encode", encode)
    return calls


def _import_fixture(session) -> None:
    save_records(list(read_rows(FIXTURES / "communities.csv")), session=session)
    refresh_index(session=session)


def test_vectors_are_normalized(embedding_service) -> None:
    vectors = embedding_service.encode(["indoor plants", "espresso grinders", ""])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, atol=1e-5)


def test_unchanged_community_is_never_embedded_twice(session, db_url, counting) -> None:
    _import_fixture(session)
    assert sum(counting) == 4
    counting.clear()
    _import_fixture(session)  # same file again
    save_records([{"url": "https://www.reddit.com/r/houseplants/", "audience_size": 5}], session=session)
    refresh_index(session=session)
    assert sum(counting) == 0  # audience size is not part of the embedded text
    save_records([{"url": "https://www.reddit.com/r/houseplants/", "description": "Changed text"}], session=session)
    refresh_index(session=session)
    assert sum(counting) == 1
    assert session.exec(select(func.count()).select_from(EmbeddingCache)).one() == 5


def test_identical_text_in_another_database_uses_the_cache_of_that_database(tmp_path, counting) -> None:
    from recruiter.core.db import open_session

    with open_session(f"sqlite:///{tmp_path / 'one.db'}") as one:
        _import_fixture(one)
    counting.clear()
    with open_session(f"sqlite:///{tmp_path / 'one.db'}") as one:
        forget_loaded_indexes()
        index = get_index(str(one.get_bind().url), session=one, model=embedding_model_name())
        assert len(index) == 4 and sum(counting) == 0


def test_index_persists_and_agrees_with_database(session, db_url, embedding_service) -> None:
    """On the real model: the vectors the index holds are the ones the model gives."""
    _import_fixture(session)
    forget_loaded_indexes()
    index = load_index(index_dir(db_url), model=embedding_model_name())
    ids = set(session.exec(select(Community.id)).all())
    assert set(index.ids.tolist()) == ids
    hashes = dict(session.exec(select(Community.id, Community.content_hash)).all())
    assert all(hashes[int(i)].encode() == h for i, h in zip(index.ids, index.hashes, strict=True))
    # the faiss search answers with community ids
    houseplants = session.exec(select(Community).where(Community.url.contains("houseplants"))).one()
    scores, found = index.search(index.vectors_for([houseplants.id]), 1)
    assert found[0][0] == houseplants.id and scores[0][0] == pytest.approx(1.0, abs=1e-4)


def test_interrupted_import_is_repaired_by_next_command(session, db_url, counting) -> None:
    _import_fixture(session)
    # An import that committed rows but died before embedding and saving the index:
    save_records([{"url": "https://new.example.com", "name": "New", "description": "Sourdough baking"}],
                 session=session)
    forget_loaded_indexes()
    stale = load_index(index_dir(db_url), model=embedding_model_name())
    assert len(stale) == 4
    counting.clear()
    refresh_index(session=session)  # what every next command does first
    forget_loaded_indexes()
    index = load_index(index_dir(db_url), model=embedding_model_name())
    assert len(index) == 5 and sum(counting) == 1


def test_torn_index_files_load_empty_and_resync(session, db_url) -> None:
    _import_fixture(session)
    forget_loaded_indexes()
    generation = load_index(index_dir(db_url), model=embedding_model_name()).generation
    (generation / "vectors.npy").write_bytes(b"garbage")
    assert len(load_index(index_dir(db_url), model=embedding_model_name())) == 0
    index = get_index(db_url, session=session, model=embedding_model_name())
    assert len(index) == 4


def test_deleted_community_leaves_the_index(session, db_url) -> None:
    from recruiter.core.db import bump_data_version

    _import_fixture(session)
    victim = session.exec(select(Community).where(Community.url.contains("trailrunner"))).one()
    session.delete(victim)
    bump_data_version(session=session)
    index = get_index(db_url, session=session, model=embedding_model_name())
    assert victim.id not in index.position and len(index) == 3


def test_community_text_uses_name_title_description_and_posts() -> None:
    text = community_text({"name": "A", "title": "A", "description": "about", "recent_posts": ["p1", "p2"]})
    assert text == "A\nabout\nRecent: p1; p2"
    assert content_hash("x") != content_hash("x", model="other")


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres,
                                                                                   pytest.mark.slow])])
def test_a_cache_row_another_process_wrote_meanwhile_is_kept_not_an_error(database, db_url, request,
                                                                            monkeypatch) -> None:
    """Between looking at the cache and writing to it, another command wrote the same (text, model) row: two
    imports of the same new communities at once, or the fast model's adapter filling MiniLM's rows beside a
    MiniLM import. The write keeps that row and stores the rest; nothing fails."""
    from recruiter.core.db import open_session
    from recruiter.matching import embedding
    from recruiter.matching.backends import HashingBackend

    url = request.getfixturevalue("postgres_url") if database == "postgresql" else db_url
    service = embedding.EmbeddingService("hashing", backend=HashingBackend())
    theirs = np.full(384, 1 / np.sqrt(384), dtype=np.float32)
    with open_session(url) as session:
        session.add(EmbeddingCache(content_hash="h1", model="hashing", vector=theirs.tobytes()))
        session.commit()
        monkeypatch.setattr(embedding, "cached_hashes", lambda hashes, *, model, session: set())  # looked too early
        assert service.ensure_cached([("h1", "sourdough bread"), ("h2", "espresso grinders")], session=session) == 2
        rows = dict(session.exec(select(EmbeddingCache.content_hash, EmbeddingCache.vector)).all())
    assert set(rows) == {"h1", "h2"} and rows["h1"] == theirs.tobytes()
