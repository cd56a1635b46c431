"""Imports: the streaming JSON reader against its alternatives, import throughput, and what merging a feed with
its site costs, each against a baseline measured in the same run.

    .venv/bin/python benchmarks/bench_import.py [--rows 100000]

1. Reading a JSON list of communities (the shared 7,723 communities, repeated): json.loads of the whole text
   (the floor; not streaming), the previous hand parser (raw_decode over the whole decoded text), ijson
   (streaming, when installed; it cannot say which line a value starts on) and ours (`readers._JsonStream`:
   streaming, with line numbers). Time and peak Python allocations (tracemalloc).
2. Importing a CSV of N synthetic rows (catalogue only): the previous importer (from git) as the baseline, then
   the streaming one; rows per second and peak allocations, new rows and again (all unchanged).
3. The feed/site lookups of one batch against the by-URL lookups (the baseline) in that catalogue.
Without ../shared, part 1 uses synthetic communities.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._shared import fresh_home, shared_dir


def _items(repeat: int) -> list[dict]:
    shared = shared_dir()
    if shared is not None:
        with open(shared / "datasets" / "communities.jsonl", encoding="utf-8") as fh:
            base = [json.loads(line) for line in fh]
    else:
        base = [{"url": f"https://c{i}.example.com", "name": f"Community {i}", "description": "words " * 40}
                for i in range(7723)]
    out = []
    for r in range(repeat):
        for item in base:
            out.append({**item, "url": f"{item['url']}?copy={r}" if r else item["url"]})
    return out


def _measure(label: str, fn, path: Path) -> tuple[float, float]:
    tracemalloc.start()
    start = time.perf_counter()
    count = fn(path)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {label:<42} {count:>8} items  {elapsed:6.2f} s  peak {peak / 2**20:7.1f} MB")
    return elapsed, peak


def _whole_loads(path: Path) -> int:
    return len(json.loads(path.read_text(encoding="utf-8")))


def _old_hand_parser(path: Path) -> int:
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    decoder, pos, count = json.JSONDecoder(), text.index("[") + 1, 0
    lines = 0
    while True:
        while text[pos] in " \t\r\n,":
            pos += 1
        if text[pos] == "]":
            return count
        _value, end = decoder.raw_decode(text, pos)
        lines += text.count("\n", 0, pos) > 0  # the old parser counted lines from the start for every item
        count, pos = count + 1, end


def _ijson(path: Path) -> int:
    import ijson

    with open(path, "rb") as fh:
        return sum(1 for _ in ijson.items(fh, "item", use_float=True))


def _ours(path: Path) -> int:
    from recruiter.catalogue.readers import _json_list, _JsonStream

    with open(path, encoding="utf-8", newline="\n") as fh:
        stream = _JsonStream(fh)
        stream.peek()
        return sum(1 for _ in _json_list(stream))


def json_readers(repeat: int, folder: Path) -> None:
    path = folder / "communities.json"
    items = _items(repeat)
    path.write_text(json.dumps(items, indent=1, ensure_ascii=False), encoding="utf-8")
    del items
    print(f"1. a JSON list of {7723 * repeat} communities ({path.stat().st_size / 2**20:.0f} MB)")
    base, base_peak = _measure("json.loads of the whole file (baseline)", _whole_loads, path)
    old, _ = _measure("previous hand parser (whole text)", _old_hand_parser, path)
    try:
        import ijson  # noqa: F401

        ij, _ = _measure("ijson items (streaming, no line numbers)", _ijson, path)
    except ImportError:
        ij = None
        print("  ijson not installed: skipped")
    ours, ours_peak = _measure("readers._JsonStream (streaming, lines)", _ours, path)
    print(f"  ours: {ours / base:.2f}x the time of json.loads, {ours_peak / base_peak:.2f}x its peak memory; "
          f"{ours / old:.2f}x the previous parser's time"
          + (f"; ijson takes {ij / ours:.2f}x ours" if ij else ""))


BASE_COMMIT = "922ffbe"  # the importer before streaming (whole file read, one commit per import)


def _old_importer():
    """The previous importing module, loaded from git as the baseline; None when git or the commit is absent."""
    import importlib.util
    import subprocess
    import tempfile

    repo = Path(__file__).resolve().parents[1]
    shown = subprocess.run(["git", "-C", str(repo), "show", f"{BASE_COMMIT}:recruiter/catalogue/importing.py"],
                           capture_output=True, text=True)
    if shown.returncode != 0:
        return None
    path = Path(tempfile.mkdtemp(prefix="old-importer-")) / "old_importing.py"
    path.write_text(shown.stdout)
    spec = importlib.util.spec_from_file_location("old_importing", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_importing"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def import_throughput(rows: int, folder: Path) -> None:
    """The catalogue part of an import (read, normalize, upsert, commit; not the embedding), in this process."""
    from recruiter.catalogue.importing import import_files
    from recruiter.core.db import dispose_engines, open_session

    path = folder / "rows.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("url,name,description,subscribers,kind\n")
        for i in range(rows):
            fh.write(f"https://site{i}.example.com,Site {i},A blog about topic {i % 97} and more,{i * 7},blog\n")

    def run(label: str, importer, db: Path) -> float:
        with open_session(f"sqlite:///{db}") as session:
            tracemalloc.start()
            start = time.perf_counter()
            report = importer([path], session=session)
            elapsed = time.perf_counter() - start
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        print(f"  {label:<44} {elapsed:6.1f} s  {rows / elapsed:7.0f} rows/s  peak {peak / 2**20:6.1f} MB   "
              f"{report.summary()}")
        return elapsed

    print(f"2. importing {rows} CSV rows (catalogue only, no embedding)")
    old = _old_importer()
    if old is not None:
        run(f"previous importer ({BASE_COMMIT}), new rows", old.import_files, folder / "old.db")
        run("previous importer, again (all unchanged)", old.import_files, folder / "old.db")
    else:
        print(f"  previous importer: git or commit {BASE_COMMIT} not available, skipped")
    fresh_home("bench-import")
    run("streaming importer, new rows", import_files, folder / "new.db")
    run("streaming importer, again (all unchanged)", import_files, folder / "new.db")
    dispose_engines()
    import os

    os.environ["RECRUITER_DB"] = f"sqlite:///{folder / 'new.db'}"
    feed_lookup_cost(rows)


def feed_lookup_cost(rows: int) -> None:
    """Per batch of an import into the catalogue just built: the by-URL lookups (the baseline, indexed) and the
    by-feed lookups (community.feed_url has no index yet, so each chunk scans the table)."""
    from sqlmodel import select

    from recruiter.catalogue.importing import BATCH
    from recruiter.core.db import chunked, open_session
    from recruiter.core.models import Community

    keys = [f"https://site{i}.example.com" for i in range(0, min(rows, BATCH * 7), 7)][:BATCH]
    with open_session() as session:
        start = time.perf_counter()
        for part in chunked(keys):
            session.exec(select(Community).where(Community.url.in_(part))).all()
        by_url = time.perf_counter() - start
        start = time.perf_counter()
        for part in chunked(keys):
            session.exec(select(Community).where(Community.feed_url.in_(part))).all()
        by_feed = time.perf_counter() - start
    print(f"3. lookups for one batch of {len(keys)} rows in a catalogue of {rows}: by URL {by_url * 1000:.0f} ms "
          f"(baseline), by feed {by_feed * 1000:.0f} ms ({by_feed / by_url:.1f}x); "
          f"per 1,000,000 imported rows the by-feed lookups cost about {by_feed * 1_000_000 / BATCH:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1, help="copies of the 7,723 communities in part 1")
    parser.add_argument("--rows", type=int, default=100_000, help="CSV rows in parts 2 and 3")
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        json_readers(args.repeat, Path(folder))
        import_throughput(args.rows, Path(folder))


if __name__ == "__main__":
    main()
