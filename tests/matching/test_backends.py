"""The embedding seam: a weightless deterministic backend for tests that are not about the model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recruiter.matching.backends import HashingBackend
from recruiter.matching.embedding import EmbeddingService, get_embedding_service, install_service


def test_hashing_backend_is_deterministic_normalized_and_topical() -> None:
    backend = HashingBackend()
    a, b, c, empty = backend.encode(["sourdough bread baking", "baking sourdough loaves", "espresso grinders", ""])
    assert np.allclose([np.linalg.norm(v) for v in (a, b, c, empty)], 1.0, atol=1e-5)
    assert np.array_equal(a, HashingBackend().encode(["sourdough bread baking"])[0])
    assert float(a @ b) > float(a @ c) + 0.2


def test_a_service_can_be_injected_like_a_transport() -> None:
    service = EmbeddingService("hashing-test", backend=HashingBackend())
    previous = install_service(service)
    try:
        assert get_embedding_service("hashing-test") is service
        assert service.encode(["x", "yy"]).shape == (2, 384)
    finally:
        if previous is not None:
            install_service(previous)


def test_the_cli_runs_end_to_end_on_the_hashing_model(cli, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("RECRUITER_MODEL", "hashing")
    rows = [{"url": "https://www.reddit.com/r/Sourdough/", "name": "r/Sourdough", "description": "sourdough bread"},
            {"url": "https://www.reddit.com/r/espresso/", "name": "r/espresso", "description": "espresso machines"}]
    data = tmp_path / "c.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows))
    assert cli("import", data).exit_code == 0
    assert cli("profile", "add", "--name", "bread", "--description", "Sourdough bread baking kits").exit_code == 0
    ranked = json.loads(cli("rank", "bread", "--format", "json").stdout)
    assert ranked[0]["name"] == "r/Sourdough"


@pytest.mark.slow  # a fresh interpreter importing the whole app: seconds (the fast tier checks itself at its end)
def test_the_hashing_model_never_imports_pytorch(tmp_path) -> None:
    """Import the CLI and the web app's pages, embed and rank on RECRUITER_MODEL=hashing in a fresh interpreter:
    PyTorch, sentence-transformers and transformers stay unloaded (that is what keeps the fast tier fast)."""
    import os
    import subprocess
    import sys

    script = """
import sys
from recruiter.cli import app  # every command module
import ui.main, ui.pages  # the web app's entry point
from ui.main import register_pages
register_pages()
from recruiter.core.db import open_session
from recruiter.catalogue.importing import save_records
from recruiter.core.models import Profile
from recruiter.matching.ranking import rank_communities
with open_session() as session:
    save_records([{"url": "https://www.reddit.com/r/Sourdough/", "name": "r/Sourdough",
                   "description": "sourdough bread"}], session=session)
    assert rank_communities(Profile(name="p", description="bread"), session=session, limit=1, store=False)
heavy = [m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules]
print(",".join(heavy) or "none")
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "NICEGUI"))}
    env.update(RECRUITER_MODEL="hashing", RECRUITER_HOME=str(tmp_path / "home"))
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "none"
