"""BM25 and the neighbour graph: correct, persisted at sync time, never rebuilt per query, updated incrementally."""

from __future__ import annotations

import numpy as np
import pytest

from recruiter.matching.lexical import build_lexical, document_tokens, load_lexical, split_camel, tokens
from recruiter.matching.neighbors import build_neighbors


def test_tokens_stem_and_drop_stop_words() -> None:
    assert tokens("The brewers are brewing beers") == ["brewer", "brew", "beer"]
    assert split_camel("HomeBrewing AskNetsec r/IndoorGarden") == "Home Brewing Ask Netsec r/Indoor Garden"
    assert "brew" in document_tokens("r/HomeBrewing", "r/HomeBrewing")


def test_bm25_prefers_the_document_with_the_rare_term(tmp_path) -> None:
    docs = [tokens("coffee beans and espresso"), tokens("coffee for everyone"), tokens("tea and coffee")]
    lexical = build_lexical(docs, stamp="s1")
    scores = lexical.scores("espresso coffee")
    assert scores.argmax() == 0 and scores[1] > 0
    assert not lexical.scores("kubernetes").any()
    lexical.save(tmp_path)
    again = load_lexical(tmp_path, stamp="s1")
    assert again is not None and np.allclose(again.scores("espresso coffee"), scores)
    assert load_lexical(tmp_path, stamp="other rows") is None


def _brute(ids, vectors, k):
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    return ids[np.argsort(-sims, axis=1)[:, :k]]


def test_incremental_neighbour_graph_equals_a_full_rebuild() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(1000, 1300, dtype=np.int64)
    hashes = np.array([str(i).encode() for i in ids], dtype="S64")
    first = build_neighbors(ids[:250], vectors[:250], k=5, hashes=hashes[:250])
    assert np.array_equal(first.neighbors, _brute(ids[:250], vectors[:250], 5))
    # 50 new communities, 10 removed, one changed text (new vector)
    keep = np.r_[10:300]
    changed = vectors.copy()
    changed[100] = -changed[100]
    new_hashes = hashes.copy()
    new_hashes[100] = b"changed"
    graph = build_neighbors(ids[keep], changed[keep], k=5, hashes=new_hashes[keep], previous=first)
    assert np.array_equal(graph.neighbors, _brute(ids[keep], changed[keep], 5))


@pytest.fixture
def imported(session):
    """Four communities imported on the hashing model: derived data is about files, not about the model."""
    from recruiter.catalogue.importing import save_records
    from recruiter.matching.index import refresh_index

    save_records([{"url": f"https://www.reddit.com/r/topic{i}/", "name": f"r/Topic{i}",
                   "description": text} for i, text in enumerate(
                      ["Houseplants and grow lights", "Espresso machines", "Home brewing beer", "Yoga for back pain"])],
                 session=session)
    refresh_index(session=session)  # what `recruiter import` does after saving
    return session


def test_derived_data_is_built_at_import_and_loaded_not_rebuilt_at_query(imported, db_url, monkeypatch) -> None:
    from recruiter.core.config import embedding_model_name, index_dir
    from recruiter.core.models import Profile
    from recruiter.matching import rank_data
    from recruiter.matching.index import forget_loaded_indexes, load_index
    from recruiter.matching.ranking import rank_communities

    folder = load_index(index_dir(db_url), model=embedding_model_name()).generation
    assert (folder / "lexical.json").exists() and (folder / "neighbors.json").exists()
    forget_loaded_indexes()
    rank_data.forget_ranking_data()

    def refuse(*args, **kwargs):
        raise AssertionError("rebuilt at query time")

    monkeypatch.setattr(rank_data, "lexical_from_counts", refuse)
    monkeypatch.setattr(rank_data, "build_neighbors", refuse)
    results = rank_communities(Profile(name="p", description="Craft beer kits for home brewers"),
                               session=imported, limit=2, store=False)
    assert results[0].url == "https://www.reddit.com/r/topic2/"


def test_only_the_unread_tail_of_a_long_text_becomes_passages() -> None:
    from recruiter.matching.rank_data import CHUNK_FROM, CHUNK_SIZE, passages

    assert passages("A short description.") == []
    text = " ".join(f"Sentence {i} talks about topic {i}." for i in range(120))
    parts = passages(text)
    assert parts and all(len(p) <= CHUNK_SIZE for p in parts)
    assert "Sentence 0 " not in " ".join(parts)  # the head is covered by the whole-text vector
    assert parts[-1].endswith("topic 119.")
    assert len(" ".join(parts)) < len(text) - CHUNK_FROM + 300


def test_incremental_lexical_update_equals_a_full_build() -> None:
    from recruiter.matching.lexical import reusable_rows, update_lexical

    texts = {1: "coffee beans and espresso", 2: "tea and coffee", 3: "yoga for back pain", 4: "home brewing beer"}
    ids = np.array([1, 2, 3], dtype=np.int64)
    hashes = np.array([b"a", b"b", b"c"], dtype="S64")
    first = build_lexical([tokens(texts[i]) for i in ids], row_ids=ids, row_hashes=hashes)
    # 2 changed its text, 1 removed, 4 added; new order
    texts[2] = "green tea ceremonies"
    now_ids = np.array([3, 4, 2], dtype=np.int64)
    now_hashes = np.array([b"c", b"d", b"b2"], dtype="S64")
    reuse = reusable_rows(first, now_ids, now_hashes)
    assert reuse == {0: 2}
    updated = update_lexical(first, reuse, {1: tokens(texts[4]), 2: tokens(texts[2])}, ids=now_ids,
                             hashes=now_hashes, stamp="s2")
    full = build_lexical([tokens(texts[i]) for i in now_ids])
    for query in ("tea", "yoga pain", "beer brewing", "coffee"):
        assert np.allclose(updated.scores(query), full.scores(query))
