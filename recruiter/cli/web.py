"""`recruiter ui`, `recruiter user` and `recruiter audit`: serving the web app, who may use it, what they did.

The command line is the operator's tool on the machine: it needs no login and acts as the owner, recorded in
the audit log as `cli:OSUSER`. Passwords are read from standard input (`--password-stdin`) or typed at a hidden
prompt, never taken from the command line, where `ps` and the shell's history would show them.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import timedelta

import typer

from recruiter.cli.common import check_format, cli_actor, emit, fail, parse_since, session_scope
from recruiter.cli.root import app
from recruiter.core.vocabulary import ROLES

user_app = typer.Typer(help="People who may use the web app, and their roles (viewer, member, admin, owner).",
                       no_args_is_help=True)
app.add_typer(user_app, name="user")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$", re.I)


@app.command("ui")
def ui_command(
    host: str = typer.Option("127.0.0.1", "--host",
                             help="Interface to bind; non-loopback needs accounts (recruiter user add) or "
                                  "RECRUITER_PASSWORD."),
    port: int = typer.Option(8080, "--port", help="Port to serve on."),
) -> None:
    """Serve the web app (profiles, ranked prospects, pipeline board) on http://HOST:PORT.

    Example: recruiter ui --port 8080
    """
    from recruiter.core.security import LOOPBACK_HOSTS, password_required_message

    if host not in LOOPBACK_HOSTS and not _serving_allowed():
        fail(password_required_message(host), code=2)
    from ui.main import start

    start(host=host, port=port)


def _serving_allowed() -> bool:
    import os

    if os.environ.get("RECRUITER_PASSWORD"):
        return True
    from recruiter.accounts.users import accounts_enabled

    with session_scope() as session:
        return accounts_enabled(session=session)


def _role(value: str) -> str:
    role = (value or "").strip().lower()
    if role not in ROLES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(ROLES)}", param_hint="ROLE")
    return role


def _read_password(from_stdin: bool, *, confirm: bool = True) -> str:
    """The password from standard input (its first line) or a hidden prompt; never an argument."""
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if not sys.stdin.isatty():
        raise typer.BadParameter("give the password on standard input with --password-stdin (or run this in a "
                                 "terminal to type it)", param_hint="--password-stdin")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `2h` or `7d`."""
    match = _DURATION.match(text or "")
    if not match:
        raise typer.BadParameter(f"{text!r} is not a duration like 90s, 15m, 2h or 7d", param_hint="--expires")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2).lower()]
    return timedelta(**{unit: int(match.group(1))})


@user_app.command("add")
def user_add(
    email: str = typer.Argument(..., help="Their email address: what they log in with."),
    role: str = typer.Option(..., "--role", help="viewer, member, admin or owner."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Add a user with a password. The first user (an owner) switches the web app to accounts: from then on
    everyone logs in with an email and a password, on loopback too.

    Example: printf '%s\\n' "$PASSWORD" | recruiter user add ana@shop.example --role owner --password-stdin
    """
    from recruiter.accounts.users import add_user

    role = _role(role)
    password = _read_password(password_stdin)
    with session_scope() as session:
        added = add_user(email, role, password, actor=cli_actor(), session=session)
    typer.echo(f"added {added.email} ({added.role})", err=True)


@user_app.command("list")
def user_list(fmt: str = typer.Option("table", "--format", help="table or json.")) -> None:
    """List the users: email, role, disabled, last login.

    Example: recruiter user list --format json
    """
    from recruiter.accounts.users import list_users

    check_format(fmt, ("table", "json"))
    with session_scope() as session:
        rows = [u.as_dict() for u in list_users(session=session)]
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    emit(rows, "table", ["email", "role", "disabled", "password_set", "last_login_at"])


@user_app.command("role")
def user_role(email: str = typer.Argument(...), role: str = typer.Argument(..., help="The new role.")) -> None:
    """Give a user another role (it holds from their next action). Only an owner gives or takes the owner role,
    and the last owner keeps it.

    Example: recruiter user role m@example.com admin
    """
    from recruiter.accounts.users import set_role

    with session_scope() as session:
        changed = set_role(email, _role(role), actor=cli_actor(), session=session)
    typer.echo(f"{changed.email} is now {changed.role}", err=True)


@user_app.command("disable")
def user_disable(email: str = typer.Argument(...)) -> None:
    """Disable a user: their sessions end (their next page load shows the login) and they cannot log in.

    Example: recruiter user disable m@example.com
    """
    _set_disabled(email, True)


@user_app.command("enable")
def user_enable(email: str = typer.Argument(...)) -> None:
    """Let a disabled user log in again.

    Example: recruiter user enable m@example.com
    """
    _set_disabled(email, False)


def _set_disabled(email: str, disabled: bool) -> None:
    from recruiter.accounts.users import set_disabled

    with session_scope() as session:
        changed = set_disabled(email, disabled, actor=cli_actor(), session=session)
    typer.echo(f"{'disabled' if disabled else 'enabled'} {changed.email}", err=True)


@user_app.command("reset-password")
def user_reset_password(
    email: str = typer.Argument(...),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Set a new password for a user; their sessions end.

    Example: printf '%s\\n' "$NEW" | recruiter user reset-password m@example.com --password-stdin
    """
    from recruiter.accounts.users import reset_password

    password = _read_password(password_stdin)
    with session_scope() as session:
        reset_password(email, password, actor=cli_actor(), session=session)
    typer.echo(f"new password set for {email.strip().lower()}; their sessions ended", err=True)


@user_app.command("invite")
def user_invite(
    email: str = typer.Argument(...),
    role: str = typer.Option(..., "--role", help="viewer, member, admin or owner."),
    expires: str = typer.Option("7d", "--expires", help="How long the link works: 90s, 15m, 2h, 7d..."),
    base_url: str = typer.Option("", "--base-url", envvar="RECRUITER_PUBLIC_URL",
                                 help="The web app's address as the invited person reaches it "
                                      "(default http://127.0.0.1:8080)."),
) -> None:
    """Print a one-time link where the person chooses their own password. It works once, and not after it
    expires.

    Example: recruiter user invite m@example.com --role member --expires 2d --base-url https://recruiter.shop.example
    """
    from urllib.parse import quote

    from recruiter.accounts.users import invite

    span = parse_duration(expires)
    with session_scope() as session:
        made = invite(email, _role(role), expires=span, actor=cli_actor(), session=session)
    base = (base_url or "http://127.0.0.1:8080").rstrip("/")
    typer.echo(f"{base}/invite?token={quote(made.token)}")
    typer.echo(f"invitation for {made.email} ({made.role}), valid until {made.expires_at:%Y-%m-%d %H:%M} UTC; "
               "it works once", err=True)


@app.command("audit")
def audit_command(
    since: str | None = typer.Option(None, "--since", help="YYYY-MM-DD or a span back from today: 30d, 8w, 3m."),
    user: str | None = typer.Option(None, "--user", help="Only what this user did (an email, or cli:NAME)."),
    limit: int = typer.Option(200, "--limit", min=1, max=100_000, help="At most this many entries, newest first."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Who did what, when and from where: logins (with the address), stage changes, notes, emails sent, imports,
    exports, deletions, user, role and key changes.

    Example: recruiter audit --since 7d --user m@example.com --format json
    """
    from recruiter.accounts.audit import entries

    check_format(fmt, ("table", "json"))
    with session_scope() as session:
        rows = [e.as_dict() for e in entries(session=session, since=parse_since(since), user=user, limit=limit)]
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    emit(rows, "table", ["at", "user", "via", "ip", "action", "target"])
