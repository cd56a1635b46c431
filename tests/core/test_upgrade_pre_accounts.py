"""A data dir written by the released recruiter of before Alembic and accounts opens with this code, its data whole.

The fixtures (tests/fixtures/pre_accounts, made by its make_fixtures.py) are databases the code at commit
d62cd6d (schema_version 3) wrote through its own CLI: `seed`, a prospect shortlisted, contacted with a note,
noted again and given a follow-up, a second prospect shortlisted, a two-step sequence. `expected.json` holds what
that code read back from them. Here this code's CLI, run as a user runs it (a subprocess per command; in the fast
tier through Typer's runner in this process), opens them and must say the same things, at the Alembic head, with
`schema_version` 5 and every old row still there, and then take the new features (users, the audit log) and new
writes on the old rows. The old code itself (`git archive` of its commit, cheap) must then refuse the database.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from recruiter.core.db import HEAD, SCHEMA_VERSION
from recruiter.core.models import Setting

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pre_accounts"
EXPECTED = FIXTURES / "expected.json"
REPO = Path(__file__).resolve().parents[2]
RECRUITER = str(Path(sys.executable).with_name("recruiter"))
REMAKE = "make them with `.venv/bin/python tests/fixtures/pre_accounts/make_fixtures.py` (see its README.md)"


# --- the fixtures ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def expected() -> dict:
    if not EXPECTED.exists():
        pytest.skip(f"the pre-accounts fixtures are absent ({EXPECTED} is missing): {REMAKE}")
    return json.loads(EXPECTED.read_text(encoding="utf-8"))


def _fixture_file(expected: dict, database: str) -> tuple[Path, dict]:
    facts = expected["databases"].get(database)
    if facts is None:
        pytest.skip(f"{EXPECTED} has no {database} database: {REMAKE}")
    path = FIXTURES / facts["file"]
    if not path.exists():
        pytest.skip(f"the pre-accounts fixture {path} is absent: {REMAKE}")
    return path, facts


@pytest.fixture
def sqlite_copy(expected: dict, tmp_path: Path) -> tuple[Path, dict]:
    """A fresh data dir holding a copy of the old SQLite database as its `recruiter.db`."""
    source, facts = _fixture_file(expected, "sqlite")
    home = tmp_path / "old-home"
    home.mkdir()
    shutil.copyfile(source, home / "recruiter.db")
    os.chmod(home / "recruiter.db", 0o600)
    return home, facts


@pytest.fixture(params=["in-process", pytest.param("processes", marks=pytest.mark.slow)])
def old_sqlite(request: pytest.FixtureRequest, sqlite_copy, monkeypatch: pytest.MonkeyPatch):
    """The CLI on the copied old data dir: in this process (fast), and as fresh processes (as a user runs it)."""
    home, facts = sqlite_copy
    return (InProcessCli(home, monkeypatch) if request.param == "in-process" else Cli(home)), facts


@pytest.fixture
def pg_copy(expected: dict, postgres_url: str) -> tuple[str, dict]:
    """A fresh PostgreSQL database loaded with the old code's dump."""
    import psycopg

    source, facts = _fixture_file(expected, "postgresql")
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:  # one transaction; the dump is plain SQL (no psql commands)
        conn.execute(source.read_text(encoding="utf-8"))
    return postgres_url, facts


@pytest.fixture(scope="module")
def old_code(tmp_path_factory: pytest.TempPathFactory, expected: dict) -> Path:
    """The old code's tree (`git archive` of its commit; cheap), or a skip saying why it cannot be had."""
    if shutil.which("git") is None or subprocess.run(["git", "-C", str(REPO), "rev-parse", "--git-dir"],
                                                     capture_output=True).returncode != 0:
        pytest.skip("the old code comes from this repository's git history: no git, or not a git checkout")
    folder = tmp_path_factory.mktemp("old-code")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", expected["commit"]],
                             capture_output=True, timeout=120)
    if archive.returncode != 0:
        pytest.skip(f"commit {expected['commit']} is not in this clone: {archive.stderr.decode()[-200:]}")
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True, timeout=120)
    return folder


