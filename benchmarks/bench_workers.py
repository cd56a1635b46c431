"""Throughput of queued jobs on 1, 2 and 3 workers, each against the in-process run measured in the same run.

    python benchmarks/bench_workers.py [--only scrape|embed]... [--workers 1 2 3] [--concurrency 4]

- scrape: 40 loopback sites × 10 pages, `--delay 0.5` (politeness on: robots.txt, per-host spacing shared
  through Redis). Baseline: `recruiter scrape --save --file urls.txt` in one process. Then
  `scrape --save --queue` with N workers (`recruiter worker --concurrency C`), timed from queueing to
  `job wait` returning. Prints pages/s and the smallest gap between two requests to one site.
- embed: `recruiter import` of ../shared/datasets/communities.jsonl (7,723 communities) with the real
  all-MiniLM-L6-v2. Baseline: the in-process import (read, save, embed, index). Then `import --queue` with N
  workers. Prints embeddings/s. Needs ../shared (skipped without it).

PostgreSQL and Redis are started in temp dirs (Debian packages, installed when missing); every run gets a
fresh database and data dir. On a 2-core machine the embedding numbers show the CPU ceiling, not the
cluster's: run the workers on other machines to see them add up.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "support"))

from cluster import SiteFarm, Worker, cli
from servers import PostgresServer, RedisServer, Unavailable

from benchmarks._shared import shared_dir

_made: list[Path] = []  # temp dirs removed at the end


def _env(pg: PostgresServer, redis: RedisServer, *, model: str | None) -> dict[str, str]:
    home = Path(tempfile.mkdtemp(prefix="recruiter-bench-workers-"))
    _made.append(home)
    env = dict(os.environ, RECRUITER_HOME=str(home), RECRUITER_DB=pg.create_database(f"b_{uuid.uuid4().hex[:10]}"),
               RECRUITER_BROKER=redis.url, RECRUITER_ALLOW_PRIVATE="*")
    if model:
        env["RECRUITER_MODEL"] = model
    else:
        env.pop("RECRUITER_MODEL", None)
    return env


def _flush(redis: RedisServer) -> None:
    import redis as redis_client

    client = redis_client.Redis.from_url(redis.url)
    client.flushall()
    client.close()


def _queued_run(args: list[str], env: dict[str, str], workers: int, concurrency: int) -> tuple[float, dict]:
    log_dir = Path(env["RECRUITER_HOME"])
    pool = [Worker(f"w{n + 1}", concurrency, env, log_dir) for n in range(workers)]
    try:
        time.sleep(8)  # let the workers start (and load the model) before the clock starts
        start = time.monotonic()
        queued = cli(args, env)
        if queued.returncode != 0:
            raise RuntimeError(queued.stderr)
        job_id = json.loads(queued.stdout)["job"]
        waited = cli(["job", "wait", str(job_id), "--timeout", "3600", "--format", "json"], env, timeout=4000)
        elapsed = time.monotonic() - start
        return elapsed, json.loads(waited.stdout)
    finally:
        for worker in pool:
            worker.stop()


def bench_scrape(pg, redis, worker_counts: list[int], concurrency: int) -> None:
    print("== scrape: 40 loopback sites x 10 pages, --delay 0.5")
    rows = []
    farm = SiteFarm(hosts=40, pages=10)
    try:
        env = _env(pg, redis, model="hashing")
        urls = Path(env["RECRUITER_HOME"]) / "urls.txt"
        urls.write_text("\n".join(farm.urls()) + "\n")
        start = time.monotonic()
        result = cli(["scrape", "--save", "--delay", "0.5", "--file", str(urls), "--format", "json"], env)
        elapsed = time.monotonic() - start
        ok = sum(1 for r in json.loads(result.stdout) if r["ok"])
        rows.append(("in-process", elapsed, ok, farm.min_gap()))
    finally:
        farm.close()
    for n in worker_counts:
        _flush(redis)
        farm = SiteFarm(hosts=40, pages=10)
        try:
            env = _env(pg, redis, model="hashing")
            urls = Path(env["RECRUITER_HOME"]) / "urls.txt"
            urls.write_text("\n".join(farm.urls()) + "\n")
            elapsed, job = _queued_run(["scrape", "--save", "--queue", "--delay", "0.5", "--file", str(urls),
                                        "--format", "json"], env, n, concurrency)
            rows.append((f"{n} worker{'s' if n > 1 else ''} x{concurrency}", elapsed, job["done"], farm.min_gap()))
        finally:
            farm.close()
    base = rows[0][1] / max(rows[0][2], 1)
    for name, elapsed, done, gap in rows:
        rate = done / elapsed
        print(f"  {name:18} {done:4d} pages in {elapsed:6.1f} s = {rate:5.2f} pages/s "
              f"({rate * base:4.2f}x in-process); closest two requests to one site {gap:.3f} s")


def bench_embed(pg, redis, worker_counts: list[int], concurrency: int, limit: int | None) -> None:
    shared = shared_dir()
    if shared is None:
        print("== embed: skipped (needs ../shared or RECRUITER_SHARED)")
        return
    data = shared / "datasets" / "communities.jsonl"
    if limit:  # the first N communities (a quicker run on a busy machine)
        lines = data.read_text(encoding="utf-8").splitlines()[:limit]
        folder = Path(tempfile.mkdtemp(prefix="recruiter-bench-data-"))
        _made.append(folder)
        data = folder / f"communities-{limit}.jsonl"
        data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"== embed: import of {data.name} with all-MiniLM-L6-v2")
    rows = []
    env = _env(pg, redis, model=None)
    start = time.monotonic()
    result = cli(["import", str(data)], env, timeout=7200)
    elapsed = time.monotonic() - start
    embedded = int(result.stdout.rsplit(";", 1)[-1].split()[0]) if "embedded" in result.stdout else 0
    rows.append(("in-process", elapsed, embedded))
    for n in worker_counts:
        _flush(redis)
        env = _env(pg, redis, model=None)
        elapsed, job = _queued_run(["import", "--queue", str(data), "--format", "json"], env, n, concurrency)
        rows.append((f"{n} worker{'s' if n > 1 else ''} x{concurrency}", elapsed, job["done"]))
    base = rows[0][2] / rows[0][1] if rows[0][1] else 0
    for name, elapsed, count in rows:
        rate = count / elapsed
        print(f"  {name:18} {count:5d} communities embedded and saved in {elapsed:6.1f} s = {rate:6.1f}/s "
              f"({rate / base if base else 0:4.2f}x in-process)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=["scrape", "embed"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--embed-concurrency", type=int, default=2)
    parser.add_argument("--embed-limit", type=int, default=None, help="Only the first N communities.")
    args = parser.parse_args()
    try:
        pg = PostgresServer().start()
    except Unavailable as exc:
        print(f"skipped: PostgreSQL unavailable: {exc}")
        return 0
    try:
        redis = RedisServer().start()
    except Unavailable as exc:
        pg.close()
        print(f"skipped: Redis unavailable: {exc}")
        return 0
    try:
        if not args.only or "scrape" in args.only:
            bench_scrape(pg, redis, args.workers, args.concurrency)
        if not args.only or "embed" in args.only:
            bench_embed(pg, redis, args.workers, args.embed_concurrency, args.embed_limit)
    finally:
        redis.close()
        pg.close()
        for folder in _made:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
