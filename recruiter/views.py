"""Read models for the screens: stored matches paged in SQL, funnel counts, follow-ups, the board, templates.

The web app calls these (and the CLI may): they hold the queries and rules, the pages only lay them out.
The ranked list reads stored `Match` rows with SQL filters and paging, so a page never waits for a ranking;
`ranking_state` says whether the stored ranking is missing or stale, and `rank_profile` (re)computes it
(slow: the caller runs it off the event loop).
"""

from __future__ import annotations

import csv
import io
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from recruiter.db import get_setting, open_session, set_setting
from recruiter.models import (CONTACTED_STAGES, PARTNER_STAGES, STAGES, Activity, Community, Match, Profile,
                              Prospect, StageChange, utcnow)
from recruiter.links import latest_link, stored_ref_code
from recruiter.pipeline import PipelineError, contacted_before, get_or_create_prospect, set_stage
from recruiter.ranking import audience_label

# How many of the best communities a background ranking stores as matches: enough to filter by kind,
# audience or text and still have pages of results, small enough to store in about a second.
RANKED_LIMIT = 1000
PAGE_SIZE = 50
SORTS = {"fit": "best fit first", "audience": "largest audience first", "name": "name A–Z",
         "stage": "pipeline stage"}
CONTACT_ACTIVITY_KINDS = ("contacted", "email", "mailto", "copied_template")


class DoubleContactError(PipelineError):
    """Moving this prospect to Contacted would reach out a second time."""

    def __init__(self, when: datetime) -> None:
        self.when = when
        super().__init__(f"already contacted on {when:%Y-%m-%d %H:%M} UTC: contacting again would be double outreach")


# --- which profile, and is its ranking fresh ------------------------------------------------------------

def default_profile(*, session: Session) -> Profile | None:
    """The profile a page opens without being told: the last used one, else the only (or first) one."""
    used = session.exec(select(Profile).where(Profile.last_used_at.is_not(None))
                        .order_by(Profile.last_used_at.desc())).first()
    return used or session.exec(select(Profile).order_by(Profile.name)).first()


def touch_profile(profile: Profile, *, session: Session) -> None:
    """Remember the profile as last used (what the next bare /prospects opens)."""
    profile.last_used_at = utcnow()
    session.add(profile)
    session.commit()


def _ranking_key(profile_id: int) -> str:
    return f"ranking:{profile_id}"


@dataclass
class RankingState:
    stale: bool
    reason: str
    ranked_at: str | None
    stored: int
    communities: int


def ranking_state(profile: Profile, *, session: Session) -> RankingState:
    """Whether the profile's stored matches reflect its current text and the current communities."""
    from recruiter.index import DATA_VERSION_KEY

    communities = session.exec(select(func.count()).select_from(Community)).one()
    stored = session.exec(select(func.count()).select_from(Match).where(Match.profile_id == profile.id)).one()
    info = get_setting(_ranking_key(profile.id), None, session=session) or {}
    data_version = int(get_setting(DATA_VERSION_KEY, 0, session=session) or 0)
    ranked_at = info.get("at")
    if communities == 0:
        return RankingState(False, "no communities yet", ranked_at, stored, communities)
    if not stored or not info:
        reason = "not ranked yet"
    elif info.get("profile_updated") != _stamp(profile.updated_at):
        reason = "the profile changed"
    elif int(info.get("data_version", -1)) != data_version:
        reason = "communities changed"
    elif info.get("feedback", 0) != feedback_mark(session=session):
        reason = "new feedback to learn from"
    elif stored < min(RANKED_LIMIT, communities) and stored < info.get("count", 0):
        reason = "matches were replaced by a shorter ranking"
    else:
        return RankingState(False, "up to date", ranked_at, stored, communities)
    return RankingState(True, reason, ranked_at, stored, communities)


def feedback_mark(*, session: Session) -> int:
    """Grows with every shortlist / not-a-fit verdict: a ranking older than the last verdict did not learn it."""
    return int(session.exec(select(func.max(Activity.id)).where(Activity.kind == "feedback")).one() or 0)


def _stamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive datetimes: they were written as UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()


_ranking_lock = threading.Lock()
_ranking_now: set[tuple[str, int]] = set()