# --- running the CLI ---------------------------------------------------------------------------------------

def _env(home: Path, db: str | None, old_code: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RECRUITER_DB"}
    env.update(RECRUITER_HOME=str(home), RECRUITER_MODEL="hashing", HF_HUB_OFFLINE="1")
    if db:
        env["RECRUITER_DB"] = db
    if old_code is not None:
        env["PYTHONPATH"] = str(old_code)
    return env


class Cli:
    """`recruiter ...` in a subprocess on one data dir (and RECRUITER_DB when given), as a user runs it."""

    def __init__(self, home: Path, db: str | None = None) -> None:
        self.home, self.db = home, db
        home.mkdir(parents=True, exist_ok=True)

    def run(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([RECRUITER, *args], env=_env(self.home, self.db), cwd=self.home, input=input,
                              capture_output=True, text=True, timeout=300)

    def ok(self, *args: str, input: str | None = None) -> str:
        done = self.run(*args, input=input)
        assert done.returncode == 0, f"recruiter {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}"
        return done.stdout

    def json(self, *args: str):
        return json.loads(self.ok(*args, "--format", "json"))

    def old(self, old_code: Path, *args: str) -> subprocess.CompletedProcess:
        """The old code's CLI (its package has no __main__: started through its console function)."""
        return subprocess.run([sys.executable, "-c", "from recruiter.cli import run; run()", *args],
                              env=_env(self.home, self.db, old_code), cwd=self.home, capture_output=True, text=True,
                              timeout=300)


class InProcessCli(Cli):
    """The same commands through Typer's runner in this process (the fast tier's way; the engine cache and the
    migration code are the same, the interpreter is not fresh)."""

    def __init__(self, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(home)
        monkeypatch.setenv("RECRUITER_HOME", str(home))  # the data dir's default database, as a user has it
        monkeypatch.delenv("RECRUITER_DB", raising=False)

    def run(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        from typer.testing import CliRunner

        from recruiter.cli import app

        result = CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)
        return subprocess.CompletedProcess(["recruiter", *args], result.exit_code, result.stdout, result.stderr)


def _url_of(cli: Cli) -> str:
    return cli.db or f"sqlite:///{cli.home / 'recruiter.db'}"


# --- what must hold ----------------------------------------------------------------------------------------

def _keeps(new, old, where: str = "") -> None:
    """`new` says everything `old` said, unchanged (a newer version may add keys, never change or drop one)."""
    if isinstance(old, dict):
        assert isinstance(new, dict), f"{where or 'top'}: {new!r} is not an object like {old!r}"
        for key, value in old.items():
            assert key in new, f"{where}.{key}: gone after the upgrade (was {value!r})"
            _keeps(new[key], value, f"{where}.{key}")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(new) == len(old), f"{where}: {new!r} is not {old!r}"
        for i, (a, b) in enumerate(zip(new, old, strict=True)):
            _keeps(a, b, f"{where}[{i}]")
    else:
        assert new == old, f"{where}: {new!r} after the upgrade, {old!r} before"


def _export_digest(rows: list[dict], keys: list[str]) -> str:
    """As make_fixtures.export_digest: the export sorted by URL, on the old code's keys."""
    projected = sorted(({key: row.get(key) for key in keys} for row in rows), key=lambda row: row["url"])
    return hashlib.sha256(json.dumps(projected, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _holds_the_old_data(cli: Cli, expected: dict, facts: dict) -> None:
    """The new CLI reads back what the old one did: communities, profiles, prospects (history, notes, follow-up),
    the sequence."""
    exported = cli.json("export")
    communities = facts["communities"]
    assert len(exported) == communities["count"]
    assert sorted(row["url"] for row in exported) == communities["urls"]
    assert _export_digest(exported, communities["keys"]) == communities["export_sha256"], \
        "the communities export differs from the old code's on the old code's fields"
    _keeps(cli.json("profile", "list"), facts["profiles"], "profile list")
    _keeps(cli.json("prospect", "show", expected["prospect_url"]), facts["prospect"], "prospect show")
    _keeps(cli.json("prospect", "show", expected["second_prospect_url"]), facts["second_prospect"],
           "second prospect show")
    _keeps(cli.json("prospect", "list"), facts["prospects"], "prospect list")
    _keeps(cli.json("sequence", "list"), facts["sequences"], "sequence list")
    _keeps(cli.json("sequence", "show", expected["sequence_name"]), facts["sequence"], "sequence show")
    # The text faces too, as a person reads them.
    assert expected["sequence_name"] in cli.ok("sequence", "list")
    profiles = cli.ok("profile", "list")
    assert all(profile["name"] in profiles for profile in facts["profiles"])


def _database_state(url: str) -> dict:
    """Read straight from the database (a plain engine: recruiter's own would migrate what it opens)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            versions = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
            settings = {}
            for key, value in conn.execute(Setting.__table__.select()):  # the JSON column, decoded by its type
                settings.setdefault(key, []).append(value)
            counts = {}
            for table in ("community", "embedding_cache", "profile", "match", "prospect", "stage_change", "activity",
                          "referral_code", "tracked_link", "activation_step", "performance_day", "email_sequence",
                          "sequence_step", "enrollment", "outbound_message", "email_suppression", "inbound_message",
                          "job", "job_item", "setting"):
                counts[table] = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
    finally:
        engine.dispose()
    return {"versions": versions, "settings": settings, "counts": counts}


def _at_head_with_the_old_rows(cli: Cli, facts: dict) -> None:
    state = _database_state(_url_of(cli))
    assert state["versions"] == [HEAD]  # one row: migrated once, to the head
    assert state["settings"]["schema_version"] == [SCHEMA_VERSION] == [5]
    assert all(len(values) == 1 for values in state["settings"].values())
    kept = {key: values[0] for key, values in state["settings"].items() if key in facts["settings"]}
    assert kept == {**facts["settings"], "schema_version": SCHEMA_VERSION}  # the rest as it was (database_id too)
    assert state["counts"] == facts["tables"], "rows were lost or added in the old tables by the upgrade"


def _schema_differences(url: str) -> list:
    """How the database's schema differs from what this code's models describe (what a new database gets)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    finally:
        engine.dispose()
    # SQLite's reflection misses ON DELETE of a foreign key added by ALTER TABLE (as in test_db): the key is there.
    if url.startswith("sqlite"):
        diff = [d for d in diff if not (isinstance(d, tuple) and d[0] in ("remove_fk", "add_fk"))]
    return diff


def _schema_is_the_models(url: str) -> None:
    assert _schema_differences(url) == []


def _new_features_work(cli: Cli, expected: dict, facts: dict) -> None:
    """Accounts and the audit log on the upgraded database, and new writes on the old rows."""
    assert "up to date" in cli.ok("db", "upgrade") and HEAD in cli.ok("db", "upgrade")
    added = cli.run("user", "add", "o@example.com", "--role", "owner", "--password-stdin",
                    input="a long owner password 1\n")
    assert added.returncode == 0 and "added o@example.com (owner)" in added.stderr, added.stderr[-1500:]
    users = cli.json("user", "list")
    assert [(u["email"], u["role"], u["disabled"]) for u in users] == [("o@example.com", "owner", False)]
    url = expected["prospect_url"]
    cli.ok("prospect", "set-stage", url, "replied", "--note", "They said yes")
    story = cli.json("prospect", "show", url)
    old_history = facts["prospect"]["history"]
    _keeps(story["history"][:len(old_history)], old_history, "history")
    assert [h["to"] for h in story["history"][len(old_history):]] == ["replied"]
    _keeps(story["notes"][:len(facts["prospect"]["notes"])], facts["prospect"]["notes"], "notes")
    audit = cli.json("audit")
    actions = {(entry["action"], entry["target"]) for entry in audit}
    assert ("user.add", "o@example.com") in actions, audit


# --- SQLite ------------------------------------------------------------------------------------------------

def test_an_old_sqlite_data_dir_opens_with_its_data_on_first_use(old_sqlite, expected) -> None:
    """Any command migrates it in place: then it reads as before, at the head, and the new features work."""
    cli, facts = old_sqlite
    _holds_the_old_data(cli, expected, facts)
    _at_head_with_the_old_rows(cli, facts)
    _schema_is_the_models(_url_of(cli))
    _new_features_work(cli, expected, facts)


def test_db_upgrade_first_says_from_what_to_what(old_sqlite, expected) -> None:
    cli, facts = old_sqlite
    said = cli.ok("db", "upgrade").strip()
    assert "upgraded from the hand-versioned schema 3" in said and said.endswith(f"to revision {HEAD}"), said
    _at_head_with_the_old_rows(cli, facts)
    _keeps(cli.json("prospect", "show", expected["prospect_url"]), facts["prospect"], "prospect show")
    _keeps(cli.json("sequence", "show", expected["sequence_name"]), facts["sequence"], "sequence show")
    assert "up to date" in cli.ok("db", "upgrade")


def test_the_upgraded_schema_is_exactly_a_new_databases(sqlite_copy) -> None:
    home, _ = sqlite_copy
    Cli(home).ok("db", "upgrade")
    assert _schema_differences(f"sqlite:///{home / 'recruiter.db'}") == []


@pytest.mark.slow
def test_two_processes_opening_an_old_database_at_once_both_succeed(expected, tmp_path) -> None:
    """The first use may come from two commands together (two terminals, a worker and the UI): all of them work,
    and the database is migrated once."""
    source, facts = _fixture_file(expected, "sqlite")
    for round_ in range(6):
        home = tmp_path / f"race{round_}"
        home.mkdir()
        shutil.copyfile(source, home / "recruiter.db")
        cli = Cli(home)
        commands = [["profile", "list", "--format", "json"]] * 3 + [["prospect", "show", expected["prospect_url"],
                                                                      "--format", "json"]]
        runs = [subprocess.Popen([RECRUITER, *args], env=_env(home, None), cwd=home, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for args in commands]
        results = [run.communicate(timeout=300) for run in runs]
        assert [run.returncode for run in runs] == [0] * len(runs), [err[-1500:] for _, err in results]
        for (out, _), args in zip(results, commands, strict=True):
            old = facts["profiles"] if args[0] == "profile" else facts["prospect"]
            _keeps(json.loads(out), old, " ".join(args))
        _at_head_with_the_old_rows(cli, facts)
        assert "up to date" in cli.ok("db", "upgrade")


# The first process, caught between the end of its migration and its commit (its alembic_version table exists,
# its rows are not committed yet); it commits argv[2] seconds after saying so on stdout.
PAUSED_MIGRATION = """
import sys, time
from recruiter.core import db
settle = db._settle_settings
def paused(conn):
    settle(conn)
    print("migrated, not committed", flush=True)
    time.sleep(float(sys.argv[2]))
db._settle_settings = paused
db.init_db(db.make_engine(sys.argv[1]))
print("committed", flush=True)
"""


@pytest.mark.slow
def test_a_command_while_another_process_commits_the_migration(sqlite_copy, expected) -> None:
    """A command starts while another process has migrated the old database but not committed yet: it waits for
    that commit and then finds the database at the head."""
    home, facts = sqlite_copy
    cli = Cli(home)
    url = _url_of(cli)
    first = subprocess.Popen([sys.executable, "-c", PAUSED_MIGRATION, url, "6"], env=_env(home, None), cwd=home,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = first.stdout.readline()
        if line.strip() != "migrated, not committed":
            pytest.fail(f"the first process did not pause in its migration: {line!r} {first.stderr.read()[-1500:]}")
        second = cli.run("profile", "list", "--format", "json")  # waits on the first one's lock, up to 30 s
    finally:
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0 and "committed" in out, err[-1500:]
    assert second.returncode == 0, second.stderr[-1500:]
    _keeps(json.loads(second.stdout), facts["profiles"], "profile list")
    _at_head_with_the_old_rows(cli, facts)


def test_opening_an_old_database_that_another_process_migrates_meanwhile(sqlite_copy, monkeypatch) -> None:
    """This process finds the database not migrated; before it reads the old schema_version another one (`db
    upgrade`) migrates it. It must then see the migrated database, not refuse it as 'newer'. A
    fix that holds SQLite's write lock from the first read makes the other process wait instead: so it is given
    a few seconds, not waited for."""
    from recruiter.core import db

    home, facts = sqlite_copy
    cli = Cli(home)
    other: list[subprocess.Popen] = []
    to_baseline = db._legacy_to_baseline

    def another_process_migrates_meanwhile(conn, existing):
        other.append(subprocess.Popen([RECRUITER, "db", "upgrade"], env=_env(home, None), cwd=home,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        try:
            other[0].wait(timeout=8)
        except subprocess.TimeoutExpired:
            pass  # it waits on our lock: fine
        to_baseline(conn, existing)

    monkeypatch.setattr(db, "_legacy_to_baseline", another_process_migrates_meanwhile)
    engine = db.make_engine(_url_of(cli))
    try:
        db.init_db(engine)
    finally:
        engine.dispose()
        for process in other:
            _, err = process.communicate(timeout=120)
            assert process.returncode == 0, err[-1500:]
    assert other, "the database was not found in need of the legacy steps"
    _at_head_with_the_old_rows(cli, facts)


def test_the_old_code_refuses_the_upgraded_database(sqlite_copy, old_code) -> None:
    """Once migrated, the released code (which refuses a newer schema_version) leaves the database alone."""
    home, facts = sqlite_copy
    cli = Cli(home)
    before = cli.old(old_code, "profile", "list", "--format", "json")  # the old code reads its own database
    assert before.returncode == 0, before.stderr[-1500:]
    _keeps(json.loads(before.stdout), facts["profiles"], "old profile list")
    cli.ok("db", "upgrade")
    refused = cli.old(old_code, "profile", "list")
    assert refused.returncode != 0 and "newer" in refused.stderr, (refused.stdout, refused.stderr[-1500:])
    assert "Traceback" not in refused.stderr
    _at_head_with_the_old_rows(cli, facts)


# --- PostgreSQL --------------------------------------------------------------------------------------------

@pytest.mark.postgres
def test_an_old_postgres_database_upgrades_with_its_data(pg_copy, expected, tmp_path) -> None:
    url, facts = pg_copy
    cli = Cli(tmp_path / "pg-home", db=url)
    said = cli.ok("db", "upgrade").strip()
    assert "upgraded from the hand-versioned schema 3" in said and said.endswith(f"to revision {HEAD}"), said
    assert "up to date" in cli.ok("db", "upgrade")
    _holds_the_old_data(cli, expected, facts)
    _at_head_with_the_old_rows(cli, facts)
    _schema_is_the_models(url)
    _new_features_work(cli, expected, facts)


@pytest.mark.postgres
def test_the_old_code_refuses_the_upgraded_postgres_database(pg_copy, tmp_path, old_code) -> None:
    url, facts = pg_copy
    cli = Cli(tmp_path / "pg-home", db=url)
    before = cli.old(old_code, "profile", "list", "--format", "json")
    assert before.returncode == 0, before.stderr[-1500:]
    _keeps(json.loads(before.stdout), facts["profiles"], "old profile list")
    cli.ok("db", "upgrade")
    refused = cli.old(old_code, "profile", "list")
    assert refused.returncode != 0 and "newer" in refused.stderr, (refused.stdout, refused.stderr[-1500:])
    assert "Traceback" not in refused.stderr
    _at_head_with_the_old_rows(cli, facts)


@pytest.mark.postgres
def test_an_old_postgres_database_opened_by_two_processes_at_once(pg_copy, expected, tmp_path) -> None:
    url, facts = pg_copy
    home = tmp_path / "pg-home"
    cli = Cli(home, db=url)
    runs = [subprocess.Popen([RECRUITER, "profile", "list", "--format", "json"], env=_env(home, url), cwd=home,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], [err[-1500:] for _, err in results]
    for out, _ in results:
        _keeps(json.loads(out), facts["profiles"], "profile list")
    _at_head_with_the_old_rows(cli, facts)
    _holds_the_old_data(cli, expected, facts)
