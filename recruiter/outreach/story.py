"""A prospect's whole story: who the community is, how to reach it, how well it fits, and everything that
happened since it entered the pipeline.

`prospect_story` is the one read model behind `recruiter prospect show` and the web app's prospect page, so
both tell the same story. It only reads: a community that is not in the pipeline yet has a story too (stage
`None`, nothing happened), and nothing is created by looking at it.

Fit comes from the stored rankings (`Match` rows): the profile asked for when there is one (the page was opened
from that profile's list), else the profile that put the community in the pipeline, else the profile it fits
best. `StoryFit.basis` says which, so a fit is never shown without the profile it is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from recruiter.core.models import Community, Match, Profile, as_utc, iso_utc
from recruiter.outreach.pipeline import (
    activities,
    contacted_before,
    feedback_welcome,
    find_prospect,
    next_stages,
    owner_email,
    repeat_contact_at,
    stage_history,
)

BASIS_LABELS = {
    "requested": "the profile asked for",
    "prospect": "the profile that put it in the pipeline",
    "best": "the profile it fits best",
}


@dataclass(frozen=True)
class StoryFit:
    """How well the community fits one profile, from that profile's stored ranking."""

    profile_id: int
    profile: str
    fit: int
    score: float
    why: str
    rank: int | None
    ranked_at: datetime
    basis: str  # requested, prospect or best (see BASIS_LABELS)

    def public(self) -> dict[str, Any]:
        return {"profile": self.profile, "fit": self.fit, "score": round(self.score, 4), "why": self.why,
                "rank": self.rank, "ranked_at": iso_utc(self.ranked_at), "basis": self.basis}


@dataclass(frozen=True)
class StoryMove:
    """One stage move of the history (`from_stage` None: the prospect was created)."""

    at: datetime
    from_stage: str | None
    to_stage: str
    note: str

    def public(self) -> dict[str, Any]:
        return {"at": iso_utc(self.at), "from": self.from_stage, "to": self.to_stage, "note": self.note}


@dataclass(frozen=True)
class StoryEvent:
    """A note or an activity (a message sent, a template copied, a feedback, a follow-up date set)."""

    at: datetime
    kind: str
    detail: str

    def public(self) -> dict[str, Any]:
        return {"at": iso_utc(self.at), "kind": self.kind, "detail": self.detail}


@dataclass(frozen=True)
class ProspectStory:
    community_id: int
    url: str
    name: str
    kind: str
    title: str
    description: str
    audience_size: int | None
    language: str | None
    author: str | None
    site_name: str | None
    feed_url: str | None
    emails: tuple[str, ...]
    socials: tuple[str, ...]
    recent_posts: tuple[str, ...]
    prospect_id: int | None  # None: not in the pipeline yet
    stage: str | None
    feedback: str | None
    pipeline_profile: str | None  # the profile that put it in the pipeline
    pipeline_profile_id: int | None
    fit: StoryFit | None
    entered_at: datetime | None
    stage_changed_at: datetime | None
    first_contacted_at: datetime | None
    repeat_contact_of: datetime | None  # set when reaching out now would be a second first contact
    next_follow_up: date | None
    history: tuple[StoryMove, ...]  # oldest first
    notes: tuple[StoryEvent, ...]  # oldest first
    activities: tuple[StoryEvent, ...]  # everything but notes, newest first
    next_stages: tuple[str, ...]
    feedback_welcome: bool
    owner: str | None = None  # the email of the user who owns it (by default, who shortlisted it)
    owner_id: int | None = None

    @property
    def in_pipeline(self) -> bool:
        return self.prospect_id is not None

    @property
    def email(self) -> str | None:
        """The address a first message goes to: the community's first known email."""
        return self.emails[0] if self.emails else None

    def follow_up_in_days(self, today: date | None = None) -> int | None:
        if self.next_follow_up is None:
            return None
        return (self.next_follow_up - (today or date.today())).days

    def timeline(self) -> list[tuple[datetime, str, str]]:
        """Moves, notes and activities together, newest first: (at, kind, detail)."""
        events = [(m.at, "stage", f"{m.from_stage or 'new'} → {m.to_stage}" + (f" ({m.note})" if m.note else ""))
                  for m in self.history]
        events += [(e.at, e.kind, e.detail) for e in (*self.notes, *self.activities)]
        return sorted(events, key=lambda e: as_utc(e[0]), reverse=True)

    def public(self) -> dict[str, Any]:
        """The story as `prospect show --format json` prints it."""
        return {
            "url": self.url, "name": self.name, "kind": self.kind, "title": self.title,
            "description": self.description, "audience_size": self.audience_size, "language": self.language,
            "author": self.author, "site_name": self.site_name, "feed_url": self.feed_url,
            "emails": list(self.emails), "socials": list(self.socials),
            "in_pipeline": self.in_pipeline, "stage": self.stage, "feedback": self.feedback, "owner": self.owner,
            "profile": self.pipeline_profile, "fit": self.fit.public() if self.fit else None,
            "entered_at": iso_utc(self.entered_at), "stage_changed_at": iso_utc(self.stage_changed_at),
            "first_contacted_at": iso_utc(self.first_contacted_at),
            "next_follow_up": iso_utc(self.next_follow_up),
            "history": [m.public() for m in self.history],
            "notes": [n.public() for n in self.notes],
            "activities": [a.public() for a in self.activities],
            "next_stages": list(self.next_stages),
        }


