"""Import speed: `recruiter import` of 3,000 shared communities into a fresh data dir, against
sentence-transformers' own `encode` of the same texts, measured in the same run.

    .venv/bin/python benchmarks/bench_import_speed.py [--count 3000] [--batch-size 32]

The baseline is `SentenceTransformer(all-MiniLM-L6-v2).encode(texts, batch_size=32, normalize_embeddings=True)`
on exactly the texts the import embeds (name, title, description), model loaded and warmed up beforehand, so it
is the model's pure encoding time; it runs before and after the import and the mean is the baseline. The
import is the whole CLI command in a fresh process (start-up, reading, saving, embedding, index, BM25, graph).
Target: baseline / import >= 1.2.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._shared import recruiter_cmd, require_shared

BASELINE = """
import json, sys, time
from sentence_transformers import SentenceTransformer
from recruiter.matching.backends import resolve_model_path
texts = json.load(open(sys.argv[1]))
model = SentenceTransformer(str(resolve_model_path("all-MiniLM-L6-v2")), device="cpu")
model.encode(["warm-up"] * 8)
start, cpu = time.perf_counter(), time.process_time()
model.encode(texts, batch_size=int(sys.argv[2]), normalize_embeddings=True, show_progress_bar=False)
print(time.perf_counter() - start, time.process_time() - cpu)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    shared = require_shared("the import speed benchmark")
    from recruiter.core.text import community_text

    work = Path(tempfile.mkdtemp(prefix="recruiter-import-speed-"))
    rows, seen = [], set()
    with open(shared / "datasets" / "communities.jsonl", encoding="utf-8") as fh:
        for raw in fh:
            row = json.loads(raw)
            if row["url"] in seen:
                continue
            seen.add(row["url"])
            rows.append(row)
            if len(rows) >= args.count:
                break
    data = work / "communities.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    texts = list(dict.fromkeys(community_text(r) for r in rows))
    (work / "texts.json").write_text(json.dumps(texts))
    print(f"{len(rows)} communities, {len(texts)} distinct texts; load average {os.getloadavg()}")

    def baseline() -> tuple[float, float]:
        out = subprocess.run([sys.executable, "-c", BASELINE, str(work / "texts.json"), str(args.batch_size)],
                             capture_output=True, text=True, check=True)
        wall, cpu = out.stdout.strip().splitlines()[-1].split()
        return float(wall), float(cpu)

    before, before_cpu = baseline()
    print(f"sentence-transformers encode (before): {before:.1f} s wall, {before_cpu:.1f} s CPU")
    env = {**os.environ, "RECRUITER_HOME": str(work / "home")}
    for key in ("RECRUITER_DB", "RECRUITER_MODEL", "RECRUITER_EMBEDDING_BACKEND"):
        env.pop(key, None)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([*recruiter_cmd(), "import", str(data)], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = now.ru_utime - usage.ru_utime + now.ru_stime - usage.ru_stime
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    print(f"recruiter import: {elapsed:.1f} s wall, {cpu:.1f} s CPU — {done.stdout.strip().splitlines()[-1]}")
    after, after_cpu = baseline()
    print(f"sentence-transformers encode (after): {after:.1f} s wall, {after_cpu:.1f} s CPU")
    base, base_cpu = (before + after) / 2, (before_cpu + after_cpu) / 2
    result = {"communities": len(rows), "encode_s": round(base, 2), "import_s": round(elapsed, 2),
              "speedup": round(base / elapsed, 3), "encode_cpu_s": round(base_cpu, 2), "import_cpu_s": round(cpu, 2),
              "cpu_speedup": round(base_cpu / cpu, 3), "load_after": os.getloadavg()}
    print(f"baseline / import = {result['speedup']} wall, {result['cpu_speedup']} CPU (target >= 1.2)")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
