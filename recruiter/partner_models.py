"""Tables for the partner stages: referral codes, tracked links, the activation checklist and daily performance.

A partner is a community whose prospect is `joined` or later. Everything here hangs off the community (not the
prospect) because a referral code and performance rows name a community, and a community has one prospect.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from recruiter.models import utcnow


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
