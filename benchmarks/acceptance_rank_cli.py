"""The ranking acceptance check exactly as a new user runs it: through the CLI, in a fresh data dir.

    .venv/bin/python benchmarks/acceptance_rank_cli.py [--corpus 1|2] [--profiles FILE] [--home DIR] [--model fast]

Corpus 1 (default): imports ../shared/datasets/communities.jsonl and scores with ../shared/bench/fitbench.py
(profiles: ../shared/bench/dev_profiles.json unless --profiles). Corpus 2: imports
../shared/datasets/communities2/communities.jsonl and scores with benchmarks/fitbench2.py against its labels
(profiles: benchmarks/fit_validation_profiles2.json unless --profiles). Each profile is added with
`profile add --name ID --description TEXT`, ranked with `rank ID --limit 20 --format json`, and the rankings
are scored (nDCG@20 and P@10 per profile and on average). `--home` reuses a data dir that already holds the
import (skips the slow first import); `--model` sets RECRUITER_MODEL (e.g. `fast`). Every rank is a fresh
process: their median wall time is the cold rank time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._shared import recruiter_cmd, require_shared


def corpus_files(shared: Path, corpus: str) -> tuple[Path, Path, Path, Path]:
    """(dataset, labels, scorer, default profiles) of a corpus."""
    if corpus == "2":
        folder = shared / "datasets" / "communities2"
        return (folder / "communities.jsonl", folder / "labels.jsonl", ROOT / "benchmarks" / "fitbench2.py",
                ROOT / "benchmarks" / "fit_validation_profiles2.json")
    return (shared / "datasets" / "communities.jsonl", shared / "datasets" / "communities-labels.jsonl",
            shared / "bench" / "fitbench.py", shared / "bench" / "dev_profiles.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=["1", "2"], default="1")
    parser.add_argument("--profiles", type=Path)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--model", help="RECRUITER_MODEL for every command (default: all-MiniLM-L6-v2)")
    args = parser.parse_args()
    shared = require_shared("the ranking acceptance check")
    dataset, labels, scorer, default_profiles = corpus_files(shared, args.corpus)
    if not dataset.exists():
        print(f"skipped: {dataset} not found")
        return
    profiles_path = args.profiles or default_profiles
    home = args.home or Path(tempfile.mkdtemp(prefix=f"recruiter-accept{args.corpus}-"))
    env = {**os.environ, "RECRUITER_HOME": str(home)}
    env.pop("RECRUITER_DB", None)
    if args.model:
        env["RECRUITER_MODEL"] = args.model

    def cli(*argv: str) -> str:
        done = subprocess.run([*recruiter_cmd(), *argv], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise SystemExit(f"recruiter {' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    if not (home / "recruiter.db").exists():
        start = time.perf_counter()
        print(cli("import", str(dataset)).strip().splitlines()[-1])
        print(f"import: {time.perf_counter() - start:.1f} s")
    rankings = {}
    profiles = json.loads(profiles_path.read_text())
    start = time.perf_counter()
    rank_times = []
    for profile in profiles:
        if profile["id"] not in cli("profile", "list", "--format", "json"):
            cli("profile", "add", "--name", profile["id"], "--description", profile["text"])
        began = time.perf_counter()
        rows = json.loads(cli("rank", profile["id"], "--limit", "20", "--format", "json"))
        rank_times.append(time.perf_counter() - began)
        rankings[profile["id"]] = [row["url"] for row in rows]
    print(f"{len(profiles)} profiles added and ranked in {time.perf_counter() - start:.1f} s; cold rank median "
          f"{statistics.median(rank_times):.2f} s (min {min(rank_times):.2f}, max {max(rank_times):.2f}); "
          f"load average {os.getloadavg()}; data dir {home}")
    out = home / "rankings.json"
    out.write_text(json.dumps(rankings, indent=1))
    subprocess.run([sys.executable, str(scorer), str(out), "--profiles", str(profiles_path), "--labels",
                    str(labels)], check=True)


if __name__ == "__main__":
    main()
