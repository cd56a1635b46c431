"""The scrape and discover commands, as a user runs them (loopback servers, no internet)."""

from __future__ import annotations

import json

import typer
from scrape_helpers import FIXTURES
from typer.testing import CliRunner

from recruiter.cli import app
from scrapers.loopback import send

runner = CliRunner()


def scrapers_app() -> typer.Typer:
    return app


def test_help_shows_an_example_for_each_command():
    app = scrapers_app()
    for command in ("scrape", "discover"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "Example: recruiter " + command in result.output


def test_scrape_prints_json_records_in_order_and_exit_code(loopback):
    server = loopback(directory=FIXTURES)
    urls = [server.url("/podcast.xml"), "not a url", server.url("/blog.html")]
    result = runner.invoke(scrapers_app(), ["scrape", *urls, "--delay", "0", "--format", "json"])
    assert result.exit_code == 1  # one URL failed
    records = json.loads(result.stdout)
    assert [r["url"] for r in records] == urls
    assert [r["ok"] for r in records] == [True, False, True]
    assert records[0]["kind"] == "podcast" and records[2]["title"] == "Ten Gels Compared for Long Runs"

    ok = runner.invoke(scrapers_app(), ["scrape", server.url("/atom.xml"), "--delay", "0", "--format", "json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)[0]["title"] == "Laufblog"


def test_scrape_table_output(loopback):
    server = loopback(directory=FIXTURES)
    result = runner.invoke(scrapers_app(), ["scrape", server.url("/feed.xml"), "--delay", "0"])
    assert result.exit_code == 0 and "Trail Notes" in result.stdout


def test_robots_refusal_is_named_in_the_error(loopback):
    server = loopback({"/robots.txt": lambda r: send(r, 200, "User-agent: *\nDisallow: /\n", "text/plain")})
    result = runner.invoke(scrapers_app(), ["scrape", server.url("/page"), "--delay", "0", "--format", "json"])
    assert result.exit_code == 1
    assert "robots.txt" in json.loads(result.stdout)[0]["error"]
    assert "/page" not in server.requests


def test_bad_format_is_refused():
    result = runner.invoke(scrapers_app(), ["scrape", "https://x.test/", "--format", "xml"])
    assert result.exit_code != 0


def test_save_upserts_without_losing_data(loopback, db_url):
    from sqlmodel import select

    from recruiter.cli import app
    from recruiter.core.db import open_session
    from recruiter.core.models import Community

    state = {"page": (FIXTURES / "blog.html").read_text("utf-8")}
    server = loopback({
        "/": lambda r: send(r, 200, state["page"]),
        "/feed.xml": lambda r: send(r, 200, (FIXTURES / "feed.xml").read_bytes(), "application/rss+xml"),
    })
    url = server.url("/")
    first = runner.invoke(app, ["--db", db_url, "scrape", url, "--delay", "0", "--format", "json", "--save"])
    assert first.exit_code == 0, first.output
    state["page"] = "<html><head><title>x</title></head><body></body></html>"  # the site lost its metadata
    runner.invoke(app, ["--db", db_url, "scrape", url, "--delay", "0", "--format", "json", "--save"])
    state["page"] = None
    server.routes["/"] = lambda r: send(r, 500, "down")
    failed = runner.invoke(app, ["--db", db_url, "scrape", url, "--delay", "0", "--format", "json", "--save"])
    assert failed.exit_code == 1
    with open_session(db_url) as session:
        [community] = session.exec(select(Community)).all()
    assert community.site_name == "Trail Notes" and community.author == "Ada Runner"
    assert "editor@trailnotes.test" in community.emails
    assert community.recent_posts[:1] == ["Ten Gels Compared for Long Runs"]


def test_discover_command_against_loopback_services(loopback, db_url, monkeypatch):
    """Reddit's OAuth API on loopback: a token, the search, the posts; the discovery saves what Reddit describes
    (a private subreddit too, its subscribers unknown) and says which source it skipped for want of keys."""
    from scrape_helpers import fixture_bytes

    from recruiter.cli import app

    token_requests = []

    def token(request):
        token_requests.append(request.path)
        send(request, 200, json.dumps({"access_token": "tok-7e1f", "expires_in": 3600}), "application/json")

    def authed(name):
        def answer(request):
            if request.headers.get("Authorization") != "bearer tok-7e1f":
                return send(request, 401, '{"error": 401}', "application/json")
            send(request, 200, fixture_bytes(name), "application/json")
        return answer

    reddit = loopback({
        "/api/v1/access_token": token,
        "/subreddits/search": authed("reddit_search.json"),
        "/r/trailrunning/top": authed("reddit_top.json"),
        "/robots.txt": lambda r: send(r, 200, "User-agent: *\nDisallow: /\n", "text/plain"),
    })
    monkeypatch.setenv("RECRUITER_REDDIT_BASE", reddit.origin)
    monkeypatch.setenv("RECRUITER_REDDIT_OAUTH_BASE", reddit.origin)
    monkeypatch.setenv("RECRUITER_REDDIT_CLIENT_ID", "cli-client")
    monkeypatch.setenv("RECRUITER_REDDIT_CLIENT_SECRET", "cli-secret-6b2d")
    added = runner.invoke(app, ["--db", db_url, "profile", "add", "--name", "Trail", "--description",
                                "Trail running shoes for ultramarathon runners.", "--keyword", "trail running"])
    assert added.exit_code == 0, added.output
    result = runner.invoke(app, ["--db", db_url, "discover", "Trail", "--source", "reddit", "--source", "youtube",
                                 "--limit", "5", "--delay", "0", "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["saved"] == 2 and payload["failed"] == 0 and payload["state"] == "done"
    assert any(row["url"] == "https://www.reddit.com/r/trailrunning/" for row in payload["ranked"])
    assert "skipped youtube is not configured: set RECRUITER_YOUTUBE_API_KEY" in result.stderr
    assert len(token_requests) == 1 and "/robots.txt" not in reddit.requests  # an API: robots.txt is not asked
    assert "cli-secret-6b2d" not in result.output + result.stderr and "tok-7e1f" not in result.output
    unknown = runner.invoke(app, ["--db", db_url, "discover", "Nobody", "--source", "reddit"])
    assert unknown.exit_code == 2
    bad = runner.invoke(app, ["--db", db_url, "discover", "Trail", "--source", "myspace"])
    assert bad.exit_code != 0
    nothing = runner.invoke(app, ["--db", db_url, "discover", "Trail", "--source", "youtube"])
    assert nothing.exit_code == 2 and "RECRUITER_YOUTUBE_API_KEY" in nothing.stderr


def test_hostile_urls_fail_one_by_one_while_the_good_page_succeeds(loopback):
    import time

    def stall(request):
        time.sleep(3)
        send(request, 200, "late")

    def endless(request):
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.send_header("Connection", "close")
        request.end_headers()
        try:
            while True:
                request.wfile.write(b"z" * 65536)
        except OSError:
            pass

    server = loopback({
        "/robots.txt": lambda r: send(r, 200, "User-agent: *\nDisallow: /private/\n", "text/plain"),
        "/good": lambda r: send(r, 200, (FIXTURES / "blog.html").read_bytes()),
        "/missing": lambda r: send(r, 404, "gone"),
        "/error": lambda r: send(r, 503, "down", headers={"Retry-After": "0"}),
        "/loop": lambda r: send(r, 302, "", None, {"Location": "/loop"}),
        "/stall": stall,
        "/huge": endless,
        "/cut.rss": lambda r: send(r, 200, (FIXTURES / "feed.xml").read_bytes()[:300], "application/rss+xml"),
        "/binary": lambda r: send(r, 200, bytes(range(256)) * 8, "text/html"),
        "/private/x": lambda r: send(r, 200, "secret"),
    })
    paths = ["/good", "/missing", "/error", "/loop", "/stall", "/huge", "/cut.rss", "/binary", "/private/x"]
    urls = [server.url(p) for p in paths] + ["no url", "ftp://127.0.0.1/x"]
    started = time.monotonic()
    result = runner.invoke(scrapers_app(), ["scrape", *urls, "--delay", "0", "--timeout", "1", "--format", "json"])
    assert time.monotonic() - started < 15
    records = json.loads(result.stdout)
    assert result.exit_code == 1 and records[0]["ok"]
    errors = [r["error"] for r in records[1:]]
    assert all(errors) and not any(r["ok"] for r in records[1:])
    expected = ["404", "503", "redirect loop", "timed out", "too large", "truncated", "binary", "robots.txt", "not a URL", "ftp"]
    for error, word in zip(errors, expected, strict=True):
        assert word in error, (word, error)
    assert "/private/x" not in server.requests


def test_sources_keys_are_stored_privately_and_shown_masked(monkeypatch, recruiter_home):
    """`sources set` reads the key from stdin, stores it 0600 in the data dir and never prints it back; the
    environment wins over what is stored; `unset` forgets it; a value that is not what the variable needs is
    refused with a line saying why."""
    import stat

    from recruiter.cli import app

    key = "AIzaSyD-this-is-a-long-youtube-key-1234"
    stored = runner.invoke(app, ["sources", "set", "RECRUITER_YOUTUBE_API_KEY"], input=key)
    assert stored.exit_code == 0, stored.output
    assert key not in stored.output + stored.stderr and "••••1234" in stored.stderr
    path = recruiter_home / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and key in path.read_text()
    listed = json.loads(runner.invoke(app, ["sources", "--format", "json"]).stdout)
    youtube = next(s for s in listed if s["name"] == "youtube")
    assert youtube["configured"] and youtube["settings"][0] == {
        "variable": "RECRUITER_YOUTUBE_API_KEY", "set": True, "from": "stored", "value": "••••1234", "secret": True}
    assert key not in json.dumps(listed)
    monkeypatch.setenv("RECRUITER_YOUTUBE_API_KEY", "from-the-environment-5678")
    youtube = next(s for s in json.loads(runner.invoke(app, ["sources", "--format", "json"]).stdout)
                   if s["name"] == "youtube")
    assert youtube["settings"][0]["from"] == "environment" and youtube["settings"][0]["value"] == "••••5678"
    monkeypatch.delenv("RECRUITER_YOUTUBE_API_KEY")
    assert runner.invoke(app, ["sources", "unset", "RECRUITER_YOUTUBE_API_KEY"]).exit_code == 0
    youtube = next(s for s in json.loads(runner.invoke(app, ["sources", "--format", "json"]).stdout)
                   if s["name"] == "youtube")
    assert not youtube["configured"] and youtube["missing"] == ["RECRUITER_YOUTUBE_API_KEY"]
    refused = runner.invoke(app, ["sources", "set", "RECRUITER_WEB_SEARCH"], input="google")
    assert refused.exit_code == 2 and "searxng, brave or duckduckgo" in refused.stderr
    contact = runner.invoke(app, ["sources", "set", "RECRUITER_CONTACT"], input="not an address")
    assert contact.exit_code == 2 and "email address or an http(s) URL" in contact.stderr
    unknown = runner.invoke(app, ["sources", "set", "RECRUITER_DB"], input="sqlite://")
    assert unknown.exit_code == 2 and "not a setting that can be stored" in unknown.stderr
