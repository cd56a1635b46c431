#!/usr/bin/env python3
"""Audience-fit benchmark: the project's own `rank_communities` over the shared labelled communities.

    .venv/bin/python benchmarks/fitbench_run.py [--ablations] [--feedback] [--calibrate] [--json OUT]

Imports ../shared/datasets/communities.jsonl once into a cached home (FITBENCH_HOME, default
/tmp/recruiter-fitbench; the project's import, so the same embeddings and derived indexes), then ranks every
profile of ../shared/bench/dev_profiles.json and benchmarks/fit_validation_profiles.json with nothing but its
description (as a new user would) and scores the rankings with ../shared/bench/fitbench.py: nDCG@20 and
P@10 per profile and on average.

--ablations  each ranking component switched off from the full method, and switched on alone over plain cosine;
--feedback   simulated feedback: 5 of the top 20 (ranks 1, 5, 9, 13, 17) marked shortlist / not a fit from the
             labels through the real pipeline, re-rank, nDCG@20 of the rest of the list before and after;
--examples   two example communities per profile (relevant ones the ranking missed), nDCG@20 of the rest;
--calibrate  fit the Platt constants of `fit` on the top 200 of every profile, print the reliability table.

The shared folder is RECRUITER_SHARED or ../shared beside the repository; without it the run is skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RECRUITER_SHARED") or ROOT.parent / "shared")
DATASET = SHARED / "datasets" / "communities.jsonl"
LABELS = SHARED / "datasets" / "communities-labels.jsonl"
DEV_PROFILES = SHARED / "bench" / "dev_profiles.json"
FITBENCH = SHARED / "bench" / "fitbench.py"
VALIDATION_PROFILES = ROOT / "benchmarks" / "fit_validation_profiles.json"
FEEDBACK_RANKS = (0, 4, 8, 12, 16)

sys.path.insert(0, str(ROOT))


def load_fitbench():
    spec = importlib.util.spec_from_file_location("fitbench", FITBENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepare_home() -> float | None:
    """Import the dataset into the benchmark home once; returns the import time when it ran."""
    from sqlmodel import func, select

    from recruiter.catalogue.importing import import_files
    from recruiter.core.db import open_session
    from recruiter.core.models import Community

    with open_session() as session:
        count = session.exec(select(func.count()).select_from(Community)).one()
        if count:
            return None
        started = time.perf_counter()
        report = import_files([DATASET], session=session)
        print(f"imported: {report.summary()} in {time.perf_counter() - started:.0f}s", file=sys.stderr)
        return time.perf_counter() - started


def transient_profile(profile: dict):
    from recruiter.core.models import Profile

    return Profile(name=profile["id"], description=profile["text"])


def run_config(options, profiles: list[dict], *, session, index, limit: int = 20) -> dict[str, list[str]]:
    from recruiter.matching.ranking import rank_communities

    return {p["id"]: [r.url for r in rank_communities(transient_profile(p), session=session, limit=limit,
                                                      options=options, store=False, index=index)]
            for p in profiles}


def lexical_only(profiles: list[dict], *, session, index) -> dict[str, list[str]]:
    """Reference: BM25 alone over the same index (no embeddings at all)."""
    import numpy as np

    from recruiter.core.models import Community
    from recruiter.matching.rank_data import ranking_data

    data = ranking_data(index, session=session)
    out = {}
    for p in profiles:
        scores = data.lexical.scores(p["text"])
        top = np.argsort(-scores, kind="stable")[:20]
        out[p["id"]] = [session.get(Community, int(index.ids[i])).url for i in top]
    return out


def score(fitbench, labels, rankings, profiles) -> tuple[float, float, dict]:
    rows, nd, pa = fitbench.evaluate(rankings, profiles, labels)
    return nd, pa, rows


def feedback_lift(fitbench, labels, profiles: list[dict], *, session, index, options) -> tuple[float, float]:
    """Mean nDCG@20 of the rest of the list (the 5 judged communities removed) before and after feedback."""
    from profiles.service import delete_profile, get_profile, save_profile
    from recruiter.core.models import ProfileCreate
    from recruiter.matching.ranking import rank_communities
    from recruiter.outreach.pipeline import find_community, set_feedback

    before, after = [], []
    for p in profiles:
        name = f"fitbench-{p['id']}"
        old = get_profile(name, session=session)
        if old is not None:
            delete_profile(old, session=session)
        saved = save_profile(ProfileCreate(name=name, description=p["text"]), session=session)
        first = [r.url for r in rank_communities(saved, session=session, limit=40, options=options, store=False,
                                                 index=index)]
        judged = [first[i] for i in FEEDBACK_RANKS if i < len(first)]
        communities = []
        for url in judged:
            label = labels.get(fitbench.match_key(url))
            verdict = "shortlist" if label and fitbench.gain(p, label) > 0 else "not_a_fit"
            community = find_community(url, session=session)
            set_feedback(community, verdict, session=session, profile_id=saved.id)
            communities.append(community)
        second = [r.url for r in rank_communities(saved, session=session, limit=40, options=options, store=False,
                                                  index=index)]
        for community in communities:
            set_feedback(community, None, session=session, profile_id=saved.id)
        delete_profile(saved, session=session)
        rest_before = [u for u in first if u not in judged][:20]
        rest_after = [u for u in second if u not in judged][:20]
        before.append(fitbench.ndcg_at(rest_before, p, labels))
        after.append(fitbench.ndcg_at(rest_after, p, labels))
    return sum(before) / len(before), sum(after) / len(after)


def examples_lift(fitbench, labels, profiles: list[dict], *, session, index, options) -> tuple[float, float]:
    """Two example communities per profile (the first two of the most relevant label that the plain ranking
    missed in its top 20), as a user pasting two URLs they know: nDCG@20 without the examples, before/after."""
    from recruiter.core.models import Profile
    from recruiter.matching.ranking import rank_communities

    by_key = {}
    with open(DATASET, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                by_key[fitbench.match_key(row["url"])] = row["url"]
    before, after = [], []
    for p in profiles:
        first = [r.url for r in rank_communities(transient_profile(p), session=session, limit=40, options=options,
                                                 store=False, index=index)]
        seen = {fitbench.match_key(u) for u in first[:20]}
        best = max(p["gains"].values())
        examples = [by_key[k] for k, lab in labels.items()
                    if k in by_key and k not in seen and fitbench.gain(p, lab) == best][:2]
        profile = Profile(name=p["id"], description=p["text"], examples=examples)
        second = [r.url for r in rank_communities(profile, session=session, limit=40, options=options, store=False,
                                                  index=index)]
        keys = {fitbench.match_key(u) for u in examples}
        before.append(fitbench.ndcg_at([u for u in first if fitbench.match_key(u) not in keys][:20], p, labels))
        after.append(fitbench.ndcg_at([u for u in second if fitbench.match_key(u) not in keys][:20], p, labels))
    return sum(before) / len(before), sum(after) / len(after)


def calibrate(fitbench, labels, profiles: list[dict], *, session, index, options, depth: int = 200) -> None:
    """Fit fit = sigmoid(a * score + b) to on-topic labels of every profile's top `depth`; print reliability."""
    import numpy as np

    from recruiter.matching.ranking import fit_from_score, rank_communities

    xs, ys, sets = [], [], []
    for p in profiles:
        for r in rank_communities(transient_profile(p), session=session, limit=depth, options=options,
                                  store=False, index=index):
            label = labels.get(fitbench.match_key(r.url))
            xs.append(r.score)
            ys.append(1.0 if label and fitbench.gain(p, label) > 0 else 0.0)
            sets.append(p.get("_set", ""))
    x, y, group = np.array(xs), np.array(ys), np.array(sets)
    a, b = 10.0, -5.0
    for _ in range(100):  # Newton's method on the logistic log-likelihood
        z = 1 / (1 + np.exp(-(a * x + b)))
        grad = np.array([((z - y) * x).sum(), (z - y).sum()])
        w = z * (1 - z)
        hess = np.array([[(w * x * x).sum(), (w * x).sum()], [(w * x).sum(), w.sum()]]) + 1e-6 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-8:
            break
    print(f"Platt fit over {len(x)} (profile, community) pairs: FIT_SLOPE = {a:.2f}, FIT_OFFSET = {b:.2f}")
    fits = np.array([fit_from_score(s) for s in x])
    print("reliability with the constants in recruiter/matching/ranking.py (fit bin -> share on topic):")
    names = sorted(set(sets))
    print("  fit bin   | pairs | on topic (all) | mean fit | " + " | ".join(f"on topic ({n})" for n in names))
    for lo in range(0, 100, 20):
        mask = (fits >= lo) & (fits < lo + 20 if lo < 80 else fits <= 100)
        if mask.any():
            per_set = " | ".join(f"{100 * y[mask & (group == n)].mean():5.1f}%" if (mask & (group == n)).any()
                                 else "  -  " for n in names)
            print(f"  {lo:3d}-{lo + 19 if lo < 80 else 100:3d}   | {mask.sum():5d} | {100 * y[mask].mean():5.1f}%"
                  f"         | {fits[mask].mean():5.0f}    | {per_set}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ablations", action="store_true")
    parser.add_argument("--feedback", action="store_true")
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--examples", action="store_true", help="lift from two example communities per profile")
    parser.add_argument("--per-profile", action="store_true", help="print every profile's scores")
    parser.add_argument("--json", type=Path, help="write the full method's rankings here (fitbench.py input)")
    args = parser.parse_args()
    missing = [p for p in (DATASET, LABELS, DEV_PROFILES, FITBENCH) if not p.exists()]
    if missing:
        print(f"fitbench skipped: shared benchmark files not found ({', '.join(map(str, missing))}); "
              "set RECRUITER_SHARED to the shared folder", file=sys.stderr)
        return 0
    os.environ.setdefault("RECRUITER_HOME", os.environ.get("FITBENCH_HOME", "/tmp/recruiter-fitbench"))
    Path(os.environ["RECRUITER_HOME"]).mkdir(parents=True, exist_ok=True)
    prepare_home()

    from recruiter.core.db import open_session
    from recruiter.matching.index import session_index
    from recruiter.matching.ranking import RankOptions

    fitbench = load_fitbench()
    labels = fitbench.load_labels(LABELS)
    sets = {"dev": json.loads(DEV_PROFILES.read_text())}
    if VALIDATION_PROFILES.exists():
        sets["val"] = json.loads(VALIDATION_PROFILES.read_text())
    full = RankOptions()
    plain = RankOptions(use_facets=False, lexical_weight=0, prf_depth=0, smoothing=0, use_passages=False)
    configs = {"full method": full}
    if args.ablations:
        configs.update({
            "- facets": replace(full, use_facets=False),
            "- BM25 fusion": replace(full, lexical_weight=0.0),
            "- pseudo-relevance feedback": replace(full, prf_depth=0),
            "- neighbour smoothing": replace(full, smoothing=0.0),
            "- best-passage scoring": replace(full, use_passages=False),
            "+ audience weight 1 (user option)": replace(full, audience_weight=1.0),
            "plain MiniLM cosine": plain,
            "plain + facets": replace(plain, use_facets=True),
            "plain + BM25 fusion": replace(plain, lexical_weight=full.lexical_weight),
            "plain + PRF": replace(plain, prf_depth=full.prf_depth),
            "plain + smoothing": replace(plain, smoothing=full.smoothing),
            "plain + best-passage scoring": replace(plain, use_passages=True),
        })
    with open_session() as session:
        index = session_index(session)
        print(f"{len(index)} communities indexed; profiles: "
              + ", ".join(f"{k} {len(v)}" for k, v in sets.items()))
        header = f"| {'ranking':28s} | " + " | ".join(f"{k} nDCG@20 | {k} P@10" for k in sets) + " |"
        print(header)
        print("|" + "---|" * (1 + 2 * len(sets)))
        for name, options in configs.items():
            started = time.perf_counter()
            cells = []
            for set_name, profiles in sets.items():
                rankings = run_config(options, profiles, session=session, index=index)
                nd, pa, rows = score(fitbench, labels, rankings, profiles)
                cells += [f"{nd:.3f}", f"{pa:.3f}"]
                if args.per_profile and name == "full method":
                    for pid, (n, p) in rows.items():
                        print(f"    {set_name} {pid:24s} nDCG@20={n:.3f} P@10={p:.3f}", file=sys.stderr)
                if args.json and name == "full method":
                    args.json.with_suffix(f".{set_name}.json").write_text(json.dumps(rankings, indent=1))
            per_query = (time.perf_counter() - started) / sum(len(v) for v in sets.values()) * 1000
            print(f"| {name:28s} | " + " | ".join(cells) + f" |  ({per_query:.0f} ms/profile)")
        if args.ablations:
            cells = []
            for profiles in sets.values():
                nd, pa, _ = score(fitbench, labels, lexical_only(profiles, session=session, index=index), profiles)
                cells += [f"{nd:.3f}", f"{pa:.3f}"]
            print(f"| {'BM25 alone':28s} | " + " | ".join(cells) + " |")
        if args.examples:
            for set_name, profiles in sets.items():
                b, a = examples_lift(fitbench, labels, profiles, session=session, index=index, options=full)
                print(f"two example communities ({set_name}): nDCG@20 of the rest {b:.3f} -> {a:.3f} ({a - b:+.3f})")
        if args.feedback:
            variants = {"Rocchio 0.5 / 0.25, orthogonal rejection (default)": full,
                        "removal of 'not a fit' only": replace(full, feedback_weight=0.0, negative_weight=0.0),
                        "near neighbours inherit verdicts instead": replace(full, feedback_weight=0.0,
                                                                            negative_weight=0.0,
                                                                            feedback_local=0.5)}
            for label, options in variants.items():
                cells = []
                for set_name, profiles in sets.items():
                    b, a = feedback_lift(fitbench, labels, profiles, session=session, index=index, options=options)
                    cells.append(f"{set_name} {b:.3f} -> {a:.3f} ({a - b:+.3f})")
                print(f"feedback, {label}: nDCG@20 of the rest " + "; ".join(cells))
        if args.calibrate:
            calibrate(fitbench, labels, [{**p, "_set": k} for k, v in sets.items() for p in v], session=session,
                      index=index, options=full)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
