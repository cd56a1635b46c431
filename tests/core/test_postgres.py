"""The same CLI flows on a real PostgreSQL server (any SQLAlchemy URL works, not only SQLite).

Uses the throwaway cluster of `tests/conftest.py` (Debian's PostgreSQL, installed when missing); skipped with
the reason when it cannot run here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

pytestmark = pytest.mark.postgres


def test_cli_flows_on_postgres(postgres_url, monkeypatch) -> None:
    from typer.testing import CliRunner

    from recruiter.cli import app

    monkeypatch.setenv("RECRUITER_DB", postgres_url)
    runner = CliRunner()

    def cli(*args):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    first = cli("import", FIXTURES / "communities.csv")
    assert first.exit_code == 0 and "line 3:" in first.output and "4 new" in first.output
    assert "0 new" in cli("import", FIXTURES / "communities.csv").output
    cli("profile", "add", "--name", "plants", "--description", "Houseplants and grow lights",
        "--keyword", "houseplants")
    rows = json.loads(cli("rank", "plants", "--limit", "2", "--format", "json").output)
    assert rows[0]["url"] in ("https://www.reddit.com/r/houseplants/", "https://www.youtube.com/@plantoneonme")
    assert cli("prospect", "set-stage", rows[0]["url"], "contacted").exit_code == 0
    listed = json.loads(cli("prospect", "list", "--format", "json").output)
    assert listed[0]["stage"] == "contacted"
    assert len(json.loads(cli("export").output)) == 4
