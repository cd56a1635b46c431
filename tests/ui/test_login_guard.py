"""The web app behind its login, in-process: every route the app has (ours and NiceGUI's own), with accounts and
with the shared password before them; the login form's CSRF defences, the server-side body cap and error pages
that show no exception text."""

from __future__ import annotations

import re

import httpx
import pytest
from account_helpers import add_team, log_in_async
from nicegui import __version__ as nicegui_version
from nicegui import core, ui
from nicegui.testing import User
from starlette.routing import Mount, Route, WebSocketRoute
from ui_helpers import COOKS

from recruiter.core.errors import RecruiterError

UPLOAD_URL = re.compile(r"/_nicegui/client/[0-9a-f-]+/upload/\d+")
OPEN_ROUTES = ("/login", "/invite", "/favicon.ico")


def anonymous() -> httpx.AsyncClient:
    """A client with no cookies at all, as an attacker's script would be."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(core.app, raise_app_exceptions=False),
                             base_url="http://test")


def requests_for_every_route() -> list[tuple[str, str]]:
    """(method, concrete path) for every route the app has, path parameters filled in."""
    wanted: list[tuple[str, str]] = []
    for route in core.app.routes:
        if isinstance(route, WebSocketRoute):
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        if isinstance(route, Mount):
            wanted += [("GET", path.rstrip("/") + "/x"), ("POST", path.rstrip("/") + "/x")]
        elif isinstance(route, Route):
            wanted += [(method, path) for method in sorted(route.methods or {"GET"}) if method != "HEAD"]
    return wanted


async def log_in(client: httpx.AsyncClient, password: str, target: str = "/") -> httpx.Response:
    form = await client.get(f"/login?redirect_to={target}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return await client.post("/login", data={"password": password, "csrf": csrf, "redirect_to": target})


@pytest.mark.parametrize("mode", ["password", "accounts"])
async def test_every_route_needs_the_login(user: User, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    page = await user.http_client.get("/partners")  # renders the performance upload: its route exists now
    upload = UPLOAD_URL.search(page.text).group(0)
    monkeypatch.setenv("RECRUITER_PASSWORD", "s3cret")
    if mode == "accounts":  # users exist: an account's session is needed, and the shared password is no key
        add_team()
    checked, open_ = [], []
    async with anonymous() as client:
        for method, path in requests_for_every_route():
            response = await client.request(method, path, follow_redirects=False,
                                            files={"f": ("p.csv", b"date,partner\n")} if method == "POST" else None)
            if path in OPEN_ROUTES or (path.startswith(f"/_nicegui/{nicegui_version}/") and method == "GET"):
                open_.append(path)
                continue
            checked.append(path)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/login?redirect_to="), (method, path)
            else:
                assert response.status_code == 401, (method, path, response.status_code, response.text[:200])
        socket_io = await client.get("/_nicegui_ws/socket.io/?EIO=4&transport=polling")
        assert socket_io.status_code == 401  # the socket.io handshake of any page
    assert upload in checked and "/partners" in checked and "/audit" in checked and "/login" in open_
    assert "/lookalikes" in checked  # a component's page (ui.main.ROUTED_COMPONENTS) is behind the login too
    assert any(path.startswith("/_nicegui_ws") for path in checked)

    async with anonymous() as client:  # the same requests with the session: the guard lets them through
        if mode == "accounts":
            assert (await log_in(client, "s3cret")).status_code == 401  # RECRUITER_PASSWORD no longer counts
            assert (await client.get("/partners")).status_code == 303
            assert (await log_in_async(client, "m@example.com")).status_code == 303
        else:
            assert (await log_in(client, "s3cret")).status_code == 303
        assert (await client.get("/partners")).status_code == 200
        accepted = await client.post(upload, files={"f": ("p.csv", b"date,partner,clicks\n")})
        assert accepted.status_code == 200 and accepted.json() == {"upload": "success"}


async def test_session_cookie_is_httponly_and_samesite_lax(user: User, monkeypatch) -> None:
    monkeypatch.setenv("RECRUITER_PASSWORD", "s3cret")
    async with anonymous() as client:
        response = await client.get("/login")
    cookies = response.headers.get_list("set-cookie")
    assert cookies
    for cookie in cookies:
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert "httponly" in flags and "samesite=lax" in flags, cookie


async def test_login_form_refuses_forged_posts(user: User, monkeypatch) -> None:
    monkeypatch.setenv("RECRUITER_PASSWORD", "s3cret")
    async with anonymous() as client:
        no_token = await client.post("/login", data={"password": "s3cret"})
        assert no_token.status_code == 400 and "expired" in no_token.text
        form = await client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        forged = await client.post("/login", data={"password": "s3cret", "csrf": csrf},
                                   headers={"Origin": "https://evil.example"})
        assert forged.status_code == 400
        assert (await client.get("/prospects")).status_code == 303  # still not logged in
        hostile = await client.get('/login?redirect_to="><script>alert(1)</script>')
        assert "<script>alert(1)" not in hostile.text
        done = await client.post("/login", data={"password": "s3cret", "csrf": csrf, "redirect_to": "//evil.example"})
        assert done.status_code == 303 and done.headers["location"] == "/"
        again = await client.get("/login?redirect_to=https://evil.example")
        assert again.status_code == 303 and again.headers["location"] == "/"


async def test_logging_out_ends_the_session(user: User, monkeypatch) -> None:
    from nicegui import app

    monkeypatch.setenv("RECRUITER_PASSWORD", "s3cret")
    client = user.http_client
    assert (await log_in(client, "s3cret", "/prospects")).status_code == 303
    await user.open("/prospects")
    await user.should_see(f"Ideal client: {COOKS}")
    app.storage.user.clear()  # what the frame's log-out button does
    assert (await client.get("/prospects")).status_code == 303
    assert "Enter the password" in (await client.get("/login")).text


async def test_request_bodies_are_capped_on_the_server(user: User, monkeypatch) -> None:
    page = await user.http_client.get("/partners")
    upload = UPLOAD_URL.search(page.text).group(0)
    monkeypatch.setenv("RECRUITER_UPLOAD_MAX_MB", "0.01")  # about 10 KB
    big = b"date,partner,clicks\n" + b"2024-01-01,x,1\n" * 2000
    async with anonymous() as client:
        declared = await client.post(upload, files={"f": ("p.csv", big)})
        assert declared.status_code == 413

        async def stream():  # a well-formed multipart upload with no Content-Length: counted as it arrives
            yield (b'--abc\r\nContent-Disposition: form-data; name="f"; filename="p.csv"\r\n'
                   b"Content-Type: text/csv\r\n\r\n")
            for _ in range(40):
                yield b"2024-01-01,x,1\n" * 64

        streamed = await client.post(upload, content=stream(),
                                     headers={"content-type": "multipart/form-data; boundary=abc"})
        assert streamed.status_code == 413
        small = await client.post(upload, files={"f": ("p.csv", b"date,partner,clicks\n")})
        assert small.status_code == 200


async def test_error_pages_show_no_exception_text(user: User, caplog: pytest.LogCaptureFixture) -> None:
    @ui.page("/boom-test")
    def boom() -> None:
        raise ValueError("internal detail s3cret /etc/passwd")

    @ui.page("/refused-test")
    def refused() -> None:
        raise RecruiterError("the database at db.example:5432 does not answer")

    async with anonymous() as client:
        failed = await client.get("/boom-test")
        assert failed.status_code == 500
        assert "s3cret" not in failed.text and "ValueError" not in failed.text and "Server error" in failed.text
        clear = await client.get("/refused-test")
        assert clear.status_code == 500 and "db.example:5432 does not answer" in clear.text
        missing = await client.get("/no-such-page", headers={"accept": "text/html"})
        assert missing.status_code == 404 and "HTTPException" not in missing.text
    caplog.clear()  # the failing pages were logged, as they should be; the user fixture would count them
