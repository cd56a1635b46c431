"""The crawler's address policy (SSRF): derived URLs must reach public addresses only, checked on the address
actually connected to. Loopback servers stand in for "internal" hosts: 127.0.0.1 is allowed by
RECRUITER_ALLOW_PRIVATE, 127.0.0.2 plays the internal server that must never see a request."""

from __future__ import annotations

import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from recruiter.accounts.roles import Actor
from recruiter.core.errors import InvalidValue
from recruiter.core.netpolicy import AddressPolicy, parse_ip, private_reason
from scrapers.http import PoliteClient, PrivateAddress
from scrapers.loopback import LoopbackServer, send
from scrapers.netguard import GuardedBackend, GuardedTransport

runner = CliRunner()


@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback"), ("127.9.9.9", "loopback"), ("10.1.2.3", "private network"),
    ("172.16.0.1", "private network"), ("192.168.1.1", "private network"), ("169.254.169.254", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"), ("0.0.0.0", "unspecified"), ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"), ("240.0.0.1", "private network"), ("255.255.255.255", "private network"),
    ("198.18.0.1", "private network"), ("::1", "loopback"), ("::", "unspecified"), ("fe80::1", "link-local"),
    ("fc00::1", "private network"), ("fd12:3456::1", "private network"), ("ff02::1", "multicast"),
    ("fec0::1", "site-local"), ("::ffff:127.0.0.1", "loopback, embedded in an IPv6 address"),
    ("::ffff:169.254.169.254", "link-local, embedded in an IPv6 address"),
    ("2002:7f00:1::1", "loopback, embedded in an IPv6 address"),  # 6to4 of 127.0.0.1
    ("2002:a00:1::1", "private network, embedded in an IPv6 address"),  # 6to4 of 10.0.0.1
    ("64:ff9b::7f00:1", "loopback, embedded in an IPv6 address"),  # NAT64 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "link-local, embedded in an IPv6 address"),  # NAT64 of 169.254.169.254
    ("64:ff9b:1::1", "local NAT64"), ("2001:db8::1", "private network"),
])
def test_private_addresses_are_named_with_a_reason(address: str, reason: str) -> None:
    assert private_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8",
                                     "64:ff9b::808:808", "2002:808:808::1"])
def test_public_addresses_pass(address: str) -> None:
    assert private_reason(ipaddress.ip_address(address)) is None


def test_literal_hosts_parse_with_brackets_and_zones() -> None:
    assert parse_ip("[::1]") == ipaddress.ip_address("::1")
    assert private_reason(parse_ip("fe80::1%eth0")) == "link-local"
    assert parse_ip("example.com") is None and parse_ip("2130706433") is None


def test_allow_private_names_hosts_addresses_networks_or_everything() -> None:
    policy = AddressPolicy.from_env(" 127.0.0.1 , Intranet.Example. ,10.0.0.0/8,fd00::/8,")
    loopback, ten, other = (ipaddress.ip_address(a) for a in ("127.0.0.1", "10.9.8.7", "192.168.0.1"))
    assert policy.refusal("127.0.0.1", loopback) is None
    assert policy.refusal("intranet.example", other) is None  # a named host may have any address
    assert policy.refusal("db.internal", ten) is None  # inside a named network
    assert policy.refusal("x", ipaddress.ip_address("fd00::5")) is None
    assert policy.refusal("x", ipaddress.ip_address("::ffff:10.1.1.1")) is None  # mapped form of an allowed one
    refused = policy.refusal("router.internal", other)
    assert refused and "private" in refused and "router.internal" in refused and "192.168.0.1" in refused
    assert AddressPolicy.from_env("*").refusal("anything", other) is None
    assert AddressPolicy.from_env("").refusal("a", ipaddress.ip_address("8.8.8.8")) is None
    with pytest.raises(InvalidValue, match="RECRUITER_ALLOW_PRIVATE"):
        AddressPolicy.from_env("10.0.0.0/33,not a host!")


# -- over real sockets -------------------------------------------------------------------------------------


