"""Accounts for the web tests: a team added as the operator would, and logging in through the plain forms."""

from __future__ import annotations

import re

TEAM = {"o@example.com": "owner", "m@example.com": "member", "v@example.com": "viewer"}
PASSWORDS = {"o@example.com": "owner pass 1", "m@example.com": "member pass 2", "v@example.com": "viewer pass 3"}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TARGET = re.compile(r'name="redirect_to" value="([^"]*)"')


def add_team(team: dict[str, str] | None = None) -> None:
    """Add the users (owner first) to this test's database through the service, as `recruiter user add` does."""
    from recruiter.accounts.roles import Actor
    from recruiter.accounts.users import add_user
    from recruiter.core.db import open_session

    with open_session() as session:
        for email, role in sorted((team or TEAM).items(), key=lambda item: item[1] != "owner"):
            add_user(email, role, PASSWORDS.get(email, "a password 0"), actor=Actor.cli(), session=session)


def form_fields(page_text: str) -> dict[str, str]:
    """The hidden fields of a plain login or invitation form."""
    fields = {"csrf": CSRF.search(page_text).group(1)}
    target = TARGET.search(page_text)
    if target:
        fields["redirect_to"] = target.group(1).replace("&amp;", "&")
    return fields


async def log_in_async(client, email: str, password: str | None = None, target: str = "/"):
    """Through /login with an httpx.AsyncClient (its cookies then carry the session)."""
    form = await client.get("/login", params={"redirect_to": target})
    data = dict(form_fields(form.text), email=email,
                password=PASSWORDS.get(email.lower(), "") if password is None else password)
    return await client.post("/login", data=data)


def log_in(client, email: str, password: str | None = None, target: str = "/"):
    """Through /login with an httpx.Client (its cookies then carry the session)."""
    form = client.get("/login", params={"redirect_to": target})
    data = dict(form_fields(form.text), email=email,
                password=PASSWORDS.get(email.lower(), "") if password is None else password)
    return client.post("/login", data=data)
