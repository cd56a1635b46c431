"""Shared fixtures: a fake web over httpx.MockTransport, loopback servers, and a
temporary RECRUITER_HOME so the HTTP cache never lands in the real home."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from scrape_helpers import FakeWeb

from scrapers.config import BaseUrls, ScrapeSettings
from scrapers.loopback import LoopbackServer


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Name resolution works for loopback only: a test that reaches for the internet fails."""
    real = socket.getaddrinfo

    def loopback_only(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name == "localhost" or name.startswith("127.") or name == "::1":
            return real(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, f"tests never touch the internet (tried {name})")

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


@pytest.fixture(autouse=True)
def recruiter_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("RECRUITER_HOME", str(home))
    for name in ("REDDIT", "YOUTUBE", "ITUNES", "WEB_SEARCH"):
        monkeypatch.delenv(f"RECRUITER_{name}_BASE", raising=False)
    # The test servers listen on loopback: let the crawler follow links there (the address-policy tests
    # narrow this again).
    monkeypatch.setenv("RECRUITER_ALLOW_PRIVATE", "127.0.0.1,localhost")
    monkeypatch.delenv("RECRUITER_TRUST_GIVEN_URLS", raising=False)
    return home


@pytest.fixture
def web() -> FakeWeb:
    return FakeWeb()


@pytest.fixture
def settings(tmp_path) -> ScrapeSettings:
    """Fast settings for tests: no delay, short timeouts, tiny backoff."""
    return ScrapeSettings(
        per_host_delay=0.0, total_timeout=2.0, connect_timeout=1.0, read_timeout=1.5, backoff_base=0.01,
        cache_dir=tmp_path / "cache", base_urls=BaseUrls(),
    )


@pytest.fixture
def loopback() -> Callable[..., LoopbackServer]:
    servers: list[LoopbackServer] = []

    def start(routes=None, directory=None, host="127.0.0.1") -> LoopbackServer:
        server = LoopbackServer(routes=routes, directory=directory, host=host).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