@pytest.fixture
def internal():
    """Server B on 127.0.0.2: every request it receives is a failure of the policy."""
    server = LoopbackServer({"/": lambda r: send(r, 200, "<html><head><title>secret</title></head></html>")},
                            host="127.0.0.2")
    try:
        server.start()
    except OSError as exc:
        pytest.skip(f"cannot listen on 127.0.0.2 ({exc})")
    yield server
    server.stop()


def fast_settings(settings):
    return settings.with_(obey_robots=False, max_retries=0)


async def test_redirect_to_a_private_address_is_refused_before_any_request(settings, loopback, internal,
                                                                           monkeypatch) -> None:
    monkeypatch.setenv("RECRUITER_ALLOW_PRIVATE", "127.0.0.1")
    public = loopback({"/go": lambda r: send(r, 302, "", headers={"Location": internal.url("/admin")})})
    async with PoliteClient(fast_settings(settings)) as client:
        with pytest.raises(PrivateAddress) as refused:
            await client.get(public.url("/go"))
        trusted = PoliteClient(fast_settings(settings))
        trusted.trust(public.url("/"))  # a URL the user typed: its origin is trusted, the redirect target is not
        with pytest.raises(PrivateAddress):
            await trusted.get(public.url("/go"))
        await trusted.aclose()
    message = str(refused.value)
    assert "private" in message and "127.0.0.2" in message and "redirected there from" in message
    assert internal.requests == []


async def test_a_host_name_is_checked_on_the_address_it_resolves_to(settings, loopback, monkeypatch) -> None:
    server = loopback({"/": lambda r: send(r, 200, "<html><title>hi</title></html>")})
    monkeypatch.setenv("RECRUITER_ALLOW_PRIVATE", "")
    async with PoliteClient(fast_settings(settings)) as client:
        with pytest.raises(PrivateAddress, match=r"localhost resolves to 127\.0\.0\.1, a private address"):
            await client.get(f"http://localhost:{server.port}/")
        with pytest.raises(PrivateAddress, match="private"):  # literal addresses are refused before any I/O
            await client.get(f"http://[::1]:{server.port}/")
    assert server.requests == []
    monkeypatch.setenv("RECRUITER_ALLOW_PRIVATE", "localhost")
    async with PoliteClient(fast_settings(settings)) as client:
        response = await client.get(f"http://localhost:{server.port}/")
    assert response.status == 200 and server.requests == ["/"]


async def test_robots_txt_of_a_refused_origin_is_not_fetched(settings, internal, monkeypatch) -> None:
    monkeypatch.setenv("RECRUITER_ALLOW_PRIVATE", "127.0.0.1")
    async with PoliteClient(settings) as client:  # robots.txt obeyed: it would be the first request
        with pytest.raises(PrivateAddress, match=r"127\.0\.0\.2"):
            await client.get(internal.url("/feed.xml"))
    assert internal.requests == []


