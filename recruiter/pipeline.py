"""The outreach pipeline: one prospect per community, its stage history, notes, follow-ups and feedback."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from recruiter.canonical import canonical_url
from recruiter.models import (CONTACTED_STAGES, STAGES, Activity, Community, Feedback, Prospect, StageChange,
                              utcnow)


class PipelineError(ValueError):
    pass


def find_community(url_or_id: str | int, *, session: Session) -> Community:
    if isinstance(url_or_id, int) or (isinstance(url_or_id, str) and url_or_id.isdigit()):
        community = session.get(Community, int(url_or_id))
        if community is not None:
            return community
    try:
        url = canonical_url(str(url_or_id))
    except ValueError as exc:
        raise PipelineError(str(exc)) from None
    community = session.exec(select(Community).where(Community.url == url)).first()
    if community is None:
        raise PipelineError(f"no community with URL {url} (import or scrape it first)")
    return community


def get_or_create_prospect(community: Community, *, session: Session, profile_id: int | None = None) -> Prospect:
    prospect = session.exec(select(Prospect).where(Prospect.community_id == community.id)).first()
    if prospect is None:
        prospect = Prospect(community_id=community.id, profile_id=profile_id, stage="discovered")
        session.add(prospect)
        session.flush()
        session.add(StageChange(prospect_id=prospect.id, from_stage=None, to_stage="discovered"))
    elif profile_id and not prospect.profile_id:
        prospect.profile_id = profile_id
        session.add(prospect)
    return prospect


def set_stage(
    community: Community,
    stage: str,
    *,
    session: Session,
    note: str = "",
    profile_id: int | None = None,
    at: datetime | None = None,
) -> Prospect:
    """Move the community's prospect to a stage (creating the prospect if needed) and record the change."""
    stage = stage.strip().lower()
    if stage not in STAGES:
        raise PipelineError(f"unknown stage {stage!r} (stages: {', '.join(STAGES)})")
    prospect = get_or_create_prospect(community, session=session, profile_id=profile_id)
    when = at or utcnow()
    if prospect.stage != stage:
        session.add(StageChange(prospect_id=prospect.id, from_stage=prospect.stage, to_stage=stage, at=when,
                                note=note))
        prospect.stage = stage
        prospect.stage_changed_at = when
        if stage == "shortlisted" and not prospect.feedback:
            prospect.feedback = "shortlist"
        if stage == "contacted":
            session.add(Activity(prospect_id=prospect.id, kind="contacted", detail=note, at=when))
    if note:
        prospect.notes = (prospect.notes + "\n" if prospect.notes else "") + note
        session.add(Activity(prospect_id=prospect.id, kind="note", detail=note, at=when))
    prospect.updated_at = when
    session.add(prospect)
    session.commit()
    session.refresh(prospect)
    return prospect


def set_feedback(community: Community, feedback: str | None, *, session: Session,
                 profile_id: int | None = None) -> Prospect:
    """Record "shortlist" / "not_a_fit" for the ranking; shortlisting also moves a new prospect on."""
    if feedback is not None and feedback not in {f.value for f in Feedback}:
        raise PipelineError(f"unknown feedback {feedback!r} (shortlist or not_a_fit)")
    prospect = get_or_create_prospect(community, session=session, profile_id=profile_id)
    if profile_id:
        prospect.profile_id = profile_id
    prospect.feedback = feedback
    session.add(Activity(prospect_id=prospect.id, kind="feedback", detail=feedback or "cleared"))
    session.add(prospect)
    session.commit()
    if feedback == "shortlist" and prospect.stage == "discovered":
        return set_stage(community, "shortlisted", session=session)
    if feedback == "not_a_fit" and prospect.stage in ("discovered", "shortlisted"):
        return set_stage(community, "declined", session=session, note="not a fit")
    return prospect


def add_note(prospect: Prospect, text: str, *, session: Session) -> Activity:
    text = text.strip()
    if not text:
        raise PipelineError("a note needs text")
    prospect.notes = (prospect.notes + "\n" if prospect.notes else "") + text
    prospect.updated_at = utcnow()
    activity = Activity(prospect_id=prospect.id, kind="note", detail=text)
    session.add_all([prospect, activity])
    session.commit()
    return activity


def log_activity(prospect: Prospect, kind: str, detail: str = "", *, session: Session,
                 data: dict[str, Any] | None = None) -> Activity:
    activity = Activity(prospect_id=prospect.id, kind=kind, detail=detail, data=data or {})
    session.add(activity)
    session.commit()
    return activity


def set_follow_up(prospect: Prospect, when: date | None, *, session: Session) -> Prospect:
    prospect.next_follow_up = when
    prospect.updated_at = utcnow()
    session.add(prospect)
    session.commit()
    return prospect


def contacted_before(prospect: Prospect, *, session: Session) -> datetime | None:
    """When this community was first contacted, if ever: the guard against double outreach."""
    first = session.exec(
        select(StageChange.at).where(StageChange.prospect_id == prospect.id,
                                     StageChange.to_stage.in_(CONTACTED_STAGES)).order_by(StageChange.at)
    ).first()
    if first:
        return first
    return session.exec(
        select(Activity.at).where(Activity.prospect_id == prospect.id,
                                  Activity.kind.in_(["contacted", "email", "mailto", "copied_template"]))
        .order_by(Activity.at)
    ).first()


def list_prospects(*, session: Session, stage: str | None = None, profile_id: int | None = None
                   ) -> list[tuple[Prospect, Community]]:
    query = select(Prospect, Community).join(Community, Community.id == Prospect.community_id)
    if stage:
        if stage not in STAGES:
            raise PipelineError(f"unknown stage {stage!r} (stages: {', '.join(STAGES)})")
        query = query.where(Prospect.stage == stage)
    if profile_id:
        query = query.where(Prospect.profile_id == profile_id)
    return list(session.exec(query.order_by(Prospect.stage_changed_at.desc())).all())


def stage_history(prospect: Prospect, *, session: Session) -> list[StageChange]:
    return list(session.exec(select(StageChange).where(StageChange.prospect_id == prospect.id)
                             .order_by(StageChange.at, StageChange.id)).all())


def activities(prospect: Prospect, *, session: Session) -> list[Activity]:
    return list(session.exec(select(Activity).where(Activity.prospect_id == prospect.id)
                             .order_by(Activity.at.desc(), Activity.id.desc())).all())


def prospect_to_dict(prospect: Prospect, community: Community) -> dict[str, Any]:
    return {
        "url": community.url,
        "name": community.name,
        "kind": community.kind,
        "stage": prospect.stage,
        "feedback": prospect.feedback,
        "next_follow_up": prospect.next_follow_up.isoformat() if prospect.next_follow_up else None,
        "stage_changed_at": prospect.stage_changed_at.isoformat(timespec="seconds"),
        "notes": prospect.notes,
    }
