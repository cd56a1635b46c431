#!/usr/bin/env python3
"""Audience-fit benchmark: the project's own `rank_communities` over two labelled corpora.

    .venv/bin/python benchmarks/fitbench_run.py [--corpus 1|2|both] [--ablations] [--try K=V,K=V]... [--sealed]
                                  [--feedback] [--examples] [--kinds] [--reasons] [--calibrate] [--per-profile] [--json OUT]

Corpus 1 is ../shared/datasets/communities.jsonl (subreddits, Apple podcasts, RSS blogs) scored by
../shared/bench/fitbench.py with two profile sets: the shared development profiles (`dev`) and
benchmarks/fit_validation_profiles.json (`val`). Corpus 2 is ../shared/datasets/communities2 (YouTube channels,
newsletters, developer podcasts, Discord/Slack servers, blogs) scored by benchmarks/fitbench2.py with
benchmarks/fit_validation_profiles2.json (`val2`). Each corpus is imported once, by the project's own import
(same embeddings and derived indexes), into FITBENCH_HOME/corpusN (default /tmp/recruiter-fitbench); later runs
reuse it, so a full ablation table takes a minute or two.

Every profile is ranked with nothing but its description (as a new user would); the table gives nDCG@20 and
P@10 per profile set, and `w/l` = profiles this configuration beats / loses to plain MiniLM cosine by more
than 0.01 nDCG@20.

--ablations  each ranking step switched off from the full method, and switched on alone over plain cosine;
--try K=V    an extra row: the full method with RankOptions fields changed (repeatable; `--try prf_weight=1`);
--sealed     also score the sealed profile sets (benchmarks/fit_sealed_profiles{1,2}.json): written before any
             tuning and run only to check a finished method, never to choose between variants;
--feedback   simulated feedback: 5 of the top 20 (ranks 1, 5, 9, 13, 17) marked shortlist / not a fit from the
             labels through the real pipeline, re-rank, nDCG@20 of the rest of the list before and after;
--examples   two example communities per profile (relevant ones the ranking missed), nDCG@20 of the rest;
--kinds      which kinds fill the top 20, against the kinds of the relevant communities;
--reasons    each claim `why` makes (audience, needs, topic, wider topic, ...), and how often it is on topic;
--calibrate  fit the Platt constants of `fit` on the top 200 of every profile of both corpora (for full profiles
             and, separately, for the same profiles reduced to their name), print reliability per corpus, kind.

The shared folder is RECRUITER_SHARED or ../shared beside the repository; without it the run is skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

# One BLAS thread: on a shared 2-core machine a multi-threaded 8,000 x 384 product waits ~30 ms for busy cores
# where a single thread takes 1 ms (set before numpy loads; a run can still override them).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RECRUITER_SHARED") or ROOT.parent / "shared")
FEEDBACK_RANKS = (0, 4, 8, 12, 16)
WIN = 0.01  # nDCG@20 difference that counts as a win or a loss against plain cosine

sys.path.insert(0, str(ROOT))


def _module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Corpus:
    key: str
    title: str
    dataset: Path
    labels_path: Path
    scorer_path: Path
    sets: dict[str, Path]
    sealed: dict[str, Path] = field(default_factory=dict)
    scorer: object = None
    labels: dict = field(default_factory=dict)

    def load(self) -> None:
        self.scorer = _module(f"fitbench_{self.key}", self.scorer_path)
        self.labels = self.scorer.load_labels(self.labels_path)

    @property
    def home(self) -> Path:
        return Path(os.environ.get("FITBENCH_HOME", "/tmp/recruiter-fitbench")) / f"corpus{self.key}"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.home / 'recruiter.db'}"

    def missing(self) -> list[Path]:
        return [p for p in (self.dataset, self.labels_path, self.scorer_path, *self.sets.values()) if not p.exists()]


CORPORA = {
    "1": Corpus("1", "communities.jsonl: subreddits, Apple podcasts, RSS blogs",
                SHARED / "datasets" / "communities.jsonl", SHARED / "datasets" / "communities-labels.jsonl",
                SHARED / "bench" / "fitbench.py",
                {"dev": SHARED / "bench" / "dev_profiles.json",
                 "val": ROOT / "benchmarks" / "fit_validation_profiles.json"},
                {"sealed1": ROOT / "benchmarks" / "fit_sealed_profiles1.json"}),
    "2": Corpus("2", "communities2: YouTube, newsletters, dev podcasts, Discord/Slack, blogs",
                SHARED / "datasets" / "communities2" / "communities.jsonl",
                SHARED / "datasets" / "communities2" / "labels.jsonl", ROOT / "benchmarks" / "fitbench2.py",
                {"val2": ROOT / "benchmarks" / "fit_validation_profiles2.json"},
                {"sealed2": ROOT / "benchmarks" / "fit_sealed_profiles2.json"}),
}


def prepare(corpus: Corpus) -> None:
    """Import the corpus into its benchmark home once (the slow part: embedding with the real model)."""
    from sqlmodel import func, select

    from recruiter.accounts.roles import Actor
    from recruiter.catalogue.importing import import_files
    from recruiter.core.db import open_session
    from recruiter.core.models import Community

    corpus.home.mkdir(parents=True, exist_ok=True)
    with open_session(corpus.url) as session:
        if session.exec(select(func.count()).select_from(Community)).one():
            return
        started = time.perf_counter()
        report = import_files([corpus.dataset], actor=Actor.cli(), session=session)
        print(f"corpus {corpus.key} imported: {report.summary()} in {time.perf_counter() - started:.0f}s",
              file=sys.stderr)


def memoize_queries() -> None:
    """Query texts recur across configurations: encode each once per run (the vectors are the same)."""
    from recruiter.matching.embedding import EmbeddingService, get_embedding_service, install_service

    class Memo(EmbeddingService):
        def __init__(self, inner: EmbeddingService) -> None:
            super().__init__(inner.model_name, inner.batch_size, backend=inner.backend)
            self.memo: dict[str, object] = {}

        def encode_queries(self, texts):
            import numpy as np

            texts = list(texts)
            missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
            if missing:
                self.memo.update(zip(missing, super().encode_queries(missing), strict=True))
            return np.stack([self.memo[t] for t in texts]) if texts else super().encode_queries(texts)

    install_service(Memo(get_embedding_service()))


def transient_profile(profile: dict, *, name_only: bool = False):
    from recruiter.core.models import Profile

    if name_only:
        return Profile(name=profile["id"].replace("-", " "), description="")
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


def feedback_lift(corpus: Corpus, profiles: list[dict], *, session, index, options) -> tuple[float, float]:
    """Mean nDCG@20 of the rest of the list (the 5 judged communities removed) before and after feedback."""
    from profiles.service import delete_profile, get_profile, save_profile
    from recruiter.accounts.roles import Actor
    from recruiter.core.models import ProfileCreate
    from recruiter.matching.ranking import rank_communities
    from recruiter.outreach.pipeline import find_community, set_feedback

    fb, labels = corpus.scorer, corpus.labels
    before, after = [], []
    for p in profiles:
        name = f"fitbench-{p['id']}"
        old = get_profile(name, session=session)
        if old is not None:
            delete_profile(old, actor=Actor.cli(), session=session)
        saved = save_profile(ProfileCreate(name=name, description=p["text"]), actor=Actor.cli(), session=session)
        first = [r.url for r in rank_communities(saved, session=session, limit=40, options=options, store=False,
                                                 index=index)]
        judged = [first[i] for i in FEEDBACK_RANKS if i < len(first)]
        communities = []
        for url in judged:
            label = labels.get(fb.match_key(url))
            verdict = "shortlist" if label and fb.gain(p, label) > 0 else "not_a_fit"
            community = find_community(url, session=session)
            set_feedback(community, verdict, actor=Actor.cli(), session=session, profile_id=saved.id)
            communities.append(community)
        second = [r.url for r in rank_communities(saved, session=session, limit=40, options=options, store=False,
                                                  index=index)]
        for community in communities:
            set_feedback(community, None, actor=Actor.cli(), session=session, profile_id=saved.id)
        delete_profile(saved, actor=Actor.cli(), session=session)
        before.append(fb.ndcg_at([u for u in first if u not in judged][:20], p, labels))
        after.append(fb.ndcg_at([u for u in second if u not in judged][:20], p, labels))
    return sum(before) / len(before), sum(after) / len(after)


def examples_lift(corpus: Corpus, profiles: list[dict], *, session, index, options) -> tuple[float, float]:
    """Two example communities per profile (the first two of the most relevant label that the plain ranking
    missed in its top 20), as a user pasting two URLs they know: nDCG@20 without the examples, before/after."""
    from recruiter.core.models import Profile
    from recruiter.matching.ranking import rank_communities

    fb, labels = corpus.scorer, corpus.labels
    by_key = {}
    with open(corpus.dataset, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                by_key[fb.match_key(row["url"])] = row["url"]
    before, after = [], []
    for p in profiles:
        first = [r.url for r in rank_communities(transient_profile(p), session=session, limit=40, options=options,
                                                 store=False, index=index)]
        seen = {fb.match_key(u) for u in first[:20]}
        best = max(p["gains"].values())
        examples = [by_key[k] for k, lab in labels.items()
                    if k in by_key and k not in seen and fb.gain(p, lab) == best][:2]
        profile = Profile(name=p["id"], description=p["text"], examples=examples)
        second = [r.url for r in rank_communities(profile, session=session, limit=40, options=options, store=False,
                                                  index=index)]
        keys = {fb.match_key(u) for u in examples}
        before.append(fb.ndcg_at([u for u in first if fb.match_key(u) not in keys][:20], p, labels))
        after.append(fb.ndcg_at([u for u in second if fb.match_key(u) not in keys][:20], p, labels))
    return sum(before) / len(before), sum(after) / len(after)


def kind_mix(corpus: Corpus, profiles: list[dict], *, session, index, options) -> None:
    """Share of each kind in the top 20 against its share among the profile's relevant communities."""
    from recruiter.matching.ranking import rank_communities

    fb, labels = corpus.scorer, corpus.labels
    kinds_of = {}
    with open(corpus.dataset, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                kinds_of[fb.match_key(row["url"])] = row.get("kind") or "?"
    shown, relevant, hits = Counter(), Counter(), Counter()
    for p in profiles:
        for r in rank_communities(transient_profile(p), session=session, limit=20, options=options, store=False,
                                  index=index):
            shown[r.kind] += 1
            label = labels.get(fb.match_key(r.url))
            hits[r.kind] += bool(label and fb.gain(p, label) > 0)
        for key, label in labels.items():
            if fb.gain(p, label) > 0:
                relevant[kinds_of.get(key, "?")] += 1 / max(1, sum(fb.gain(p, lab) > 0 for lab in labels.values()))
    total = sum(shown.values()) or 1
    print(f"kind mix, corpus {corpus.key} (top 20 share / share of relevant pool / precision in top 20):")
    for kind in sorted(set(shown) | set(relevant)):
        print(f"  {kind:11s} {100 * shown[kind] / total:5.1f}% / {100 * relevant[kind] / len(profiles):5.1f}%"
              f" / {100 * hits[kind] / shown[kind] if shown[kind] else 0:5.1f}%")


REASON_CLAIMS = {"audience": "matches the audience", "needs": "their needs (", "topic": "the topic (",
                 "close to the description": "close to the description", "wider topic": "fits the wider topic",
                 "loosely related": "loosely related", "shares words only": None}


def reasons(jobs, *, options, depth: int = 20) -> None:
    """How often each kind of claim in `why` is made in the top `depth`, and how often it is right (the
    community is on the profile's topic): a claim that is made for on- and off-topic communities alike would
    be a claim the ranking cannot back."""
    from recruiter.matching.ranking import rank_communities

    counts: dict[str, list[int]] = {k: [0, 0] for k in REASON_CLAIMS}
    overall = [0, 0]
    for corpus, _set_name, profiles, session, index in jobs:
        for p in profiles:
            for r in rank_communities(transient_profile(p), session=session, limit=depth, options=options,
                                      store=False, index=index):
                label = corpus.labels.get(corpus.scorer.match_key(r.url))
                hit = int(bool(label and corpus.scorer.gain(p, label) > 0))
                overall[0] += 1
                overall[1] += hit
                found = False
                for name, marker in REASON_CLAIMS.items():
                    if marker and marker in r.why:
                        counts[name][0] += 1
                        counts[name][1] += hit
                        found = found or name not in ("wider topic",)
                if not found:
                    counts["shares words only"][0] += 1
                    counts["shares words only"][1] += hit
    print(f"\nreasons in the top {depth} ({overall[0]} communities, {100 * overall[1] / overall[0]:.0f}% on topic):")
    print("| claim | communities | on the profile's topic |\n|---|---|---|")
    for name, (n, hits) in counts.items():
        print(f"| {name} | {n} | {100 * hits / n:.0f}% |" if n else f"| {name} | 0 | – |")


def calibrate(jobs: list[tuple[Corpus, list[dict], object, object]], *, options, depth: int = 200) -> None:
    """Fit fit = sigmoid(a * score + b + c[kind]) to on-topic labels of every profile's top `depth` (c: one
    shrunk offset per kind with enough pairs), and a plain a, b curve for the same profiles reduced to a name
    (the "guessing" curve); print the constants and the reliability per corpus and kind, first with the new
    constants, then with those in recruiter/matching/ranking.py (the check after pasting them there)."""
    import numpy as np

    from recruiter.matching.ranking import rank_communities

    for name_only in (False, True):
        xs, ys, groups, kinds, current = [], [], [], [], []
        for corpus, profiles, session, index in jobs:
            fb = corpus.scorer
            for p in profiles:
                for r in rank_communities(transient_profile(p, name_only=name_only), session=session, limit=depth,
                                          options=options, store=False, index=index):
                    label = corpus.labels.get(fb.match_key(r.url))
                    xs.append(r.score)
                    ys.append(1.0 if label and fb.gain(p, label) > 0 else 0.0)
                    groups.append(f"corpus {corpus.key}")
                    kinds.append(r.kind or "")
                    current.append(r.fit)
        x, y, group, kind = np.array(xs), np.array(ys), np.array(groups), np.array(kinds)
        what = "profiles reduced to their name (GUESS_*)" if name_only else "full profiles (FIT_*, KIND_FIT_OFFSETS)"
        if name_only:
            a, b = platt(x, y)
            offsets: dict[str, float] = {}
        else:
            a, b, offsets = platt_kinds(x, y, kind)
        print(f"\n{what}: {len(x)} (profile, community) pairs; slope {a:.2f}, offset {b:.2f}"
              + (f", kind offsets {json.dumps({k: round(v, 2) for k, v in offsets.items()})}" if offsets else ""))
        print("reliability of the fitted curve (fit bin -> share on the profile's topic, pairs):")
        shift = np.array([offsets.get(k, 0.0) for k in kind])
        reliability(100 / (1 + np.exp(-(a * x + b + shift))), y, group, kind)
        if offsets:
            print("without the kind offsets:")
            reliability(100 / (1 + np.exp(-(a * x + b))), y, group, kind)
        print("with the constants now in recruiter/matching/ranking.py:")
        reliability(np.array(current, dtype=float), y, group, kind)


def platt_kinds(x, y, kinds, *, min_pairs: int = 300, shrink: float = 20.0) -> tuple[float, float, dict[str, float]]:
    """Logistic regression of y on a * x + b + c[kind] (Newton's method), c only for kinds with at least
    `min_pairs` pairs and pulled toward 0 by an L2 penalty `shrink`, so a kind is moved only by what
    thousands of its pairs agree on."""
    import numpy as np

    names = sorted(k for k in set(kinds.tolist()) if k and (kinds == k).sum() >= min_pairs)
    features = np.column_stack([x, np.ones(len(x))] + [(kinds == k).astype(float) for k in names])
    penalty = np.diag([0.0, 0.0] + [shrink] * len(names))
    w = np.zeros(features.shape[1])
    w[0], w[1] = 10.0, -5.0
    for _ in range(100):
        z = 1 / (1 + np.exp(-(features @ w)))
        grad = features.T @ (z - y) + penalty @ w
        hess = (features * (z * (1 - z))[:, None]).T @ features + penalty + 1e-6 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return float(w[0]), float(w[1]), {k: float(c) for k, c in zip(names, w[2:], strict=True)}


def platt(x, y) -> tuple[float, float]:
    """Newton's method on the logistic log-likelihood of y given a * x + b."""
    import numpy as np

    a, b = 10.0, -5.0
    for _ in range(100):
        z = 1 / (1 + np.exp(-(a * x + b)))
        grad = np.array([((z - y) * x).sum(), (z - y).sum()])
        w = z * (1 - z)
        hess = np.array([[(w * x * x).sum(), (w * x).sum()], [(w * x).sum(), w.sum()]]) + 1e-6 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-8:
            break
    return float(a), float(b)


def reliability(fits, y, groups, kinds) -> None:
    """Fit bins -> share on topic, overall, per corpus and per kind (pairs in brackets)."""
    import numpy as np

    columns = [("all", np.ones(len(y), bool))]
    columns += [(g, groups == g) for g in sorted(set(groups.tolist()))]
    columns += [(k, kinds == k) for k in sorted(set(kinds.tolist()))]
    print("| fit | " + " | ".join(name for name, _ in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for lo in range(0, 100, 20):
        hi = lo + 20 if lo < 80 else 101
        in_bin = (fits >= lo) & (fits < hi)
        cells = []
        for _, mask in columns:
            m = in_bin & mask
            cells.append(f"{100 * y[m].mean():.0f}% ({m.sum()})" if m.any() else "–")
        print(f"| {lo}–{min(hi - 1, 100)} | " + " | ".join(cells) + " |")
    cells = []
    for _, mask in columns:  # expected calibration error: |mean fit - share on topic|, weighted by bin size
        err = sum(abs(fits[m].mean() / 100 - y[m].mean()) * m.sum()
                  for lo in range(0, 100, 10)
                  for m in [mask & (fits >= lo) & (fits < (lo + 10 if lo < 90 else 101))] if m.any())
        cells.append(f"{100 * err / max(1, mask.sum()):.1f}")
    print("| ECE (points) | " + " | ".join(cells) + " |")


def ablations(full, plain) -> dict:
    """Each step off from the full method, and on alone over plain cosine."""
    return {
        "- facets": replace(full, use_facets=False),
        "- common-direction centering": replace(full, center=0.0),
        "- pseudo-relevance feedback": replace(full, prf_depth=0),
        "- leave-one-out feedback": replace(full, prf_leave_one_out=False),
        "- niche preference": replace(full, niche=0.0),
        "- BM25 fusion": replace(full, lexical_weight=0.0),
        "- neighbour smoothing": replace(full, smoothing=0.0),
        "- best-passage scoring": replace(full, use_passages=False),
        "+ audience weight 1 (user option)": replace(full, audience_weight=1.0),
        "plain + facets": replace(plain, use_facets=True),
        "plain + centering": replace(plain, center=full.center),
        "plain + PRF": replace(plain, prf_depth=full.prf_depth),
        "plain + niche preference": replace(plain, niche=full.niche),
        "plain + BM25 fusion": replace(plain, lexical_weight=full.lexical_weight),
        "plain + smoothing": replace(plain, smoothing=full.smoothing),
        "plain + best-passage scoring": replace(plain, use_passages=True),
    }


def option_value(options, key: str, text: str):
    kind = {f.name: f.type for f in fields(options)}[key]
    if kind in ("bool", bool):
        return text.lower() in ("1", "true", "yes", "on")
    if kind in ("int", int):
        return int(text)
    if kind in ("float", float):
        return float(text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=["1", "2", "both"], default="both")
    parser.add_argument("--ablations", action="store_true")
    parser.add_argument("--try", dest="tries", action="append", default=[], metavar="K=V[,K=V]")
    parser.add_argument("--sealed", action="store_true", help="also score the sealed profile sets")
    parser.add_argument("--feedback", action="store_true")
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--examples", action="store_true", help="lift from two example communities per profile")
    parser.add_argument("--kinds", action="store_true", help="kind mix of the top 20 against the relevant pool")
    parser.add_argument("--reasons", action="store_true", help="how often each claim of `why` is on topic")
    parser.add_argument("--per-profile", action="store_true", help="print every profile's scores")
    parser.add_argument("--json", type=Path, help="write the full method's rankings here (scorer input)")
    args = parser.parse_args()
    corpora = [CORPORA[k] for k in (("1", "2") if args.corpus == "both" else (args.corpus,))]
    missing = [p for c in corpora for p in c.missing()]
    if missing:
        print(f"fitbench skipped: shared benchmark files not found ({', '.join(map(str, missing))}); "
              "set RECRUITER_SHARED to the shared folder", file=sys.stderr)
        return 0
    os.environ.setdefault("RECRUITER_HOME", os.environ.get("FITBENCH_HOME", "/tmp/recruiter-fitbench"))
    Path(os.environ["RECRUITER_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ.pop("RECRUITER_DB", None)

    from recruiter.core.db import open_session
    from recruiter.matching.backends import model_key
    from recruiter.matching.index import session_index
    from recruiter.matching.ranking import RankOptions

    memoize_queries()
    full = RankOptions.for_model(model_key())  # RECRUITER_MODEL's own configuration (ranking.MODEL_TUNING)
    print(f"model {model_key()}: full method = RankOptions.for_model({model_key()!r})")
    plain = RankOptions.plain()
    configs = {"full method": full}
    for spec in args.tries:
        changes = dict(part.split("=", 1) for part in spec.split(",") if part)
        configs[f"+ {spec}"] = replace(full, **{k: option_value(full, k, v) for k, v in changes.items()})
    if args.ablations:
        configs.update(ablations(full, plain))
    configs.setdefault("plain MiniLM cosine", plain)

    sessions, jobs = [], []
    for corpus in corpora:
        corpus.load()
        prepare(corpus)
        session = open_session(corpus.url).__enter__()
        sessions.append(session)
        index = session_index(session)
        sets = {name: json.loads(path.read_text()) for name, path in corpus.sets.items()}
        if args.sealed:
            sets.update({name: json.loads(path.read_text()) for name, path in corpus.sealed.items() if path.exists()})
        for name, profiles in sets.items():
            jobs.append((corpus, name, profiles, session, index))
        print(f"corpus {corpus.key} ({corpus.title}): {len(index)} communities; profiles: "
              + ", ".join(f"{k} {len(v)}" for k, v in sets.items()))

    print("\n| ranking | " + " | ".join(f"{name} nDCG@20 | {name} P@10 | {name} w/l" for _, name, *_ in jobs) + " |")
    print("|---" * (1 + 3 * len(jobs)) + "|")
    per_profile = {}
    for config_name in list(configs)[::-1][:1] + list(configs)[:-1]:  # plain first: the others compare with it
        options = configs[config_name]
        started = time.perf_counter()
        cells = []
        for corpus, set_name, profiles, session, index in jobs:
            rankings = run_config(options, profiles, session=session, index=index)
            rows, nd, pa = corpus.scorer.evaluate(rankings, profiles, corpus.labels)
            per_profile[(config_name, set_name)] = rows
            base = per_profile[("plain MiniLM cosine", set_name)]
            wins = sum(rows[p][0] > base[p][0] + WIN for p in rows)
            losses = sum(rows[p][0] < base[p][0] - WIN for p in rows)
            cells += [f"{nd:.3f}", f"{pa:.3f}", f"{wins}/{losses}"]
            if args.json and config_name == "full method":
                args.json.with_suffix(f".{set_name}.json").write_text(json.dumps(rankings, indent=1))
        per_query = (time.perf_counter() - started) / sum(len(j[2]) for j in jobs) * 1000
        print(f"| {config_name} | " + " | ".join(cells) + f" |  ({per_query:.0f} ms/profile)", flush=True)
    if args.ablations:
        cells = []
        for corpus, _set_name, profiles, session, index in jobs:
            _, nd, pa = corpus.scorer.evaluate(lexical_only(profiles, session=session, index=index), profiles,
                                               corpus.labels)
            cells += [f"{nd:.3f}", f"{pa:.3f}", ""]
        print("| BM25 alone | " + " | ".join(cells) + " |")
    if args.per_profile:
        for _, set_name, profiles, *_ in jobs:
            for p in profiles:
                n, pa = per_profile[("full method", set_name)][p["id"]]
                bn, bpa = per_profile[("plain MiniLM cosine", set_name)][p["id"]]
                print(f"    {set_name:7s} {p['id']:22s} nDCG@20={n:.3f} P@10={pa:.3f}   plain {bn:.3f} / {bpa:.3f}"
                      f"   {n - bn:+.3f}", file=sys.stderr)
    if args.kinds:
        for corpus in corpora:
            profiles = [p for c, _, ps, *_ in jobs if c is corpus for p in ps]
            session, index = next((s, i) for c, _, _, s, i in jobs if c is corpus)
            kind_mix(corpus, profiles, session=session, index=index, options=full)
            kind_mix(corpus, profiles, session=session, index=index, options=plain)
    if args.reasons:
        reasons(jobs, options=full)
    if args.examples:
        for corpus, set_name, profiles, session, index in jobs:
            b, a = examples_lift(corpus, profiles, session=session, index=index, options=full)
            print(f"two example communities ({set_name}): nDCG@20 of the rest {b:.3f} -> {a:.3f} ({a - b:+.3f})")
    if args.feedback:
        variants = {"Rocchio 0.5 / 0.25, orthogonal rejection (default)": full,
                    "removal of 'not a fit' only": replace(full, feedback_weight=0.0, negative_weight=0.0)}
        for label, options in variants.items():
            cells = []
            for corpus, set_name, profiles, session, index in jobs:
                b, a = feedback_lift(corpus, profiles, session=session, index=index, options=options)
                cells.append(f"{set_name} {b:.3f} -> {a:.3f} ({a - b:+.3f})")
            print(f"feedback, {label}: nDCG@20 of the rest " + "; ".join(cells))
    if args.calibrate:
        grouped = defaultdict(list)
        for corpus, _, profiles, session, index in jobs:
            grouped[corpus.key].append((corpus, profiles, session, index))
        calibrate([(c, [p for _, ps, _, _ in group for p in ps], s, i)
                   for group in grouped.values() for c, s, i in [(group[0][0], group[0][2], group[0][3])]],
                  options=full)
    for session in sessions:
        session.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
