"""The shared HTTP layer: robots.txt, politeness, retries, limits, redirects, cache."""

from __future__ import annotations

import asyncio
import itertools
import time

import httpx
import pytest
from scrape_helpers import FakeWeb

from scrapers.http import (
    BodyTooLarge,
    ConnectionFailed,
    FetchTimeout,
    HttpStatusError,
    InvalidUrl,
    PoliteClient,
    RobotsDisallowed,
    TooManyRedirects,
    UnsupportedContent,
    parse_retry_after,
    validate_url,
)
from scrapers.loopback import send


@pytest.mark.parametrize(
    "raw, message",
    [
        ("not a url", "not a URL"),
        ("notaurl", "not a URL"),
        ("ftp://example.com/file", "unsupported scheme 'ftp'"),
        ("mailto:someone@example.com", "unsupported scheme 'mailto'"),
        ("http://", "no host"),
        ("", "empty"),
    ],
)
def test_invalid_urls_are_refused_before_any_io(raw, message):
    with pytest.raises(InvalidUrl, match=message):
        validate_url(raw)


def test_bare_hosts_get_https():
    assert validate_url(" example.com/blog ") == "https://example.com/blog"


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_robots_disallowed_url_is_never_requested(settings, web: FakeWeb):
    web.add("https://site.test/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    web.add("https://site.test/private/page", "secret")
    web.add("https://site.test/public", "<html><body>hi</body></html>")
    async with PoliteClient(settings, transport=web.transport) as client:
        with pytest.raises(RobotsDisallowed, match=r"robots\.txt"):
            await client.get("https://site.test/private/page")
        assert (await client.get("https://site.test/public")).status == 200
    assert "https://site.test/private/page" not in web.urls()
    assert web.urls().count("https://site.test/robots.txt") == 1  # fetched once per origin


async def test_robots_rules_follow_the_configured_user_agent(settings, web: FakeWeb):
    web.add("https://site.test/robots.txt", "User-agent: recruiter\nDisallow: /\n\nUser-agent: *\nAllow: /\n",
            content_type="text/plain")
    web.add("https://site.test/page", "<html></html>")
    async with PoliteClient(settings, transport=web.transport) as client:
        with pytest.raises(RobotsDisallowed):
            await client.get("https://site.test/page")
    other = settings.with_(user_agent="otherbot/1.0")
    async with PoliteClient(other, transport=web.transport) as client:
        assert (await client.get("https://site.test/page")).status == 200


async def test_requests_name_the_users_contact_and_ask_for_english(settings, web: FakeWeb, monkeypatch):
    """Site owners can reach whoever crawls them (RECRUITER_CONTACT, an email or a URL; the placeholder address
    is gone), and counts come worded in English."""
    from scrapers.config import ScrapeSettings, user_agent

    web.add("https://site.test/page", "<html></html>")
    monkeypatch.setenv("RECRUITER_CONTACT", "ana@shop.example")
    contacted = settings.with_(user_agent=ScrapeSettings().user_agent)
    async with PoliteClient(contacted, transport=web.transport) as client:
        await client.get("https://site.test/page")
    sent = web.requests[-1].headers
    assert sent["user-agent"] == "recruiter/0.1 (affiliate partner research; +mailto:ana@shop.example)"
    assert sent["accept-language"] == "en"
    assert "github.com/recruiter" not in user_agent("")
    monkeypatch.setenv("RECRUITER_CONTACT", "https://shop.example/partners")
    assert user_agent().endswith("+https://shop.example/partners)")
    monkeypatch.setenv("RECRUITER_CONTACT", "call me\r\nX-Injected: 1")  # not an address: not sent at all
    assert user_agent() == "recruiter/0.1 (affiliate partner research)"


async def test_robots_5xx_means_disallow_all_and_4xx_allow_all(settings, web: FakeWeb):
    web.add("https://down.test/robots.txt", "oops", status=503)
    web.add("https://down.test/page", "<html></html>")
    web.add("https://open.test/page", "<html></html>")  # robots.txt 404
    async with PoliteClient(settings.with_(max_retries=0), transport=web.transport) as client:
        with pytest.raises(RobotsDisallowed, match="503"):
            await client.get("https://down.test/page")
        assert (await client.get("https://open.test/page")).status == 200


async def test_retries_5xx_with_backoff_then_succeeds(settings, web: FakeWeb):
    calls = []

    def flaky(request):
        calls.append(time.monotonic())
        if len(calls) < 3:
            return httpx.Response(503, headers={"retry-after": "0"})
        return httpx.Response(200, content=b"<html>ok</html>", headers={"content-type": "text/html"})

    web.pages["https://flaky.test/"] = flaky
    async with PoliteClient(settings, transport=web.transport) as client:
        response = await client.get("https://flaky.test/")
    assert response.status == 200 and len(calls) == 3


async def test_gives_up_after_max_retries_with_clear_error(settings, web: FakeWeb):
    web.add("https://broken.test/", "no", status=500)
    async with PoliteClient(settings, transport=web.transport) as client:
        with pytest.raises(HttpStatusError, match="HTTP 500 Internal Server Error after 3 attempts"):
            await client.get("https://broken.test/")
    assert web.urls().count("https://broken.test/") == 3


async def test_retry_after_is_honoured(settings, web: FakeWeb):
    times = []

    def limited(request):
        times.append(time.monotonic())
        if len(times) == 1:
            return httpx.Response(429, headers={"retry-after": "1"})
        return httpx.Response(200, content=b"ok", headers={"content-type": "text/plain"})

    web.pages["https://busy.test/"] = limited
    async with PoliteClient(settings, transport=web.transport) as client:
        await client.get("https://busy.test/")
    assert times[1] - times[0] >= 0.95


async def test_too_long_retry_after_is_an_error_not_a_wait(settings, web: FakeWeb):
    web.add("https://busy.test/", "", status=429, headers={"retry-after": "3600"})
    async with PoliteClient(settings, transport=web.transport) as client:
        with pytest.raises(HttpStatusError, match="retry after 3600 s"):
            await client.get("https://busy.test/")


async def test_4xx_is_not_retried(settings, web: FakeWeb):
    async with PoliteClient(settings, transport=web.transport) as client:
        with pytest.raises(HttpStatusError, match="HTTP 404 Not Found") as info:
            await client.get("https://site.test/nope")
    assert info.value.status == 404
    assert web.urls().count("https://site.test/nope") == 1


async def test_redirects_are_followed_and_final_url_kept(settings, web: FakeWeb):
    web.add("http://site.test/old", "", status=301, headers={"location": "https://site.test/new"})
    web.add("https://site.test/new", "<html>new</html>")
    async with PoliteClient(settings, transport=web.transport) as client:
        response = await client.get("http://site.test/old")
    assert response.final_url == "https://site.test/new" and response.url == "http://site.test/old"


async def test_redirect_loop_is_named(settings, web: FakeWeb):
    web.add("https://site.test/a", "", status=302, headers={"location": "/b"})
    web.add("https://site.test/b", "", status=302, headers={"location": "/a"})
    async with PoliteClient(settings, transport=web.transport) as client:
        with pytest.raises(TooManyRedirects, match="redirect loop"):
            await client.get("https://site.test/a")


async def test_redirect_limit(settings, web: FakeWeb):
    for n in range(10):
        web.add(f"https://site.test/{n}", "", status=302, headers={"location": f"/{n + 1}"})
    async with PoliteClient(settings.with_(max_redirects=3), transport=web.transport) as client:
        with pytest.raises(TooManyRedirects, match="more than 3"):
            await client.get("https://site.test/0")


async def test_redirect_to_robots_disallowed_url_is_refused(settings, web: FakeWeb):
    web.add("https://site.test/robots.txt", "User-agent: *\nDisallow: /private", content_type="text/plain")
    web.add("https://site.test/go", "", status=302, headers={"location": "/private/x"})
    async with PoliteClient(settings, transport=web.transport) as client:
        with pytest.raises(RobotsDisallowed):
            await client.get("https://site.test/go")
    assert "https://site.test/private/x" not in web.urls()


async def test_redirect_to_other_scheme_is_refused(settings, web: FakeWeb):
    web.add("https://site.test/go", "", status=302, headers={"location": "ftp://site.test/file"})
    async with PoliteClient(settings, transport=web.transport) as client:
        with pytest.raises(InvalidUrl, match="ftp"):
            await client.get("https://site.test/go")


async def test_declared_oversize_body_is_refused_unread(settings, web: FakeWeb):
    web.pages["https://big.test/"] = lambda request: httpx.Response(
        200, headers={"content-type": "text/html", "content-length": str(10**10)}, content=b"x"
    )
    async with PoliteClient(settings, transport=web.transport) as client:
        with pytest.raises(BodyTooLarge, match="declared"):
            await client.get("https://big.test/")


async def test_streamed_body_is_cut_at_the_cap(settings, web: FakeWeb):
    produced = []

    async def endless():
        while True:
            produced.append(1)
            yield b"x" * 1024

    web.pages["https://big.test/"] = lambda request: httpx.Response(200, headers={"content-type": "text/html"}, content=endless())
    async with PoliteClient(settings.with_(max_bytes=10 * 1024), transport=web.transport) as client:
        with pytest.raises(BodyTooLarge, match="cut at"):
            await client.get("https://big.test/")
    assert len(produced) <= 12  # stopped reading right after the cap


async def test_binary_content_types_and_bodies_are_refused(settings, web: FakeWeb):
    web.add("https://site.test/logo.png", b"\x89PNG\r\n", content_type="image/png")
    web.add("https://site.test/sneaky", bytes(range(256)) * 4, content_type="text/html")
    async with PoliteClient(settings, transport=web.transport) as client:
        with pytest.raises(UnsupportedContent, match="image/png"):
            await client.get("https://site.test/logo.png")
        with pytest.raises(UnsupportedContent, match="binary"):
            await client.get("https://site.test/sneaky")


async def test_conditional_get_uses_the_cache(settings, web: FakeWeb):
    def page(request):
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"etag": '"v1"'})
        return httpx.Response(200, content=b"<html>v1</html>", headers={"content-type": "text/html", "etag": '"v1"'})

    web.pages["https://site.test/"] = page
    async with PoliteClient(settings, transport=web.transport) as client:
        first = await client.get("https://site.test/")
    async with PoliteClient(settings, transport=web.transport) as client:
        second = await client.get("https://site.test/")
    assert not first.from_cache and second.from_cache
    assert second.body == b"<html>v1</html>"
    assert web.requests[-1].headers["if-none-match"] == '"v1"'


