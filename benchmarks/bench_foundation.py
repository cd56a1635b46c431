"""Foundation benchmarks: import vs. sentence-transformers' own encode, re-import, rank at 100k, memory.

    .venv/bin/python benchmarks/bench_foundation.py [--communities N] [--skip-import]

1. Import of ../shared/datasets/communities.jsonl through the CLI (`recruiter import`, a fresh data dir),
   timed against `SentenceTransformer.encode` on exactly the texts the import embeds, in the same run
   (measured before and after the import; the mean is the baseline). Target: ratio <= 1.25.
2. Re-import of the unchanged file through the CLI. Target: >= 20x faster than the first import.
3. `rank_communities` over 100,000 synthetic communities (vectors made from the real ones plus noise, put in
   the embedding cache so building the index needs no model time), after one warm-up call. Target: < 300 ms.
4. Peak resident memory of the import process.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._shared import fresh_home, insert_synthetic_communities, recruiter_cmd, require_shared


def import_texts(path: Path) -> list[str]:
    """The texts an import embeds: one per distinct community, as the importer builds them."""
    from recruiter.catalogue.importing import RowError, normalize_record, read_rows
    from recruiter.core.text import community_text

    seen: dict[str, dict] = {}
    for row in read_rows(path):
        try:
            record = normalize_record(row.data)
        except RowError:
            continue
        seen.setdefault(record["url"], {}).update({k: v for k, v in record.items() if v not in (None, "", [])})
    return list(dict.fromkeys(community_text(r) for r in seen.values()))


def baseline_encode(texts: list[str]) -> float:
    from sentence_transformers import SentenceTransformer

    from recruiter.matching.backends import resolve_model_path

    model = SentenceTransformer(str(resolve_model_path("all-MiniLM-L6-v2")), device="cpu")
    model.encode(["warm-up"])
    start = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    return time.perf_counter() - start


def run_cli(*args: str) -> tuple[float, str, int]:
    start = time.perf_counter()
    done = subprocess.run([*recruiter_cmd(), *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        print(done.stdout, done.stderr, file=sys.stderr)
        raise SystemExit(f"recruiter {' '.join(args)} failed")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, done.stdout.strip().splitlines()[-1], peak_kib


def bench_import(shared: Path) -> dict:
    data = shared / "datasets" / "communities.jsonl"
    fresh_home("bench-import")
    texts = import_texts(data)
    print(f"texts to embed: {len(texts)}")
    before = baseline_encode(texts)
    print(f"sentence-transformers encode (before): {before:.1f} s")
    first, summary, peak = run_cli("import", str(data))
    print(f"recruiter import (first): {first:.1f} s — {summary}")
    print(f"peak memory of the import process: {peak / 1024:.0f} MiB")
    after = baseline_encode(texts)
    print(f"sentence-transformers encode (after): {after:.1f} s")
    again, summary2, _ = run_cli("import", str(data))
    print(f"recruiter import (unchanged file again): {again:.2f} s — {summary2}")
    baseline = (before + after) / 2
    result = {"texts": len(texts), "encode_s": round(baseline, 2), "import_s": round(first, 2),
              "ratio": round(first / baseline, 3), "reimport_s": round(again, 2),
              "reimport_speedup": round(first / again, 1), "import_peak_mib": round(peak / 1024)}
    print(f"import / encode = {result['ratio']} (target <= 1.25); "
          f"re-import speed-up = {result['reimport_speedup']}x (target >= 20)")
    return result


def bench_rank(n: int, shared: Path | None) -> dict:
    from sqlmodel import select

    from profiles.service import save_profile
    from recruiter.accounts.roles import Actor
    from recruiter.core.config import database_url, embedding_model_name
    from recruiter.core.db import open_session
    from recruiter.core.models import Community, ProfileCreate
    from recruiter.matching.index import get_index
    from recruiter.matching.ranking import rank_communities

    fresh_home("bench-rank")
    model = embedding_model_name()
    start = time.perf_counter()
    with open_session() as session:
        insert_synthetic_communities(n, session=session)
        print(f"inserted {n} synthetic communities in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        index = get_index(database_url(), session=session, model=model)
        print(f"index built from the cache in {time.perf_counter() - start:.1f} s ({len(index)} vectors)")
        profile = save_profile(ProfileCreate(name="bench", description="Home espresso grinders for coffee geeks "
                                             "who want better shots at home.", keywords=["espresso"]),
                               actor=Actor.cli(), session=session)
        rank_communities(profile, session=session, limit=50)  # warm-up: model load, first encode
        timings = []
        for _ in range(10):
            start = time.perf_counter()
            rank_communities(profile, session=session, limit=50)
            timings.append(time.perf_counter() - start)
        filtered = []
        for _ in range(5):
            start = time.perf_counter()
            rank_communities(profile, session=session, limit=50, kind="podcast", min_audience=500_000)
            filtered.append(time.perf_counter() - start)
        assert session.exec(select(Community).limit(1)).first() is not None
    result = {"communities": n, "rank_median_ms": round(statistics.median(timings) * 1000, 1),
              "rank_max_ms": round(max(timings) * 1000, 1),
              "rank_filtered_median_ms": round(statistics.median(filtered) * 1000, 1)}
    print(f"rank over {n}: median {result['rank_median_ms']} ms, max {result['rank_max_ms']} ms; "
          f"with kind+audience filters {result['rank_filtered_median_ms']} ms (target < 300 ms)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=100_000)
    parser.add_argument("--skip-import", action="store_true")
    args = parser.parse_args()
    shared = require_shared("the import benchmark") if not args.skip_import else None
    results = {}
    if not args.skip_import:
        results["import"] = bench_import(shared)
    results["rank"] = bench_rank(args.communities, shared)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
