"""Read models of the pipeline for the screens: the board's cards and the dashboard's funnel, follow-ups,
recent activity and per-profile counts. Queries only: every change goes through `recruiter.outreach.pipeline`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from recruiter.core.db import chunked
from recruiter.core.models import (
    CONTACT_ACTIVITY_KINDS,
    CONTACTED_STAGES,
    PARTNER_STAGES,
    STAGES,
    Activity,
    Community,
    Match,
    Profile,
    Prospect,
    StageChange,
    as_utc,
)


def contacted_prospect_ids(prospect_ids: list[int], *, session: Session) -> dict[int, datetime]:
    """When each of these prospects was first contacted (those never contacted are absent): one query each way."""
    out: dict[int, datetime] = {}
    for part in chunked(prospect_ids, 900):
        for pid, at in session.exec(select(StageChange.prospect_id, func.min(StageChange.at)).where(
                StageChange.prospect_id.in_(part), StageChange.to_stage.in_(CONTACTED_STAGES))
                .group_by(StageChange.prospect_id)).all():
            out[pid] = at
        for pid, at in session.exec(select(Activity.prospect_id, func.min(Activity.at)).where(
                Activity.prospect_id.in_(part), Activity.kind.in_(CONTACT_ACTIVITY_KINDS))
                .group_by(Activity.prospect_id)).all():
            if pid not in out or at < out[pid]:
                out[pid] = at
    return out


def board(*, session: Session, profile_id: int | None = None, per_stage: int = 200) -> dict[str, Any]:
    """Cards per stage (name, kind, fit, next follow-up, contacted-before), newest moves first."""
    query = (select(Prospect, Community).join(Community, Community.id == Prospect.community_id)
             .order_by(Prospect.stage_changed_at.desc(), Prospect.id.desc()))
    if profile_id:
        query = query.where(Prospect.profile_id == profile_id)
    pairs = session.exec(query).all()
    community_ids = [c.id for _, c in pairs]
    fits: dict[int, int] = {}
    for part in chunked(community_ids, 900):
        fit_query = select(Match.community_id, func.max(Match.fit)).where(Match.community_id.in_(part))
        if profile_id:
            fit_query = fit_query.where(Match.profile_id == profile_id)
        fits.update(dict(session.exec(fit_query.group_by(Match.community_id)).all()))
    contacted = contacted_prospect_ids([p.id for p, _ in pairs], session=session)
    columns: dict[str, list[dict[str, Any]]] = {s: [] for s in STAGES}
    totals = dict.fromkeys(STAGES, 0)
    today = date.today()
    for prospect, community in pairs:
        stage = prospect.stage if prospect.stage in columns else "discovered"
        totals[stage] += 1
        if len(columns[stage]) >= per_stage:
            continue
        first_contact = contacted.get(prospect.id)
        columns[stage].append({
            "prospect_id": prospect.id, "community_id": community.id, "name": community.name or community.url,
            "kind": community.kind, "fit": fits.get(community.id),
            "next_follow_up": prospect.next_follow_up.isoformat() if prospect.next_follow_up else None,
            "follow_up_due": bool(prospect.next_follow_up and prospect.next_follow_up <= today),
            "contacted_at": first_contact.strftime("%Y-%m-%d") if first_contact else None,
            "feedback": prospect.feedback,
        })
    return {"columns": columns, "totals": totals}


# --- the dashboard ---------------------------------------------------------------------------------------

def funnel_counts(*, session: Session, profile_id: int | None = None) -> dict[str, int]:
    query = select(Prospect.stage, func.count()).group_by(Prospect.stage)
    if profile_id:
        query = query.where(Prospect.profile_id == profile_id)
    counts = dict(session.exec(query).all())
    return {stage: int(counts.get(stage, 0)) for stage in STAGES}


def follow_ups_due(*, session: Session, today: date | None = None, limit: int = 50) -> dict[str, list[dict]]:
    """Prospects whose next follow-up is today, and those overdue (oldest first)."""
    today = today or date.today()
    rows = session.exec(select(Prospect, Community).join(Community, Community.id == Prospect.community_id)
                        .where(Prospect.next_follow_up.is_not(None), Prospect.next_follow_up <= today)
                        .order_by(Prospect.next_follow_up, Prospect.id).limit(limit * 2)).all()
    out: dict[str, list[dict]] = {"today": [], "overdue": []}
    for prospect, community in rows:
        bucket = "today" if prospect.next_follow_up == today else "overdue"
        if len(out[bucket]) < limit:
            out[bucket].append({"prospect_id": prospect.id, "name": community.name or community.url,
                                "kind": community.kind, "stage": prospect.stage,
                                "due": prospect.next_follow_up.isoformat(),
                                "days_late": (today - prospect.next_follow_up).days})
    return out


def recent_activity(*, session: Session, limit: int = 20) -> list[dict[str, Any]]:
    rows = session.exec(select(Activity, Prospect, Community)
                        .join(Prospect, Prospect.id == Activity.prospect_id)
                        .join(Community, Community.id == Prospect.community_id)
                        .order_by(Activity.at.desc(), Activity.id.desc()).limit(limit)).all()
    changes = session.exec(select(StageChange, Community)
                           .join(Prospect, Prospect.id == StageChange.prospect_id)
                           .join(Community, Community.id == Prospect.community_id)
                           .where(StageChange.from_stage.is_not(None))
                           .order_by(StageChange.at.desc(), StageChange.id.desc()).limit(limit)).all()
    items = [{"at": as_utc(a.at), "prospect_id": p.id, "name": c.name or c.url, "kind": a.kind,
              "detail": a.detail} for a, p, c in rows]
    items += [{"at": as_utc(s.at), "prospect_id": s.prospect_id, "name": c.name or c.url, "kind": "stage",
               "detail": f"{s.from_stage} → {s.to_stage}"} for s, c in changes]
    items.sort(key=lambda item: item["at"], reverse=True)
    return items[:limit]


def profile_counts(*, session: Session) -> list[dict[str, Any]]:
    """Per profile: stored matches, prospects, partners (joined or later), last used."""
    profiles = session.exec(select(Profile).order_by(Profile.name)).all()
    matches = dict(session.exec(select(Match.profile_id, func.count()).group_by(Match.profile_id)).all())
    prospects = dict(session.exec(select(Prospect.profile_id, func.count()).group_by(Prospect.profile_id)).all())
    partners = dict(session.exec(select(Prospect.profile_id, func.count()).where(
        Prospect.stage.in_(PARTNER_STAGES)).group_by(Prospect.profile_id)).all())
    return [{"id": p.id, "name": p.name, "matches": int(matches.get(p.id, 0)),
             "prospects": int(prospects.get(p.id, 0)), "partners": int(partners.get(p.id, 0)),
             "last_used": p.last_used_at.strftime("%Y-%m-%d") if p.last_used_at else None} for p in profiles]
