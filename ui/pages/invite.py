"""/invite?token=...: where an invited person chooses their password, once.

`recruiter user invite EMAIL --role ROLE [--expires 7d]` prints the link. Like the login, this is a plain HTML
form posted to a plain FastAPI route (`ui.plain_forms`), open without a login. The page shows whom the link
is for and in which role, and asks for a password twice; the POST (CSRF-checked like the login's) sets it through
`recruiter.accounts.users.accept_invite`, which lets a link work a single time and not after it expires. A used
or expired link shows why, and no form.

The token is a secret: it is never logged, never shown in the page (the form carries it in a hidden field), and
the page sends no Referer to another site (Referrer-Policy: same-origin; it loads nothing from elsewhere either).
A stricter "no-referrer" would make browsers send `Origin: null` with the form, which the CSRF check refuses.
"""

from __future__ import annotations

import html
import logging

from nicegui import app
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from recruiter.accounts.users import MIN_PASSWORD, InviteUnusable, PendingInvite, accept_invite, pending_invite
from recruiter.core.db import open_session
from recruiter.core.errors import RecruiterError
from ui.access import client_ip
from ui.plain_forms import alert, csrf_ok, csrf_token, page, redirect, rotate_csrf

log = logging.getLogger(__name__)

EXPIRED_FORM = "The form expired: please choose your password again."

FORM = """<form method="post" action="/invite" autocomplete="off">
<h1>&#128075; Welcome to recruiter</h1>
<p>Choose a password for <strong>{email}</strong>, invited as <strong>{role}</strong>.</p>
{message}
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="token" value="{token}">
<input type="email" name="email" value="{email}" autocomplete="username" hidden readonly>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="new-password" minlength="{min}" required autofocus>
<label for="password2">Password again</label>
<input type="password" id="password2" name="password2" autocomplete="new-password" minlength="{min}" required>
<p>At least {min} characters.</p>
<button type="submit">Set my password</button>
</form>"""

UNUSABLE = """<div class="card">
<h1>&#128075; recruiter</h1>
{message}
<p><a href="/login">Go to the login</a></p>
</div>"""


def _pending(token: str) -> PendingInvite:
    with open_session() as session:
        return pending_invite(token, session=session)


def _accept(token: str, password: str, ip: str) -> None:
    with open_session() as session:
        accept_invite(token, password, ip=ip, session=session)


def _form(request: Request, token: str, pending: PendingInvite, message: str = "", status: int = 200) -> Response:
    body = FORM.format(email=html.escape(pending.email, quote=True), role=html.escape(pending.role),
                       message=alert(message), csrf=html.escape(csrf_token(request), quote=True),
                       token=html.escape(token, quote=True), min=MIN_PASSWORD)
    return page("Choose your password", body, status=status)


def _unusable(reason: str) -> Response:
    sentence = reason[:1].upper() + reason[1:]
    return page("Invitation", UNUSABLE.format(message=alert(sentence + ("" if sentence.endswith(".") else "."))),
                status=410)


@app.get("/invite", include_in_schema=False)
async def invite_form(request: Request, token: str = "") -> Response:
    try:
        pending = await run_in_threadpool(_pending, token)
    except InviteUnusable as exc:
        return _unusable(str(exc))
    return _form(request, token, pending)


@app.post("/invite", include_in_schema=False)
async def invite_submit(request: Request) -> Response:
    async with request.form(max_files=0, max_fields=10, max_part_size=64 * 1024) as form:
        token, csrf = form.get("token"), form.get("csrf")
        password, again = form.get("password"), form.get("password2")
    token = token if isinstance(token, str) else ""
    try:
        pending = await run_in_threadpool(_pending, token)
    except InviteUnusable as exc:
        return _unusable(str(exc))
    if not csrf_ok(request, csrf):
        return _form(request, token, pending, EXPIRED_FORM, status=400)
    if not isinstance(password, str) or not isinstance(again, str) or password != again:
        return _form(request, token, pending, "The two passwords differ: please type the same one twice.",
                     status=400)
    try:
        await run_in_threadpool(_accept, token, password, client_ip(request))
    except InviteUnusable as exc:
        return _unusable(str(exc))
    except RecruiterError as exc:  # a password too short or too long
        return _form(request, token, pending, str(exc)[:1].upper() + str(exc)[1:] + ".", status=400)
    rotate_csrf(request)
    log.info("%s accepted an invitation (%s) from %s", pending.email, pending.role, client_ip(request))
    return redirect("/login?notice=invited")
