"""Team accounts in the web app (issue 22): the login by email, server-side sessions, the lockout kept in the
database, invitations, the Audit page and the header; then the issue's acceptance against `recruiter ui` run as a
user runs it (set up with the CLI, probed with httpx and headless Chromium)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from account_helpers import PASSWORDS, TEAM, add_team, form_fields, log_in, log_in_async
from nicegui import core
from nicegui.testing import User
from servers import UiServer, free_port, websocket_status
from sqlmodel import select

from recruiter.accounts.audit import entries
from recruiter.accounts.roles import Actor
from recruiter.accounts.users import invite, set_disabled, set_role
from recruiter.core.db import open_session
from recruiter.core.models import LoginLock, UserSession, utcnow

RECRUITER = str(Path(sys.executable).with_name("recruiter"))
CLI = Actor.cli()


def anonymous() -> httpx.AsyncClient:
    """A client of the in-process app with no cookies (`user.http_client` is another browser)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(core.app, raise_app_exceptions=False),
                             base_url="http://test")


def cookie_session(client: httpx.AsyncClient | httpx.Client) -> dict:
    """What the signed session cookie carries (its payload is base64 JSON; the signature is checked by the app)."""
    value = client.cookies.get("session")
    payload = value.split(".")[0]
    return json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))


def audit_actions(user: str | None = None) -> list[dict]:
    with open_session() as session:
        return [e.as_dict() for e in entries(session=session, user=user)]


def make_invite(email: str, role: str, seconds: float) -> str:
    with open_session() as session:
        return invite(email, role, expires=timedelta(seconds=seconds), actor=CLI, session=session).token


# --- in-process, through NiceGUI's test client ----------------------------------------------------------------