def rank_profile(profile_id: int, *, db_url: str | None = None, limit: int = RANKED_LIMIT) -> int | None:
    """Rank every community for the profile and store the best `limit` as matches; returns how many.

    Slow (loads the model, syncs the index, scores everything): run it in a worker thread. Returns None when
    the same profile is already being ranked (two tabs must not rank twice at once).
    """
    from recruiter.index import DATA_VERSION_KEY
    from recruiter.ranking import rank_communities

    key = (db_url or "", profile_id)
    with _ranking_lock:
        if key in _ranking_now:
            return None
        _ranking_now.add(key)
    try:
        with open_session(db_url) as session:
            profile = session.get(Profile, profile_id)
            if profile is None:
                return 0
            data_version = int(get_setting(DATA_VERSION_KEY, 0, session=session) or 0)
            profile_updated = _stamp(profile.updated_at)
            feedback = feedback_mark(session=session)
            results = rank_communities(profile, session=session, limit=limit, store=True)
            set_setting(_ranking_key(profile_id), {"data_version": data_version, "profile_updated": profile_updated,
                                                    "feedback": feedback, "count": len(results),
                                                    "at": _stamp(utcnow())}, session=session)
            return len(results)
    finally:
        with _ranking_lock:
            _ranking_now.discard(key)


def preview_matches(profile: Profile, *, db_url: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
    """The top matches for a profile as edited (saved or not), stored nowhere: the editor's live preview."""
    from recruiter.ranking import rank_communities

    with open_session(db_url) as session:  # ranking syncs the index first
        results = rank_communities(profile, session=session, limit=limit, store=False)
    return [dict(r.public(), community_id=r.community_id) for r in results]


# --- the ranked list -------------------------------------------------------------------------------------

@dataclass
class MatchFilters:
    kind: str | None = None
    min_audience: int | None = None
    stage: str | None = None
    text: str = ""
    sort: str = "fit"
    include_not_a_fit: bool = False


def _match_query(profile_id: int, filters: MatchFilters):  # noqa: ANN202
    stage_expr = func.coalesce(Prospect.stage, "discovered")
    conditions = [Match.profile_id == profile_id]
    if filters.kind:
        conditions.append(Community.kind == filters.kind)
    if filters.min_audience:
        conditions.append(Community.audience_size >= int(filters.min_audience))
    if filters.stage:
        if filters.stage not in STAGES:
            raise PipelineError(f"unknown stage {filters.stage!r} (stages: {', '.join(STAGES)})")
        conditions.append(stage_expr == filters.stage)
    words = [w for w in re.split(r"\s+", (filters.text or "").strip()) if w]
    for word in words[:8]:
        pattern = f"%{word.lower()}%"
        conditions.append(or_(func.lower(Community.name).like(pattern), func.lower(Community.title).like(pattern),
                              func.lower(Community.description).like(pattern), func.lower(Community.url).like(pattern)))
    if not filters.include_not_a_fit and filters.stage != "declined":
        conditions.append(or_(Prospect.feedback.is_(None), Prospect.feedback != "not_a_fit"))
    return and_(*conditions), stage_expr


def match_page(profile_id: int, *, session: Session, filters: MatchFilters | None = None, offset: int = 0,
               limit: int = PAGE_SIZE) -> tuple[list[dict[str, Any]], int]:
    """One page of the profile's stored matches passing the filters, and how many pass in all."""
    filters = filters or MatchFilters()
    where, stage_expr = _match_query(profile_id, filters)
    joined = (select(Match.id).join(Community, Community.id == Match.community_id)
              .outerjoin(Prospect, Prospect.community_id == Match.community_id).where(where))
    total = session.exec(select(func.count()).select_from(joined.subquery())).one()
    order = {
        "fit": [Match.score.desc()],
        "audience": [func.coalesce(Community.audience_size, -1).desc(), Match.score.desc()],
        "name": [func.lower(Community.name), Match.score.desc()],
        "stage": [stage_expr, Match.score.desc()],
    }.get(filters.sort, [Match.score.desc()])
    query = (select(Match.fit, Match.score, Match.why, Match.rank, Community.id, Community.name, Community.title,
                    Community.url, Community.kind, Community.audience_size, Prospect.id, Prospect.stage,
                    Prospect.feedback, Prospect.next_follow_up)
             .join(Community, Community.id == Match.community_id)
             .outerjoin(Prospect, Prospect.community_id == Match.community_id)
             .where(where).order_by(*order, Match.id).offset(max(0, offset)).limit(limit))
    rows = []
    for (fit, score, why, rank, cid, name, title, url, kind, audience, pid, stage, feedback,
         follow_up) in session.exec(query).all():
        rows.append({
            "community_id": cid, "prospect_id": pid, "fit": fit, "score": round(float(score), 4), "rank": rank,
            "name": name or title or url, "url": url, "kind": kind, "audience_size": audience,
            "audience": audience_label(audience), "stage": stage or "discovered", "feedback": feedback,
            "next_follow_up": follow_up.isoformat() if follow_up else None, "why": why,
        })
    return rows, total


MATCH_CSV_COLUMNS = ["rank", "fit", "score", "name", "url", "kind", "audience_size", "stage", "feedback",
                     "next_follow_up", "why"]


def matches_csv(profile_id: int, *, session: Session, filters: MatchFilters | None = None) -> str:
    """Every stored match passing the filters as CSV (what the list shows, without paging)."""
    rows, _ = match_page(profile_id, session=session, filters=filters, offset=0, limit=1_000_000)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=MATCH_CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_safe(row.get(k)) for k in MATCH_CSV_COLUMNS})
    return out.getvalue()


