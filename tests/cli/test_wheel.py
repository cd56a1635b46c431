"""The installed wheel, as someone who ran `pip install recruiter` outside this checkout gets it.

Builds the wheel from a copy of the sources, installs it with `--no-deps` into a fresh virtualenv whose
dependencies are this project's venv's (a `.pth` line pointing at its site-packages: a path only, so the editable
install's finder in there is never run), and drives the installed `recruiter` command from a directory outside
the repository: `seed --if-empty` must find the sample data inside the package, `export` must list it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=480, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


def _has_build_backend() -> bool:
    try:
        import setuptools
        import wheel  # noqa: F401
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 77


def _build_wheel(tmp: Path) -> Path:
    """`pip wheel --no-deps .` on a copy of the sources (a build writes build/ and *.egg-info next to them)."""
    source = tmp / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".nicegui", "tests",
        "benchmarks", "*.db", "*.db-wal", "*.db-shm"))
    out = tmp / "dist"
    # Without network the build backend must come from this venv; with it, pip may fetch it as usual.
    isolation = ["--no-build-isolation"] if _has_build_backend() else []
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", *isolation, "-w", str(out), str(source)])
    wheels = list(out.glob("recruiter-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_installed_wheel_seeds_and_exports_outside_the_repository(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert "recruiter/partners/data/platforms.json" in names
    samples = [n for n in names if n.startswith("recruiter/catalogue/samples/") and not n.endswith(".py")]
    assert samples, "the sample data is not in the wheel"

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "--quiet",
          str(wheel)])

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "NICEGUI", "RECRUITER_", "PYTHON"))}
    env.update(RECRUITER_HOME=str(tmp_path / "home"), RECRUITER_MODEL="hashing", HF_HUB_OFFLINE="1")
    where = _run([str(python), "-c", "import recruiter; print(recruiter.__file__)"], cwd=outside, env=env)
    assert where.stdout.strip().startswith(str(site)), f"imported {where.stdout.strip()}, not the wheel's recruiter"

    recruiter = venv / "bin" / "recruiter"
    seeded = _run([str(recruiter), "seed", "--if-empty"], cwd=outside, env=env)
    exported = _run([str(recruiter), "export", "--format", "json"], cwd=outside, env=env)
    rows = json.loads(exported.stdout)
    assert len(rows) >= 50, (seeded.stdout, len(rows))
    assert all(row["url"].startswith("http") for row in rows)
    again = _run([str(recruiter), "seed", "--if-empty"], cwd=outside, env=env)
    assert len(json.loads(_run([str(recruiter), "export", "--format", "json"], cwd=outside, env=env).stdout)) \
        == len(rows), again.stdout
