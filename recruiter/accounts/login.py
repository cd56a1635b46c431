"""Logging in: passwords, the lockout, and sessions kept on the server.

- **Passwords** are hashed with Argon2id (pwdlib), never stored or logged in the clear. An unknown email costs
  the same hashing as a known one, so timing does not tell which addresses have accounts.
- **The lockout** lives in the database, so it holds across restarts and across several `recruiter ui`
  processes on one PostgreSQL: 5 failed logins within 15 minutes for one account lock that account for
  `RECRUITER_LOGIN_LOCK_S` seconds (900 by default), and the same rule applies per address. A lock, while it
  holds, refuses the right password too. Every attempt is a row of `login_attempt` and an audit entry.
- **Sessions** are rows of `user_session`: the browser's cookie carries a random token, the row its SHA-256, so
  the database never holds what logs a browser in. A session unused for `RECRUITER_SESSION_IDLE_S` (8 hours)
  is over; ending one (log out, disable, a new password) is deleting its row.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlmodel import Session, select

from recruiter.accounts import audit
from recruiter.accounts.roles import Actor, idle_seconds
from recruiter.core.config import env_seconds
from recruiter.core.db import lock_for_transaction
from recruiter.core.errors import RecruiterError
from recruiter.core.models import LoginAttempt, LoginLock, User, UserSession, as_utc, utcnow

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
DEFAULT_LOCK_SECONDS = 900
TOUCH_EVERY = timedelta(seconds=60)  # a session's last use is written at most once a minute
SHARED = "(shared password)"  # the account name of RECRUITER_PASSWORD's login, before accounts
_EMAIL = re.compile(r"^[^@\s]{1,200}@[^@\s]{1,200}$")

_hasher = None


def hasher():
    global _hasher
    if _hasher is None:
        from pwdlib import PasswordHash
        from pwdlib.hashers.argon2 import Argon2Hasher

        _hasher = PasswordHash((Argon2Hasher(),))
    return _hasher


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        hasher().hash(password)  # the same work as a real check: timing tells nothing
        return False
    try:
        return bool(hasher().verify(password, stored))
    except Exception:  # a malformed stored hash is a failed check, not a crash
        return False


def lock_seconds() -> float:
    """`RECRUITER_LOGIN_LOCK_S`: how long a lock holds (900 s by default)."""
    return env_seconds("RECRUITER_LOGIN_LOCK_S", DEFAULT_LOCK_SECONDS, minimum=1.0)


def shown_login(text: str) -> str:
    """What the audit log may say about a typed login name: an email as typed (lower-case), anything else is
    not named (it could be a password typed into the wrong field)."""
    candidate = (text or "").strip().lower()
    return candidate if _EMAIL.match(candidate) else "(not an email address)"


class LoginRefused(RecruiterError):
    """Wrong email or password, or a lock; ``locked_for`` says for how long when it is a lock."""

    def __init__(self, message: str, *, locked_for: float = 0.0) -> None:
        super().__init__(message)
        self.locked_for = locked_for


# --- the lockout -------------------------------------------------------------------------------------------

def _keys(email: str, ip: str) -> list[str]:
    return [f"account:{email}"] + ([f"ip:{ip}"] if ip else [])


def locked_for(email: str, ip: str, *, session: Session) -> float:
    """Seconds until logging in as ``email`` from ``ip`` is possible again (0 when it is now)."""
    now = utcnow()
    left = 0.0
    for key in _keys(email, ip):
        lock = session.get(LoginLock, key)
        if lock is not None and as_utc(lock.until) > now:
            left = max(left, (as_utc(lock.until) - now).total_seconds())
    return left


def _failures_since(key: str, since: datetime, *, session: Session) -> int:
    kind, _, value = key.partition(":")
    column = LoginAttempt.email if kind == "account" else LoginAttempt.ip
    return int(session.exec(select(func.count()).select_from(LoginAttempt)
                            .where(column == value, LoginAttempt.success.is_(False), LoginAttempt.at > since)).one())


def _last_success(key: str, *, session: Session) -> datetime | None:
    kind, _, value = key.partition(":")
    column = LoginAttempt.email if kind == "account" else LoginAttempt.ip
    found = session.exec(select(func.max(LoginAttempt.at)).where(column == value, LoginAttempt.success.is_(True))).one()
    return as_utc(found) if found else None


def _note_failure(email: str, ip: str, *, session: Session) -> float:
    """Record a failed attempt; lock what reached MAX_FAILURES. Returns how long logging in is now locked."""
    now = utcnow()
    session.add(LoginAttempt(email=email, ip=ip, success=False, at=now))
    session.flush()
    for key in _keys(email, ip):
        lock_for_transaction(f"login:{key}", session=session)
        lock = session.get(LoginLock, key)
        since = now - WINDOW
        for later in (as_utc(lock.locked_at) if lock is not None else None, _last_success(key, session=session)):
            if later is not None and later > since:
                since = later  # after a lock or a success, five more failures are needed to lock again
        if _failures_since(key, since, session=session) >= MAX_FAILURES:
            until = now + timedelta(seconds=lock_seconds())
            if lock is None:
                session.add(LoginLock(key=key, locked_at=now, until=until))
            else:
                lock.locked_at, lock.until = now, until
                session.add(lock)
    session.flush()
    return locked_for(email, ip, session=session)


def _refused_for_lock(left: float) -> LoginRefused:
    return LoginRefused(f"Too many failed logins: logging in is locked for {max(1, round(left))} s.", locked_for=left)


# --- logging in ----------------------------------------------------------------------------------------------

def authenticate(email: str, password: str, *, ip: str, session: Session) -> User:
    """The user whose email and password these are, or LoginRefused (wrong, disabled or locked). The attempt is
    recorded (and audited) either way, and committed."""
    typed = (email or "").strip().lower()[:320]
    who = Actor(name=shown_login(typed), role="viewer", via="web", ip=ip)
    left = locked_for(typed, ip, session=session)
    if left > 0:
        session.add(LoginAttempt(email=typed, ip=ip, success=False))
        audit.record(who, "login.refused", detail={"reason": "locked", "locked_for_s": round(left)}, session=session)
        session.commit()
        raise _refused_for_lock(left)
    user = session.exec(select(User).where(User.email == typed)).first()
    ok = verify_password(password or "", user.password_hash if user is not None else None)
    if not ok or user is None or user.disabled:
        left = _note_failure(typed, ip, session=session)
        reason = "disabled" if ok and user is not None and user.disabled else "wrong email or password"
        audit.record(who, "login.failed", detail={"reason": reason}, session=session)
        session.commit()
        if left > 0:
            raise _refused_for_lock(left)
        raise LoginRefused("Wrong email or password.")
    session.add(LoginAttempt(email=typed, ip=ip, success=True))
    user.last_login_at = utcnow()
    session.add(user)
    audit.record(Actor(name=user.email, role=user.role, via="web", ip=ip, user_id=user.id), "login.success",
                 session=session)
    session.commit()
    return user


def shared_password_login(ok: bool, *, ip: str, session: Session) -> None:
    """The same lockout and log for RECRUITER_PASSWORD's login (before accounts): LoginRefused unless ``ok`` and
    not locked."""
    left = locked_for(SHARED, ip, session=session)
    who = Actor.shared(ip)
    if left > 0:
        audit.record(who, "login.refused", detail={"reason": "locked"}, session=session)
        session.commit()
        raise _refused_for_lock(left)
    if not ok:
        left = _note_failure(SHARED, ip, session=session)
        audit.record(who, "login.failed", detail={"reason": "wrong password"}, session=session)
        session.commit()
        if left > 0:
            raise _refused_for_lock(left)
        raise LoginRefused("Wrong password.")
    session.add(LoginAttempt(email=SHARED, ip=ip, success=True))
    audit.record(who, "login.success", session=session)
    session.commit()


# --- sessions --------------------------------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def start_session(user: User, *, ip: str, user_agent: str = "", session: Session) -> str:
    """A new session for ``user``: returns the token for the browser's cookie (only its digest is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(id=_digest(token), user_id=int(user.id), ip=ip[:64], user_agent=user_agent[:300]))
    session.commit()
    return token


