import pytest
from sqlmodel import Session

from recruiter.core.config import database_url, index_dir, redact_url
from recruiter.core.db import SCHEMA_VERSION, SchemaError, init_db, make_engine, set_setting


def test_newer_schema_is_refused_and_left_untouched(tmp_path) -> None:
    """A database at a revision this code does not know was written by a newer recruiter: refused, untouched."""
    from sqlalchemy import text

    from recruiter.core.db import revision_of

    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    init_db(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(SchemaError, match="newer recruiter"):
        init_db(engine)
    with engine.connect() as conn:
        assert revision_of(conn) == "9999_future"


def test_a_newer_hand_versioned_schema_is_refused(tmp_path) -> None:
    from legacy_db import legacy_database

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    legacy_database(engine, 4)
    with Session(engine) as session:
        set_setting("schema_version", 7, session=session)
    with pytest.raises(SchemaError, match="newer"):
        init_db(engine)


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
    """A database of the hand-versioned code at schema 2: the old steps add what 3 and 4 added, then Alembic
    takes it from the baseline to the head."""
    from legacy_db import legacy_database
    from sqlalchemy import inspect

    from recruiter.core.db import HEAD, get_setting, revision_of

    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    legacy_database(engine, 2)
    init_db(engine)
    assert "ix_community_feed_url" in {i["name"] for i in inspect(engine).get_indexes("community")}
    assert {"note", "output"} <= {c["name"] for c in inspect(engine).get_columns("job_item")}
    assert "owner_id" in {c["name"] for c in inspect(engine).get_columns("prospect")}
    with Session(engine) as session:
        assert get_setting("schema_version", session=session) == SCHEMA_VERSION
    with engine.connect() as conn:
        assert revision_of(conn) == HEAD
    engine.dispose()


def test_head_is_the_newest_revision_and_the_migrations_make_the_models_schema(tmp_path) -> None:
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlmodel import SQLModel

    from recruiter.core.db import HEAD, _alembic

    assert ScriptDirectory.from_config(_alembic(None)).get_current_head() == HEAD
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    init_db(engine)
    with engine.connect() as conn:
        from alembic.autogenerate import compare_metadata

        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    # SQLite's reflection misses ON DELETE of a foreign key added by ALTER TABLE: the constraint is there.
    assert [d for d in diff if not (isinstance(d, tuple) and d[0] in ("remove_fk", "add_fk"))] == []
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
