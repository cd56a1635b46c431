"""Run every benchmark in turn (each prints its own numbers; those needing ../shared skip without it).

    make bench
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    ["bench_foundation.py"],
    ["bench_import.py"],
    ["bench_scrape.py"],
    ["fitbench_run.py"],
    ["bench_ui.py"],
    ["bench_workers.py"],
]


def main() -> int:
    failed = []
    for argv in BENCHMARKS:
        script = HERE / argv[0]
        if not script.exists():
            print(f"== {argv[0]}: not present, skipped")
            continue
        print(f"== {' '.join(argv)}", flush=True)
        if subprocess.run([sys.executable, str(script), *argv[1:]]).returncode != 0:
            failed.append(argv[0])
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