def _csv_safe(value: Any) -> Any:
    # Text from the web opened in a spreadsheet must not run as a formula.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# --- actions on many communities -------------------------------------------------------------------------

def apply_feedback(community_ids: list[int], feedback: str | None, *, session: Session,
                   profile_id: int | None) -> int:
    """Shortlist or reject communities for a profile (the next ranking learns from it); returns how many."""
    from recruiter.pipeline import set_feedback

    done = 0
    for cid in community_ids:
        community = session.get(Community, cid)
        if community is not None:
            set_feedback(community, feedback, session=session, profile_id=profile_id)
            done += 1
    return done


def move_communities(community_ids: list[int], stage: str, *, session: Session, profile_id: int | None = None,
                     force: bool = False) -> tuple[int, list[str]]:
    """Move communities' prospects to a stage; those it would double-contact are skipped unless forced."""
    moved, skipped = 0, []
    for cid in community_ids:
        community = session.get(Community, cid)
        if community is None:
            continue
        prospect = get_or_create_prospect(community, session=session, profile_id=profile_id)
        session.commit()
        try:
            move_prospect(prospect.id, stage, session=session, force=force)
            moved += 1
        except DoubleContactError as exc:
            skipped.append(f"{community.name or community.url}: {exc}")
    return moved, skipped


def move_prospect(prospect_id: int, stage: str, *, session: Session, force: bool = False, note: str = "",
                  at: datetime | None = None) -> Prospect:
    """Move one prospect (what a drop on the board does); refuses a second first-contact unless forced."""
    prospect = session.get(Prospect, prospect_id)
    if prospect is None:
        raise PipelineError(f"no prospect {prospect_id}")
    if stage not in STAGES:
        raise PipelineError(f"unknown stage {stage!r} (stages: {', '.join(STAGES)})")
    if stage == "contacted" and prospect.stage not in CONTACTED_STAGES and not force:
        when = contacted_before(prospect, session=session)
        if when is not None:
            raise DoubleContactError(when)
    community = session.get(Community, prospect.community_id)
    return set_stage(community, stage, session=session, note=note, at=at)


def open_prospect(community_id: int, *, session: Session, profile_id: int | None = None) -> Prospect:
    """The community's prospect, created (as Discovered) when it has none yet."""
    community = session.get(Community, community_id)
    if community is None:
        raise PipelineError(f"no community {community_id}")
    prospect = get_or_create_prospect(community, session=session, profile_id=profile_id)
    session.commit()
    session.refresh(prospect)
    return prospect


# --- the board -------------------------------------------------------------------------------------------

def contacted_prospect_ids(prospect_ids: list[int], *, session: Session) -> dict[int, datetime]:
    """When each of these prospects was first contacted (those never contacted are absent): one query each way."""
    out: dict[int, datetime] = {}
    for start in range(0, len(prospect_ids), 900):
        part = prospect_ids[start:start + 900]
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
    for start in range(0, len(community_ids), 900):
        part = community_ids[start:start + 900]
        fit_query = select(Match.community_id, func.max(Match.fit)).where(Match.community_id.in_(part))
        if profile_id:
            fit_query = fit_query.where(Match.profile_id == profile_id)
        fits.update(dict(session.exec(fit_query.group_by(Match.community_id)).all()))
    contacted = contacted_prospect_ids([p.id for p, _ in pairs], session=session)
    columns: dict[str, list[dict[str, Any]]] = {s: [] for s in STAGES}
    totals = {s: 0 for s in STAGES}
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
    items = [{"at": _aware(a.at), "prospect_id": p.id, "name": c.name or c.url, "kind": a.kind,
              "detail": a.detail} for a, p, c in rows]
    items += [{"at": _aware(s.at), "prospect_id": s.prospect_id, "name": c.name or c.url, "kind": "stage",
               "detail": f"{s.from_stage} → {s.to_stage}"} for s, c in changes]
    items.sort(key=lambda item: item["at"], reverse=True)
    return items[:limit]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


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


