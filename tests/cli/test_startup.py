"""Nothing heavy on the way to an answer: which modules each command really imports, in a fresh process.

`recruiter --help` must not even load the database layer; commands that need no model must load no model
runtime; `rank` loads the ONNX session, the index and the ranking data, and never torch or transformers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # fresh interpreters running the real commands
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MODEL_RUNTIMES = ("torch", "transformers", "sentence_transformers", "onnxruntime", "faiss", "model2vec")
TORCH = ("torch", "transformers", "sentence_transformers", "model2vec")

# Runs the CLI in this interpreter and writes the top-level modules it imported, whatever the exit code.
PROBE = (
    "import atexit, json, sys\n"
    "out = sys.argv[1]\n"
    "sys.argv = ['recruiter', *sys.argv[2:]]\n"
    "atexit.register(lambda: open(out, 'w').write(json.dumps(sorted({m.split('.')[0] for m in sys.modules}))))\n"
    "from recruiter.cli import run\n"
    "run()\n"
)


def loaded(home: Path, tmp_path: Path, *args: str, model: str | None = None) -> set[str]:
    out = tmp_path / "modules.json"
    env = {**os.environ, "RECRUITER_HOME": str(home)}
    env.pop("RECRUITER_DB", None)
    env.pop("RECRUITER_EMBEDDING_BACKEND", None)
    if model:
        env["RECRUITER_MODEL"] = model
    else:
        env.pop("RECRUITER_MODEL", None)
    done = subprocess.run([sys.executable, "-c", PROBE, str(out), *args], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return set(json.loads(out.read_text()))


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("startup-home")
    env = {**os.environ, "RECRUITER_HOME": str(home)}
    env.pop("RECRUITER_DB", None)
    env.pop("RECRUITER_MODEL", None)
    env.pop("RECRUITER_EMBEDDING_BACKEND", None)
    cli = [sys.executable, "-m", "recruiter.cli"] if not Path(sys.executable).with_name("recruiter").exists() \
        else [str(Path(sys.executable).with_name("recruiter"))]
    for argv in (["import", str(FIXTURES / "communities.csv")],
                 ["profile", "add", "--name", "yoga", "--description", "Yoga mats for beginners with back pain"]):
        done = subprocess.run([*cli, *argv], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    return home


def test_help_loads_neither_the_database_layer_nor_any_model(home, tmp_path) -> None:
    modules = loaded(home, tmp_path, "--help")
    assert not modules & {"sqlmodel", "sqlalchemy", "numpy", *MODEL_RUNTIMES}


@pytest.mark.parametrize("argv", [["profile", "list"], ["prospect", "list"], ["report", "partners"],
                                  ["platform", "list"], ["index", "status"]])
def test_commands_that_need_no_model_load_no_model_runtime(home, tmp_path, argv) -> None:
    assert not loaded(home, tmp_path, *argv) & set(MODEL_RUNTIMES)


def test_rank_loads_the_onnx_session_and_the_index_but_no_torch(home, tmp_path) -> None:
    modules = loaded(home, tmp_path, "rank", "yoga", "--limit", "3", "--format", "json")
    assert "onnxruntime" in modules
    assert not modules & set(TORCH)
    assert not modules & {"faiss", "scipy"}  # the index is plain numpy; BM25 is read without scipy


def test_import_with_the_default_model_needs_no_torch(home, tmp_path) -> None:
    extra = tmp_path / "more.jsonl"
    extra.write_text(json.dumps({"url": "https://www.reddit.com/r/bouldering/", "name": "r/bouldering",
                                 "description": "Climbing short hard problems"}) + "\n")
    assert not loaded(home, tmp_path, "import", str(extra)) & set(TORCH)
