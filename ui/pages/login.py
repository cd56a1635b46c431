"""/login: the password form shown when the app serves beyond this machine (RECRUITER_PASSWORD is set).

A plain HTML form posted to a plain FastAPI route, not a NiceGUI page: a NiceGUI page talks over the websocket,
and the websocket (like every other route) is only open to a logged-in session. So the form works with no
JavaScript and no socket at all, and nothing of the app is reachable before the password is given.

- CSRF: the form carries a random token also kept in the (signed) session cookie, and a POST whose Origin
  header names another site is refused; the cookie is SameSite=Lax, so other sites cannot post with it anyway.
- Guessing: `LoginThrottle` locks the login for everyone for 30 s after 5 wrong passwords within a minute.
- The session remembers an HMAC of the password (`session_token`), so a new password ends every session.
- Where to go afterwards (``redirect_to``) is only ever a path on this site (`safe_redirect_target`).
"""

from __future__ import annotations

import html
import logging
import secrets
from urllib.parse import urlsplit

from nicegui import app
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from recruiter.core.security import (
    LoginThrottle,
    check_password,
    login_required,
    safe_redirect_target,
    session_token,
    token_is_current,
)

log = logging.getLogger(__name__)

THROTTLE = LoginThrottle()
SESSION_TOKEN_KEY = "auth"
CSRF_KEY = "login_csrf"
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "same-origin",
}

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · recruiter</title>
<style>
body{{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#f5f5f7;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222}}
form{{background:#fff;width:20rem;padding:1.5rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15);
display:flex;flex-direction:column;gap:.75rem}}
h1{{margin:0;font-size:1.25rem}} p{{margin:0;font-size:.875rem;color:#555}}
label{{font-size:.875rem}} input[type=password]{{padding:.5rem;font-size:1rem;border:1px solid #bbb;border-radius:4px}}
button{{padding:.6rem;font-size:1rem;background:#3949ab;color:#fff;border:0;border-radius:4px;cursor:pointer}}
.error{{color:#c10015;font-weight:600}}
</style></head>
<body><form method="post" action="/login" autocomplete="off">
<h1>&#128274; recruiter</h1>
<p>Enter the password set in RECRUITER_PASSWORD.</p>
{message}
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="redirect_to" value="{target}">
<label for="password">Password</label>
<input type="password" id="password" name="password" required autofocus>
<button type="submit">Log in</button>
</form></body></html>
"""


def is_logged_in(request: Request) -> bool:
    """The session carries the token of the current password and the user storage says logged in.

    The second half is what logging out clears (the page frame's log-out button empties `app.storage.user`).
    """
    if not token_is_current(request.session.get(SESSION_TOKEN_KEY)):
        return False
    try:
        return bool(app.storage.user.get("authenticated"))
    except (RuntimeError, AssertionError):
        return False


def _form(request: Request, target: str, message: str = "", status: int = 200) -> HTMLResponse:
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = request.session[CSRF_KEY] = secrets.token_urlsafe(32)
    locked = THROTTLE.locked_for()
    if locked and not message:
        message = _locked_message(locked)
    shown = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    body = PAGE.format(message=shown, csrf=html.escape(token, quote=True), target=html.escape(target, quote=True))
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def _locked_message(seconds: float) -> str:
    return f"Too many wrong passwords: logging in is locked for {max(1, round(seconds))} s."


def _redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _same_origin(request: Request) -> bool:
    """A browser's POST names its page's origin; it must be this site (absent: not a browser, or an old one)."""
    origin = request.headers.get("origin")
    if not origin:
        return True
    if origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == (request.headers.get("host") or "").lower()


@app.get("/login", include_in_schema=False)
async def login_form(request: Request, redirect_to: str = "/") -> Response:
    target = safe_redirect_target(redirect_to)
    if not login_required() or is_logged_in(request):
        return _redirect(target)
    request.session.pop(SESSION_TOKEN_KEY, None)  # logged out (or the password changed): forget the old token
    return _form(request, target)


@app.post("/login", include_in_schema=False)
async def login_submit(request: Request) -> Response:
    async with request.form(max_files=0, max_fields=10, max_part_size=64 * 1024) as form:
        password = form.get("password")
        csrf = form.get("csrf")
        target = safe_redirect_target(form.get("redirect_to"))
    if not login_required():
        return _redirect(target)
    expected = request.session.get(CSRF_KEY)
    if (not _same_origin(request) or not isinstance(csrf, str) or not isinstance(expected, str)
            or not secrets.compare_digest(csrf.encode(), expected.encode())):
        return _form(request, target, "The login form expired: please enter the password again.", status=400)
    locked = THROTTLE.locked_for()
    if locked:
        log.warning("login attempt from %s refused: the login is locked", _client_address(request))
        return _form(request, target, _locked_message(locked), status=429)
    if not isinstance(password, str) or not check_password(password):
        log.warning("wrong password from %s", _client_address(request))
        if THROTTLE.failure(_client_address(request)):
            return _form(request, target, _locked_message(THROTTLE.locked_for()), status=429)
        return _form(request, target, "Wrong password.", status=401)
    THROTTLE.success()
    request.session[SESSION_TOKEN_KEY] = session_token()
    request.session[CSRF_KEY] = secrets.token_urlsafe(32)  # a used form is not used twice
    app.storage.user["authenticated"] = True
    log.info("logged in from %s", _client_address(request))
    return _redirect(target)
