"""The data model: communities, ideal-client profiles, matches, the outreach pipeline, activities and jobs.

Models follow the `XBase` / `XCreate` / `X(table=True)` shape: the base holds the fields a user gives, the
table adds ids, timestamps and what the system derives. Lists (recent posts, emails, keywords...) are JSON
columns: they are read whole and never queried inside.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from recruiter.core.errors import InvalidValue
from recruiter.core.vocabulary import KINDS, STAGES, CommunityKind, Stage  # noqa: F401


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A stored datetime as an aware UTC one (SQLite hands back naive datetimes; they were written as UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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
    feed_url: str | None = Field(default=None, max_length=2048)


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


# --- long work ---------------------------------------------------------------------------------------------

class Job(SQLModel, table=True):
    """Long work (imports, scrapes, discovery) that reports progress and can resume from its cursor."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40, index=True)
    state: str = Field(default="running", max_length=20)  # running, done, failed, interrupted
    progress: float = 0.0
    total: int = 0
    done: int = 0
    params: dict[str, Any] = _json_dict()
    cursor: dict[str, Any] = _json_dict()
    result: dict[str, Any] = _json_dict()
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Setting(SQLModel, table=True):
    """Small key/value state: the schema version, the chosen tracking platform, the last used profile."""

    key: str = Field(primary_key=True, max_length=100)
    value: Any = Field(default=None, sa_column=Column(JSON))