async def test_cache_lives_in_recruiter_home_by_default(recruiter_home, web: FakeWeb):
    from scrapers.config import ScrapeSettings

    web.add("https://site.test/", "<html></html>", headers={"last-modified": "Wed, 21 Oct 2015 07:28:00 GMT"})
    async with PoliteClient(ScrapeSettings(per_host_delay=0), transport=web.transport) as client:
        await client.get("https://site.test/")
    assert list((recruiter_home / "http-cache").rglob("*.json"))


async def test_same_host_requests_are_serialised_with_a_delay(settings, web: FakeWeb):
    spans = []

    async def slow(request):
        start = time.monotonic()
        await asyncio.sleep(0.05)
        spans.append((start, time.monotonic()))
        return httpx.Response(200, content=b"ok", headers={"content-type": "text/plain"})

    for n in range(3):
        web.pages[f"https://one.test/{n}"] = slow
    async with PoliteClient(settings.with_(per_host_delay=0.2, obey_robots=False), transport=httpx.MockTransport(web.handler)) as client:
        await asyncio.gather(*(client.get(f"https://one.test/{n}") for n in range(3)))
    spans.sort()
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start - end >= 0.19  # one at a time, and the delay between them


async def test_different_hosts_run_in_parallel_within_the_global_cap(settings, web: FakeWeb):
    active = 0
    peak = 0

    async def slow(request):
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.1)
        active -= 1
        return httpx.Response(200, content=b"ok", headers={"content-type": "text/plain"})

    for n in range(8):
        web.pages[f"https://host{n}.test/"] = slow
    capped = settings.with_(global_concurrency=3, obey_robots=False)
    async with PoliteClient(capped, transport=httpx.MockTransport(web.handler)) as client:
        await asyncio.gather(*(client.get(f"https://host{n}.test/") for n in range(8)))
    assert peak == 3


