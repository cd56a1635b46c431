"""Issue 11's web acceptance, as an attacker on the network would try it: `recruiter ui --host 0.0.0.0` with a
password, started as a subprocess on a free port, probed with plain HTTP clients, raw sockets and headless
Chromium (the Debian package; these tests skip and say why when it cannot be installed)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from servers import UiServer, free_port, websocket_status

from scrapers.loopback import LoopbackServer, send

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RECRUITER = str(Path(sys.executable).with_name("recruiter"))
PARTNER = "https://yogawithanna.example.com/blog"
COMMUNITIES = f"""url,name,kind,description
{PARTNER},Yoga with Anna,blog,Gentle yoga for beginners with back pain
https://www.reddit.com/r/yoga/,r/yoga,subreddit,The big yoga community
"""
UPLOAD_URL = re.compile(r"/_nicegui/client/[0-9a-f-]+/upload/\d+")


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """A user's shell: none of pytest's markers (NiceGUI reads them as "under test"), no loopback allowance."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("RECRUITER_DB", "RECRUITER_PASSWORD", "PYTEST_CURRENT_TEST", "RECRUITER_ALLOW_PRIVATE",
                        "RECRUITER_TRUST_GIVEN_URLS") and not k.startswith("NICEGUI_")}
    return dict(env, RECRUITER_HOME=str(home), HF_HUB_OFFLINE="1", RECRUITER_MODEL="hashing", **extra)


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([RECRUITER, *args], env=user_env(home), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr + result.stdout
    return result


class Server(UiServer):
    """`recruiter ui --host 0.0.0.0` with a password, reached on 127.0.0.1."""

    def __init__(self, home: Path, password: str, port: int | None = None) -> None:
        port = port or free_port()
        env = user_env(home, RECRUITER_PASSWORD=password, RECRUITER_UI_WARMUP="0", RECRUITER_UPLOAD_MAX_MB="1")
        super().__init__(RECRUITER, env=env, log_path=home.parent / f"ui-{port}-{time.monotonic_ns()}.log",
                         host="0.0.0.0", port=port, ready=lambda status: status == 200)
        self.home = home


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A new user's data dir: two communities, one of them a joined partner with a referral code."""
    home = tmp_path / "home"
    communities = tmp_path / "communities.csv"
    communities.write_text(COMMUNITIES)
    cli(home, "import", str(communities))
    cli(home, "prospect", "set-stage", PARTNER, "joined")
    cli(home, "profile", "add", "--name", "yoga", "--description", "Beginners doing yoga at home")
    return home


def log_in(client: httpx.Client, password: str, target: str = "/") -> httpx.Response:
    form = client.get("/login", params={"redirect_to": target})
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    shown_target = re.search(r'name="redirect_to" value="([^"]*)"', form.text).group(1)
    return client.post("/login", data={"password": password, "csrf": csrf, "redirect_to": shown_target})


def performance_rows(home: Path) -> int:
    with sqlite3.connect(home / "recruiter.db") as conn:
        return conn.execute("SELECT COUNT(*) FROM performance_day").fetchone()[0]


def test_upload_websocket_lockout_redirects_and_password_change(home: Path, chromium: str) -> None:
    code = json.loads(cli(home, "link", PARTNER, "--destination", "https://shop.example.com",
                          "--format", "json").stdout)["ref_code"]
    day = (date.today() - timedelta(days=1)).isoformat()
    csv = f"date,partner,clicks,conversions,revenue\n{day},{code},400,20,1000\n".encode()
    server = Server(home, "first password")
    try:
        # The session cookie is HttpOnly and SameSite=Lax.
        cookie_header = httpx.get(server.base + "/login").headers["set-cookie"].lower()
        assert "httponly" in cookie_header and "samesite=lax" in cookie_header

        with httpx.Client(base_url=server.base) as owner:
            assert log_in(owner, "first password").status_code == 303
            page = owner.get("/partners")
            assert page.status_code == 200
            upload = UPLOAD_URL.search(page.text).group(0)

            # A cookie-less POST to the upload URL read from the page: refused, nothing written.
            before = performance_rows(home)
            refused = httpx.post(server.base + upload, files={"file": ("perf.csv", csv, "text/csv")})
            assert refused.status_code == 401 and "upload" not in refused.text
            too_big = owner.post(upload, files={"file": ("perf.csv", b"x" * (2 * 1024 * 1024), "text/csv")})
            assert too_big.status_code == 413  # RECRUITER_UPLOAD_MAX_MB=1, enforced by the server
            time.sleep(1)
            assert performance_rows(home) == before
            with sqlite3.connect(home / "recruiter.db") as conn:
                assert conn.execute("SELECT stage FROM prospect").fetchone()[0] == "joined"
            # The same upload with the owner's session goes through (the URL was live all along).
            accepted = owner.post(upload, files={"file": ("perf.csv", csv, "text/csv")})
            assert accepted.status_code == 200 and accepted.json() == {"upload": "success"}
            deadline = time.monotonic() + 20
            while performance_rows(home) == before and time.monotonic() < deadline:
                time.sleep(0.2)
            assert performance_rows(home) > before

            # The socket.io websocket handshake: refused without the session, accepted with it.
            session_cookie = "; ".join(f"{name}={value}" for name, value in owner.cookies.items())
            assert " 403 " in websocket_status(server.port, None) + " "
            assert " 101 " in websocket_status(server.port, session_cookie) + " "

        # redirect_to only ever leads to a path on this site.
        for hostile in ("/\\evil.example/x", "//evil.example", "https://evil.example", "/%5cevil.example"):
            with httpx.Client(base_url=server.base) as visitor:
                done = log_in(visitor, "first password", hostile)
                assert done.status_code == 303
                landed = urljoin(server.base + "/login", done.headers["location"])
                assert urlsplit(landed).netloc == f"127.0.0.1:{server.port}", (hostile, landed)
        landed = log_in_with_chromium(chromium, server.base, "first password", "/\\evil.example/x")
        assert urlsplit(landed).netloc == f"127.0.0.1:{server.port}", landed

        # Typed into the web app served beyond loopback, a URL is as untrusted as a link found on the web.
        check_typed_urls_are_not_trusted(chromium, server, "first password")

        # 6 wrong passwords, then the right one: refused, for everyone, logged and audited with the address.
        with httpx.Client(base_url=server.base) as guesser:
            statuses = [log_in(guesser, f"guess {n}").status_code for n in range(6)]
            assert statuses[:4] == [401] * 4 and statuses[4:] == [429, 429]
            right = log_in(guesser, "first password")
            assert right.status_code == 429 and "locked" in right.text
        with httpx.Client(base_url=server.base) as someone_else:
            assert log_in(someone_else, "first password").status_code == 429
        assert "refused: locked for" in server.text_of_log() and "first password" not in server.text_of_log()
        failed = [e for e in json.loads(cli(home, "audit", "--format", "json").stdout) if e["action"] == "login.failed"]
        assert len(failed) == 5 and {(e["user"], e["ip"]) for e in failed} == {("shared password", "127.0.0.1")}

        # Session files, secret and database are the user's alone.
        storage = home / "nicegui"
        assert stat.S_IMODE(storage.stat().st_mode) == 0o700
        assert list(storage.glob("storage-user-*.json"))
        for file in [*storage.glob("storage-*.json"), home / "storage_secret", home / "recruiter.db"]:
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
        old_cookies = dict(owner.cookies)
    finally:
        server.stop()

    # Restarted with another password: the sessions of the old one show the login page.
    restarted = Server(home, "second password", port=server.port)
    try:
        with httpx.Client(base_url=restarted.base, cookies=old_cookies) as owner:
            asked = owner.get("/partners")
            assert asked.status_code == 303 and asked.headers["location"].startswith("/login")
            form = owner.get(asked.headers["location"])
            assert form.status_code == 200 and "Enter the password" in form.text
            assert owner.post(upload_url_or_none(owner) or "/_nicegui/client/x/upload/1").status_code == 401
        # The lockout is kept in the database: it outlives the process (RECRUITER_LOGIN_LOCK_S, 900 s by default).
        with httpx.Client(base_url=restarted.base) as someone:
            still = log_in(someone, "second password")
            assert still.status_code == 429 and "locked" in still.text
    finally:
        restarted.stop()


def upload_url_or_none(client: httpx.Client) -> str | None:
    match = UPLOAD_URL.search(client.get("/partners").text)
    return match.group(0) if match else None


@contextmanager
def login_page(chromium: str, base: str, password: str, target: str) -> Iterator:
    """A real browser on the login page a crafted link opens, the password typed in (not yet sent)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package drives the browser")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(f"{base}/login?redirect_to={target}")
            page.get_by_label("Password").fill(password)
            yield page
        finally:
            browser.close()


def log_in_with_chromium(chromium: str, base: str, password: str, target: str) -> str:
    """Follow a crafted login link in a real browser, type the password: the URL the browser ends on."""
    with login_page(chromium, base, password, target) as page:
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        return page.url


def check_typed_urls_are_not_trusted(chromium: str, server: Server, password: str) -> None:
    pytest.importorskip("playwright.sync_api", reason="the playwright package drives the browser")
    internal = LoopbackServer({"/": lambda r: send(r, 200, "<html><title>internal</title></html>")}).start()
    try:
        with login_page(chromium, server.base, password, "/discover") as page:
            page.get_by_role("button", name="Log in").click()
            page.wait_for_selector("text=Scrape URLs", timeout=30000)
            page.get_by_label("URLs").fill(internal.url("/"))
            page.get_by_role("button", name="Start scraping").click()
            deadline = time.monotonic() + 30
            result = None
            while time.monotonic() < deadline and result is None:
                with sqlite3.connect(server.home / "recruiter.db") as conn:
                    row = conn.execute("SELECT id, failed FROM job WHERE kind = 'scrape' "
                                       "AND state IN ('done', 'partial', 'failed')").fetchone()
                    errors = [e for (e,) in conn.execute("SELECT error FROM job_item WHERE job_id = ? "
                                                         "AND state = 'failed'", (row[0],))] if row else []
                result = {"failed": row[1], "errors": errors} if row else None
                time.sleep(0.3)
    finally:
        internal.stop()
    assert result is not None, "the scrape job did not finish"
    assert result["failed"] == 1 and "private" in result["errors"][0], result
    assert internal.requests == []