@dataclass(frozen=True)
class SignedIn:
    """A live session and its user, as a face needs them."""

    session_id: str
    user_id: int
    email: str
    role: str

    def actor(self, ip: str = "") -> Actor:
        return Actor(name=self.email, role=self.role, via="web", ip=ip, user_id=self.user_id,
                     session_id=self.session_id)


def session_user(token: object, *, session: Session) -> SignedIn | None:
    """The live session a cookie's token names, or None (unknown, ended, idle too long, the user disabled).
    Marks it used (at most once a minute)."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    row = session.get(UserSession, _digest(token))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    now = utcnow()
    if user is None or user.disabled or as_utc(row.last_seen_at) < now - timedelta(seconds=idle_seconds()):
        session.delete(row)
        session.commit()
        return None
    if as_utc(row.last_seen_at) < now - TOUCH_EVERY:
        session.execute(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now))
        session.commit()
    return SignedIn(session_id=row.id, user_id=int(user.id), email=user.email, role=user.role)


def end_session(token: object, *, session: Session, actor: Actor | None = None) -> None:
    if not isinstance(token, str) or not token:
        return
    row = session.get(UserSession, _digest(token))
    if row is not None:
        session.delete(row)
        if actor is not None:
            audit.record(actor, "logout", session=session)
        session.commit()


def end_user_sessions(user_id: int, *, session: Session) -> int:
    """End every session of a user (disabled, a new password); committed by the caller."""
    return int(session.execute(delete(UserSession).where(UserSession.user_id == user_id)).rowcount or 0)