async def test_shared_fetch_happens_once(settings, web: FakeWeb):
    web.add("https://site.test/feed.xml", "<rss></rss>", content_type="application/rss+xml")
    async with PoliteClient(settings, transport=web.transport) as client:
        await asyncio.gather(*(client.get_shared("https://site.test/feed.xml") for _ in range(5)))
    assert web.urls().count("https://site.test/feed.xml") == 1


# -- against a real socket -----------------------------------------------------------------


async def test_stall_is_cut_by_the_total_timeout(settings, loopback):
    server = loopback({"/stall": lambda r: (time.sleep(5), send(r, 200, "late"))})
    async with PoliteClient(settings.with_(total_timeout=0.5, read_timeout=10), transport=None) as client:
        start = time.monotonic()
        with pytest.raises(FetchTimeout, match=r"0\.5 s"):
            await client.get(server.url("/stall"))
    assert time.monotonic() - start < 2


async def test_trickling_body_is_cut_by_the_total_timeout(settings, loopback):
    def trickle(request):
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.send_header("Content-Length", "1000")
        request.end_headers()
        for _ in range(100):
            request.wfile.write(b"x")
            request.wfile.flush()
            time.sleep(0.05)

    server = loopback({"/trickle": trickle})
    async with PoliteClient(settings.with_(total_timeout=0.6), transport=None) as client:
        with pytest.raises(FetchTimeout):
            await client.get(server.url("/trickle"))


