"""The web app's entry point: register every page module in ui/pages, put all of it behind the login, serve.

`start()` is what `recruiter ui` calls; running this file (as NiceGUI's test `user` fixture does) calls it too.

`AccessGuard` sits in front of every route, including the ones NiceGUI adds by itself (uploads under
``/_nicegui/client/...``, downloads and media under ``/_nicegui/auto/...``, the socket.io endpoint over HTTP
polling and websockets). Once the app has accounts (a user exists), every request needs a live account session
(its token in the signed session cookie, checked against the database on every HTTP request and at the
websocket's connection: a disabled user's or an idle session's next page load shows the login); before that,
with ``RECRUITER_PASSWORD`` set, the shared password's session. Either way only the login form, the invitation
form and NiceGUI's versioned static assets (code, styles, fonts: nothing of the user's data) are reachable
without one. It also caps every request body on the server (``RECRUITER_UPLOAD_MAX_MB``), by the declared length
and by the bytes read.
"""

from __future__ import annotations

import html
import importlib
import logging
import os
import pkgutil
import sys
from urllib.parse import quote

from recruiter.core.config import make_private, recruiter_home

# Browser sessions are kept with the rest of the user's data, not in whatever folder the app was started from.
os.environ.setdefault("NICEGUI_STORAGE_PATH", str(recruiter_home() / "nicegui"))

from nicegui import __version__ as nicegui_version
from nicegui import app, ui
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse

from recruiter.accounts.users import accounts_enabled
from recruiter.core.db import describe_database_error, get_engine, is_database_error, open_session
from recruiter.core.errors import RecruiterError
from recruiter.core.security import (
    LOOPBACK_HOSTS,
    login_required,
    password_required_message,
    storage_secret,
    upload_limit_bytes,
)
from scrapers.config import TRUST_ENV
from ui.access import ACCOUNTS, OPEN, login_mode, shared_password_session, signed_in

log = logging.getLogger(__name__)

# Reachable without logging in: the login form, the invitation form, the favicon, and NiceGUI's own versioned
# assets (GET only).
OPEN_EXACT = {"/login", "/invite", "/favicon.ico"}
OPEN_ASSET_PREFIX = f"/_nicegui/{nicegui_version}/"
SESSION_COOKIE_MAX_AGE = 14 * 24 * 3600


# Components that serve a page of their own (ui/pages holds at most twelve modules): registered with the pages.
ROUTED_COMPONENTS = ("ui.components.lookalikes",)


def register_pages() -> list[str]:
    """Import every module of ui.pages and the ROUTED_COMPONENTS (importing one registers its routes); other
    engineers drop pages in.

    A module imported before (by a test, or by an earlier run of this file in the same process, as NiceGUI's
    `user` fixture does for each test after removing every route) is reloaded: importing it again would be a
    no-op, and its routes would silently be missing. The components come first, so the pages that import them
    get the reloaded ones.
    """
    import ui.pages as pages

    names = []
    pages_found = sorted(pkgutil.iter_modules(pages.__path__), key=lambda m: m.name)
    for qualified in [*ROUTED_COMPONENTS, *(f"ui.pages.{m.name}" for m in pages_found if not m.name.startswith("_"))]:
        if qualified in sys.modules:
            importlib.reload(sys.modules[qualified])
        else:
            importlib.import_module(qualified)
        names.append(qualified.rpartition(".")[2])
    return names


class BodyTooLarge(Exception):
    pass


