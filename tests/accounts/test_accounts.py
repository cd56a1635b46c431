"""The accounts domain on its own: roles and the check every service asks, the owner rules, the lockout kept in
the database, sessions, invitations and the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from recruiter.accounts import audit
from recruiter.accounts.login import (
    LoginRefused,
    authenticate,
    end_session,
    locked_for,
    session_user,
    shared_password_login,
    start_session,
)
from recruiter.accounts.roles import (
    AUDIT,
    DELETE,
    PROSPECTS,
    READ,
    SOURCES,
    Actor,
    NotAllowed,
    SessionEnded,
    require,
)
from recruiter.accounts.users import (
    InviteUnusable,
    accept_invite,
    accounts_enabled,
    add_user,
    invite,
    list_users,
    pending_invite,
    reset_password,
    set_disabled,
    set_role,
)
from recruiter.core.errors import InvalidValue
from recruiter.core.models import LoginLock, User, UserSession, utcnow

CLI = Actor.cli()
PASSWORD = "correct horse"


@pytest.fixture
def team(session):
    """o@ (owner), a@ (admin), m@ (member), v@ (viewer), added by the operator at the command line."""
    for email, role in (("o@example.com", "owner"), ("a@example.com", "admin"), ("m@example.com", "member"),
                        ("v@example.com", "viewer")):
        add_user(email, role, PASSWORD, actor=CLI, session=session)
    return session


def web(session, email: str, ip: str = "203.0.113.7") -> Actor:
    """The actor of a fresh web session of ``email`` (as the pages get it)."""
    user = authenticate(email, PASSWORD, ip=ip, session=session)
    token = start_session(user, ip=ip, session=session)
    return session_user(token, session=session).actor(ip)


def test_each_role_may_do_what_the_issue_says(team):
    viewer, member, admin, owner = (web(team, f"{x}@example.com") for x in "vmao")
    assert viewer.allows(READ) and not viewer.allows(PROSPECTS)
    assert member.allows(PROSPECTS) and not member.allows(DELETE) and not member.allows(SOURCES)
    assert admin.allows(DELETE) and admin.allows(AUDIT)
    with pytest.raises(NotAllowed, match="a viewer cannot change prospects"):
        require(viewer, PROSPECTS, session=team)
    with pytest.raises(NotAllowed, match="a member cannot delete data"):
        require(member, DELETE, session=team)
    assert require(owner, DELETE, session=team).role == "owner"


def test_a_role_change_or_a_disable_counts_at_the_next_action(team):
    member = web(team, "m@example.com")
    set_role("m@example.com", "viewer", actor=CLI, session=team)
    with pytest.raises(NotAllowed, match="viewer"):
        require(member, PROSPECTS, session=team)  # the page still thinks "member": the database decides
    set_disabled("m@example.com", True, actor=CLI, session=team)
    with pytest.raises(SessionEnded):
        require(member, READ, session=team)
    assert team.get(UserSession, member.session_id) is None  # the session itself is gone


def test_the_first_user_is_an_owner_and_switches_the_app_to_accounts(session):
    assert not accounts_enabled(session=session)
    with pytest.raises(InvalidValue, match="first user must be an owner"):
        add_user("m@example.com", "member", PASSWORD, actor=CLI, session=session)
    add_user("O@Example.com", "owner", PASSWORD, actor=CLI, session=session)
    assert accounts_enabled(session=session) and [u.email for u in list_users(session=session)] == ["o@example.com"]
    with pytest.raises(InvalidValue, match="already has an account"):
        add_user("o@example.com", "viewer", PASSWORD, actor=CLI, session=session)
    with pytest.raises(SessionEnded, match="accounts"):  # a page opened before accounts no longer acts
        require(Actor.local(), READ, session=session)
    with pytest.raises(InvalidValue, match="8 characters"):
        add_user("x@example.com", "viewer", "short", actor=CLI, session=session)


def test_one_owner_always_remains_and_only_owners_touch_the_owner_role(team):
    admin = web(team, "a@example.com")
    with pytest.raises(NotAllowed, match="owner role"):
        set_role("m@example.com", "owner", actor=admin, session=team)
    with pytest.raises(NotAllowed, match="owner role"):
        set_disabled("o@example.com", True, actor=admin, session=team)
    with pytest.raises(NotAllowed, match="last owner"):
        set_role("o@example.com", "admin", actor=CLI, session=team)
    with pytest.raises(NotAllowed, match="last owner"):
        set_disabled("o@example.com", True, actor=CLI, session=team)
    set_role("a@example.com", "owner", actor=CLI, session=team)
    set_role("o@example.com", "member", actor=CLI, session=team)  # now another owner remains
    assert {u.email: u.role for u in list_users(session=team)}["o@example.com"] == "member"
    member = web(team, "m@example.com")
    with pytest.raises(NotAllowed, match="manage users"):
        set_role("v@example.com", "member", actor=member, session=team)


def test_five_failures_lock_the_account_and_the_address_until_the_window_passes(team, monkeypatch):
    monkeypatch.setenv("RECRUITER_LOGIN_LOCK_S", "600")
    for _ in range(4):
        with pytest.raises(LoginRefused, match="Wrong email or password"):
            authenticate("m@example.com", "wrong password", ip="198.51.100.1", session=team)
    with pytest.raises(LoginRefused, match="locked") as locked:
        authenticate("m@example.com", "wrong password", ip="198.51.100.1", session=team)
    assert 590 < locked.value.locked_for <= 600
    with pytest.raises(LoginRefused, match="locked"):  # the right password too, while it holds
        authenticate("m@example.com", PASSWORD, ip="192.0.2.9", session=team)
    with pytest.raises(LoginRefused, match="locked"):  # and anyone from that address
        authenticate("v@example.com", PASSWORD, ip="198.51.100.1", session=team)
    assert authenticate("v@example.com", PASSWORD, ip="192.0.2.9", session=team).email == "v@example.com"
    # The window passes (the locks' time is moved back instead of sleeping): the right password works.
    team.execute(update(LoginLock).values(until=utcnow() - timedelta(seconds=1),
                                          locked_at=utcnow() - timedelta(seconds=601)))
    team.commit()
    assert locked_for("m@example.com", "198.51.100.1", session=team) == 0
    assert authenticate("m@example.com", PASSWORD, ip="198.51.100.1", session=team).email == "m@example.com"
    failed = [e for e in audit.entries(session=team) if e.action == "login.failed"]
    assert len(failed) == 5 and {e.ip for e in failed} == {"198.51.100.1"} and failed[0].actor == "m@example.com"


def test_unknown_emails_are_locked_too_and_a_password_is_never_logged_as_a_name(team):
    for _ in range(5):
        with pytest.raises(LoginRefused):
            authenticate("my secret password", "x", ip="198.51.100.2", session=team)
    entries = audit.entries(session=team)
    assert all("secret" not in e.actor for e in entries) and entries[0].actor == "(not an email address)"
    assert locked_for("my secret password", "198.51.100.2", session=team) > 0


def test_a_disabled_user_cannot_log_in_and_a_new_password_ends_sessions(team):
    member = web(team, "m@example.com")
    reset_password("m@example.com", "another password", actor=CLI, session=team)
    with pytest.raises(SessionEnded):
        require(member, READ, session=team)
    set_disabled("m@example.com", True, actor=CLI, session=team)
    with pytest.raises(LoginRefused):
        authenticate("m@example.com", "another password", ip="192.0.2.1", session=team)
    set_disabled("m@example.com", False, actor=CLI, session=team)
    assert authenticate("m@example.com", "another password", ip="192.0.2.1", session=team)


def test_sessions_end_when_logged_out_or_idle(team, monkeypatch):
    user = authenticate("v@example.com", PASSWORD, ip="192.0.2.1", session=team)
    token = start_session(user, ip="192.0.2.1", session=team)
    stored = team.exec(__import__("sqlmodel").select(UserSession)).all()
    assert token not in {s.id for s in stored}  # only the token's digest is stored
    assert session_user(token, session=team).email == "v@example.com"
    end_session(token, session=team, actor=Actor.cli())
    assert session_user(token, session=team) is None
    token = start_session(user, ip="192.0.2.1", session=team)
    monkeypatch.setenv("RECRUITER_SESSION_IDLE_S", "60")
    team.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(seconds=61)))
    team.commit()
    assert session_user(token, session=team) is None
    assert session_user("not-a-token", session=team) is None and session_user(None, session=team) is None


def test_an_invitation_sets_a_password_once_and_not_after_it_expires(team):
    made = invite("new@example.com", "member", expires=timedelta(days=1), actor=CLI, session=team)
    assert pending_invite(made.token, session=team).role == "member"
    accept_invite(made.token, "chosen password", ip="192.0.2.3", session=team)
    assert authenticate("new@example.com", "chosen password", ip="192.0.2.3", session=team).role == "member"
    with pytest.raises(InviteUnusable, match="already used"):
        accept_invite(made.token, "another password", ip="192.0.2.3", session=team)
    late = invite("late@example.com", "viewer", expires=timedelta(seconds=1), actor=CLI, session=team)
    from recruiter.core.models import Invite

    team.execute(update(Invite).where(Invite.email == "late@example.com")
                 .values(expires_at=utcnow() - timedelta(seconds=1)))
    team.commit()
    with pytest.raises(InviteUnusable, match="expired"):
        accept_invite(late.token, "chosen password", session=team)
    with pytest.raises(InviteUnusable, match="not valid"):
        accept_invite("forged", "chosen password", session=team)
    member = web(team, "m@example.com")
    with pytest.raises(NotAllowed):
        invite("x@example.com", "viewer", actor=member, session=team)
    admin = web(team, "a@example.com")
    with pytest.raises(NotAllowed, match="owner role"):
        invite("x@example.com", "owner", actor=admin, session=team)
    actions = [e.action for e in audit.entries(session=team)]
    assert "user.invite" in actions and "invite.accept" in actions


def test_the_shared_password_lockout_is_kept_in_the_database(session, monkeypatch):
    monkeypatch.setenv("RECRUITER_LOGIN_LOCK_S", "30")
    for _ in range(4):
        with pytest.raises(LoginRefused, match="Wrong password"):
            shared_password_login(False, ip="192.0.2.8", session=session)
    with pytest.raises(LoginRefused, match="locked"):
        shared_password_login(False, ip="192.0.2.8", session=session)
    with pytest.raises(LoginRefused, match="locked"):
        shared_password_login(True, ip="192.0.2.99", session=session)  # the shared account itself is locked


def test_audit_entries_read_back_filtered_newest_first(team):
    for n in range(3):
        audit.record(CLI, "prospect.note", f"https://example.com/{n}", {"text": "x" * 900}, session=team)
    team.commit()
    rows = audit.entries(session=team, user="cli:" + CLI.name.split(":", 1)[1], action="prospect.note")
    assert [r.target for r in rows] == ["https://example.com/2", "https://example.com/1", "https://example.com/0"]
    assert len(rows[0].detail["text"]) == 500 and rows[0].as_dict()["via"] == "cli"
    assert audit.entries(session=team, since=utcnow() + timedelta(days=1)) == []
    assert team.get(User, 1).email == "o@example.com"