def fake_dns(monkeypatch, answers: list[str]) -> list[str]:
    """`rebind.test` answers with the next address of `answers` on each lookup (the last one repeats)."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def resolve(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name == "rebind.test":
            address = answers[min(len(asked), len(answers) - 1)]
            asked.append(address)
            return real(address, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return asked


async def test_dns_rebinding_connects_to_the_checked_address(settings, internal, monkeypatch) -> None:
    """The name resolves to an allowed address, then to an internal one: the connection goes to the first."""
    allowed = LoopbackServer({"/": lambda r: send(r, 200, "<html><title>allowed</title></html>")},
                             port=internal.port).start()
    try:
        monkeypatch.setenv("RECRUITER_ALLOW_PRIVATE", "127.0.0.1")
        asked = fake_dns(monkeypatch, ["127.0.0.1", "127.0.0.2"])
        async with PoliteClient(fast_settings(settings.with_(use_cache=False))) as client:
            response = await client.get(f"http://rebind.test:{internal.port}/")
            assert "allowed" in response.text
        assert asked == ["127.0.0.1"]  # resolved once; the checked address is the one connected to
        assert allowed.requests == ["/"] and internal.requests == []

        asked = fake_dns(monkeypatch, ["127.0.0.2", "127.0.0.1"])
        async with PoliteClient(fast_settings(settings.with_(use_cache=False))) as client:
            with pytest.raises(PrivateAddress, match=r"rebind\.test resolves to 127\.0\.0\.2"):
                await client.get(f"http://rebind.test:{internal.port}/")
        assert internal.requests == []
    finally:
        allowed.stop()


def make_certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (needed to make a test certificate)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=rebind.test", "-addext", "subjectAltName=DNS:rebind.test"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


async def test_tls_keeps_the_host_name_for_sni_and_certificate_checks(tmp_path, monkeypatch) -> None:
    cert, key = make_certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    seen: dict[str, str | None] = {}

    def remember_sni(_sock, name, _context):
        seen["sni"] = name

    server_context.sni_callback = remember_sni
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_once() -> None:
        conn, _ = listener.accept()
        with server_context.wrap_socket(conn, server_side=True) as tls:
            request = tls.recv(65536).decode("latin-1")
            seen["host"] = next(line.split(":", 1)[1].strip() for line in request.split("\r\n")
                                if line.lower().startswith("host:"))
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    fake_dns(monkeypatch, ["127.0.0.1"])
    client_context = ssl.create_default_context(cafile=str(cert))
    backend = GuardedBackend(AddressPolicy.from_env("127.0.0.1"))
    transport = GuardedTransport(backend, limits=httpx.Limits(), verify=client_context)
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get(f"https://rebind.test:{port}/")
    thread.join(timeout=10)
    listener.close()
    assert response.text == "ok"
    assert seen == {"sni": "rebind.test", "host": f"rebind.test:{port}"}


# -- the acceptance check, through the CLI -----------------------------------------------------------------


def test_scrape_and_discover_never_reach_an_internal_host(loopback, internal, db_url, monkeypatch) -> None:
    """A page links (anchor and feed) to B, a redirect points at B, web search finds A and B: B sees nothing."""
    from recruiter.cli import app

    b = internal.origin
    a = loopback()
    page = (f"<html><head><title>Sourdough Bakers Club</title>"
            f"<meta name='description' content='A club for home bakers who bake sourdough bread.'>"
            f"<link rel='alternate' type='application/rss+xml' href='{b}/feed.xml'></head><body>"
            f"<p>Home bakers sharing sourdough bread recipes every week, with starters and crumb shots.</p>"
            f"<a href='{b}/admin'>admin</a> <a href='{b}/latest/meta-data/'>metadata</a></body></html>")
    a.routes.update({
        "/": lambda r: send(r, 200, page),
        "/redirect": lambda r: send(r, 302, "", headers={"Location": f"{b}/admin"}),
        "/search": lambda r: send(r, 200, f"<html><body><a class='result__a' href='{a.origin}/'>A</a>"
                                          f"<a class='result__a' href='{b}/'>B</a></body></html>"),
    })
    monkeypatch.setenv("RECRUITER_ALLOW_PRIVATE", "127.0.0.1,localhost")
    monkeypatch.setenv("RECRUITER_WEB_SEARCH_BASE", f"http://localhost:{a.port}/search")
    monkeypatch.setenv("RECRUITER_MODEL", "hashing")

    scraped = runner.invoke(app, ["--db", db_url, "scrape", a.url("/"), a.url("/redirect"), "--delay", "0",
                                  "--format", "json"])
    records = json.loads(scraped.stdout)
    assert scraped.exit_code == 1  # one URL failed
    assert records[0]["ok"] and records[0]["name"] == "Sourdough Bakers Club"
    assert records[0]["feed_url"] == f"{b}/feed.xml"  # named on the page, never fetched
    assert not records[1]["ok"] and "private" in records[1]["error"] and "127.0.0.2" in records[1]["error"]

    added = runner.invoke(app, ["--db", db_url, "profile", "add", "--name", "bakers", "--description",
                                "Home bakers who bake sourdough bread", "--keyword", "sourdough"])
    assert added.exit_code == 0, added.output
    found = runner.invoke(app, ["--db", db_url, "discover", "bakers", "--source", "web", "--delay", "0",
                                "--format", "json"])
    assert found.exit_code == 0, found.output
    result = json.loads(found.stdout)
    assert result["saved"] >= 1 and result["failed"] >= 1

    assert internal.requests == []
    from sqlmodel import select

    from recruiter.core.db import open_session
    from recruiter.core.models import Community

    with open_session(db_url) as session:
        urls = [c.url for c in session.exec(select(Community)).all()]
    assert any(url.startswith(a.origin) for url in urls), urls
    assert not [url for url in urls if "127.0.0.2" in url], urls


async def test_typed_urls_are_untrusted_when_the_web_app_serves_others(settings, loopback, monkeypatch) -> None:
    """`recruiter ui` beyond loopback sets RECRUITER_TRUST_GIVEN_URLS=0: a typed URL is then checked too."""
    from scrapers.scrape import scrape_urls

    server = loopback({"/": lambda r: send(r, 200, "<html><title>intranet</title></html>")})
    monkeypatch.setenv("RECRUITER_ALLOW_PRIVATE", "")
    from scrapers.config import ScrapeSettings

    monkeypatch.setenv("RECRUITER_TRUST_GIVEN_URLS", "0")
    assert not ScrapeSettings().trust_given_urls
    untrusting = fast_settings(settings.with_(trust_given_urls=ScrapeSettings().trust_given_urls))
    [record] = await scrape_urls([server.url("/")], settings=untrusting)
    assert not record["ok"] and "private" in record["error"] and server.requests == []
    monkeypatch.delenv("RECRUITER_TRUST_GIVEN_URLS")
    assert ScrapeSettings().trust_given_urls  # on the command line, what the user typed is trusted
    [record] = await scrape_urls([server.url("/")], settings=fast_settings(settings))
    assert record["ok"] and server.requests == ["/"]


async def test_trust_is_for_the_typed_origin_in_the_form_connections_use(settings) -> None:
    client = PoliteClient(settings)
    client.trust("http://Bücher.Example:8080/shop")
    assert client.is_trusted("http://xn--bcher-kva.example:8080/other")
    assert ("xn--bcher-kva.example", 8080) in client._trusted
    assert not client.is_trusted("http://xn--bcher-kva.example:8081/")
    await client.aclose()


async def test_typed_urls_keep_their_trust_through_the_queue(settings, loopback, session, db_url, monkeypatch) -> None:
    """`scrape --save --queue --file urls.txt` used to refuse on the workers the loopback URLs `scrape --save`
    accepts here: a typed URL now carries the trust it had where the job was made, and only that one."""
    from sqlmodel import select

    from recruiter.core.jobs import job_view
    from recruiter.core.models import Community
    from recruiter.tasks.submit import submit_scrape
    from recruiter.tasks.work import run_job_inline

    monkeypatch.setenv("RECRUITER_DB", db_url)
    monkeypatch.setenv("RECRUITER_ALLOW_PRIVATE", "")
    server = loopback({"/": lambda r: send(r, 200, "<html><head><title>Team wiki</title></head><body>"
                                                "<a href='http://127.0.0.1:9/admin'>x</a></body></html>")})
    typed = submit_scrape([server.url("/")], actor=Actor.cli(), session=session, delay=0)
    assert typed.params["trust_given"] is True
    await run_job_inline(typed.id, settings=fast_settings(settings))
    assert job_view(typed.id, session=session).state == "done"
    assert [c.url for c in session.exec(select(Community)).all()] == [server.url("/").rstrip("/")]

    monkeypatch.setenv("RECRUITER_TRUST_GIVEN_URLS", "0")  # the web app served to others: typed is untrusted
    untrusted = submit_scrape([server.url("/other")], actor=Actor.cli(), session=session, delay=0)
    await run_job_inline(untrusted.id, settings=fast_settings(settings))
    view = job_view(untrusted.id, session=session)
    assert view.state == "failed" and "private" in view.failures[0].error
    assert server.requests == ["/"]
