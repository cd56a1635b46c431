"""Issue 21's acceptance, as a new user runs it: `recruiter` in a subprocess, a fresh data dir, and one loopback
server playing Reddit's OAuth API, the YouTube Data API, Podcast Index, Brave and iTunes with their real recorded
answers (`tests/support/fake_apis.py`), checking every request's authentication, its robots.txt saying
`Disallow: /`.

The results' own pages and feeds are on the real web, which the tests cannot reach: each is then kept from what
its API said, with a warning (the point of "an API result is already a community").
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest
from cluster import cli
from fake_apis import CREDENTIALS, TOKEN, FakeApis, available

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600),
              pytest.mark.skipif(not available(), reason="../shared/datasets/apis is not here")]

PROFILE = ["profile", "add", "--name", "podcasters", "--description",
           "Microphones and hosting for people who make podcasts", "--keyword", "podcasting"]
DISCOVER = ["discover", "podcasters", "--source", "reddit", "--source", "youtube", "--source", "podcasts",
            "--source", "web", "--query", "podcasting", "--limit", "50", "--format", "json"]


@pytest.fixture
def apis():
    with FakeApis() as server:
        yield server


def user_env(tmp_path: Path, apis: FakeApis, *, with_credentials: bool = True, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECRUITER_")}
    env.update(RECRUITER_HOME=str(tmp_path / "home"), RECRUITER_MODEL="hashing", **apis.env(with_credentials=with_credentials))
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str], *, ok: bool = True):
    started = time.monotonic()
    done = cli(args, env, timeout=500)
    print(f"{time.monotonic() - started:5.1f} s  recruiter {' '.join(args)[:100]}")
    if ok:
        assert done.returncode == 0, f"recruiter {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done


def secrets() -> list[str]:
    return [*CREDENTIALS.values(), TOKEN]


def assert_no_secret(text: str, where: str) -> None:
    for secret in secrets():
        assert secret not in text, f"a secret reached {where}"


def test_sources_then_discovery_through_the_apis(tmp_path: Path, apis: FakeApis) -> None:
    keyless = user_env(tmp_path, apis, with_credentials=False)
    listed = {s["name"]: s for s in json.loads(run(["sources", "--format", "json"], keyless).stdout)}
    for name, variables in (("reddit", ["RECRUITER_REDDIT_CLIENT_ID", "RECRUITER_REDDIT_CLIENT_SECRET"]),
                            ("youtube", ["RECRUITER_YOUTUBE_API_KEY"]),
                            ("podcasts", ["RECRUITER_PODCASTINDEX_KEY", "RECRUITER_PODCASTINDEX_SECRET"])):
        assert listed[name]["configured"] is False and listed[name]["missing"] == variables, listed[name]
    assert listed["web"]["engine"] == "duckduckgo" and listed["itunes"]["keyless"]

    env = user_env(tmp_path, apis)
    checked = run(["sources", "check", "--format", "json"], env)
    results = {c["name"]: c for c in json.loads(checked.stdout)}
    assert all(c["ok"] for c in results.values()), results
    assert {c["status"] for c in results.values()} == {"ok"}
    listed = {s["name"]: s for s in json.loads(run(["sources", "--format", "json"], env).stdout)}
    assert all(s["configured"] for s in listed.values()) and listed["web"]["engine"] == "brave"
    assert_no_secret(checked.stdout + checked.stderr + json.dumps(listed), "sources")

    run(PROFILE, env)
    apis.token_requests = 0
    started = time.monotonic()
    found = run(DISCOVER, env)
    elapsed = time.monotonic() - started
    result = json.loads(found.stdout)
    assert result["state"] == "done", found.stderr
    communities = {c["url"]: c for c in json.loads(run(["export", "--format", "json"], env).stdout)}

    subreddits = apis.subreddits()
    for url, subscribers in subreddits.items():
        assert url in communities, url
        assert communities[url]["kind"] == "subreddit" and communities[url]["audience_size"] == subscribers
    assert sum(1 for s in subreddits.values() if s is None) == 16  # the private ones: saved, size unknown
    for url, subscribers in apis.channels().items():
        assert communities[url]["kind"] == "youtube" and communities[url]["audience_size"] == subscribers
    podcasts = {" ".join((c["name"] or "").split()) for c in communities.values() if c["kind"] == "podcast"}
    assert apis.podcast_titles() <= podcasts
    assert apis.token_requests == 1, "one token request serves every Reddit call"
    assert "/robots.txt" not in apis.requests, "an API call asked for robots.txt"
    assert apis.refused == [], apis.refused

    shown = run(["job", "show", str(result["job_id"]), "--format", "json"], env).stdout
    assert json.loads(shown)["state"] == "done"
    with sqlite3.connect(tmp_path / "home" / "recruiter.db") as db:
        dump = "\n".join(str(row) for table in ("job", "job_item") for row in db.execute(f"SELECT * FROM {table}"))
    for where, text in (("stdout", found.stdout), ("stderr", found.stderr), ("job show", shown), ("job tables", dump)):
        assert_no_secret(text, where)
    cache = tmp_path / "home" / "http-cache"
    if cache.exists():
        assert_no_secret("\n".join(p.read_text("utf-8", "replace") for p in cache.rglob("*.json")), "the HTTP cache")
    print(f"discovery of {len(communities)} communities took {elapsed:.1f} s")


def test_limits_quota_skips_and_robots(tmp_path: Path, apis: FakeApis) -> None:
    env = user_env(tmp_path, apis)
    run(PROFILE, env)

    # A first 429 with Retry-After: 2 is waited out; the job still ends done.
    apis.fail_next["/reddit-oauth/subreddits/search"].append(
        (429, {"Retry-After": "2"}, {"message": "Too Many Requests", "error": 429}))
    done = run(["discover", "podcasters", "--source", "reddit", "--query", "podcasting", "--limit", "5",
                "--format", "json"], env)
    assert json.loads(done.stdout)["state"] == "done", done.stderr
    first, retry = apis.times["/reddit-oauth/subreddits/search"][:2]
    assert retry - first >= 2.0, f"retried {retry - first:.2f} s after the 429"

    # YouTube's quota spent: that part ends with one line naming the quota; the rest is done: partial.
    quota = {"error": {"code": 403, "message": "The request cannot be completed because you have exceeded your "
                                               "<a href=\"/youtube/v3/getting-started#quota\">quota</a>.",
                       "errors": [{"message": "quota", "domain": "youtube.quota", "reason": "quotaExceeded"}]}}
    apis.fail_next["/youtube/v3/search"].append((403, {}, quota))
    partial = run(["discover", "podcasters", "--source", "youtube", "--source", "podcasts", "--query", "podcasting",
                   "--limit", "5", "--format", "json"], env, ok=False)
    result = json.loads(partial.stdout)
    assert partial.returncode == 0 and result["state"] == "partial", partial.stderr
    youtube_errors = [e for e in result["errors"] if e.startswith("youtube")]
    assert youtube_errors and all("quota" in e.lower() for e in youtube_errors)
    assert len(youtube_errors) == 1 and "\n" not in youtube_errors[0]  # one line, repeats counted in it
    assert len(apis.times["/youtube/v3/search"]) == 1, "YouTube was asked again after saying its quota is spent"

    # Without a YouTube key: podcasts run, youtube is named as skipped with the variable to set.
    no_youtube = {k: v for k, v in env.items() if k != "RECRUITER_YOUTUBE_API_KEY"}
    skipped = run(["discover", "podcasters", "--source", "youtube", "--source", "podcasts", "--limit", "5",
                   "--format", "json"], no_youtube)
    assert "skipped youtube is not configured: set RECRUITER_YOUTUBE_API_KEY" in skipped.stderr
    assert json.loads(skipped.stdout)["skipped"][0]["source"] == "youtube"
    assert json.loads(skipped.stdout)["saved"] == 5

    # DuckDuckGo answering 202: an error naming the rate limit, not an empty success.
    from scrapers.loopback import LoopbackServer, send

    with LoopbackServer({"/html/": lambda r: send(r, 202, "<html><body>Please wait</body></html>")}) as ddg:
        ddg_env = {**env, "RECRUITER_WEB_SEARCH": "duckduckgo", "RECRUITER_WEB_SEARCH_BASE": ddg.url("/html/")}
        limited = run(["discover", "podcasters", "--source", "web", "--limit", "5", "--format", "json"], ddg_env,
                      ok=False)
    failed = json.loads(limited.stdout)
    assert limited.returncode == 1 and failed["state"] == "failed" and failed["saved"] == 0
    assert all("202" in e and "rate" in e for e in failed["errors"]), failed["errors"]

    # A crawled page whose robots.txt disallows us is still refused (the APIs on the same origin were not).
    page = run(["scrape", apis.origin + "/some/page", "--format", "json"], env, ok=False)
    [record] = json.loads(page.stdout)
    assert not record["ok"] and "robots.txt" in record["error"]
    assert "/some/page" not in apis.requests


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_queued_discovery_on_two_workers_saves_the_same(tmp_path: Path, apis: FakeApis, postgres_server,
                                                        redis_url: str) -> None:
    """`discover --queue` on two workers saves the communities the in-process run saves; the APIs' pace and
    token hold across them; a typed loopback URL queued for the workers keeps the trust it has here."""
    import uuid

    from cluster import Worker

    from scrapers.loopback import LoopbackServer, send

    args = ["discover", "podcasters", "--source", "reddit", "--source", "youtube", "--source", "podcasts",
            "--source", "web", "--query", "podcasting", "--limit", "8"]
    here = user_env(tmp_path / "here", apis, RECRUITER_DB=postgres_server.create_database(f"here_{uuid.uuid4().hex[:8]}"))
    run(PROFILE, here)
    run([*args, "--format", "json"], here)
    expected = {c["url"]: c["audience_size"] for c in json.loads(run(["export", "--format", "json"], here).stdout)}

    queued_db = postgres_server.create_database(f"queued_{uuid.uuid4().hex[:8]}")
    env = user_env(tmp_path / "there", apis, RECRUITER_DB=queued_db, RECRUITER_BROKER=redis_url)
    env.pop("RECRUITER_ALLOW_PRIVATE")  # the typed URL below must pass on its own trust, not on this
    run(PROFILE, env)
    workers = [Worker("w1", 2, env, tmp_path), Worker("w2", 2, env, tmp_path)]
    site = LoopbackServer({"/": lambda r: send(r, 200, "<html><head><title>Our intranet wiki</title>"
                                                     "<meta name='description' content='Notes of the team.'>"
                                                     "</head><body></body></html>")}).start()
    try:
        job = json.loads(run([*args, "--queue", "--format", "json"], env).stdout)["job"]
        waited = run(["job", "wait", str(job), "--timeout", "600", "--format", "json"], env, ok=False)
        assert json.loads(waited.stdout)["state"] == "done", waited.stdout + waited.stderr
        shown = json.loads(run(["job", "show", str(job), "--format", "json"], env).stdout)
        assert len([name for name, count in shown["workers"].items() if count]) == 2, shown["workers"]
        saved = {c["url"]: c["audience_size"] for c in json.loads(run(["export", "--format", "json"], env).stdout)}
        assert saved == expected

        urls = tmp_path / "urls.txt"
        urls.write_text(site.url("/") + "\n")
        queued = run(["scrape", "--save", "--queue", "--file", str(urls), "--format", "json"], env)
        scrape_job = json.loads(queued.stdout)["job"]
        assert run(["job", "wait", str(scrape_job), "--timeout", "120"], env, ok=False).returncode == 0, \
            run(["job", "show", str(scrape_job)], env).stdout
        assert site.url("/").rstrip("/") in {c["url"].rstrip("/") for c in
                                              json.loads(run(["export", "--format", "json"], env).stdout)}
    finally:
        site.stop()
        logs = ""
        for worker in workers:
            worker.stop()
        for path in tmp_path.glob("w*.log"):
            logs += path.read_text("utf-8", "replace")
    assert_no_secret(logs, "the workers' logs")
