"""The audit log: who did what, when, and from where.

A service that changes something records an entry in the same session as the change, so the entry is committed
with it or not at all (a refused or failed change leaves no trace claiming it happened). Logins (success and
failure, with the address), stage changes, notes, emails sent, imports, exports, deletions, user and role
changes and key changes are recorded. Entries are never edited; `entries` reads them back newest first for
`recruiter audit` and the Audit page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlmodel import Session, func, select

from recruiter.accounts.roles import Actor
from recruiter.core.models import AuditEntry, as_utc, iso_utc

MAX_SHOWN = 1000
_DETAIL_TEXT = 500  # a note's text is kept whole in the prospect; the log keeps its start


def record(actor: Actor, action: str, target: str = "", detail: dict[str, Any] | None = None, *,
           session: Session) -> AuditEntry:
    """Add an entry to ``session`` (committed with the change it describes)."""
    clean: dict[str, Any] = {}
    for key, value in (detail or {}).items():
        if isinstance(value, str) and len(value) > _DETAIL_TEXT:
            value = value[: _DETAIL_TEXT - 1] + "…"
        clean[key] = value
    entry = AuditEntry(actor=actor.name[:400], via=actor.via, ip=(actor.ip or "")[:64], action=action[:60],
                       target=(target or "")[:2048], detail=clean)
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditView:
    at: datetime
    actor: str
    via: str
    ip: str
    action: str
    target: str
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"at": iso_utc(self.at), "user": self.actor, "via": self.via, "ip": self.ip or None,
                "action": self.action, "target": self.target or None, "detail": dict(self.detail)}


def _start_of(day: date | datetime) -> datetime:
    if isinstance(day, datetime):
        return as_utc(day)
    return datetime.combine(day, time.min, tzinfo=UTC)


def entries(*, session: Session, since: date | datetime | None = None, user: str | None = None,
            action: str | None = None, limit: int = MAX_SHOWN) -> list[AuditView]:
    """Entries newest first; ``user`` matches the actor exactly (an email, `cli:NAME`), case-insensitively."""
    query = select(AuditEntry)
    if since is not None:
        query = query.where(AuditEntry.at >= _start_of(since))
    if user:
        query = query.where(func.lower(AuditEntry.actor) == user.strip().lower())
    if action:
        query = query.where(AuditEntry.action == action)
    rows = session.exec(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(max(1, limit))).all()
    return [AuditView(at=as_utc(r.at), actor=r.actor, via=r.via, ip=r.ip, action=r.action, target=r.target,
                      detail=dict(r.detail or {})) for r in rows]
