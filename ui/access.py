"""Who is using this page: the actor every handler of it passes to the services, and how refusals are shown.

A page reads its actor once, when it is built (`page_actor`): with accounts, the user of the server-side session
the browser's cookie names (`recruiter.accounts.login`); before accounts, the local user on loopback or the
holder of `RECRUITER_PASSWORD`. Handlers pass that actor to the services, which check it again against the
database on every action (`recruiter.accounts.roles.require`): a role changed or a user disabled since the page
was built counts at the next click, whatever the page still shows.

`guarded` runs a handler so that a refusal (`NotAllowed`) is a notification and an ended session
(`SessionEnded`) sends the browser to the login page, with nothing changed either way.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from nicegui import ui

from recruiter.accounts.login import session_user
from recruiter.accounts.roles import Actor, NotAllowed, SessionEnded
from recruiter.accounts.users import accounts_enabled
from recruiter.core.db import open_session
from recruiter.core.security import login_required

SESSION_KEY = "sid"  # in the signed session cookie: the token of the server-side session


def client_ip(request) -> str:
    return request.client.host if request is not None and request.client else ""


def actor_for_request(request) -> Actor | None:
    """The actor of an HTTP request (or websocket scope) by its session cookie; None when nobody is logged in.

    With accounts: the session's user. Without: the shared-password login when RECRUITER_PASSWORD is set (the
    access guard has checked it), else the local user."""
    ip = client_ip(request)
    with open_session() as session:
        if accounts_enabled(session=session):
            cookie = request.session.get(SESSION_KEY) if request is not None and "session" in request.scope else None
            signed_in = session_user(cookie, session=session)
            return signed_in.actor(ip) if signed_in is not None else None
    return Actor.shared(ip) if login_required() else Actor.local(ip)


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