async def test_body_cap_streams_over_a_socket(settings, loopback):
    def endless(request):
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.send_header("Connection", "close")
        request.end_headers()
        try:
            for _ in range(100_000):
                request.wfile.write(b"y" * 65536)
        except OSError:
            pass

    server = loopback({"/huge": endless})
    async with PoliteClient(settings.with_(max_bytes=1024 * 1024), transport=None) as client:
        with pytest.raises(BodyTooLarge):
            await client.get(server.url("/huge"))


async def test_robots_over_a_socket_and_refused_port(settings, loopback):
    server = loopback({
        "/robots.txt": lambda r: send(r, 200, "User-agent: *\nDisallow: /no\n", "text/plain"),
        "/yes": lambda r: send(r, 200, "<html>yes</html>"),
    })
    async with PoliteClient(settings, transport=None) as client:
        assert (await client.get(server.url("/yes"))).text == "<html>yes</html>"
        with pytest.raises(RobotsDisallowed):
            await client.get(server.url("/no"))
        assert not await client.allowed_by_robots(server.url("/no/deeper"))
    assert "/no" not in server.requests
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with PoliteClient(settings, transport=None) as client:
        with pytest.raises(ConnectionFailed, match="cannot connect"):
            await client.get(f"http://127.0.0.1:{port}/")


async def test_unreachable_host_is_an_error_not_a_crash(settings):
    async with PoliteClient(settings, transport=None) as client:
        with pytest.raises(ConnectionFailed, match="cannot connect"):
            await client.get("https://unreachable.invalid/")


async def test_robots_crawl_delay_slows_a_host_down(settings, web: FakeWeb):
    web.add("https://slow.test/robots.txt", "User-agent: *\nCrawl-delay: 0.3\n", content_type="text/plain")
    times = []

    def page(request):
        times.append(time.monotonic())
        return httpx.Response(200, content=b"ok", headers={"content-type": "text/plain"})

    web.pages["https://slow.test/a"] = page
    web.pages["https://slow.test/b"] = page
    async with PoliteClient(settings, transport=web.transport) as client:
        await client.get("https://slow.test/a")
        await client.get("https://slow.test/b")
    assert times[1] - times[0] >= 0.29


def test_cache_ignores_torn_or_foreign_entries(tmp_path):
    from scrapers.cache import HttpCache

    cache = HttpCache(tmp_path)
    cache.put("https://a.test/", "https://a.test/", 200, {"etag": '"1"', "content-type": "text/html"}, b"body")
    assert cache.get("https://a.test/").body == b"body"
    cache.put("https://b.test/", "https://b.test/", 200, {"content-type": "text/html"}, b"no validators")
    assert cache.get("https://b.test/") is None  # nothing to revalidate with: not stored
    body_file = next(tmp_path.rglob("*.body"))
    body_file.write_bytes(b"bod")  # torn write
    assert cache.get("https://a.test/") is None
