"""Fake APIs for the discovery tests: Reddit's OAuth API, YouTube, Podcast Index, Brave and iTunes on a
`FakeWeb` (httpx transport), answering from the project's fixtures or from `../shared/datasets/apis` when a test
asks for the recorded responses."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from scrape_helpers import FakeWeb, fixture_bytes

from scrapers.api import LIMITS
from scrapers.config import Credentials

SHARED_APIS = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "apis"
TOKEN = "reddit-token-5b1e"
KEYS = Credentials(reddit_client_id="client-id-4f2a", reddit_client_secret="client-secret-9c7d",
                   youtube_api_key="yt-key-0a8b3c5d7e", podcastindex_key="PIKEY2468ACE",
                   podcastindex_secret="pi-secret-13579bdf", brave_api_key="brave-key-8642fdb")


def recorded(path: str) -> bytes:
    """A recorded API answer from the shared datasets (tests skip without them)."""
    return (SHARED_APIS / path).read_bytes()


def api_settings(settings, **changes):
    """Test settings with every API's credentials and no pacing."""
    return settings.with_(credentials=KEYS, api_intervals=dict.fromkeys(LIMITS, 0.0), **changes)


def json_response(payload, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return httpx.Response(status, content=body, headers={"content-type": "application/json", **(headers or {})})


def add_reddit(web: FakeWeb, *, search: bytes | None = None, tokens: list | None = None) -> None:
    """The token endpoint (each request logged in ``tokens``) and the OAuth API's search/about/top."""
    def token(request: httpx.Request) -> httpx.Response:
        if tokens is not None:
            tokens.append(request)
        if request.headers.get("authorization") != "Basic " + __import__("base64").b64encode(
                f"{KEYS.reddit_client_id}:{KEYS.reddit_client_secret}".encode()).decode():
            return json_response({"message": "Unauthorized", "error": 401}, 401)
        return json_response({"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600, "scope": "*"})

    def authed(body: bytes):
        def answer(request: httpx.Request) -> httpx.Response:
            if request.headers.get("authorization") != f"bearer {TOKEN}":
                return json_response({"message": "Unauthorized", "error": 401}, 401)
            return json_response(body)
        return answer

    web.pages["https://www.reddit.com/api/v1/access_token"] = token
    web.pages["https://oauth.reddit.com/subreddits/search"] = authed(search or fixture_bytes("reddit_search.json"))
    web.pages["https://oauth.reddit.com/r/trailrunning/about"] = authed(fixture_bytes("reddit_about.json"))
    web.pages["https://oauth.reddit.com/r/trailrunning/top"] = authed(fixture_bytes("reddit_top.json"))
