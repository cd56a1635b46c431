"""People and invitations: the one place that adds, changes and removes access.

Rules kept here, for every face:
- emails are unique (compared lower-case); a role is one of viewer, member, admin, owner;
- at least one enabled owner always remains: the last one cannot be demoted or disabled;
- only an owner gives or takes the owner role (an admin can do everything else);
- a password has at least 8 characters and is stored only as its Argon2id hash;
- disabling someone or setting a new password ends their sessions; a new role holds from their next action;
- an invitation is a one-time link (its token's digest stored) that expires (7 days by default): the person
  chooses their own password, once.

The first user switches the app to accounts (`accounts_enabled`): from then on everyone logs in with an email.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, func, select

from recruiter.accounts import audit
from recruiter.accounts.login import end_user_sessions, hash_password
from recruiter.accounts.roles import OWNERSHIP, USERS, Actor, NotAllowed, check_role, require
from recruiter.core.db import lock_for_transaction
from recruiter.core.errors import InvalidValue, NotFound, RecruiterError
from recruiter.core.models import Invite, User, as_utc, iso_utc, utcnow

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
DEFAULT_INVITE_DAYS = 7
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class UserView:
    email: str
    role: str
    disabled: bool
    has_password: bool
    created_at: datetime
    last_login_at: datetime | None

    def as_dict(self) -> dict:
        return {"email": self.email, "role": self.role, "disabled": self.disabled,
                "password_set": self.has_password, "created_at": iso_utc(self.created_at),
                "last_login_at": iso_utc(self.last_login_at)}


def _view(user: User) -> UserView:
    return UserView(email=user.email, role=user.role, disabled=bool(user.disabled),
                    has_password=bool(user.password_hash), created_at=as_utc(user.created_at),
                    last_login_at=as_utc(user.last_login_at) if user.last_login_at else None)


def check_email(text: str) -> str:
    email = (text or "").strip().lower()
    if not _EMAIL.match(email) or "." not in email.rsplit("@", 1)[1]:
        raise InvalidValue(f"not an email address: {text!r}")
    return email


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidValue(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidValue(f"a password has at most {MAX_PASSWORD} characters")
    if password != password.strip("\r\n"):
        raise InvalidValue("the password ends with a line break: give it without one")
    return password


def accounts_enabled(*, session: Session) -> bool:
    """Whether any user exists: from the first one on, the web app logs people in by email."""
    return session.exec(select(User.id).limit(1)).first() is not None


def find_user(email: str, *, session: Session) -> User:
    user = session.exec(select(User).where(User.email == (email or "").strip().lower())).first()
    if user is None:
        raise NotFound(f"no user {email!r} (recruiter user list shows them)")
    return user


def list_users(*, session: Session) -> list[UserView]:
    return [_view(u) for u in session.exec(select(User).order_by(User.email)).all()]


def _owners_left(*, session: Session, without: int) -> int:
    return int(session.exec(select(func.count()).select_from(User).where(
        User.role == "owner", User.disabled.is_(False), User.id != without)).one())


def _check_owner_rule(actor: Actor, user: User | None, new_role: str | None, *, session: Session) -> None:
    """Only an owner touches the owner role, and one enabled owner always remains."""
    touches_owner = new_role == "owner" or (user is not None and user.role == "owner")
    if touches_owner:
        require(actor, OWNERSHIP, session=session)
    if user is not None and user.role == "owner" and not user.disabled and (new_role != "owner"):
        lock_for_transaction("owners", session=session)
        if _owners_left(session=session, without=int(user.id)) == 0:
            raise NotAllowed(f"{user.email} is the last owner: make someone else owner first")


def add_user(email: str, role: str, password: str | None, *, actor: Actor, session: Session) -> UserView:
    """A new user with a password (or none yet: then only an invitation lets them in)."""
    actor = require(actor, USERS, session=session)
    email, role = check_email(email), check_role(role)
    if password is not None:
        check_password(password)
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise InvalidValue(f"{email} already has an account (change it with `recruiter user role` or "
                           "`user reset-password`)")
    if accounts_enabled(session=session):
        _check_owner_rule(actor, None, role, session=session)
    elif role != "owner":
        # The first account makes the app log people in by email: it must be able to manage the rest.
        raise InvalidValue("the first user must be an owner (--role owner): they manage the others")
    user = User(email=email, role=role, password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    audit.record(actor, "user.add", email, {"role": role}, session=session)
    session.commit()
    return _view(user)


def set_role(email: str, role: str, *, actor: Actor, session: Session) -> UserView:
    actor = require(actor, USERS, session=session)
    role = check_role(role)
    user = find_user(email, session=session)
    if user.role == role:
        return _view(user)
    _check_owner_rule(actor, user, role, session=session)
    before = user.role
    user.role, user.updated_at = role, utcnow()
    session.add(user)
    audit.record(actor, "user.role", user.email, {"from": before, "to": role}, session=session)
    session.commit()
    return _view(user)


def set_disabled(email: str, disabled: bool, *, actor: Actor, session: Session) -> UserView:
    """Disable (their sessions end; the login refuses them) or enable again."""
    actor = require(actor, USERS, session=session)
    user = find_user(email, session=session)
    if bool(user.disabled) == disabled:
        return _view(user)
    if disabled:
        if user.id == actor.user_id:
            raise NotAllowed("you cannot disable yourself")
        _check_owner_rule(actor, user, None, session=session)
        end_user_sessions(int(user.id), session=session)
    elif user.role == "owner":
        require(actor, OWNERSHIP, session=session)
    user.disabled, user.updated_at = disabled, utcnow()
    session.add(user)
    audit.record(actor, "user.disable" if disabled else "user.enable", user.email, session=session)
    session.commit()
    return _view(user)


def reset_password(email: str, password: str, *, actor: Actor, session: Session) -> UserView:
    """A new password; every session of the user ends (whoever had the old one is logged out)."""
    actor = require(actor, USERS, session=session)
    check_password(password)
    user = find_user(email, session=session)
    if user.role == "owner" and user.id != actor.user_id:
        require(actor, OWNERSHIP, session=session)
    user.password_hash, user.updated_at = hash_password(password), utcnow()
    session.add(user)
    end_user_sessions(int(user.id), session=session)
    audit.record(actor, "user.password", user.email, session=session)
    session.commit()
    return _view(user)


# --- invitations ---------------------------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Invitation:
    email: str
    role: str
    token: str  # shown once, in the link; only its digest is stored
    expires_at: datetime


def invite(email: str, role: str, *, expires: timedelta | None = None, actor: Actor,
           session: Session) -> Invitation:
    actor = require(actor, USERS, session=session)
    email, role = check_email(email), check_role(role)
    if role == "owner":
        require(actor, OWNERSHIP, session=session)
    if not accounts_enabled(session=session):
        raise InvalidValue("add an owner first (`recruiter user add EMAIL --role owner`): invitations are for "
                           "the rest of the team")
    existing = session.exec(select(User).where(User.email == email)).first()
    if existing is not None and existing.password_hash:
        raise InvalidValue(f"{email} already has an account (use `recruiter user reset-password` or "
                           "`user enable`)")
    span = expires if expires is not None else timedelta(days=DEFAULT_INVITE_DAYS)
    if span.total_seconds() <= 0:
        raise InvalidValue("an invitation must expire in the future")
    token = secrets.token_urlsafe(32)
    row = Invite(token_hash=_digest(token), email=email, role=role, expires_at=utcnow() + span,
                 created_by=actor.name)
    session.add(row)
    audit.record(actor, "user.invite", email, {"role": role, "expires_at": iso_utc(row.expires_at)}, session=session)
    session.commit()
    return Invitation(email=email, role=role, token=token, expires_at=as_utc(row.expires_at))


@dataclass(frozen=True)
class PendingInvite:
    email: str
    role: str
    expires_at: datetime


def pending_invite(token: object, *, session: Session) -> PendingInvite:
    """The invitation a link's token names, if it can still be used; else InviteUnusable saying why."""
    if not isinstance(token, str) or not token or len(token) > 200:
        raise InviteUnusable("this invitation link is not valid")
    row = session.exec(select(Invite).where(Invite.token_hash == _digest(token))).first()
    if row is None:
        raise InviteUnusable("this invitation link is not valid")
    if row.used_at is not None:
        raise InviteUnusable("this invitation was already used: log in, or ask for a new one")
    if as_utc(row.expires_at) <= utcnow():
        raise InviteUnusable("this invitation has expired: ask for a new one")
    return PendingInvite(email=row.email, role=row.role, expires_at=as_utc(row.expires_at))


class InviteUnusable(RecruiterError):
    pass


def accept_invite(token: object, password: str, *, ip: str = "", session: Session) -> UserView:
    """Set the invited person's password, once: the link works a single time, and not after it expires."""
    pending = pending_invite(token, session=session)
    check_password(password)
    used = session.execute(update(Invite).where(Invite.token_hash == _digest(str(token)), Invite.used_at.is_(None),
                                                Invite.expires_at > utcnow())
                           .values(used_at=utcnow())).rowcount
    if not used:  # another request used it in between
        session.rollback()
        raise InviteUnusable("this invitation was already used: log in, or ask for a new one")
    user = session.exec(select(User).where(User.email == pending.email)).first()
    if user is None:
        user = User(email=pending.email, role=pending.role)
    elif user.password_hash:
        session.rollback()
        raise InviteUnusable(f"{pending.email} already has an account: log in")
    user.password_hash, user.role, user.disabled, user.updated_at = hash_password(password), pending.role, False, utcnow()
    session.add(user)
    session.flush()
    audit.record(Actor(name=user.email, role=user.role, via="web", ip=ip, user_id=user.id), "invite.accept",
                 user.email, {"role": user.role}, session=session)
    session.commit()
    return _view(user)