class AccessGuard:
    """ASGI middleware: the login in front of every HTTP and websocket route, and the request body cap.

    It runs inside NiceGUI's session and request-tracking middlewares (they are added when the server starts,
    outside everything added before), so the signed session cookie is decoded (``scope["session"]``) and
    ``app.storage.user`` is available for HTTP requests. Without a session, or when the database cannot say who
    is logged in, it refuses: failing closed.
    """

    def __init__(self, app_) -> None:
        self.app = app_

    async def __call__(self, scope, receive, send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        if not self._is_open(scope):
            try:
                allowed = await self._logged_in(scope)
            except Exception as exc:  # the database is down or misconfigured: nobody is let in
                log.error("cannot check the login of %s: %s", scope.get("path"), user_message(exc))
                return await self._unavailable(scope, send, exc)
            if not allowed:
                return await self._refuse(scope, send)
        if kind == "http":
            return await self._capped(scope, receive, send)
        return await self.app(scope, receive, send)

    @staticmethod
    def _is_open(scope) -> bool:
        path = scope.get("path", "")
        if scope["type"] != "http":
            return False
        if path in OPEN_EXACT:
            return True
        return path.startswith(OPEN_ASSET_PREFIX) and scope.get("method") in ("GET", "HEAD")

    @classmethod
    async def _logged_in(cls, scope) -> bool:
        cookie = scope.get("session")
        mode, account = await run_in_threadpool(cls._account_state, cookie)
        if mode == OPEN:
            return True
        if not isinstance(cookie, dict):
            log.error("no session middleware in front of the login check: refusing %s", scope.get("path"))
            return False
        if mode == ACCOUNTS:
            return account
        return shared_password_session(cookie, websocket=scope["type"] == "websocket")

    @staticmethod
    def _account_state(cookie) -> tuple[str, bool]:
        """(the login mode, whether ``cookie`` names a live account session), from the database."""
        with open_session() as session:
            mode = login_mode(session=session)
            return mode, mode == ACCOUNTS and signed_in(cookie, session=session) is not None

    async def _unavailable(self, scope, send, exc: Exception) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1011})
            return
        response = HTMLResponse(ERROR_PAGE.format(title="Server error", message=html.escape(user_message(exc))),
                                status_code=503, headers={"Cache-Control": "no-store"})
        await response(scope, _drain, send)

    async def _refuse(self, scope, send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accept: the handshake gets a 403
            return
        path = scope.get("path", "")
        if scope.get("method") in ("GET", "HEAD") and not path.startswith("/_nicegui"):
            query = scope.get("query_string", b"").decode("latin-1")
            target = quote(path) + (f"?{query}" if query else "")
            response = PlainTextResponse("login required", status_code=303,
                                         headers={"Location": f"/login?redirect_to={quote(target, safe='')}",
                                                  "Cache-Control": "no-store"})
        else:
            response = PlainTextResponse("login required", status_code=401, headers={"Cache-Control": "no-store"})
        await response(scope, _drain, send)

    async def _capped(self, scope, receive, send) -> None:
        limit = upload_limit_bytes()
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await _too_large(scope, send, limit)
        received = 0
        started = False

        async def counting_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            log.warning("refused a request body over %d bytes on %s", limit, scope.get("path"))
            if not started:
                await _too_large(scope, send, limit)


async def _drain():
    return {"type": "http.disconnect"}


async def _too_large(scope, send, limit: int) -> None:
    response = PlainTextResponse(f"request body too large (limit {limit // (1024 * 1024)} MB)", status_code=413)
    await response(scope, _drain, send)


ERROR_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} · recruiter</title>
<style>body{{font-family:system-ui,sans-serif;display:flex;flex-direction:column;align-items:center;
padding:5rem 1rem;color:#333}} p{{color:#666;max-width:40rem;text-align:center}}</style></head>
<body><h1>{title}</h1><p>{message}</p><p><a href="/">Back to the dashboard</a></p></body></html>"""


def user_message(exc: BaseException) -> str:
    """What an error page may say about ``exc``: a `RecruiterError`'s own words (written for people), a
    database error worded by the core, otherwise nothing of the exception (the details go to the log)."""
    if isinstance(exc, RecruiterError):
        return str(exc)
    if is_database_error(exc):
        return describe_database_error(exc)
    return "Something went wrong on the server. The details are in the server's log."


def _wants_html(request: Request) -> bool:
    return request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", "text/html")


async def server_error(request: Request, exc: Exception) -> HTMLResponse:
    # Not logged here: the server logs the exception after this response (Starlette re-raises it), and NiceGUI
    # logs a page's own exceptions.
    return HTMLResponse(ERROR_PAGE.format(title="Server error", message=html.escape(user_message(exc))),
                        status_code=500)


async def not_found(request: Request, exc: Exception) -> HTMLResponse | JSONResponse:
    if not _wants_html(request):
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    return HTMLResponse(ERROR_PAGE.format(title="Page not found", message="This page does not exist."),
                        status_code=404)


def page_error(exc: Exception) -> None:
    """The error page of a page whose code failed: a short message, never the exception's text."""
    with ui.column().classes("w-full items-center p-16 gap-2"):
        ui.icon("error_outline").classes("text-5xl text-negative")
        ui.label("Server error").classes("text-2xl")
        ui.label(user_message(exc)).classes("text-grey-8")
        ui.link("Back to the dashboard", "/")


def protect_files() -> None:
    """Data dir 0700 (recruiter_home does it), the session storage folder and its files owner-only; and,
    outside tests, a umask so every file the server writes from now on is owner-only too."""
    if not os.environ.get("NICEGUI_USER_SIMULATION"):
        os.umask(0o077)
    storage = app.storage.path
    try:
        storage.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return
    make_private(storage)
    for file in storage.glob("storage-*.json"):
        make_private(file)


def serving_allowed() -> bool:
    """Whether the app may be served beyond this machine: once it has accounts, or with RECRUITER_PASSWORD."""
    if login_required():
        return True
    with open_session() as session:
        return accounts_enabled(session=session)


def start(*, host: str = "127.0.0.1", port: int = 8080, reload: bool = False) -> None:
    get_engine()  # an unreachable or misconfigured database is one clear line now, not an error on every page
    if host not in LOOPBACK_HOSTS and not serving_allowed():
        raise SystemExit(password_required_message(host))
    if host not in LOOPBACK_HOSTS:
        # Served to others: a URL typed into the app is no more trusted than a link found on the web.
        os.environ[TRUST_ENV] = "0"
    protect_files()
    register_pages()
    app.add_middleware(AccessGuard)
    app.add_exception_handler(Exception, server_error)
    app.add_exception_handler(404, not_found)
    app.on_page_exception(page_error)
    if host in LOOPBACK_HOSTS and not os.environ.get("NICEGUI_USER_SIMULATION"):
        # Served on this machine only (without a login before accounts): refuse requests addressed to any other
        # host name, so a web page that rebinds its own domain to 127.0.0.1 cannot read the data through the
        # browser.
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost", "::1", "[::1]"])
    if not os.environ.get("NICEGUI_USER_SIMULATION") and os.environ.get("RECRUITER_UI_WARMUP", "1") != "0":
        from ui.background import warm_up

        app.on_startup(warm_up)
    ui.run(host=host, port=port, title="recruiter", reload=reload, show=False, storage_secret=storage_secret(),
           favicon="🤝", show_welcome_message=False,
           session_middleware_kwargs={"same_site": "lax", "max_age": SESSION_COOKIE_MAX_AGE})


if __name__ in {"__main__", "__mp_main__"}:
    start(host=os.environ.get("RECRUITER_UI_HOST", "127.0.0.1"), port=int(os.environ.get("RECRUITER_UI_PORT", "8080")))
