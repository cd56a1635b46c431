"""A database that cannot be opened is one line naming where (never the password); the data dir and the
database are the user's alone (0700 / 0600) after any command."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from recruiter.core.config import make_private, redact_url

RECRUITER = str(Path(sys.executable).with_name("recruiter"))
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def run(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("RECRUITER_DB",)}
    env.update(RECRUITER_HOME=str(home), RECRUITER_MODEL="hashing", HF_HUB_OFFLINE="1")
    return subprocess.run([RECRUITER, *args], env=env, capture_output=True, text=True, timeout=300)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_unreachable_postgres_is_one_line_naming_the_host(tmp_path: Path) -> None:
    url = "postgresql+psycopg://u:p4ss@127.0.0.1:1/x"
    result = run(tmp_path / "home", "--db", url, "profile", "list")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert len(output.strip().splitlines()) <= 3, output
    assert "Traceback" not in output and "p4ss" not in output
    assert output.startswith("error: ") and "127.0.0.1:1" in output


@pytest.mark.parametrize("url, expected", [
    ("nonsense", "not a database URL"),
    ("mysql://u:p4ss@127.0.0.1/x", "driver 'MySQLdb' is not installed"),
    ("nosuchdb://u:p4ss@127.0.0.1/x", "unknown kind of database 'nosuchdb'"),
    (f"postgresql+psycopg://u:p4ss@127.0.0.1:{closed_port()}/x", "cannot reach the database at 127.0.0.1:"),
    ("sqlite:////nonexistent-folder-for-recruiter/x.db", "the folder /nonexistent-folder-for-recruiter does not exist"),
    ("sqlite:////etc/hostname/x.db", "/etc/hostname is not a folder"),
    ("sqlite:////proc/recruiter.db", "cannot create files in /proc"),
])
def test_misconfigured_databases_are_one_line(cli, monkeypatch, url: str, expected: str) -> None:
    if url == "sqlite:////etc/hostname/x.db" and not Path("/etc/hostname").is_file():
        pytest.skip("/etc/hostname is not a file here")
    from recruiter.core.db import dispose_engines

    monkeypatch.setenv("RECRUITER_DB", url)
    from typer.testing import CliRunner

    from recruiter.cli import app

    result = CliRunner().invoke(app, ["profile", "list"])
    dispose_engines()
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.output
    assert "p4ss" not in result.output


def test_unwritable_sqlite_folder_is_one_line(tmp_path: Path) -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root can write into any folder (the /proc and missing-folder cases cover this as root)")
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    result = run(tmp_path / "home", "--db", f"sqlite:///{folder / 'x.db'}", "profile", "list")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"no permission to create files in {folder}" in result.stderr


def test_a_database_error_in_the_middle_of_a_command_is_one_line(cli, monkeypatch) -> None:
    from sqlalchemy.exc import OperationalError

    import profiles.service

    def broken(**_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly\n\tThis "
                                                         "probably means the server terminated abnormally"))

    monkeypatch.setattr(profiles.service, "list_profiles", broken)
    from typer.testing import CliRunner

    from recruiter.cli import app

    result = CliRunner().invoke(app, ["profile", "list"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "server closed the connection unexpectedly" in lines[0], result.output


def test_redaction_hides_passwords_however_they_are_written() -> None:
    for url in ("postgresql+psycopg://u:p4ss@db/x", "postgresql://u:p4ss@@db/x", "postgresql://u:p%40ss@db:5432/x",
                "mysql://u:p4ss@[::1]:3306/x?charset=utf8"):
        shown = redact_url(url)
        assert "p4ss" not in shown and "p%40ss" not in shown and "***" in shown
    assert redact_url("sqlite:///data/a@b.db") == "sqlite:///data/a@b.db"


def test_data_dir_and_database_are_private_after_any_command(tmp_path: Path) -> None:
    home = tmp_path / "home"
    created = run(home, "profile", "list")
    assert created.returncode == 0, created.stderr
    assert mode(home) == 0o700 and mode(home / "recruiter.db") == 0o600

    # An older install left everything readable by others: the next command tightens it.
    os.chmod(home, 0o755)
    os.chmod(home / "recruiter.db", 0o644)
    for extra in ("recruiter.db-wal", "recruiter.db-shm"):
        (home / extra).touch()
        os.chmod(home / extra, 0o644)
    imported = run(home, "import", str(FIXTURES / "communities.csv"))
    assert imported.returncode == 0, imported.stderr
    assert mode(home) == 0o700 and mode(home / "recruiter.db") == 0o600
    for extra in ("recruiter.db-wal", "recruiter.db-shm"):
        if (home / extra).exists():
            assert mode(home / extra) == 0o600
    exported = run(home, "export", "--format", "json")
    assert exported.returncode == 0 and mode(home) == 0o700 and mode(home / "recruiter.db") == 0o600


def test_storage_secret_is_tightened_and_files_of_others_are_left_alone(tmp_path: Path, monkeypatch) -> None:
    from recruiter.core import security

    monkeypatch.setenv("RECRUITER_HOME", str(tmp_path / "h"))
    secret = security.storage_secret()
    path = tmp_path / "h" / "storage_secret"
    assert mode(path) == 0o600
    os.chmod(path, 0o644)
    security._secrets.clear()
    assert security.storage_secret() == secret and mode(path) == 0o600
    make_private(tmp_path / "missing")  # nothing to do, no error
