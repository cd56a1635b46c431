import pytest
from sqlmodel import Session

from recruiter.core.config import database_url, index_dir, redact_url
from recruiter.core.db import SCHEMA_VERSION, SchemaError, init_db, make_engine, set_setting


def test_newer_schema_is_refused_and_left_untouched(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    init_db(engine)
    with Session(engine) as session:
        set_setting("schema_version", SCHEMA_VERSION + 1, session=session)
    with pytest.raises(SchemaError, match="newer"):
        init_db(engine)
    with Session(engine) as session:
        from recruiter.core.db import get_setting
        assert get_setting("schema_version", session=session) == SCHEMA_VERSION + 1


def test_database_url_defaults_to_home(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("RECRUITER_HOME", str(tmp_path))
    monkeypatch.delenv("RECRUITER_DB", raising=False)
    assert database_url() == f"sqlite:///{tmp_path / 'recruiter.db'}"
    monkeypatch.setenv("RECRUITER_DB", "postgresql+psycopg://u:secret@db/recruiter")
    assert database_url().startswith("postgresql")
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_passwords_never_shown() -> None:
    assert "secret" not in redact_url("postgresql+psycopg://u:secret@db/recruiter")
    assert index_dir("postgresql+psycopg://u:secret@db/recruiter") != index_dir("postgresql+psycopg://u:other@db/x")


def test_index_lives_beside_sqlite_file(tmp_path) -> None:
    assert index_dir(f"sqlite:///{tmp_path / 'a.db'}") == tmp_path / "a.index"


def test_a_schema_2_database_gets_the_feed_url_index(tmp_path) -> None:
    import sqlite3

    from sqlalchemy import inspect

    from recruiter.core.db import get_setting

    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    engine.dispose()
    with sqlite3.connect(path) as conn:  # what a recruiter of schema 2 left behind: no index on feed_url
        conn.execute("DROP INDEX ix_community_feed_url")
        conn.execute("UPDATE setting SET value = '2' WHERE key = 'schema_version'")
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    assert "ix_community_feed_url" in {i["name"] for i in inspect(engine).get_indexes("community")}
    with Session(engine) as session:
        assert get_setting("schema_version", session=session) == SCHEMA_VERSION
    engine.dispose()


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path) -> None:
    import subprocess
    import sys

    script = ("import sys; from recruiter.core.db import init_db, make_engine; "
              "e = make_engine(sys.argv[1]); init_db(e); print('ok')")
    for round_ in range(3):
        url = f"sqlite:///{tmp_path / f'race{round_}.db'}"
        runs = [subprocess.Popen([sys.executable, "-c", script, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(4)]
        results = [run.communicate(timeout=120) for run in runs]
        assert all(run.returncode == 0 for run in runs), [err[-500:] for _, err in results]
