"""The data model: communities, ideal-client profiles, matches, the outreach pipeline, activities and jobs.

Models follow the `XBase` / `XCreate` / `X(table=True)` shape: the base holds the fields a user gives, the
table adds ids, timestamps and what the system derives. Lists (recent posts, emails, keywords...) are JSON
columns: they are read whole and never queried inside.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from recruiter.core.errors import InvalidValue
from recruiter.core.vocabulary import KINDS, ROLES, STAGES, CommunityKind, Stage  # noqa: F401


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A stored datetime as an aware UTC one (SQLite hands back naive datetimes; they were written as UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def iso_utc(value: datetime | date | None) -> str | None:
    """How read models write a time in JSON: a stored datetime as ISO 8601 in UTC to the second, a date as
    itself, None as None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value).isoformat(timespec="seconds")
    return value.isoformat()


# The kinds and stages live in `recruiter.core.vocabulary` (light to import for the CLI); re-exported here.
# Stages at which the community has heard from us: a second first-contact would be double outreach. `declined`
# is not one of them: a community can be declined as not a fit without ever being written to.
CONTACTED_STAGES = {"contacted", "replied", "negotiating", "joined", "activated", "performing"}
PARTNER_STAGES = {"joined", "activated", "performing"}
# Activities that mean we reached out (the double-contact guard looks for these as well as stage moves).
CONTACT_ACTIVITY_KINDS = ("contacted", "email", "mailto", "copied_template")


def check_stage(value: str) -> str:
    """A stage name as stored, or `InvalidValue` naming the stages."""
    stage = (value or "").strip().lower()
    if stage not in STAGES:
        raise InvalidValue(f"unknown stage {value!r} (stages: {', '.join(STAGES)})")
    return stage


class Feedback(StrEnum):
    shortlist = "shortlist"
    not_a_fit = "not_a_fit"


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False, default=list))


def _json_dict() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict))


# --- communities -----------------------------------------------------------------------------------------

class CommunityBase(SQLModel):
    url: str = Field(max_length=2048)
    kind: str = Field(default="other", max_length=20, index=True)
    name: str = Field(default="", max_length=500)
    title: str = Field(default="", max_length=1000)
    description: str = Field(default="")
    language: str | None = Field(default=None, max_length=20)
    audience_size: int | None = Field(default=None, index=True)
    site_name: str | None = Field(default=None, max_length=500)
    author: str | None = Field(default=None, max_length=500)
    feed_url: str | None = Field(default=None, max_length=2048, index=True)


class Community(CommunityBase, table=True):
    __table_args__ = (UniqueConstraint("url", name="uq_community_url"),)

    id: int | None = Field(default=None, primary_key=True)
    recent_posts: list[str] = _json_list()
    emails: list[str] = _json_list()
    socials: list[str] = _json_list()
    extra: dict[str, Any] = _json_dict()
    source: str = Field(default="import", max_length=50)
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    # Digest of the text the embedding is computed from: equal digests never embed twice.
    content_hash: str = Field(default="", max_length=64, index=True)


class EmbeddingCache(SQLModel, table=True):
    """One vector per (model, text digest): the index can be rebuilt without re-embedding anything."""

    __tablename__ = "embedding_cache"
    content_hash: str = Field(primary_key=True, max_length=64)
    model: str = Field(primary_key=True, max_length=200)
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


# --- profiles and matches --------------------------------------------------------------------------------

class ProfileBase(SQLModel):
    name: str = Field(max_length=200)
    description: str = ""


class ProfileCreate(ProfileBase):
    keywords: list[str] = []
    exclusions: list[str] = []
    examples: list[str] = []


class Profile(ProfileBase, table=True):
    __table_args__ = (UniqueConstraint("name", name="uq_profile_name"),)

    id: int | None = Field(default=None, primary_key=True)
    keywords: list[str] = _json_list()
    exclusions: list[str] = _json_list()
    examples: list[str] = _json_list()
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None


class Match(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("profile_id", "community_id", name="uq_match_profile_community"),
        Index("ix_match_profile_score", "profile_id", "score"),
    )

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="profile.id", ondelete="CASCADE")
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE", index=True)
    score: float
    fit: int
    why: str = ""
    rank: int | None = None
    ranked_at: datetime = Field(default_factory=utcnow)


# --- outreach pipeline ------------------------------------------------------------------------------------

class ProspectBase(SQLModel):
    stage: str = Field(default="discovered", max_length=20, index=True)
    notes: str = ""
    next_follow_up: date | None = Field(default=None, index=True)
    feedback: str | None = Field(default=None, max_length=20)


