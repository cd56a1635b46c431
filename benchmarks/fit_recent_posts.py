#!/usr/bin/env python3
"""Do item titles (a feed's or channel's recent posts) help the ranking, and where should they go?

    .venv/bin/python benchmarks/fit_recent_posts.py

Neither shared corpus has scraped recent posts. The nearest thing is in communities2: 240 YouTube rows end in
"Featured playlists: ..." and 267 Discord rows in "notable channels: #...", i.e. the titles a scrape would bring
beside a short description. This moves them out of the description into `recent_posts` (as a scrape would
deliver them) and scores plain MiniLM cosine of the validation profiles (benchmarks/fit_validation_profiles2.json)
over four representations of the same communities:

- the corpus as published (lists inline);
- A: `recruiter.core.text.community_text` as it is: the titles appended to the embedded text ("Recent: ...");
- B: the description embedded alone, the titles as a separate passage (a community scores by the better one);
- C: the titles dropped.

Vectors are cached in FITBENCH_HOME (default /tmp/recruiter-fitbench) after the first run.
Corpus 1 has no item titles at all, so it cannot answer this question; see README "How fit is calibrated".
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def split_titles(description: str) -> tuple[str, list[str]]:
    """("Content about: React", ["react js from scratch", ...]) from a YouTube or Discord row of communities2."""
    match = re.search(r"\s*Featured playlists:\s*(.*)$", description)
    if match:
        return description[: match.start()].strip(), [t.strip() for t in match.group(1).split(",") if t.strip()]
    match = re.search(r"notable channels:\s*(.*)$", description)
    if match:
        titles = [t.strip().lstrip("#").replace("-", " ") for t in match.group(1).split(",") if t.strip()]
        return description[: match.start()].rstrip(" ;:"), titles
    return description, []


def main() -> int:
    import fitbench_run
    import numpy as np

    corpus = fitbench_run.CORPORA["2"]
    if corpus.missing():
        print("skipped: needs ../shared/datasets/communities2 (or RECRUITER_SHARED)")
        return 0
    from recruiter.core.text import community_text
    from recruiter.matching.embedding import get_embedding_service

    corpus.load()
    rows = [json.loads(line) for line in corpus.dataset.read_text(encoding="utf-8").splitlines() if line.strip()]
    profiles = json.loads(corpus.sets["val2"].read_text())
    parts = [split_titles(r["description"]) for r in rows]
    has = np.array([bool(titles) for _, titles in parts])
    cache = Path(os.environ.get("FITBENCH_HOME", "/tmp/recruiter-fitbench")) / "recent_posts_vectors.npz"
    if cache.exists():
        with np.load(cache) as z:
            published, with_titles, alone, titles = z["published"], z["with_titles"], z["alone"], z["titles"]
    else:
        service = get_embedding_service()
        published = service.encode([community_text(r) for r in rows])
        with_titles = service.encode([community_text({"name": r["name"], "description": d, "recent_posts": t})
                                      for r, (d, t) in zip(rows, parts, strict=True)])
        alone = service.encode([community_text({"name": r["name"], "description": d})
                                for r, (d, _) in zip(rows, parts, strict=True)])
        titles = service.encode(["; ".join(t) or r["name"] for r, (_, t) in zip(rows, parts, strict=True)])
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, published=published, with_titles=with_titles, alone=alone, titles=titles)
    queries = get_embedding_service().encode([p["text"] for p in profiles])
    urls = [r["url"] for r in rows]
    print(f"{int(has.sum())} of {len(rows)} communities have item titles; {len(profiles)} profiles (val2)")
    print("| representation | nDCG@20 | P@10 |\n|---|---|---|")
    variants = {
        "as published (titles inline in the description)": queries @ published.T,
        "A: titles appended to the embedded text (community_text today)": queries @ with_titles.T,
        "B: description alone + titles as a separate passage (best of both)":
            np.where(has, np.maximum(queries @ alone.T, queries @ titles.T), queries @ alone.T),
        "C: titles dropped": queries @ alone.T,
    }
    for name, scores in variants.items():
        rankings = {p["id"]: [urls[j] for j in np.argsort(-scores[i])[:20]] for i, p in enumerate(profiles)}
        _, ndcg, precision = corpus.scorer.evaluate(rankings, profiles, corpus.labels)
        print(f"| {name} | {ndcg:.3f} | {precision:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
