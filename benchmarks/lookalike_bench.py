#!/usr/bin/env python3
"""Lookalike benchmark: `find_lookalikes` against two baselines, on both labelled corpora.

    .venv/bin/python benchmarks/lookalike_bench.py [--corpus 1|2|both] [--sealed] [--try K=V,K=V]...
                                                  [--per-set] [--write-sealed]

Seed sets are drawn from the communities of a profile's most relevant labels: 3, 5 and 10 seeds from one
niche, and 3 + 3 and 5 + 5 from two profiles whose relevant communities do not overlap. Every ranking is scored
on the *other* relevant communities: the seeds are left out of the ranking and of the ideal list alike.

Rows, each measured in the same run on the same seed sets:
- `centroid`: cosine with the mean of the seeds' vectors (baseline);
- `rank alone`: `rank_communities` of the profile's description, with no seeds (baseline);
- `lookalike`: `find_lookalikes(seeds)`;
- `lookalike + profile`: `find_lookalikes(seeds, profile=...)`.
Two-niche sets also report how many of the top 20 belong to each niche (the smaller niche's count matters).

Development sets come from the development and validation profiles (`fitbench_run.CORPORA`). The sealed sets
(`lookalike_sealed_sets.json`) were drawn from the sealed profiles and written before any tuning; `--sealed`
scores them, to check a finished method, never to choose between variants.
The corpora are imported once into FITBENCH_HOME, as `fitbench_run.py` does.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import fitbench_run  # the corpora, their import and their scorers

SEALED = HERE / "lookalike_sealed_sets.json"
ONE_NICHE = (3, 5, 10)
TWO_NICHE = (3, 5)  # per niche


@dataclass
class SeedSet:
    name: str
    profiles: list[dict]  # one, or two for a two-niche set
    seeds: list[str]  # URLs as in the corpus


def _gain(corpus, profile: dict, key: str) -> int:
    label = corpus.labels.get(key)
    return corpus.scorer.gain(profile, label) if label else 0


def corpus_urls(corpus) -> dict[str, str]:
    """match key -> URL as written in the corpus file."""
    out = {}
    with open(corpus.dataset, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                url = json.loads(line)["url"]
                out[corpus.scorer.match_key(url)] = url
    return out


def relevant(corpus, profile: dict, urls: dict[str, str]) -> list[str]:
    """The communities a merchant would pick as seeds for this profile: those of its most relevant labels."""
    best = max(profile["gains"].values())
    return sorted(urls[k] for k in urls if _gain(corpus, profile, k) == best)


def draw_sets(corpus, profiles: list[dict], urls: dict[str, str], tag: str) -> list[SeedSet]:
    """Deterministic seed sets for these profiles (the same on every machine and run)."""
    pools = {p["id"]: relevant(corpus, p, urls) for p in profiles}
    out = []
    for p in profiles:
        for n in ONE_NICHE:
            pool = pools[p["id"]]
            if len(pool) > n + 20:
                out.append(SeedSet(f"{p['id']}/{n}", [p], random.Random(f"{tag}:{p['id']}:{n}").sample(pool, n)))
    for i, p in enumerate(profiles):
        # a partner from the other half of the list whose relevant communities are disjoint from this one's
        others = profiles[i + len(profiles) // 2:] + profiles[:i]
        q = next((o for o in others if o is not p and not set(pools[p["id"]]) & set(pools[o["id"]])), None)
        if q is None or i >= len(profiles) // 2 + 1:
            continue
        for n in TWO_NICHE:
            if len(pools[p["id"]]) > n + 20 and len(pools[q["id"]]) > n + 20:
                rng = random.Random(f"{tag}:{p['id']}+{q['id']}:{n}")
                seeds = rng.sample(pools[p["id"]], n) + rng.sample(pools[q["id"]], n)
                out.append(SeedSet(f"{p['id']}+{q['id']}/{n}+{n}", [p, q], seeds))
    return out


def _dcg(gains: list[int]) -> float:
    return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


def score_list(corpus, seed_set: SeedSet, ranked: list[str], urls: dict[str, str]) -> dict:
    """nDCG@20 and P@10 over the other relevant communities (seeds out of the list and the ideal), and for a
    two-niche set how many of the top 20 each niche holds."""
    key = corpus.scorer.match_key
    seeds = {key(u) for u in seed_set.seeds}
    keys = [k for k in (key(u) for u in ranked) if k not in seeds][:20]

    def gain(k: str) -> int:
        return max(_gain(corpus, p, k) for p in seed_set.profiles)

    ideal = sorted((gain(k) for k in urls if k not in seeds), reverse=True)[:20]
    got = [gain(k) for k in keys]
    result = {"ndcg": _dcg(got) / _dcg(ideal) if _dcg(ideal) else 0.0,
              "p10": sum(1 for g in got[:10] if g > 0) / 10}
    if len(seed_set.profiles) == 2:
        counts = [sum(1 for k in keys if _gain(corpus, p, k) > 0) for p in seed_set.profiles]
        result["niches"] = counts
    return result


def centroid_ranking(seed_set: SeedSet, *, session, index, limit: int = 40) -> list[str]:
    import numpy as np

    from recruiter.matching.lookalike import seeds_from_urls

    seeds = seeds_from_urls(seed_set.seeds, session=session)
    query = index.vectors_for([s.community_id for s in seeds]).mean(axis=0)
    scores = index.vectors @ query
    top = np.argsort(-scores)[: limit + len(seeds)]
    return _urls([int(index.ids[i]) for i in top], session=session)


def _urls(ids: list[int], *, session) -> list[str]:
    from recruiter.core.models import Community

    return [session.get(Community, i).url for i in ids]


def rank_alone(seed_set: SeedSet, *, session, index, limit: int = 40) -> list[str]:
    from recruiter.matching.ranking import rank_communities

    profile = fitbench_run.transient_profile(seed_set.profiles[0])
    return [r.url for r in rank_communities(profile, session=session, limit=limit, store=False, index=index)]


def lookalike(seed_set: SeedSet, *, session, index, options, with_profile: bool, limit: int = 40) -> list[str]:
    from recruiter.matching.lookalike import find_lookalikes, seeds_from_urls

    profile = fitbench_run.transient_profile(seed_set.profiles[0]) if with_profile else None
    seeds = seeds_from_urls(seed_set.seeds, session=session)
    rows = find_lookalikes(seeds, session=session, index=index, profile=profile, limit=limit, options=options,
                           include_known=True)
    return [r.url for r in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=["1", "2", "both"], default="both")
    parser.add_argument("--sealed", action="store_true", help="also score the sealed seed sets")
    parser.add_argument("--try", dest="tries", action="append", default=[], metavar="K=V[,K=V]")
    parser.add_argument("--per-set", action="store_true")
    parser.add_argument("--write-sealed", action="store_true", help="draw the sealed sets (once, before tuning)")
    args = parser.parse_args()
    corpora = [fitbench_run.CORPORA[k] for k in (("1", "2") if args.corpus == "both" else (args.corpus,))]
    if [p for c in corpora for p in c.missing()]:
        print("lookalike benchmark skipped: ../shared (or RECRUITER_SHARED) not found", file=sys.stderr)
        return 0
    os.environ.setdefault("RECRUITER_HOME", os.environ.get("FITBENCH_HOME", "/tmp/recruiter-fitbench"))
    Path(os.environ["RECRUITER_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ.pop("RECRUITER_DB", None)

    if args.write_sealed:
        sealed = {}
        for corpus in fitbench_run.CORPORA.values():
            corpus.load()
            urls = corpus_urls(corpus)
            for set_name, path in corpus.sealed.items():
                profiles = json.loads(path.read_text())
                sealed[set_name] = [{"name": s.name, "profiles": [p["id"] for p in s.profiles], "seeds": s.seeds}
                                    for s in draw_sets(corpus, profiles, urls, "sealed")]
        SEALED.write_text(json.dumps(sealed, indent=1) + "\n")
        print(f"wrote {SEALED}: " + ", ".join(f"{k} {len(v)} sets" for k, v in sealed.items()))
        return 0

    from recruiter.core.db import open_session
    from recruiter.matching.index import session_index
    from recruiter.matching.lookalike import LookalikeOptions

    fitbench_run.memoize_queries()
    configs = {"lookalike": LookalikeOptions()}
    for spec in args.tries:
        changes = dict(part.split("=", 1) for part in spec.split(",") if part)
        configs[f"+ {spec}"] = replace(LookalikeOptions(), **{k: type(getattr(LookalikeOptions(), k))(
            v if not isinstance(getattr(LookalikeOptions(), k), bool) else v in ("1", "true", "True"))
            for k, v in changes.items()})
    sealed = json.loads(SEALED.read_text()) if args.sealed and SEALED.exists() else {}
    for corpus in corpora:
        corpus.load()
        fitbench_run.prepare(corpus)
        urls = corpus_urls(corpus)
        with open_session(corpus.url) as session:
            index = session_index(session)
            groups: dict[str, list[SeedSet]] = {}
            dev_profiles = [p for path in corpus.sets.values() for p in json.loads(path.read_text())]
            groups["dev"] = draw_sets(corpus, dev_profiles, urls, "dev")
            for set_name, path in corpus.sealed.items():
                if set_name in sealed:
                    by_id = {p["id"]: p for p in json.loads(path.read_text())}
                    groups[set_name] = [SeedSet(s["name"], [by_id[i] for i in s["profiles"]], s["seeds"])
                                        for s in sealed[set_name]]
            print(f"\ncorpus {corpus.key} ({corpus.title}): {len(index)} communities; "
                  + ", ".join(f"{k} {len(v)} seed sets" for k, v in groups.items()))
            for group, sets in groups.items():
                rows = {"centroid": partial(centroid_ranking, session=session, index=index),
                        "rank alone": partial(rank_alone, session=session, index=index)}
                for name, options in configs.items():
                    rows[name] = partial(lookalike, session=session, index=index, options=options,
                                         with_profile=False)
                    rows[f"{name} + profile"] = partial(lookalike, session=session, index=index, options=options,
                                                        with_profile=True)
                print(f"\n{group}: | ranking | 1 niche nDCG@20 | P@10 | by size | 2 niches nDCG@20 | niche counts "
                      "(smaller) |")
                for row_name, ranker in rows.items():
                    started = time.perf_counter()
                    one, two, by_size = [], [], {}
                    for s in sets:
                        result = score_list(corpus, s, ranker(s), urls)
                        (two if len(s.profiles) == 2 else one).append(result)
                        if len(s.profiles) == 1:
                            by_size.setdefault(len(s.seeds), []).append(result["ndcg"])
                        if args.per_set:
                            print(f"    {row_name:22s} {s.name:40s} {result}", file=sys.stderr)
                    mean = lambda xs: sum(xs) / len(xs) if xs else float("nan")  # noqa: E731
                    sizes = " ".join(f"{n}:{mean(v):.3f}" for n, v in sorted(by_size.items()))
                    counts = [r["niches"] for r in two]
                    three = [min(r["niches"]) for r, s in zip(two, [x for x in sets if len(x.profiles) == 2],
                                                              strict=True) if s.name.endswith("/3+3")]
                    print(f"| {row_name} | {mean([r['ndcg'] for r in one]):.3f} | {mean([r['p10'] for r in one]):.3f}"
                          f" | {sizes} | {mean([r['ndcg'] for r in two]):.3f} | "
                          f"{mean([c[0] for c in counts]):.1f} / {mean([c[1] for c in counts]):.1f} "
                          f"({mean([min(c) for c in counts]):.1f}; 3+3: {mean(three):.1f}) |"
                          f"  {(time.perf_counter() - started) / len(sets) * 1000:.0f} ms/set", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
