"""Helpers for the scraper tests (a module of its own: conftest is not importable)."""

from __future__ import annotations

from pathlib import Path

import httpx

FIXTURES = Path(__file__).resolve().parents[1] / "scrapers" / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class FakeWeb:
    """URL -> response table for ``httpx.MockTransport``; unknown URLs are 404.

    A value is ``(status, body, headers)`` or a callable ``request -> httpx.Response``.
    robots.txt is 404 (allow all) unless given. Every request is logged.
    """

    def __init__(self, pages: dict[str, object] | None = None):
        self.pages: dict[str, object] = dict(pages or {})
        self.requests: list[httpx.Request] = []

    def add(self, url: str, body: bytes | str = b"", status: int = 200, content_type: str = "text/html; charset=utf-8",
            headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.pages[url] = (status, data, {"content-type": content_type, **(headers or {})})

    def add_fixture(self, url: str, name: str, content_type: str) -> None:
        self.add(url, fixture_bytes(name), content_type=content_type)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url)
        entry = self.pages.get(url)
        if entry is None:
            entry = self.pages.get(url.split("?")[0]) if "?" in url else None
        if entry is None:
            return httpx.Response(404, content=b"not found", headers={"content-type": "text/plain"})
        if callable(entry):
            return entry(request)
        status, body, headers = entry
        return httpx.Response(status, content=body, headers=headers)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def urls(self) -> list[str]:
        return [str(r.url) for r in self.requests]
