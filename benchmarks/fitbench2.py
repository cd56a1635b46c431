#!/usr/bin/env python3
"""Score rankings against the second corpus (../shared/datasets/communities2): same metrics as fitbench.py.

    fitbench2.py RANKINGS.json --profiles PROFILES.json [--labels ../shared/datasets/communities2/labels.jsonl]

The corpus's labels are one topic per community (`label`: web, backend, devops, ...). A profile's `gains` map
a label to its graded relevance (`"web": 2`), or a kind and a label (`"newsletter:web": 2`) when only that
kind of community counts; a community's gain is the largest that matches it, 0 when none does. nDCG@20 (gain
2^g - 1, the ideal ranking taken over the whole pool) and P@10 (share of the first ten with gain >= 1), as in
../shared/bench/fitbench.py, whose `match_key` this reuses so that canonical URLs still match.
Standard library only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RECRUITER_SHARED") or ROOT.parent / "shared")
LABELS = SHARED / "datasets" / "communities2" / "labels.jsonl"


def _fitbench():
    spec = importlib.util.spec_from_file_location("fitbench", SHARED / "bench" / "fitbench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


match_key = _fitbench().match_key if (SHARED / "bench" / "fitbench.py").exists() else (lambda url: url)


def load_labels(path=LABELS):
    with open(path, encoding="utf-8") as fh:
        return {match_key(r["url"]): r for r in map(json.loads, fh) if r.get("url")}


def gain(profile, label):
    gains = profile["gains"]
    return max(gains.get(label["label"], 0), gains.get(f"{label.get('kind')}:{label['label']}", 0))


def dcg(gains):
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at(ranked, profile, labels, k=20):
    keys = [match_key(u) for u in ranked[:k]]
    got = [gain(profile, labels[u]) if u in labels else 0 for u in keys]
    ideal = sorted((gain(profile, lab) for lab in labels.values()), reverse=True)[:k]
    return dcg(got) / dcg(ideal) if dcg(ideal) else 0.0


def precision_at(ranked, profile, labels, k=10):
    keys = [match_key(u) for u in ranked[:k]]
    return sum(1 for u in keys if u in labels and gain(profile, labels[u]) > 0) / k


def evaluate(rankings, profiles, labels):
    rows = {}
    for p in profiles:
        ranked = rankings.get(p["id"], [])
        rows[p["id"]] = (ndcg_at(ranked, p, labels), precision_at(ranked, p, labels))
    n = len(rows) or 1
    return rows, sum(r[0] for r in rows.values()) / n, sum(r[1] for r in rows.values()) / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rankings")
    ap.add_argument("--profiles", required=True)
    ap.add_argument("--labels", default=LABELS)
    args = ap.parse_args()
    with open(args.rankings, encoding="utf-8") as fh:
        rankings = json.load(fh)
    with open(args.profiles, encoding="utf-8") as fh:
        profiles = json.load(fh)
    rows, nd, pa = evaluate(rankings, profiles, load_labels(args.labels))
    for pid, (n, p) in rows.items():
        print(f"{pid:24s} nDCG@20={n:.3f} P@10={p:.3f}")
    print(f"mean nDCG@20={nd:.3f} P@10={pa:.3f}")


if __name__ == "__main__":
    main()
