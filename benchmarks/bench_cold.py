"""Cold start of real commands: fresh processes, timed from outside, each against a baseline in the same run.

    .venv/bin/python benchmarks/bench_cold.py [--runs 7] [--home DIR] [--fast-home DIR] [--skip-fallback]

1. `recruiter --help` (target <= 0.6 s), beside `python -c pass` and `python -c "import typer"` (what no CLI
   can avoid on this machine at this moment: the machine's load shows in them).
2. `recruiter rank PROFILE --limit 20 --format json` over the 7,723 shared communities, median of --runs fresh
   processes (target <= 1.5 s), against the same command with `RECRUITER_EMBEDDING_BACKEND=sentence-transformers`
   (the torch path every command took before) measured in the same run.
3. `recruiter lookalike --seed URL x5 --limit 20 --format json` over the same communities (target <= 1.5 s, issue
   23), and with `--profile` too; the cold `rank` of the same run is its baseline.
4. The same rank with `RECRUITER_MODEL=fast` (target <= 1.5 s), over its own index.

`--home` / `--fast-home` reuse data dirs that already hold the shared import (one is made when absent).
The load average is printed next to the numbers: this machine is shared, so compare within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._shared import recruiter_cmd, require_shared

PROFILE = ("yoga-mats", "Yoga mats and online classes for beginners who want more flexibility and less back pain.")
SEEDS = ["https://www.reddit.com/r/Fitness/", "https://www.reddit.com/r/flexibility/", "https://www.reddit.com/r/running/",
         "https://www.reddit.com/r/bodyweightfitness/", "https://www.reddit.com/r/Meditation/"]


CPU: list[float] = []  # CPU seconds (user + system) of each timed process: what the load of others cannot inflate


def timed(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    CPU.clear()
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
    return times


def prepare_home(home: Path | None, shared: Path, env: dict[str, str], model: str | None) -> tuple[Path, dict]:
    home = home or Path(tempfile.mkdtemp(prefix="recruiter-cold-"))
    env = {**env, "RECRUITER_HOME": str(home)}
    env.pop("RECRUITER_DB", None)
    if model:
        env["RECRUITER_MODEL"] = model
    if not (home / "recruiter.db").exists():
        start = time.perf_counter()
        subprocess.run([*recruiter_cmd(), "import", str(shared / "datasets" / "communities.jsonl")], env=env,
                       check=True, capture_output=True)
        print(f"  imported the shared communities into {home} ({model or 'default model'}) in "
              f"{time.perf_counter() - start:.1f} s")
    listed = subprocess.run([*recruiter_cmd(), "profile", "list", "--format", "json"], env=env, capture_output=True,
                            text=True, check=True).stdout
    if PROFILE[0] not in listed:
        subprocess.run([*recruiter_cmd(), "profile", "add", "--name", PROFILE[0], "--description", PROFILE[1]],
                       env=env, check=True, capture_output=True)
    # one warm-up rank: the index is in sync and the model files are in the page cache, as for any user's 2nd run
    subprocess.run([*recruiter_cmd(), "rank", PROFILE[0], "--limit", "20", "--format", "json"], env=env, check=True,
                   capture_output=True)
    return home, env


def line(label: str, times: list[float], target: float | None = None) -> dict:
    med = statistics.median(times)
    cpu = statistics.median(CPU) if CPU else float("nan")
    note = f" (target <= {target} s)" if target else ""
    print(f"{label}: median {med:.3f} s wall, min {min(times):.3f} s, max {max(times):.3f} s over {len(times)}"
          f"{note}; CPU {cpu:.3f} s")
    return {"median_s": round(med, 3), "min_s": round(min(times), 3), "max_s": round(max(times), 3),
            "cpu_s": round(cpu, 3), "runs": len(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--fast-home", type=Path)
    parser.add_argument("--skip-fallback", action="store_true", help="skip the sentence-transformers baseline")
    args = parser.parse_args()
    shared = require_shared("the cold-start benchmark")
    base_env = {k: v for k, v in os.environ.items() if k not in ("RECRUITER_MODEL", "RECRUITER_EMBEDDING_BACKEND")}
    print(f"load average before: {os.getloadavg()}")
    results: dict = {"load_before": os.getloadavg()}
    empty_home = Path(tempfile.mkdtemp(prefix="recruiter-help-"))
    help_env = {**base_env, "RECRUITER_HOME": str(empty_home)}
    results["python_pass"] = line("python -c pass (baseline)", timed([sys.executable, "-c", "pass"], help_env,
                                                                       args.runs))
    results["import_typer"] = line("python -c 'import typer' (baseline)",
                                   timed([sys.executable, "-c", "import typer"], help_env, args.runs))
    results["help"] = line("recruiter --help", timed([*recruiter_cmd(), "--help"], help_env, args.runs), 0.6)

    _, env = prepare_home(args.home, shared, base_env, None)
    rank = [*recruiter_cmd(), "rank", PROFILE[0], "--limit", "20", "--format", "json"]
    results["rank_onnx"] = line("recruiter rank (ONNX, default)", timed(rank, env, args.runs), 1.5)
    rows = json.loads(subprocess.run(rank, env=env, capture_output=True, text=True, check=True).stdout)
    print(f"  top 3: {[r['name'] for r in rows[:3]]}")
    seeds = [arg for url in SEEDS for arg in ("--seed", url)]
    lookalike = [*recruiter_cmd(), "lookalike", *seeds, "--limit", "20", "--format", "json"]
    results["lookalike"] = line("recruiter lookalike (5 seeds)", timed(lookalike, env, args.runs), 1.5)
    rows = json.loads(subprocess.run(lookalike, env=env, capture_output=True, text=True, check=True).stdout)
    print(f"  top 3: {[r['name'] for r in rows[:3]]}")
    results["lookalike_profile"] = line("recruiter lookalike (5 seeds, --profile)",
                                        timed([*lookalike, "--profile", PROFILE[0]], env, args.runs), 1.5)
    if not args.skip_fallback:
        fallback = {**env, "RECRUITER_EMBEDDING_BACKEND": "sentence-transformers"}
        results["rank_sentence_transformers"] = line("recruiter rank (sentence-transformers fallback, baseline)",
                                                     timed(rank, fallback, max(3, args.runs // 2)))
        results["speedup"] = round(results["rank_sentence_transformers"]["median_s"]
                                   / results["rank_onnx"]["median_s"], 2)
        print(f"  cold rank speed-up over the torch path: {results['speedup']}x")
    _, fast_env = prepare_home(args.fast_home, shared, base_env, "fast")
    results["rank_fast"] = line("recruiter rank (RECRUITER_MODEL=fast)", timed(rank, fast_env, args.runs), 1.5)
    results["load_after"] = os.getloadavg()
    print(f"load average after: {results['load_after']}")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
