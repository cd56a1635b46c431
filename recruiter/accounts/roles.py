"""Who may do what: the permissions of each role, the actor a face acts as, and the one check every service asks.

A viewer reads everything and changes nothing; a member works prospects (stages, notes, follow-ups, sequences,
discover, import) but manages no users, keys or platform settings and deletes nothing; an admin can do
everything but give or take the owner role; an owner can do everything. The faces never decide this themselves:
a service that changes something calls `require(actor, PERMISSION, session=...)`, which refuses with a sentence
the user can read, and the page hides what `allows` says the role cannot use.

A web actor carries its session: `require` reads that session and its user again, so disabling someone or
changing their role holds from their very next click, whichever process serves them. The command line is the
operator's tool on the machine (`Actor.cli`, acting as owner, recorded as `cli:OSUSER`).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlmodel import Session

from recruiter.core.config import env_seconds
from recruiter.core.errors import RecruiterError
from recruiter.core.models import User, UserSession, as_utc, utcnow
from recruiter.core.vocabulary import ROLES

READ = "read"
EXPORT = "export"
PROSPECTS = "prospects.work"  # stages, notes, follow-ups, feedback, owners
OUTREACH = "outreach.send"  # enrol in sequences and send
SEQUENCES = "sequences.edit"
DISCOVER = "discover"  # scrape, discover, retry jobs
IMPORT = "import"  # communities and performance files
PROFILES = "profiles.edit"
PARTNERS = "partners.work"  # links, activation steps
DELETE = "data.delete"
PLATFORM = "platform.settings"
SOURCES = "sources.credentials"
USERS = "users.manage"
AUDIT = "audit.read"
OWNERSHIP = "ownership.transfer"  # give or take the owner role

_VIEWER = {READ, EXPORT}
_MEMBER = _VIEWER | {PROSPECTS, OUTREACH, SEQUENCES, DISCOVER, IMPORT, PROFILES, PARTNERS}
_ADMIN = _MEMBER | {DELETE, PLATFORM, SOURCES, USERS, AUDIT}
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset(_VIEWER), "member": frozenset(_MEMBER), "admin": frozenset(_ADMIN),
    "owner": frozenset(_ADMIN | {OWNERSHIP}),
}
# How a refusal names what was asked.
WHAT = {
    READ: "read", EXPORT: "export data", PROSPECTS: "change prospects", OUTREACH: "enrol or send emails",
    SEQUENCES: "edit sequences", DISCOVER: "start scrapes or discoveries", IMPORT: "import files",
    PROFILES: "edit profiles", PARTNERS: "change partners", DELETE: "delete data",
    PLATFORM: "change platform settings", SOURCES: "change source keys", USERS: "manage users",
    AUDIT: "read the audit log", OWNERSHIP: "give or take the owner role",
}
DEFAULT_IDLE_SECONDS = 8 * 3600


class NotAllowed(RecruiterError):
    """The actor's role does not allow this; nothing was changed."""


class SessionEnded(RecruiterError):
    """The web session is over (logged out, expired, the user disabled): log in again."""


def check_role(role: str) -> str:
    value = (role or "").strip().lower()
    if value not in ROLES:
        raise RecruiterError(f"unknown role {role!r}: choose from {', '.join(ROLES)}")
    return value


def idle_seconds() -> float:
    """`RECRUITER_SESSION_IDLE_S`: a session unused this long is over (8 hours by default)."""
    return env_seconds("RECRUITER_SESSION_IDLE_S", DEFAULT_IDLE_SECONDS, minimum=60.0)


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the audit log names them, in which role, through which face and from where."""

    name: str  # an email, "cli:ana", "local", "shared password", "worker:w1"
    role: str
    via: str = "web"  # web, cli, worker
    ip: str = ""
    user_id: int | None = None
    session_id: str | None = None  # a web user's session (SHA-256 of its token)

    @classmethod
    def cli(cls) -> Actor:
        """The operator at the machine: the command line needs no login and acts as owner."""
        try:
            who = getpass.getuser()
        except Exception:  # no login name (a container without passwd entry)
            who = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
        return cls(name=f"cli:{who}", role="owner", via="cli")

    @classmethod
    def local(cls, ip: str = "") -> Actor:
        """The web app on loopback before any account exists: as today, no login, everything allowed."""
        return cls(name="local", role="owner", via="web", ip=ip)

    @classmethod
    def shared(cls, ip: str = "") -> Actor:
        """The web app beyond loopback before any account exists: logged in with RECRUITER_PASSWORD."""
        return cls(name="shared password", role="owner", via="web", ip=ip)

    @classmethod
    def system(cls, name: str) -> Actor:
        """Work the software does on its own (a worker running a queued job, a scheduled send)."""
        return cls(name=name, role="owner", via="worker")

    @property
    def is_user(self) -> bool:
        return self.user_id is not None

    def allows(self, permission: str) -> bool:
        """What the actor's role (as last read) allows: for pages deciding which controls to show."""
        return permission in PERMISSIONS.get(self.role, frozenset())


def _fresh(actor: Actor, *, session: Session) -> Actor:
    """A web user's actor as the database says now: the session alive, the user enabled, their current role."""
    if actor.session_id is None:
        if actor.via == "web" and actor.name in ("local", "shared password"):
            from sqlmodel import select

            if session.exec(select(User.id).limit(1)).first() is not None:
                raise SessionEnded("this app now has accounts: log in with your email and password")
        return actor
    row = session.get(UserSession, actor.session_id)
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or user.disabled:
        raise SessionEnded("your session has ended: log in again")
    if as_utc(row.last_seen_at) < utcnow() - timedelta(seconds=idle_seconds()):
        raise SessionEnded("your session expired after a while without use: log in again")
    return actor if user.role == actor.role else replace(actor, role=user.role)


def require(actor: Actor, permission: str, *, session: Session) -> Actor:
    """The actor, checked again where it can have changed, if its role allows ``permission``; else NotAllowed
    (or SessionEnded) with a sentence saying why. Call it before changing anything."""
    current = _fresh(actor, session=session)
    if not current.allows(permission):
        raise NotAllowed(f"{current.name} is a {current.role}: a {current.role} cannot "
                         f"{WHAT.get(permission, permission)}")
    return current


__all__ = ["AUDIT", "DELETE", "DISCOVER", "EXPORT", "IMPORT", "OUTREACH", "OWNERSHIP", "PARTNERS", "PERMISSIONS",
           "PLATFORM", "PROFILES", "PROSPECTS", "READ", "ROLES", "SEQUENCES", "SOURCES", "USERS", "Actor",
           "NotAllowed", "SessionEnded", "check_role", "require"]
