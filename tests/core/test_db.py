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
