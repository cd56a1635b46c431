"""One loopback server playing every discovery API, for the acceptance tests: Reddit's token endpoint and
OAuth API, the YouTube Data API, Podcast Index, Brave and iTunes, answering with the real recorded responses
of `../shared/datasets/apis/` and checking each request's authentication the way the service does (the
bearer token; `key=`; Podcast Index's SHA-1 over key + secret + date, the date within 3 minutes; the
`X-Subscription-Token`). Its robots.txt says `Disallow: /`: an API call never asks for it, a crawl must obey it.

Each API lives under its own path prefix, so one origin serves them all (YouTube's `search` and iTunes'
`search` would collide at the root). `env()` gives the variables pointing recruiter at it. `fail_next` queues
answers to give instead of the real one (a 429 with Retry-After, a 403 quotaExceeded), and `times` records
when each path was asked, to measure waits.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from scrapers.loopback import LoopbackServer, send

SHARED_APIS = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "apis"
TOKEN = "acc-tok-3f9a6c"
CREDENTIALS = {
    "RECRUITER_REDDIT_CLIENT_ID": "rd-client-71ce",
    "RECRUITER_REDDIT_CLIENT_SECRET": "rd-secret-5c2e94b1",
    "RECRUITER_YOUTUBE_API_KEY": "AIzaFAKE-yt-8d41e0c7",
    "RECRUITER_PODCASTINDEX_KEY": "PIKEYACCEPT9Z",
    "RECRUITER_PODCASTINDEX_SECRET": "pi-secret-0b5d7e2f",
    "RECRUITER_BRAVE_API_KEY": "BSAfake-brave-6a1f",
}
ANSWERS = {
    "/reddit-oauth/subreddits/search": "reddit/subreddits_search_q-praw_limit-100__praw_2016.json",
    "/reddit-oauth/r/redditdev/about": "reddit/r_redditdev_about_raw-json__asyncpraw_2020.json",
    "/youtube/v3/search": "youtube/search_list_type-channel__python-youtube_2020.json",
    "/youtube/v3/channels": "youtube/channels_list_snippet-statistics_google+googledevelopers__python-youtube_2022.json",
    "/podcastindex/api/1.0/search/byterm": "podcastindex/search_byterm_q-podcasting-2.0__jasonyork-podcast-index_2023.json",
    "/brave/res/v1/web/search": "brave/web_search_q-hello-world__brave-search-python-client_2024-12.json",
    "/itunes/search": "itunes/search_media-podcast_term-gruber__fanboy_2014.json",
    "/itunes/lookup": "itunes/lookup_id-215517191__imasquerade-vcr_2014.json",
}


def available() -> bool:
    return all((SHARED_APIS / path).is_file() for path in ANSWERS.values())


def recorded(path: str) -> bytes:
    return (SHARED_APIS / path).read_bytes()


def _json(request, status: int, payload, headers: dict[str, str] | None = None) -> None:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    send(request, status, body, "application/json; charset=utf-8", headers)


class FakeApis:
    def __init__(self, credentials: dict[str, str] | None = None) -> None:
        self.credentials = dict(credentials or CREDENTIALS)
        self.server = LoopbackServer(self._routes())
        self.token_requests = 0
        self.refused: list[str] = []  # requests whose authentication failed, with the reason
        self.times: dict[str, list[float]] = defaultdict(list)
        self.fail_next: dict[str, list[tuple[int, dict, object]]] = defaultdict(list)
        self._lock = threading.Lock()

    # -- life ------------------------------------------------------------------------------------------------

    def start(self) -> FakeApis:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakeApis:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        return self.server.origin

    def env(self, *, with_credentials: bool = True) -> dict[str, str]:
        """The base variables pointing at this server (and the credentials, unless asked not to)."""
        o = self.origin
        env = {
            "RECRUITER_REDDIT_BASE": f"{o}/reddit",
            "RECRUITER_REDDIT_OAUTH_BASE": f"{o}/reddit-oauth",
            "RECRUITER_YOUTUBE_API_BASE": f"{o}/youtube/v3",
            "RECRUITER_PODCASTINDEX_BASE": f"{o}/podcastindex/api/1.0",
            "RECRUITER_BRAVE_BASE": f"{o}/brave/res/v1",
            "RECRUITER_ITUNES_BASE": f"{o}/itunes",
            "RECRUITER_ALLOW_PRIVATE": "127.0.0.1",
        }
        if with_credentials:
            env.update(self.credentials)
        return env

    @property
    def requests(self) -> list[str]:
        return self.server.requests

    # -- routing ---------------------------------------------------------------------------------------------

    def _routes(self) -> dict:
        routes = {"/robots.txt": lambda r: send(r, 200, "User-agent: *\nDisallow: /\n", "text/plain"),
                  "/reddit/api/v1/access_token": self._token}
        for path in ANSWERS:
            routes[path] = self._answer(path)
        return routes

    def _injected(self, path: str, request) -> bool:
        with self._lock:
            self.times[path].append(time.monotonic())
            queued = self.fail_next.get(path)
            if not queued:
                return False
            status, headers, payload = queued.pop(0)
        _json(request, status, payload, headers)
        return True

    def _refuse(self, request, why: str, status: int = 401) -> None:
        self.refused.append(f"{urlsplit(request.path).path}: {why}")
        _json(request, status, {"error": {"code": status, "message": why}})

    def _token(self, request) -> None:
        if self._injected("/reddit/api/v1/access_token", request):
            return
        expected = base64.b64encode(f"{self.credentials['RECRUITER_REDDIT_CLIENT_ID']}:"
                                    f"{self.credentials['RECRUITER_REDDIT_CLIENT_SECRET']}".encode()).decode()
        if request.command != "POST" or request.headers.get("Authorization") != f"Basic {expected}":
            return self._refuse(request, "bad client credentials")
        if b"grant_type=client_credentials" not in getattr(request, "body", b""):
            return self._refuse(request, "unsupported grant", 400)
        with self._lock:
            self.token_requests += 1
        _json(request, 200, {"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600, "scope": "*"})

    def _authentic(self, path: str, request) -> str | None:
        """Why this request's authentication fails, or None."""
        query = parse_qs(urlsplit(request.path).query)
        headers = request.headers
        if path.startswith("/reddit-oauth/"):
            if headers.get("Authorization") != f"bearer {TOKEN}":
                return "no valid bearer token"
            if query.get("raw_json") != ["1"]:
                return "raw_json=1 missing"
        elif path.startswith("/youtube/"):
            if query.get("key") != [self.credentials["RECRUITER_YOUTUBE_API_KEY"]]:
                return "bad key="
        elif path.startswith("/podcastindex/"):
            key, date = headers.get("X-Auth-Key") or "", headers.get("X-Auth-Date") or ""
            secret = self.credentials["RECRUITER_PODCASTINDEX_SECRET"]
            wanted = hashlib.sha1((self.credentials["RECRUITER_PODCASTINDEX_KEY"] + secret + date).encode()).hexdigest()
            if key != self.credentials["RECRUITER_PODCASTINDEX_KEY"] or headers.get("Authorization") != wanted:
                return "bad signature"
            if not date.isdigit() or abs(time.time() - int(date)) > 180:
                return "X-Auth-Date more than 3 minutes off"
            if not headers.get("User-Agent"):
                return "no User-Agent"
        elif path.startswith("/brave/") and (headers.get("X-Subscription-Token")
                                             != self.credentials["RECRUITER_BRAVE_API_KEY"]):
            return "bad X-Subscription-Token"
        return None

    def _answer(self, path: str):
        def answer(request) -> None:
            if self._injected(path, request):
                return
            why = self._authentic(path, request)
            if why:
                return self._refuse(request, why, 403 if path.startswith("/youtube/") else 401)
            content_type = "text/javascript; charset=utf-8" if path.startswith("/itunes/") else "application/json"
            send(request, 200, recorded(ANSWERS[path]), content_type)
        return answer

    # -- what the recordings hold ------------------------------------------------------------------------------

    @staticmethod
    def subreddits() -> dict[str, int | None]:
        """Subreddit URL -> subscribers (None for the private ones), as the recorded search says."""
        from recruiter.core.canonical import canonical_url

        data = json.loads(recorded(ANSWERS["/reddit-oauth/subreddits/search"]))
        return {canonical_url(f"https://www.reddit.com/r/{c['data']['display_name']}/"): c["data"]["subscribers"]
                for c in data["data"]["children"] if not c["data"].get("over18")}

    @staticmethod
    def channels() -> dict[str, int]:
        data = json.loads(recorded(ANSWERS["/youtube/v3/channels"]))
        return {f"https://www.youtube.com/channel/{i['id']}": int(i["statistics"]["subscriberCount"])
                for i in data["items"]}

    @staticmethod
    def podcast_titles() -> set[str]:
        data = json.loads(recorded(ANSWERS["/podcastindex/api/1.0/search/byterm"]))
        return {" ".join(f["title"].split()) for f in data["feeds"]}
