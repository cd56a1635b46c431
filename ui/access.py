"""Who is using this page: the actor every handler of it passes to the services, and how refusals are shown.

A page reads its actor once, when it is built (`page_actor`): with accounts, the user of the server-side session
the browser's cookie names (`recruiter.accounts.login`); before accounts, the local user on loopback or the
holder of `RECRUITER_PASSWORD`. Handlers pass that actor to the services, which check it again against the
database on every action (`recruiter.accounts.roles.require`): a role changed or a user disabled since the page
was built counts at the next click, whatever the page still shows.

`guarded` runs a handler so that a refusal (`NotAllowed`) is a notification and an ended session
(`SessionEnded`) sends the browser to the login page, with nothing changed either way.

How the app is entered (`login_mode`) follows the database: from the first user on (`accounts_enabled`) every
request needs an account's session (`ACCOUNTS`, on loopback too, and RECRUITER_PASSWORD no longer counts);
before it, RECRUITER_PASSWORD's form when the password is set (`PASSWORD`), else no login at all (`OPEN`, the
app served on this machine only).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from nicegui import app, ui

from recruiter.accounts.login import SignedIn, end_session, session_user
from recruiter.accounts.roles import Actor, NotAllowed, SessionEnded
from recruiter.accounts.users import accounts_enabled
from recruiter.core.db import open_session
from recruiter.core.security import login_required, token_is_current

SESSION_KEY = "sid"  # in the signed session cookie: the token of the server-side session
PASSWORD_KEY = "auth"  # in the signed session cookie, before accounts: the HMAC of RECRUITER_PASSWORD

ACCOUNTS = "accounts"  # users exist: an email and a password, a session kept in the database
PASSWORD = "password"  # no user yet, RECRUITER_PASSWORD set: the shared password
OPEN = "open"  # no user yet, no password: served on this machine only, no login


def client_ip(request) -> str:
    return request.client.host if request is not None and request.client else ""


def login_mode(*, session) -> str:
    """How the app is entered now: ACCOUNTS, PASSWORD or OPEN (see the module's docstring)."""
    if accounts_enabled(session=session):
        return ACCOUNTS
    return PASSWORD if login_required() else OPEN


def shared_password_session(cookie: object, *, websocket: bool = False) -> bool:
    """Before accounts, RECRUITER_PASSWORD's session: the cookie carries the token of the password in force now,
    and (over HTTP) the user storage still says logged in, which logging out clears. A websocket's page was loaded
    over HTTP by the same session, which checked the storage."""
    if not isinstance(cookie, dict) or not token_is_current(cookie.get(PASSWORD_KEY)):
        return False
    if websocket:
        return True
    try:
        return bool(app.storage.user.get("authenticated"))
    except (RuntimeError, AssertionError):
        return False


def signed_in(cookie: object, *, session) -> SignedIn | None:
    """The live account session a signed session cookie (its decoded dict) names, or None."""
    token = cookie.get(SESSION_KEY) if isinstance(cookie, dict) else None
    return session_user(token, session=session)


def actor_for_request(request) -> Actor | None:
    """The actor of an HTTP request (or websocket scope) by its session cookie; None when nobody is logged in.

    With accounts: the session's user. Without: the shared-password login when RECRUITER_PASSWORD is set (the
    access guard has checked it), else the local user."""
    ip = client_ip(request)
    with open_session() as session:
        if accounts_enabled(session=session):
            cookie = request.session if request is not None and "session" in request.scope else None
            user = signed_in(cookie, session=session)
            return user.actor(ip) if user is not None else None
    return Actor.shared(ip) if login_required() else Actor.local(ip)


def log_out(request) -> None:
    """End the server-side session of ``request``'s cookie (audited as "logout"). The cookie's keys themselves
    are dropped by the next HTTP response (/login forgets them): a websocket event cannot set a cookie."""
    if request is None or "session" not in request.scope:
        return
    token = request.session.get(SESSION_KEY)
    if not token:
        return
    actor = actor_for_request(request)
    with open_session() as session:
        end_session(token, session=session, actor=actor)


def page_actor() -> Actor:
    """The actor of the page being built (the access guard let the request in, so there is one)."""
    request = ui.context.client.request
    actor = actor_for_request(request)
    if actor is None:  # the session ended between the guard and here
        raise SessionEnded("your session has ended: log in again")
    return actor


def refused(exc: Exception) -> None:
    if isinstance(exc, SessionEnded):
        ui.notify(str(exc), color="warning")
        ui.navigate.to("/login")
    else:
        ui.notify(str(exc), color="negative", multi_line=True)


def guarded(handler: Callable[..., Any]) -> Callable[..., Any]:
    """A handler whose refusals are shown, not raised: NotAllowed as a notification, SessionEnded as the login."""
    if inspect.iscoroutinefunction(handler):
        @functools.wraps(handler)
        async def run_async(*args, **kwargs):
            try:
                return await handler(*args, **kwargs)
            except (NotAllowed, SessionEnded) as exc:
                refused(exc)
                return None
        return run_async

    @functools.wraps(handler)
    def run(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except (NotAllowed, SessionEnded) as exc:
            refused(exc)
            return None
    return run
