"""Shared fixtures: a private data dir for the whole run, fresh databases per test, the real model once."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports recruiter: never touch the developer's real data dir.
os.environ["RECRUITER_HOME"] = tempfile.mkdtemp(prefix="recruiter-test-home-")
os.environ.pop("RECRUITER_DB", None)
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A fresh SQLite file per test (the index lives beside it)."""
    return f"sqlite:///{tmp_path / 'recruiter.db'}"


@pytest.fixture
def session(db_url: str) -> Iterator:
    from recruiter.core.db import open_session

    with open_session(db_url) as s:
        yield s


@pytest.fixture
def memory_session() -> Iterator:
    """An in-memory database for pure data-access tests."""
    from sqlmodel import Session

    from recruiter.core.db import init_db, make_engine

    engine = make_engine("sqlite://")
    init_db(engine)
    with Session(engine, expire_on_commit=False) as s:
        yield s
    engine.dispose()


@pytest.fixture(scope="session")
def embedding_service():
    """The real all-MiniLM-L6-v2, loaded once for the whole test run."""
    from recruiter.matching.embedding import get_embedding_service

    service = get_embedding_service()
    service.encode(["warm-up"])
    return service


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch):
    """Run `recruiter ...` in-process against this test's database; returns the click Result."""
    from typer.testing import CliRunner

    from recruiter.cli import app

    monkeypatch.setenv("RECRUITER_DB", db_url)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke


# --- real servers (Debian packages, installed when missing; skipped with the reason when impossible) -------

@pytest.fixture(scope="session")
def postgres_server():
    from servers import PostgresServer, Unavailable

    try:
        server = PostgresServer().start()
    except Unavailable as exc:
        pytest.skip(str(exc))
    yield server
    server.close()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    import uuid

    return postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def redis_server():
    from servers import RedisServer, Unavailable

    try:
        server = RedisServer().start()
    except Unavailable as exc:
        pytest.skip(str(exc))
    yield server
    server.close()


@pytest.fixture
def redis_url(redis_server) -> str:
    """The session's Redis, emptied for this test."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url
