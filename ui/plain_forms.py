"""What the plain HTML forms (/login, /invite) share: one page style, the headers, the CSRF token.

These forms are reached before anyone is logged in, so they are plain HTML posted to plain FastAPI routes, not
NiceGUI pages: a NiceGUI page talks over the websocket, which (like every other route) only a logged-in
session may open. They work with no JavaScript at all, and the Content-Security-Policy allows none.

- CSRF: a form carries a random token also kept in the (signed) session cookie, and a POST whose Origin header
  names another site is refused; the cookie is SameSite=Lax, so other sites cannot post with it anyway. A token
  is replaced once its form did what it was for (`rotate_csrf`).
- Everything shown that came from the request or the database is escaped.
"""

from __future__ import annotations

import html
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

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
<title>{title} · recruiter</title>
<style>
body{{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#f5f5f7;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222}}
form,.card{{background:#fff;width:20rem;padding:1.5rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15);
display:flex;flex-direction:column;gap:.75rem}}
h1{{margin:0;font-size:1.25rem}} p{{margin:0;font-size:.875rem;color:#555}}
label{{font-size:.875rem}}
input[type=password],input[type=email]{{padding:.5rem;font-size:1rem;border:1px solid #bbb;border-radius:4px}}
button{{padding:.6rem;font-size:1rem;background:#3949ab;color:#fff;border:0;border-radius:4px;cursor:pointer}}
.error{{color:#c10015;font-weight:600}} .notice{{color:#1b5e20;font-weight:600}}
</style></head>
<body>{body}</body></html>
"""


def page(title: str, body: str, *, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A plain page; ``body`` is markup the caller built (escaping what it put in)."""
    return HTMLResponse(PAGE.format(title=html.escape(title), body=body), status_code=status,
                        headers={**HEADERS, **(headers or {})})


def alert(message: str, kind: str = "error") -> str:
    if not message:
        return ""
    role = "alert" if kind == "error" else "status"
    return f'<p class="{kind}" role="{role}">{html.escape(message)}</p>'


def csrf_token(request: Request) -> str:
    """The session's form token (made when it has none)."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = request.session[CSRF_KEY] = secrets.token_urlsafe(32)
    return token


def rotate_csrf(request: Request) -> None:
    """A used form is not used twice."""
    request.session[CSRF_KEY] = secrets.token_urlsafe(32)


def same_origin(request: Request) -> bool:
    """A browser's POST names its page's origin; it must be this site (absent: not a browser, or an old one)."""
    origin = request.headers.get("origin")
    if not origin:
        return True
    if origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == (request.headers.get("host") or "").lower()


def csrf_ok(request: Request, given: object) -> bool:
    expected = request.session.get(CSRF_KEY)
    return (same_origin(request) and isinstance(given, str) and isinstance(expected, str)
            and secrets.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode()))


def redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
