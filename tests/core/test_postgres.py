"""The same CLI flows on a real PostgreSQL server (any SQLAlchemy URL works, not only SQLite).

Starts a throwaway cluster in a temp dir with Debian's PostgreSQL binaries; skipped with the reason when
they are not installed or cannot run here."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
pytestmark = pytest.mark.postgres
PG_BIN = next((p for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None) \
    if Path("/usr/lib/postgresql").is_dir() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    if PG_BIN is None or not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    pytest.importorskip("psycopg")
    folder = Path(tempfile.mkdtemp(prefix="recruiter-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: use the postgres account when there is one
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no postgres account: cannot start PostgreSQL")
        shutil.chown(folder, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()
    init = subprocess.run([*run_as, str(PG_BIN / "initdb"), "-D", str(data), "-U", "recruiter", "--auth=trust"],
                          capture_output=True, text=True)
    if init.returncode != 0:
        pytest.skip(f"initdb failed: {init.stderr.strip()[:200]}")
    server = subprocess.Popen([*run_as, str(PG_BIN / "postgres"), "-D", str(data), "-p", str(port),
                               "-k", str(folder), "-h", "127.0.0.1"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    for _ in range(100):
        if subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                          capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    else:
        server.terminate()
        pytest.skip("PostgreSQL did not start")
    yield f"postgresql+psycopg://recruiter@127.0.0.1:{port}/postgres"
    server.terminate()
    server.wait(timeout=30)
    shutil.rmtree(folder, ignore_errors=True)


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
