"""Imports stream: a 200 MB CSV (one huge field, then 3 good rows) costs what a 3-row import does.

Peak RSS is measured in subprocesses, the 3-row import first as the baseline of the same run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PEAK = """
import resource, sys
from recruiter.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""

GOOD_ROWS = "".join(f"https://good{i}.example.com,Good {i},fine\n" for i in range(3))


def _import_peak(tmp_path: Path, path: Path, name: str) -> tuple[int, subprocess.CompletedProcess]:
    env = {**os.environ, "RECRUITER_HOME": str(tmp_path / f"home-{name}"), "RECRUITER_MODEL": "hashing",
           "RECRUITER_DB": f"sqlite:///{tmp_path / f'{name}.db'}"}
    result = subprocess.run([sys.executable, "-c", PEAK, "import", str(path)], capture_output=True, text=True,
                            env=env, timeout=600)
    peak = next(int(line.split()[1]) for line in result.stderr.splitlines() if line.startswith("PEAK_KB"))
    return peak * 1024, result


@pytest.mark.slow
def test_200_mb_csv_adds_under_150_mb_to_a_3_row_import(tmp_path: Path) -> None:
    small = tmp_path / "small.csv"
    small.write_text("url,name,description\n" + GOOD_ROWS)
    big = tmp_path / "big.csv"
    with open(big, "w") as fh:
        fh.write('url,name,description\nhttps://big.example.com,Big,"')
        block = "lorem ipsum, dolor; sit amet " * 40_000
        while fh.tell() < 200 * 1024 * 1024:
            fh.write(block)
        fh.write('"\n' + GOOD_ROWS)
    assert big.stat().st_size > 200 * 1024 * 1024

    baseline, small_run = _import_peak(tmp_path, small, "small")
    peak, big_run = _import_peak(tmp_path, big, "big")
    print(f"peak RSS: 3-row import {baseline / 2**20:.0f} MB, 200 MB CSV {peak / 2**20:.0f} MB "
          f"(+{(peak - baseline) / 2**20:.0f} MB)")
    assert small_run.returncode == 0 and big_run.returncode == 0, big_run.stdout + big_run.stderr
    assert "line 2: field too large" in big_run.stdout
    assert "3 new" in big_run.stdout
    assert peak - baseline < 150 * 1024 * 1024