def story_fit(community_id: int, *, session: Session, requested: int | None = None,
              prospect_profile: int | None = None) -> StoryFit | None:
    """The stored fit of the community for the requested profile, else the pipeline's, else its best one."""
    rows = session.exec(select(Match, Profile).join(Profile, Profile.id == Match.profile_id)
                        .where(Match.community_id == community_id)).all()
    if not rows:
        return None
    by_profile = {match.profile_id: (match, profile) for match, profile in rows}
    if requested in by_profile:
        (match, profile), basis = by_profile[requested], "requested"
    elif prospect_profile in by_profile:
        (match, profile), basis = by_profile[prospect_profile], "prospect"
    else:
        (match, profile), basis = max(rows, key=lambda pair: (pair[0].fit, pair[0].score)), "best"
    return StoryFit(profile_id=profile.id, profile=profile.name, fit=match.fit, score=match.score, why=match.why,
                    rank=match.rank, ranked_at=as_utc(match.ranked_at), basis=basis)


def prospect_story(community: Community, *, session: Session, profile_id: int | None = None) -> ProspectStory:
    """Everything known about the community as a prospect (read only: nothing is created)."""
    prospect = find_prospect(community, session=session)
    pipeline_profile = None
    history: tuple[StoryMove, ...] = ()
    notes: list[StoryEvent] = []
    others: list[StoryEvent] = []
    if prospect is not None:
        if prospect.profile_id:
            owner = session.get(Profile, prospect.profile_id)
            pipeline_profile = owner.name if owner else None
        history = tuple(StoryMove(as_utc(s.at), s.from_stage, s.to_stage, s.note)
                        for s in stage_history(prospect, session=session))
        for activity in activities(prospect, session=session):
            event = StoryEvent(as_utc(activity.at), activity.kind, activity.detail)
            (notes if activity.kind == "note" else others).append(event)
        notes.reverse()  # activities come newest first; notes read best in the order they were written
        noted = {line for n in notes for line in n.detail.splitlines()}
        # Notes written before notes were timestamped live only in the notes text: keep them, undated.
        stray = [line for line in (prospect.notes or "").splitlines() if line.strip() and line not in noted]
        if stray:
            notes[:0] = [StoryEvent(as_utc(prospect.created_at), "note", line) for line in stray]
    stage = prospect.stage if prospect else None
    return ProspectStory(
        community_id=community.id, url=community.url, name=community.name or community.title or community.url,
        kind=community.kind, title=community.title or "", description=community.description or "",
        audience_size=community.audience_size, language=community.language, author=community.author,
        site_name=community.site_name, feed_url=community.feed_url,
        emails=tuple(community.emails or ()), socials=tuple(community.socials or ()),
        recent_posts=tuple(community.recent_posts or ()),
        prospect_id=prospect.id if prospect else None, stage=stage,
        feedback=prospect.feedback if prospect else None, pipeline_profile=pipeline_profile,
        pipeline_profile_id=prospect.profile_id if prospect and pipeline_profile else None,
        fit=story_fit(community.id, session=session, requested=profile_id,
                      prospect_profile=prospect.profile_id if prospect else None),
        entered_at=as_utc(prospect.created_at) if prospect else None,
        stage_changed_at=as_utc(prospect.stage_changed_at) if prospect else None,
        first_contacted_at=_aware(contacted_before(prospect, session=session)) if prospect else None,
        repeat_contact_of=_aware(repeat_contact_at(prospect, session=session)),
        next_follow_up=prospect.next_follow_up if prospect else None,
        history=history, notes=tuple(notes), activities=tuple(others),
        next_stages=next_stages(stage), feedback_welcome=feedback_welcome(stage),
        owner=owner_email(prospect, session=session), owner_id=prospect.owner_id if prospect else None,
    )


def _aware(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None
