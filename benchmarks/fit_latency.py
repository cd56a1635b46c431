#!/usr/bin/env python3
"""Rank latency over a large synthetic database: `rank_communities` must stay under 300 ms once loaded.

    .venv/bin/python benchmarks/fit_latency.py [--communities 100000] [--queries 10]

Builds N communities in a temporary home: the text of the shared dataset's communities repeated with a
numbered suffix (or generated words when the shared data is absent), vectors = the real vector of that text
plus noise (so the neighbour graph is realistic without embedding N texts). Then it builds the derived
ranking data exactly as an index sync does (BM25 + neighbour graph, timed), reloads it from disk (timed) and
times full `rank_communities` calls (query encoding, scoring, explanations, no store), reporting median and
p90.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RECRUITER_SHARED") or ROOT.parent / "shared")
sys.path.insert(0, str(ROOT))

QUERIES = [
    "Yoga mats and online classes for beginners who want more flexibility and less back pain.",
    "Craft beer and home brewing kits for beer geeks.",
    "Open-source observability platform for site reliability engineers running Kubernetes.",
    "Comic book subscription and collectibles for superhero fans.",
    "Telescopes and star charts for amateur astronomers.",
]


def base_rows(limit: int = 8000) -> list[dict]:
    path = SHARED / "datasets" / "communities.jsonl"
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()][:limit]
        return [r for r in rows if r.get("url")]
    rng = random.Random(7)
    vocab = [f"word{i}" for i in range(5000)]
    return [{"url": f"https://example.com/base{i}", "name": f"Base {i}", "kind": "blog",
             "description": " ".join(rng.choices(vocab, k=30))} for i in range(limit)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="print where one rank call spends its time")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="fit-latency-"))
    os.environ["RECRUITER_HOME"] = str(home)

    import numpy as np
    from sqlmodel import select

    from recruiter.core.config import embedding_model_name
    from recruiter.core.db import open_session
    from recruiter.core.models import Community, Profile
    from recruiter.core.text import community_text, content_hash
    from recruiter.matching.embedding import get_embedding_service
    from recruiter.matching.index import CommunityIndex
    from recruiter.matching.rank_data import forget_ranking_data, refresh_ranking_data
    from recruiter.matching.ranking import rank_communities

    rows = base_rows()
    service = get_embedding_service()
    cache = Path(tempfile.gettempdir()) / f"fit-latency-base-{len(rows)}.npy"  # the base texts never change
    if cache.exists():
        base_vectors = np.load(cache)
    else:
        started = time.perf_counter()
        base_vectors = service.encode([community_text(r) for r in rows])
        np.save(cache, base_vectors)
        print(f"embedded {len(rows)} base texts in {time.perf_counter() - started:.0f}s")
    rng = np.random.default_rng(3)
    with open_session() as session:
        model = embedding_model_name()
        records = []
        for n in range(args.communities):
            row = rows[n % len(rows)]
            copy = n // len(rows)
            text = {**row, "url": f"{row['url'].rstrip('/')}/copy{copy}", "name": f"{row.get('name', '')} {copy}"}
            records.append({"url": text["url"], "name": text["name"], "kind": row.get("kind") or "blog",
                            "title": row.get("title"), "description": row.get("description"),
                            "audience_size": row.get("audience_size"),
                            "content_hash": content_hash(community_text(text), model)})
        started = time.perf_counter()
        for start in range(0, len(records), 5000):
            session.execute(Community.__table__.insert(), records[start: start + 5000])
        session.commit()
        print(f"inserted {len(records)} communities in {time.perf_counter() - started:.0f}s")
        ids = np.array(session.exec(select(Community.id).order_by(Community.id)).all(), dtype=np.int64)
        vectors = base_vectors[np.arange(len(ids)) % len(rows)] + rng.normal(0, 0.02, (len(ids), 384))
        vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
        hashes = np.array([r["content_hash"].encode() for r in records], dtype="S64")
        index = CommunityIndex(folder=home / "recruiter.matching.index", model=model, dim=384)
        index._replace(ids, vectors, hashes)
        index.data_version = 0

        started = time.perf_counter()
        refresh_ranking_data(index, session=session, force=True)
        print(f"derived ranking data (BM25 + neighbour graph) for {len(ids)}: {time.perf_counter() - started:.1f}s")
        forget_ranking_data()
        started = time.perf_counter()
        refresh_ranking_data(index, session=session)
        print(f"loaded from disk: {time.perf_counter() - started:.2f}s")

        profiles = [Profile(name=f"q{i}", description=q) for i, q in enumerate(QUERIES)]
        rank_communities(profiles[0], session=session, index=index, limit=20, store=False)  # warm-up
        timings = []
        for i in range(args.queries):
            started = time.perf_counter()
            rank_communities(profiles[i % len(profiles)], session=session, index=index, limit=20, store=False)
            timings.append((time.perf_counter() - started) * 1000)
        filtered = []
        for i in range(5):
            started = time.perf_counter()
            rank_communities(profiles[i % len(profiles)], session=session, index=index, limit=20, store=False,
                             kind="podcast", min_audience=500_000)
            filtered.append((time.perf_counter() - started) * 1000)
        # An import of 10 more communities into the large database: what the derived data costs then.
        extra = [{**records[i], "url": records[i]["url"] + "/more", "content_hash": records[i]["content_hash"][::-1]}
                 for i in range(10)]
        session.execute(Community.__table__.insert(), extra)
        session.commit()
        new_ids = np.array(session.exec(select(Community.id).where(Community.url.in_([e["url"] for e in extra]))
                                        .order_by(Community.id)).all(), dtype=np.int64)
        index._replace(np.concatenate([ids, new_ids]), np.concatenate([vectors, vectors[:10]]),
                       np.concatenate([hashes, np.array([e["content_hash"].encode() for e in extra], dtype="S64")]))
        started = time.perf_counter()
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(refresh_ranking_data, index, session=session)
            pstats.Stats(profiler).sort_stats("cumtime").print_stats(15)
        else:
            refresh_ranking_data(index, session=session)
        incremental = time.perf_counter() - started
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(rank_communities, profiles[1], session=session, index=index, limit=20, store=False)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
    timings.sort()
    p90 = timings[min(len(timings) - 1, int(0.9 * len(timings)))]
    print(f"rank over {len(ids)} communities, limit 20: median {statistics.median(timings):.0f} ms, "
          f"p90 {p90:.0f} ms, max {timings[-1]:.0f} ms; with kind + audience filters: median "
          f"{statistics.median(filtered):.0f} ms")
    print(f"derived data after importing 10 more communities: {incremental:.1f}s (only new rows tokenized and searched)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