async def test_logging_in_with_an_email_and_a_password(user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    add_team()
    monkeypatch.setenv("RECRUITER_PASSWORD", "s3cret")  # set before accounts: no longer a key
    client = user.http_client
    asked = await client.get("/prospects?kind=blog")
    assert asked.status_code == 303 and asked.headers["location"].startswith("/login?redirect_to=")
    form = await client.get(asked.headers["location"])
    assert 'name="email"' in form.text and 'name="password"' in form.text and "RECRUITER_PASSWORD" not in form.text
    assert form.headers["content-security-policy"].startswith("default-src 'none'")
    assert form_fields(form.text)["redirect_to"] == "/prospects?kind=blog"

    wrong = await log_in_async(client, "m@example.com", "not the password 42", "/prospects?kind=blog")
    assert wrong.status_code == 401 and "Wrong email or password." in wrong.text
    assert "not the password 42" not in wrong.text and 'value="m@example.com"' in wrong.text
    unknown = await log_in_async(client, "nobody@example.com", PASSWORDS["m@example.com"])
    assert unknown.status_code == 401 and "Wrong email or password." in unknown.text
    shared = await log_in_async(client, "m@example.com", "s3cret")
    assert shared.status_code == 401

    right = await log_in_async(client, "M@Example.com", target="/prospects?kind=blog")
    assert right.status_code == 303 and right.headers["location"] == "/prospects?kind=blog"
    token = cookie_session(client)["sid"]
    with open_session() as session:
        rows = session.exec(select(UserSession)).all()
    assert [row.id for row in rows] == [hashlib.sha256(token.encode()).hexdigest()]  # only its digest is stored
    assert (await client.get("/login")).headers["location"] == "/"  # logged in: the form is skipped

    await user.open("/")
    await user.should_see(marker="signed-in-email", content="m@example.com")
    await user.should_see(marker="signed-in-role", content="member")
    await user.should_not_see(marker="nav-audit")  # a member does not read the audit log
    failed = [e for e in audit_actions("m@example.com") if e["action"] == "login.failed"]
    assert len(failed) == 2 and {e["ip"] for e in failed} == {"127.0.0.1"}
    assert any(e["action"] == "login.success" and e["ip"] == "127.0.0.1" for e in audit_actions("m@example.com"))
    assert all("not the password 42" not in json.dumps(e) for e in audit_actions())

    # Someone else logs in at the same browser: the member's session ends with it.
    other = await client.post("/login", data={"csrf": cookie_session(client)["login_csrf"], "redirect_to": "/",
                                              "email": "o@example.com", "password": PASSWORDS["o@example.com"]})
    assert other.status_code == 303
    with open_session() as session:
        assert len(session.exec(select(UserSession)).all()) == 1


async def test_log_out_ends_the_session_on_the_server(user: User) -> None:
    from ui.access import log_out

    add_team()
    client = user.http_client
    assert (await log_in_async(client, "o@example.com")).status_code == 303
    page = await user.open("/")
    await user.should_see(marker="signed-in-role", content="owner")
    log_out(page.request)  # what the header's log-out button does before showing the login
    assert (await client.get("/")).status_code == 303
    again = await client.get("/login")
    assert again.status_code == 200 and "sid" not in cookie_session(client)  # the cookie forgets the token
    with open_session() as session:
        assert session.exec(select(UserSession)).all() == []
    assert audit_actions("o@example.com")[0]["action"] == "logout"


async def test_a_disabled_user_or_an_idle_session_goes_to_the_login(user: User) -> None:
    add_team()
    async with anonymous() as member, anonymous() as viewer:
        assert (await log_in_async(member, "m@example.com")).status_code == 303
        assert (await log_in_async(viewer, "v@example.com")).status_code == 303
        assert (await member.get("/prospects")).status_code == 200
        with open_session() as session:
            set_disabled("m@example.com", True, actor=CLI, session=session)
        refused = await member.get("/prospects")
        assert refused.status_code == 303 and refused.headers["location"].startswith("/login")
        assert (await log_in_async(member, "m@example.com")).status_code == 401  # and cannot log in again

        assert (await viewer.get("/prospects")).status_code == 200
        with open_session() as session:  # nine hours without a request: over (RECRUITER_SESSION_IDLE_S, 8 h)
            for row in session.exec(select(UserSession)).all():
                row.last_seen_at = utcnow() - timedelta(hours=9)
                session.add(row)
            session.commit()
        assert (await viewer.get("/prospects")).status_code == 303


async def test_a_new_role_shows_at_the_next_page_load(user: User) -> None:
    add_team()
    assert (await log_in_async(user.http_client, "v@example.com")).status_code == 303
    await user.open("/")
    await user.should_see(marker="signed-in-role", content="viewer")
    await user.should_not_see(marker="nav-audit")
    with open_session() as session:
        set_role("v@example.com", "admin", actor=CLI, session=session)
    await user.open("/")
    await user.should_see(marker="signed-in-role", content="admin")
    await user.should_see(marker="nav-audit")


async def test_the_lockout_is_kept_in_the_database(user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    add_team()
    monkeypatch.setenv("RECRUITER_LOGIN_LOCK_S", "2")
    async with anonymous() as guesser:
        statuses = [(await log_in_async(guesser, "m@example.com", f"guess {n}")).status_code for n in range(5)]
        assert statuses == [401, 401, 401, 401, 429]
        right = await log_in_async(guesser, "m@example.com")
        assert right.status_code == 429 and "locked for" in right.text
    async with anonymous() as colleague:  # the same address: locked too (5 failures per address)
        assert (await log_in_async(colleague, "o@example.com")).status_code == 429
    with open_session() as session:
        assert {lock.key for lock in session.exec(select(LoginLock)).all()} == {"account:m@example.com", "ip:127.0.0.1"}
    time.sleep(2.2)
    async with anonymous() as later:
        assert (await log_in_async(later, "m@example.com")).status_code == 303
    refused = [e for e in audit_actions("m@example.com") if e["action"] in ("login.failed", "login.refused")]
    assert len(refused) == 6 and all(e["ip"] == "127.0.0.1" for e in refused)


async def test_the_shared_password_lockout_is_kept_in_the_database(user: User, monkeypatch) -> None:
    monkeypatch.setenv("RECRUITER_PASSWORD", "s3cret")
    async with anonymous() as guesser:
        for n in range(5):
            form = await guesser.get("/login")
            last = await guesser.post("/login", data={**form_fields(form.text), "password": f"guess {n}"})
        assert last.status_code == 429
        form = await guesser.get("/login")
        assert "locked for" in form.text  # the form says so before anyone types
    with open_session() as session:
        assert session.get(LoginLock, "account:(shared password)") is not None
    assert [e["action"] for e in audit_actions("shared password")][:5] == ["login.failed"] * 5


async def test_an_invitation_sets_a_password_once(user: User) -> None:
    add_team()
    token = make_invite("x@example.com", "viewer", 90)
    async with anonymous() as invited:
        page = await invited.get("/invite", params={"token": token})
        assert page.status_code == 200 and "x@example.com" in page.text and "viewer" in page.text
        assert page.headers["referrer-policy"] == "same-origin" and "<script" not in page.text
        fields = dict(form_fields(page.text), token=token)
        differ = await invited.post("/invite", data={**fields, "password": "a long password", "password2": "another"})
        assert differ.status_code == 400 and "differ" in differ.text
        short = await invited.post("/invite", data={**fields, "password": "short", "password2": "short"})
        assert short.status_code == 400 and "at least 8 characters" in short.text
        forged = await invited.post("/invite", data={**fields, "password": "x password 7", "password2": "x password 7"},
                                    headers={"Origin": "https://evil.example"})
        assert forged.status_code == 400 and "expired" in forged.text
        done = await invited.post("/invite", data={**fields, "password": "x password 7", "password2": "x password 7"})
        assert done.status_code == 303 and done.headers["location"] == "/login?notice=invited"
        notice = await invited.get(done.headers["location"])
        assert "Your password is set" in notice.text
        assert (await log_in_async(invited, "x@example.com", "x password 7")).status_code == 303
        assert (await invited.get("/prospects")).status_code == 200

    async with anonymous() as again:
        used = await again.get("/invite", params={"token": token})
        assert used.status_code == 410 and "already used" in used.text and "<form" not in used.text
        form = await again.get("/login")
        reused = await again.post("/invite", data={**form_fields(form.text), "token": token,
                                                   "password": "other password", "password2": "other password"})
        assert reused.status_code == 410 and "already used" in reused.text
        bogus = await again.get("/invite", params={"token": "not-a-token"})
        assert bogus.status_code == 410 and "not valid" in bogus.text

        late = make_invite("y@example.com", "member", 1)
        time.sleep(1.2)
        expired = await again.get("/invite", params={"token": late})
        assert expired.status_code == 410 and "expired" in expired.text and "<form" not in expired.text
    assert [e["action"] for e in audit_actions("x@example.com")][-1] == "invite.accept"


async def test_the_audit_page_is_for_admins_and_owners(user: User) -> None:
    add_team()
    async with anonymous() as member:
        await log_in_async(member, "m@example.com", "wrong password 1")  # something to find
    client = user.http_client
    assert (await log_in_async(client, "o@example.com")).status_code == 303
    await user.open("/audit")
    await user.should_see(marker="nav-audit")
    table = user.find(marker="audit-table").elements.pop()
    rows = table.rows
    assert rows[0]["action"] == "login.success" and rows[0]["user"] == "o@example.com" and rows[0]["ip"] == "127.0.0.1"
    assert {"user.add", "login.failed"} <= {row["action"] for row in rows}
    assert [row["at"] for row in rows] == sorted((row["at"] for row in rows), reverse=True)

    await user.open("/audit?user=m@example.com")
    rows = user.find(marker="audit-table").elements.pop().rows
    assert {row["user"] for row in rows} == {"m@example.com"} and rows[0]["action"] == "login.failed"
    await user.open("/audit?since=2999-01-01")
    await user.should_see("No entries for these filters.")
    await user.open("/audit?since=yesterday")
    await user.should_see("is not a day")

    for email in ("v@example.com", "m@example.com"):
        client.cookies.clear()  # another person at another browser
        assert (await log_in_async(client, email)).status_code == 303
        await user.open("/audit")
        await user.should_see(marker="not-allowed")
        await user.should_see("cannot read the audit log")
        await user.should_not_see(marker="audit-table")
        await user.should_not_see(marker="nav-audit")


async def test_serving_beyond_loopback_needs_accounts_or_the_password(user: User, monkeypatch) -> None:
    from ui.main import serving_allowed, start

    monkeypatch.delenv("RECRUITER_PASSWORD", raising=False)
    assert not serving_allowed()
    with pytest.raises(SystemExit, match="recruiter user add"):
        start(host="0.0.0.0", port=free_port())
    add_team({"o@example.com": "owner"})
    assert serving_allowed()


async def test_when_the_database_cannot_say_who_is_logged_in_nobody_gets_in(user: User, monkeypatch,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    add_team()
    assert (await log_in_async(user.http_client, "o@example.com")).status_code == 303

    def broken(**_kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(sys.modules["ui.access"], "accounts_enabled", broken)
    refused = await user.http_client.get("/prospects")
    assert refused.status_code == 503 and "database gone" not in refused.text
    assert "cannot check the login" in caplog.text
    caplog.clear()  # logged as it should be; the user fixture would count the error


# --- `recruiter ui` as a user runs it: the acceptance -------------------------------------------------

def user_env(home: Path, **extra: str) -> dict[str, str]:
    """A user's shell: none of pytest's markers (NiceGUI reads them as "under test")."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("RECRUITER_DB", "RECRUITER_PASSWORD", "PYTEST_CURRENT_TEST", "RECRUITER_ALLOW_PRIVATE",
                        "RECRUITER_TRUST_GIVEN_URLS", "RECRUITER_LOGIN_LOCK_S", "RECRUITER_SESSION_IDLE_S")
           and not k.startswith("NICEGUI_")}
    return dict(env, RECRUITER_HOME=str(home), HF_HUB_OFFLINE="1", RECRUITER_MODEL="hashing",
                RECRUITER_UI_WARMUP="0", **extra)


def cli(home: Path, *args: str, stdin: str | None = None, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run([RECRUITER, *args], env=user_env(home, **env), input=stdin, capture_output=True,
                            text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr + result.stdout
    return result


class Server(UiServer):
    def __init__(self, home: Path, host: str = "127.0.0.1", port: int | None = None, **env: str) -> None:
        port = port or free_port()
        super().__init__(RECRUITER, env=user_env(home, **env), host=host, port=port,
                         log_path=home.parent / f"ui-{port}-{time.monotonic_ns()}.log")


@pytest.fixture(scope="module")
def team_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Set up as the issue says: o@ owner, m@ member, v@ viewer (passwords on stdin), then `recruiter seed`."""
    home = tmp_path_factory.mktemp("accounts") / "home"
    for email, role in TEAM.items():
        cli(home, "user", "add", email, "--role", role, "--password-stdin", stdin=PASSWORDS[email] + "\n")
    cli(home, "seed")
    return home


@pytest.fixture
def home(team_home: Path, tmp_path: Path) -> Path:
    """This test's own copy of the team's data dir."""
    copy = tmp_path / "team-home"
    shutil.copytree(team_home, copy, ignore=shutil.ignore_patterns("nicegui", "*.log"))
    return copy


def audit_json(home: Path, *args: str) -> list[dict]:
    return json.loads(cli(home, "audit", "--format", "json", *args).stdout)


@pytest.mark.slow
def test_the_lockout_holds_across_a_restart(home: Path) -> None:
    server = Server(home, RECRUITER_LOGIN_LOCK_S="20")
    try:
        with httpx.Client(base_url=server.base) as guesser:
            statuses = [log_in(guesser, "m@example.com", f"guess {n}").status_code for n in range(5)]
            locked_at = time.monotonic()
        assert statuses == [401, 401, 401, 401, 429]
    finally:
        server.stop()
    server = Server(home, port=server.port, RECRUITER_LOGIN_LOCK_S="20")
    try:
        with httpx.Client(base_url=server.base) as member:
            refused = log_in(member, "m@example.com")
            assert refused.status_code == 429 and "locked for" in refused.text
        failed = [e for e in audit_json(home, "--user", "m@example.com") if e["action"] == "login.failed"]
        assert len(failed) == 5 and {e["ip"] for e in failed} == {"127.0.0.1"} and all(e["at"] for e in failed)
        time.sleep(max(0.0, locked_at + 21 - time.monotonic()))
        with httpx.Client(base_url=server.base) as member:
            assert log_in(member, "m@example.com").status_code == 303
            assert member.get("/prospects").status_code == 200
    finally:
        server.stop()


@pytest.mark.slow
def test_accounts_serve_beyond_loopback_without_a_password(home: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    refused = cli(fresh, "ui", "--host", "0.0.0.0", "--port", str(free_port()), check=False)
    assert refused.returncode == 2 and "recruiter user add" in refused.stderr and "RECRUITER_PASSWORD" in refused.stderr

    server = Server(home, host="0.0.0.0")
    try:
        with httpx.Client(base_url=server.base) as visitor:
            asked = visitor.get("/prospects")
            assert asked.status_code == 303 and asked.headers["location"].startswith("/login")
            assert 'name="email"' in visitor.get(asked.headers["location"]).text
            assert " 403 " in websocket_status(server.port, None) + " "
            assert log_in(visitor, "v@example.com").status_code == 303
            cookie = "; ".join(f"{name}={value}" for name, value in visitor.cookies.items())
            assert " 101 " in websocket_status(server.port, cookie) + " "
        cli(home, "user", "disable", "v@example.com")
        assert " 403 " in websocket_status(server.port, cookie) + " "  # checked at the websocket's connection too
    finally:
        server.stop()


# --- in Chromium ------------------------------------------------------------------------------------------------

def browser_login(page, base: str, email: str, password: str | None = None, target: str = "/") -> None:
    page.goto(f"{base}{target}")
    assert "/login" in page.url
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORDS[email] if password is None else password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    page.wait_for_selector(f"text={email}", timeout=30000)  # the header names who is logged in


@pytest.fixture
def playwright_browser(chromium: str):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package drives the browser")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.browser
@pytest.mark.slow
def test_disabling_a_logged_in_member_and_logging_out(home: Path, playwright_browser) -> None:
    server = Server(home)
    try:
        member = playwright_browser.new_page(viewport={"width": 1400, "height": 900})
        browser_login(member, server.base, "m@example.com", target="/prospects")
        assert member.url.endswith("/prospects")
        assert member.get_by_text("member", exact=True).is_visible()
        assert member.locator("a[href='/audit']").count() == 0
        cli(home, "user", "disable", "m@example.com")
        member.reload()
        member.wait_for_url(re.compile(r"/login\?redirect_to="), timeout=30000)
        assert member.get_by_label("Email").is_visible()

        owner = playwright_browser.new_page(viewport={"width": 1400, "height": 900})
        browser_login(owner, server.base, "o@example.com")
        owner.locator("button", has_text="logout").click()
        owner.wait_for_url(re.compile(r"/login"), timeout=30000)
        owner.goto(server.base + "/prospects")
        assert "/login" in owner.url  # the session ended on the server
        assert audit_json(home, "--user", "o@example.com")[0]["action"] == "logout"
    finally:
        server.stop()


@pytest.mark.browser
@pytest.mark.slow
def test_an_invite_link_works_once_and_not_after_it_expires(home: Path, playwright_browser) -> None:
    server = Server(home)
    try:
        link = cli(home, "user", "invite", "x@example.com", "--role", "viewer", "--expires", "90s",
                   "--base-url", server.base).stdout.strip()
        token = link.split("token=", 1)[1]
        page = playwright_browser.new_page()
        page.goto(link)
        assert "x@example.com" in page.content() and "viewer" in page.content()
        page.get_by_label("Password", exact=True).fill("x password 7")
        page.get_by_label("Password again").fill("x password 7")
        with page.expect_navigation():
            page.get_by_role("button", name="Set my password").click()
        assert page.url.endswith("/login?notice=invited") and "Your password is set" in page.content()
        page.get_by_label("Email").fill("x@example.com")
        page.get_by_label("Password").fill("x password 7")
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()
        page.wait_for_selector("text=x@example.com", timeout=30000)

        second = playwright_browser.new_page()
        second.goto(link)
        assert "already used" in second.content() and second.locator("form").count() == 0

        late = cli(home, "user", "invite", "y@example.com", "--role", "member", "--expires", "1s",
                   "--base-url", server.base).stdout.strip()
        time.sleep(1.5)
        second.goto(late)
        assert "expired" in second.content() and second.locator("form").count() == 0
        assert token not in server.text_of_log()
    finally:
        server.stop()
    assert any(e["action"] == "invite.accept" for e in audit_json(home, "--user", "x@example.com"))


@pytest.mark.browser
@pytest.mark.slow
def test_the_audit_page_for_an_owner_and_not_for_a_viewer(home: Path, playwright_browser) -> None:
    server = Server(home)
    try:
        owner = playwright_browser.new_page(viewport={"width": 1400, "height": 900})
        browser_login(owner, server.base, "o@example.com")
        owner.locator("a[href='/audit']").click()
        owner.wait_for_selector("text=login.success", timeout=30000)
        first = owner.locator("tbody tr").first.inner_text()
        assert "o@example.com" in first and "login.success" in first and "127.0.0.1" in first
        assert owner.get_by_text("user.add").count() >= 3  # the CLI's setup, as cli:USER

        viewer = playwright_browser.new_page(viewport={"width": 1400, "height": 900})
        browser_login(viewer, server.base, "v@example.com")
        assert viewer.locator("a[href='/audit']").count() == 0
        viewer.goto(server.base + "/audit")
        viewer.wait_for_selector("text=Not allowed", timeout=30000)
        assert "login.success" not in viewer.content() and viewer.locator("tbody tr").count() == 0
    finally:
        server.stop()


@pytest.mark.browser
@pytest.mark.slow
def test_a_viewer_reads_and_a_member_moves_the_prospect_on(home: Path, playwright_browser) -> None:
    """The issue's browser check: with one sample community shortlisted, the viewer sees the prospect list and
    the board but no control to change the stage (and the stage stays); the member opens the same prospect and
    moves it on; the audit log holds that move with the member's email, the action, the URL, the time and the IP."""
    url = json.loads(cli(home, "export", "--format", "json").stdout)[0]["url"]
    cli(home, "prospect", "set-stage", url, "shortlisted")
    name = json.loads(cli(home, "prospect", "show", url, "--format", "json").stdout)["name"]
    server = Server(home)
    try:
        viewer = playwright_browser.new_page(viewport={"width": 1400, "height": 900})
        browser_login(viewer, server.base, "v@example.com", target="/prospects")
        viewer.get_by_text(name, exact=True).first.wait_for(timeout=30000)
        viewer.goto(server.base + "/pipeline")
        viewer.get_by_text(name, exact=True).first.wait_for(timeout=30000)
        viewer.goto(server.base + "/prospects")
        viewer.get_by_role("link", name=name).first.click()
        viewer.wait_for_url(re.compile(r"/community/\d+"), timeout=30000)
        prospect_page = viewer.url
        viewer.get_by_text("Shortlisted").first.wait_for(timeout=30000)
        for control in ("Mark contacted", "Not a fit", "Add note"):
            assert viewer.get_by_role("button", name=control).count() == 0, control
        assert json.loads(cli(home, "prospect", "show", url, "--format", "json").stdout)["stage"] == "shortlisted"

        member = playwright_browser.new_page(viewport={"width": 1400, "height": 900})
        browser_login(member, server.base, "m@example.com", target=prospect_page.removeprefix(server.base))
        member.get_by_role("button", name="Mark contacted").click()
        member.get_by_text("Contacted", exact=True).first.wait_for(timeout=30000)
        deadline = time.monotonic() + 30
        while json.loads(cli(home, "prospect", "show", url, "--format", "json").stdout)["stage"] != "contacted":
            assert time.monotonic() < deadline, "the member's move did not reach the database"
            time.sleep(0.3)
        moves = [e for e in audit_json(home, "--user", "m@example.com") if e["action"] == "prospect.stage"]
        assert moves and moves[0]["target"] == url and moves[0]["ip"] == "127.0.0.1" and moves[0]["at"]
        assert moves[0]["user"] == "m@example.com" and moves[0]["detail"]["to"] == "contacted"
    finally:
        server.stop()
