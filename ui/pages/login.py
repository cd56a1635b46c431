"""/login: the email and password form once the app has accounts; before, RECRUITER_PASSWORD's form.

A plain HTML form posted to a plain FastAPI route, not a NiceGUI page (see `ui.plain_forms`): nothing of the
app is reachable before logging in, not even the websocket.

- With accounts (`ui.access.ACCOUNTS`): `recruiter.accounts.login.authenticate` checks the email and password
  and keeps the lockout in the database (5 failures in 15 minutes lock the account, and the address, for
  RECRUITER_LOGIN_LOCK_S); a success starts a server-side session whose token the signed session cookie carries
  (`ui.access.SESSION_KEY`). RECRUITER_PASSWORD is not accepted any more.
- Before accounts, with RECRUITER_PASSWORD (`ui.access.PASSWORD`): the password, with the same lockout kept in
  the database (`shared_password_login`), so it holds across restarts; the session remembers an HMAC of the
  password (`session_token`), so a new password ends every session.
- CSRF token and Origin check on the POST; the token is replaced after a login. The password is never shown
  back or logged; the address logged and audited is the client's.
- Where to go afterwards (``redirect_to``) is only ever a path on this site (`safe_redirect_target`).
"""

from __future__ import annotations

import html
import logging

from nicegui import app
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from recruiter.accounts.login import (
    SHARED,
    LoginRefused,
    authenticate,
    end_session,
    locked_for,
    shared_password_login,
    start_session,
)
from recruiter.core.db import open_session
from recruiter.core.security import check_password, safe_redirect_target, session_token
from ui.access import (
    ACCOUNTS,
    OPEN,
    PASSWORD,
    PASSWORD_KEY,
    SESSION_KEY,
    client_ip,
    login_mode,
    shared_password_session,
    signed_in,
)
from ui.plain_forms import alert, csrf_ok, csrf_token, page, redirect, rotate_csrf

log = logging.getLogger(__name__)

EXPIRED = "The login form expired: please log in again."
NOTICES = {  # ?notice=... shows one of these fixed sentences (never text from the URL)
    "invited": "Your password is set: log in with your email and password.",
}

ACCOUNT_FORM = """<form method="post" action="/login">
<h1>&#128274; recruiter</h1>
<p>Log in with your email and password.</p>
{message}
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="redirect_to" value="{target}">
<label for="email">Email</label>
<input type="email" id="email" name="email" value="{email}" autocomplete="username" required{focus_email}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required{focus_password}>
<button type="submit">Log in</button>
</form>"""

PASSWORD_FORM = """<form method="post" action="/login" autocomplete="off">
<h1>&#128274; recruiter</h1>
<p>Enter the password set in RECRUITER_PASSWORD.</p>
{message}
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="redirect_to" value="{target}">
<label for="password">Password</label>
<input type="password" id="password" name="password" required autofocus>
<button type="submit">Log in</button>
</form>"""


def _form(request: Request, mode: str, target: str, message: str = "", status: int = 200, *, email: str = "",
          notice: str = "") -> Response:
    shown = alert(message) + alert(notice, "notice")
    values = {"message": shown, "csrf": html.escape(csrf_token(request), quote=True),
              "target": html.escape(target, quote=True)}
    if mode == ACCOUNTS:
        body = ACCOUNT_FORM.format(**values, email=html.escape(email, quote=True),
                                   focus_email="" if email else " autofocus",
                                   focus_password=" autofocus" if email else "")
    else:
        body = PASSWORD_FORM.format(**values)
    return page("Log in", body, status=status)


def _state(request: Request) -> tuple[str, bool, float]:
    """(mode, logged in with an account session, seconds the shared password is locked for this address)."""
    with open_session() as session:
        mode = login_mode(session=session)
        if mode == ACCOUNTS:
            return mode, signed_in(request.session, session=session) is not None, 0.0
        if mode == PASSWORD:
            return mode, False, locked_for(SHARED, client_ip(request), session=session)
        return mode, False, 0.0


@app.get("/login", include_in_schema=False)
async def login_form(request: Request, redirect_to: str = "/", notice: str = "") -> Response:
    target = safe_redirect_target(redirect_to)
    mode, account_session, locked = await run_in_threadpool(_state, request)
    if mode == OPEN or (mode == ACCOUNTS and account_session) or (mode == PASSWORD and shared_password_session(request.session)):
        return redirect(target)
    # Logged out, ended or expired (or the password changed): forget the old tokens.
    request.session.pop(SESSION_KEY, None)
    request.session.pop(PASSWORD_KEY, None)
    message = f"Too many failed logins: logging in is locked for {max(1, round(locked))} s." if locked else ""
    return _form(request, mode, target, message, notice=NOTICES.get(notice, ""))


def _log_in_account(request: Request, email: str, password: str) -> str:
    """A new session's token for the account, or LoginRefused. A session this browser still had (someone else
    logging in at the same browser) ends."""
    ip = client_ip(request)
    with open_session() as session:
        user = authenticate(email, password, ip=ip, session=session)
        end_session(request.session.get(SESSION_KEY), session=session)
        return start_session(user, ip=ip, user_agent=request.headers.get("user-agent", ""), session=session)


def _log_in_shared(request: Request, password: str) -> None:
    with open_session() as session:
        shared_password_login(check_password(password), ip=client_ip(request), session=session)


@app.post("/login", include_in_schema=False)
async def login_submit(request: Request) -> Response:
    async with request.form(max_files=0, max_fields=10, max_part_size=64 * 1024) as form:
        password = form.get("password")
        email = form.get("email")
        csrf = form.get("csrf")
        target = safe_redirect_target(form.get("redirect_to"))
    password = password if isinstance(password, str) else ""
    email = email.strip()[:320] if isinstance(email, str) else ""
    mode = await run_in_threadpool(_mode)
    if mode == OPEN:
        return redirect(target)
    if not csrf_ok(request, csrf):
        return _form(request, mode, target, EXPIRED, status=400, email=email)
    ip = client_ip(request) or "unknown"
    try:
        if mode == ACCOUNTS:
            token = await run_in_threadpool(_log_in_account, request, email, password)
        else:
            await run_in_threadpool(_log_in_shared, request, password)
    except LoginRefused as refused:
        if refused.locked_for > 0:
            log.warning("login from %s refused: locked for %.0f s after repeated failures", ip, refused.locked_for)
            return _form(request, mode, target, str(refused), status=429, email=email)
        log.warning("failed login from %s", ip)
        wrong = "Wrong email or password." if mode == ACCOUNTS else "Wrong password."
        return _form(request, mode, target, wrong, status=401, email=email)
    if mode == ACCOUNTS:
        request.session[SESSION_KEY] = token
        request.session.pop(PASSWORD_KEY, None)
        log.info("%s logged in from %s", email.lower(), ip)
    else:
        request.session[PASSWORD_KEY] = session_token()
        request.session.pop(SESSION_KEY, None)
        app.storage.user["authenticated"] = True
        log.info("logged in with the shared password from %s", ip)
    rotate_csrf(request)
    return redirect(target)


def _mode() -> str:
    with open_session() as session:
        return login_mode(session=session)