class Prospect(ProspectBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", unique=True, ondelete="CASCADE")
    profile_id: int | None = Field(default=None, foreign_key="profile.id", ondelete="SET NULL")
    # Who works it: by default the person who shortlisted it (None before accounts, or when that user is gone).
    owner_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    stage_changed_at: datetime = Field(default_factory=utcnow)


class StageChange(SQLModel, table=True):
    """The prospect's stage history: every move, when, and from where."""

    __tablename__ = "stage_change"
    id: int | None = Field(default=None, primary_key=True)
    prospect_id: int = Field(foreign_key="prospect.id", index=True, ondelete="CASCADE")
    from_stage: str | None = None
    to_stage: str
    at: datetime = Field(default_factory=utcnow)
    note: str = ""


class Activity(SQLModel, table=True):
    """Something that happened on a prospect: a note, an email sent, a reply, a reminder, a feedback."""

    id: int | None = Field(default=None, primary_key=True)
    prospect_id: int = Field(foreign_key="prospect.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=40)
    detail: str = ""
    data: dict[str, Any] = _json_dict()
    at: datetime = Field(default_factory=utcnow, index=True)


# --- partners: referral codes, tracked links, the activation checklist, daily performance ----------------
# A partner is a community whose prospect is `joined` or later. Everything here hangs off the community (not the
# prospect) because a referral code and performance rows name a community, and a community has one prospect.

class ReferralCode(SQLModel, table=True):
    """The partner's stable code: made once, never changed, so links already shared keep working."""

    __tablename__ = "referral_code"
    __table_args__ = (UniqueConstraint("community_id", name="uq_referral_code_community"),
                      UniqueConstraint("code", name="uq_referral_code_code"))

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE")
    code: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class TrackedLink(SQLModel, table=True):
    """A destination made trackable for one partner in the format of one platform."""

    __tablename__ = "tracked_link"
    __table_args__ = (UniqueConstraint("community_id", "destination", "platform", name="uq_tracked_link"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE", index=True)
    destination: str = Field(max_length=2048)
    platform: str = Field(max_length=40)
    tracked_url: str = Field(max_length=4096)
    created_at: datetime = Field(default_factory=utcnow)


class ActivationStep(SQLModel, table=True):
    """One ticked item of a partner's activation checklist (welcome sent, link created...)."""

    __tablename__ = "activation_step"
    __table_args__ = (UniqueConstraint("community_id", "step", name="uq_activation_step"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE", index=True)
    step: str = Field(max_length=40)
    done_at: datetime = Field(default_factory=utcnow)
    source: str = Field(default="manual", max_length=40)  # manual, link, performance
    note: str = ""


class PerformanceDay(SQLModel, table=True):
    """A partner's numbers for one day as reported by one platform.

    Keyed by (community, day, platform): a later export that covers the same day replaces the numbers (late
    conversions and refunds make the newest export the truest), so overlapping exports never double count."""

    __tablename__ = "performance_day"
    __table_args__ = (UniqueConstraint("community_id", "day", "platform", name="uq_performance_day"),
                      Index("ix_performance_day_day", "day"))

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE", index=True)
    day: date
    platform: str = Field(default="manual", max_length=40)
    clicks: int = 0
    conversions: int = 0
    revenue: float = 0.0
    commission: float = 0.0
    source_file: str = Field(default="", max_length=500)
    row_hash: str = Field(default="", max_length=64)  # digest of the source rows, for tracing a number back
    imported_at: datetime = Field(default_factory=utcnow)


# --- email sequences: steps, enrollments, the messages they send, suppressions, replies read ---------------
# A sequence's steps are sent by `recruiter outreach send` (a cron line or a periodic task) and stopped by what
# `recruiter outreach sync` reads in the mailbox. Every outbound message is a row before it is sent: a send claims
# it with one atomic UPDATE, so two overlapping runs never send the same step twice.

ENROLLMENT_STATES = ("active", "replied", "bounced", "opted-out", "finished", "stopped")
MESSAGE_STATES = ("due", "claimed", "sent", "failed", "cancelled")


class EmailSequence(SQLModel, table=True):
    """A named, ordered list of emails (`SequenceStep`)."""

    __tablename__ = "email_sequence"
    __table_args__ = (UniqueConstraint("name", name="uq_email_sequence_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SequenceStep(SQLModel, table=True):
    """One email of a sequence: sent `wait_days` after the previous step (after enrolment for the first)."""

    __tablename__ = "sequence_step"
    __table_args__ = (UniqueConstraint("sequence_id", "position", name="uq_sequence_step_position"),)

    id: int | None = Field(default=None, primary_key=True)
    sequence_id: int = Field(foreign_key="email_sequence.id", ondelete="CASCADE", index=True)
    position: int  # 1, 2, 3...
    wait_days: int = 0
    subject: str = Field(max_length=500)
    body: str = ""


class Enrollment(SQLModel, table=True):
    """A prospect going through a sequence, at one address.

    `step` counts the steps sent so far; `next_at` is when the next one is due (None once it stopped). At most one
    active enrollment per prospect (a partial unique index), so two enrolments at once cannot double the mail."""

    __tablename__ = "enrollment"
    __table_args__ = (
        Index("uq_enrollment_active_prospect", "prospect_id", unique=True,
              sqlite_where=text("state = 'active'"), postgresql_where=text("state = 'active'")),
        UniqueConstraint("token", name="uq_enrollment_token"),
    )

    id: int | None = Field(default=None, primary_key=True)
    prospect_id: int = Field(foreign_key="prospect.id", ondelete="CASCADE", index=True)
    community_id: int = Field(foreign_key="community.id", ondelete="CASCADE", index=True)
    sequence_id: int | None = Field(default=None, foreign_key="email_sequence.id", ondelete="SET NULL", index=True)
    sequence_name: str = Field(max_length=200)  # kept when the sequence is deleted
    profile_id: int | None = Field(default=None, foreign_key="profile.id", ondelete="SET NULL")
    email: str = Field(max_length=320, index=True)
    step: int = 0
    state: str = Field(default="active", max_length=20, index=True)
    next_at: datetime | None = Field(default=None, index=True)
    token: str = Field(max_length=64)  # the unsubscribe token of this enrollment
    enrolled_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    end_reason: str = ""


class OutboundMessage(SQLModel, table=True):
    """One step's email to one enrollment: due → claimed → sent (or failed / cancelled).

    The Message-ID is stored before the message is handed to the server, so a reply can be matched even if the process stops right after
    the server accepted the message. A transient failure puts the row back to due, later (`attempts`, `error`)."""

    __tablename__ = "outbound_message"
    __table_args__ = (UniqueConstraint("enrollment_id", "position", name="uq_outbound_message_step"),
                      UniqueConstraint("message_id", name="uq_outbound_message_id"),
                      Index("ix_outbound_message_state_due", "state", "due_at"))

    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: int = Field(foreign_key="enrollment.id", ondelete="CASCADE", index=True)
    position: int
    to_addr: str = Field(max_length=320)
    message_id: str | None = Field(default=None, max_length=255)  # set when first claimed
    state: str = Field(default="due", max_length=20)
    base_at: datetime  # the step's wait counts from here (enrolment, or the previous step's send)
    due_at: datetime
    subject: str = ""  # as sent (filled when the message is claimed)
    body: str = ""
    attempts: int = 0
    error: str = ""
    claim_id: str | None = Field(default=None, max_length=40)
    claimed_at: datetime | None = None
    sent_at: datetime | None = Field(default=None, index=True)


class EmailSuppression(SQLModel, table=True):
    """An address never written to again: it bounced, or its owner opted out."""

    __tablename__ = "email_suppression"
    address: str = Field(primary_key=True, max_length=320)  # lower-case
    reason: str = Field(max_length=20)  # bounced, opted-out
    detail: str = ""
    at: datetime = Field(default_factory=utcnow)


class InboundMessage(SQLModel, table=True):
    """A mailbox message that `outreach sync` acted on (a reply, a bounce, an opt-out): each is read once."""

    __tablename__ = "inbound_message"
    __table_args__ = (UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_inbound_message_uid"),)

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(max_length=300)
    uidvalidity: int
    uid: int
    message_id: str | None = Field(default=None, max_length=255, index=True)
    kind: str = Field(max_length=20)  # reply, bounce, opt-out, auto-reply
    enrollment_id: int | None = Field(default=None, foreign_key="enrollment.id", ondelete="SET NULL", index=True)
    from_addr: str = Field(default="", max_length=320)
    subject: str = Field(default="", max_length=500)
    processed_at: datetime = Field(default_factory=utcnow)


# --- long work ---------------------------------------------------------------------------------------------

class Job(SQLModel, table=True):
    """Long work (imports, scrapes, discovery) that reports progress and can resume from its cursor.

    A job run by workers (or by the in-process runner) keeps one `JobItem` per unit of work; `total`, `done`
    and `failed` then count the items' sizes and move in the same transaction as the item that changed, so
    they stay true under concurrent workers and duplicate deliveries."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40, index=True)
    # queued, running, done, partial (finished, some items failed), failed, interrupted
    state: str = Field(default="running", max_length=20)
    progress: float = 0.0
    total: int = 0
    done: int = 0
    failed: int = 0
    params: dict[str, Any] = _json_dict()
    cursor: dict[str, Any] = _json_dict()
    result: dict[str, Any] = _json_dict()
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class JobItem(SQLModel, table=True):
    """One unit of a job (a URL to scrape, a chunk of rows to import, a search): its input is kept, so a
    retry re-runs exactly the failed ones, and its key is unique within the job, so a URL given twice or a
    task delivered twice is one item counted once."""

    __tablename__ = "job_item"
    __table_args__ = (UniqueConstraint("job_id", "key", name="uq_job_item_key"),
                      Index("ix_job_item_job_state", "job_id", "state"))

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id", ondelete="CASCADE")
    key: str = Field(max_length=2048)
    kind: str = Field(default="", max_length=20)
    position: int = 0
    size: int = 1  # what it counts for in the job's total/done/failed (rows of an import chunk, else 1)
    state: str = Field(default="pending", max_length=20)  # pending, done, failed
    input: dict[str, Any] = _json_dict()
    error: str | None = None
    # A done item's warning (a search result kept although its page could not be read) and what it produced
    # (`{"community": URL, "good": true}` for a discovered community).
    note: str | None = None
    output: dict[str, Any] = _json_dict()
    worker: str | None = Field(default=None, max_length=200)
    attempts: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class Setting(SQLModel, table=True):
    """Small key/value state: the schema version, the chosen tracking platform, the last used profile."""

    key: str = Field(primary_key=True, max_length=100)
    value: Any = Field(default=None, sa_column=Column(JSON))


# --- accounts: people, their sessions, login attempts, invitations, the audit log ---------------------------
# Changed through Alembic migrations (`recruiter/core/migrations`), like every table from the baseline on.

class User(SQLModel, table=True):
    """Someone who logs into the web app. `password_hash` is Argon2id (None until an invitation is accepted);
    a disabled user keeps their history but cannot log in, and their sessions end."""

    __tablename__ = "app_user"  # "user" is a reserved word in PostgreSQL
    __table_args__ = (UniqueConstraint("email", name="uq_app_user_email"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320)
    role: str = Field(default="viewer", max_length=20)
    password_hash: str | None = Field(default=None, max_length=500)
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class UserSession(SQLModel, table=True):
    """A logged-in browser, kept on the server: the cookie holds a random token, this row its SHA-256. Deleting
    the row (log out, disable) ends the session at the browser's next request."""

    __tablename__ = "user_session"

    id: str = Field(primary_key=True, max_length=64)  # sha256 hex of the token
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow, index=True)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)


class LoginAttempt(SQLModel, table=True):
    """Every login attempt, kept in the database so a lockout holds across restarts and across processes."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_email_at", "email", "at"), Index("ix_login_attempt_ip_at", "ip", "at"))

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    email: str = Field(default="", max_length=320)
    ip: str = Field(default="", max_length=64)
    success: bool = False


class LoginLock(SQLModel, table=True):
    """An account (`account:EMAIL`) or an address (`ip:ADDRESS`) refused until `until`."""

    __tablename__ = "login_lock"

    key: str = Field(primary_key=True, max_length=400)
    locked_at: datetime = Field(default_factory=utcnow)
    until: datetime = Field(default_factory=utcnow)


class Invite(SQLModel, table=True):
    """A one-time link to choose a password: the link carries a random token, this row its SHA-256."""

    __table_args__ = (UniqueConstraint("token_hash", name="uq_invite_token_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64)
    email: str = Field(max_length=320, index=True)
    role: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    created_by: str = Field(default="", max_length=400)


class AuditEntry(SQLModel, table=True):
    """Who did what, when, and from where: logins, stage changes, notes, emails sent, imports, exports,
    deletions, user and credential changes. Written with the change it records, never edited."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_at", "at"), Index("ix_audit_entry_actor_at", "actor", "at"))

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=400)  # an email, "cli:OSUSER", "local" or "shared password"
    via: str = Field(default="web", max_length=20)  # web, cli, worker
    ip: str = Field(default="", max_length=64)
    action: str = Field(max_length=60)  # prospect.stage, login.failed, user.role...
    target: str = Field(default="", max_length=2048)  # the community URL, the user's email...
    detail: dict[str, Any] = _json_dict()

