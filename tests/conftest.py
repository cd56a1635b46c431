"""Shared fixtures: a private data dir per test, fresh databases, no internet, and which embedding model runs.

Two tiers. Tests that are not about the model run on `HashingBackend` (`RECRUITER_MODEL=hashing`): a
deterministic, weightless stand-in injected the way httpx takes a transport, so they never load PyTorch. A test
that needs the real all-MiniLM-L6-v2 asks for the `embedding_service` fixture (directly or through a fixture that
does); it then runs with the real model and is marked `slow` automatically. Markers (registered in pyproject):
`slow` (the real model, or more than a few seconds), `browser` (a real Chromium), `postgres` (a PostgreSQL
server). `make test-fast` runs `-m "not slow and not browser and not postgres"` and fails if anything in it
imported torch or sentence-transformers; `make test` runs everything.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Before anything imports recruiter: never touch the developer's real data dir, never the real model by default.
_SESSION_HOME = tempfile.mkdtemp(prefix="recruiter-test-home-")
os.environ["RECRUITER_HOME"] = _SESSION_HOME
os.environ.pop("RECRUITER_DB", None)
os.environ["RECRUITER_MODEL"] = "hashing"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REAL_MODEL = "all-MiniLM-L6-v2"  # recruiter.core.config.DEFAULT_MODEL (not imported here: conftest loads first)
HEAVY_MODULES = ("torch", "sentence_transformers", "transformers")
_HEAVY_KEY = pytest.StashKey[str]()


def _cache_typer_commands() -> None:
    """Typer's CliRunner rebuilds the whole click command tree (every command's signature and type hints) on each
    invoke: a third of the fast tier's CPU. The app does not change during a run, so build it once per app."""
    import typer.testing

    build = getattr(typer.testing, "_get_command", None)
    if build is None:  # a Typer without the helper: nothing to cache
        return
    built: dict[int, tuple[object, object]] = {}

    def cached(app):
        key = id(app)
        if key not in built or built[key][0] is not app:
            built[key] = (app, build(app))
        return built[key][1]

    typer.testing._get_command = cached


_cache_typer_commands()


def pytest_unconfigure(config: pytest.Config) -> None:
    """The session's data dir goes with the session (it held nothing but what the tests wrote)."""
    import shutil

    shutil.rmtree(_SESSION_HOME, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that runs the real model is slow, whatever its file says."""
    for item in items:
        if "embedding_service" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.real_model)


def _fast_tier(config: pytest.Config) -> bool:
    expression = (config.getoption("markexpr", "") or "").replace(" ", "")
    return "notslow" in expression


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The fast tier must not load the real model: fail the run if anything in it imported PyTorch."""
    if not _fast_tier(session.config):
        return
    loaded = [name for name in HEAVY_MODULES if name in sys.modules]
    if loaded:
        session.config.stash[_HEAVY_KEY] = (
            f"the fast tier imported {', '.join(loaded)}: a test not marked slow loaded the real model "
            f"(ask for the embedding_service fixture to run it, marked slow, or let it run on RECRUITER_MODEL=hashing)")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    message = config.stash.get(_HEAVY_KEY, None)
    if message:
        terminalreporter.write_line(f"FAILED (fast tier): {message}", red=True, bold=True)


@pytest.fixture(autouse=True)
def embedding_model(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """RECRUITER_MODEL for this test: the real model when it asked for `embedding_service`, else hashing."""
    name = REAL_MODEL if "embedding_service" in request.fixturenames else "hashing"
    monkeypatch.setenv("RECRUITER_MODEL", name)
    return name


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Name resolution works for loopback only: a test that reaches for the internet fails."""
    real = socket.getaddrinfo

    def loopback_only(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name == "localhost" or name.startswith("127.") or name == "::1":
            return real(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, f"tests never touch the internet (tried {name})")

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


@pytest.fixture(autouse=True)
def recruiter_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own data dir (HTTP cache, index folders, storage secret), and no leftover base URLs."""
    home = tmp_path / "home"
    monkeypatch.setenv("RECRUITER_HOME", str(home))
    from recruiter.core.credentials import STORABLE
    from scrapers.config import BASE_VARIABLES

    # No base URL, API key or contact of the developer's shell leaks into a test (nor their quotas).
    for name in [*BASE_VARIABLES.values(), *STORABLE, "RECRUITER_YOUTUBE_QUOTA", "RECRUITER_YOUTUBE_SEARCH_QUOTA"]:
        monkeypatch.delenv(name, raising=False)
    # The test servers listen on loopback: let the crawler follow links there (the address-policy tests
    # narrow this again).
    monkeypatch.setenv("RECRUITER_ALLOW_PRIVATE", "127.0.0.1,localhost")
    monkeypatch.delenv("RECRUITER_TRUST_GIVEN_URLS", raising=False)
    from scrapers.adapters.reddit import forget_tokens

    forget_tokens()  # a token one test got must not serve the next one's fake Reddit
    return home


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
    """The real all-MiniLM-L6-v2, loaded once for the whole run. Asking for it makes a test `slow` and runs it
    with RECRUITER_MODEL set to the real model (see `embedding_model`)."""
    from recruiter.matching.embedding import get_embedding_service

    service = get_embedding_service(REAL_MODEL)
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


# --- the scrapers' fake web and loopback servers (used by scraper, discovery and CLI tests) -------------------

@pytest.fixture
def web():
    from scrape_helpers import FakeWeb

    return FakeWeb()


@pytest.fixture
def settings(tmp_path: Path):
    """Fast settings for tests: no delay, short timeouts, tiny backoff."""
    from scrapers.api import LIMITS
    from scrapers.config import BaseUrls, Credentials, ScrapeSettings

    return ScrapeSettings(
        per_host_delay=0.0, total_timeout=2.0, connect_timeout=1.0, read_timeout=1.5, backoff_base=0.01,
        cache_dir=tmp_path / "cache", base_urls=BaseUrls(), credentials=Credentials(), web_search="",
        api_intervals=dict.fromkeys(LIMITS, 0.0),
    )


@pytest.fixture
def loopback() -> Iterator[Callable]:
    from scrapers.loopback import LoopbackServer

    servers: list[LoopbackServer] = []

    def start(routes=None, directory=None, host="127.0.0.1") -> LoopbackServer:
        server = LoopbackServer(routes=routes, directory=directory, host=host).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


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


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless Chromium (installed when missing and we are root), for the `browser` tests."""
    from servers import Unavailable, ensure_chromium

    try:
        return ensure_chromium()
    except Unavailable as exc:
        pytest.skip(str(exc))