# --- outreach templates ----------------------------------------------------------------------------------

TEMPLATES_KEY = "outreach_templates"
REFERRAL_LINK_KEY = "referral_link_template"
DEFAULT_TEMPLATES = [
    {"name": "First contact", "subject": "A partnership for {community}?",
     "body": ("Hi {name},\n\nI've been following {community} and I think your audience would love what we do "
              "({profile}). Would you be open to an affiliate partnership? You'd earn a commission on every "
              "sale through your link:\n{ref_link}\n\nHappy to send a free sample first.\n\nThanks!")},
    {"name": "Follow-up", "subject": "Following up: {community} x us",
     "body": ("Hi {name},\n\nJust following up on my note about partnering with {community}. "
              "Your link is ready whenever you are: {ref_link}\n\nBest,")},
]
PLACEHOLDERS = ("{name}", "{community}", "{profile}", "{ref_link}")


def outreach_templates(*, session: Session) -> list[dict[str, str]]:
    stored = get_setting(TEMPLATES_KEY, None, session=session)
    return stored if isinstance(stored, list) and stored else [dict(t) for t in DEFAULT_TEMPLATES]


def save_outreach_templates(templates: list[dict[str, str]], *, session: Session) -> None:
    cleaned = [{"name": str(t.get("name") or f"Template {i}").strip(), "subject": str(t.get("subject") or ""),
                "body": str(t.get("body") or "")} for i, t in enumerate(templates, start=1)]
    set_setting(TEMPLATES_KEY, cleaned, session=session)


def referral_link(community: Community, *, session: Session) -> str:
    """The partner's tracked link when one was made, else the merchant's link pattern filled in, else ''."""
    link = latest_link(community.id, session=session)
    if link is not None:
        return link.tracked_url
    pattern = get_setting(REFERRAL_LINK_KEY, "", session=session) or ""
    code = stored_ref_code(community.id, session=session) or ""
    slug = re.sub(r"[^a-z0-9]+", "-", (community.name or community.url).lower()).strip("-")[:40]
    return pattern.replace("{code}", code or slug).replace("{slug}", slug)


def render_template(template: str, *, community: Community, profile: Profile | None, ref_link: str) -> str:
    """Fill the four placeholders; any other brace is left as written (templates are the user's text)."""
    values = {
        "{name}": community.author or community.name or community.site_name or "there",
        "{community}": community.name or community.title or community.url,
        "{profile}": (profile.description or profile.name) if profile else "",
        "{ref_link}": ref_link or "(your referral link)",
    }
    pattern = re.compile("|".join(re.escape(k) for k in values))
    return pattern.sub(lambda m: values[m.group(0)], template or "")


def mailto_link(to: str | None, subject: str, body: str) -> str:
    return f"mailto:{quote(to or '', safe='@,')}?subject={quote(subject, safe='')}&body={quote(body, safe='')}"


def log_contact(prospect_id: int, kind: str, detail: str, *, session: Session) -> Prospect:
    """Record that the user reached out (opened a mail, copied a template); a new prospect moves to Contacted."""
    from recruiter.pipeline import log_activity

    prospect = session.get(Prospect, prospect_id)
    if prospect is None:
        raise PipelineError(f"no prospect {prospect_id}")
    log_activity(prospect, kind, detail, session=session)
    if prospect.stage in ("discovered", "shortlisted"):
        community = session.get(Community, prospect.community_id)
        prospect = set_stage(community, "contacted", session=session)
    return prospect


def follow_up_in(days: int) -> date:
    return date.today() + timedelta(days=days)


__all__ = ["default_profile", "ranking_state", "rank_profile", "preview_matches", "MatchFilters", "match_page",
           "matches_csv", "apply_feedback", "move_communities", "move_prospect", "board", "funnel_counts",
           "follow_ups_due", "recent_activity", "profile_counts", "outreach_templates", "render_template",
           "referral_link", "mailto_link", "log_contact", "DoubleContactError", "RANKED_LIMIT", "PAGE_SIZE"]
