"""Stored rankings: rank a profile into `Match` rows, tell whether they are stale, and page through them.

The web app's ranked list reads stored `Match` rows with SQL filters and paging, so a page never waits for a
ranking; `ranking_state` says whether the stored ranking is missing or stale, and `rank_profile` (re)computes
it (slow: the caller runs it off the event loop). `preview_matches` ranks a profile as edited, storing nothing.
`matches_csv` is an export: it needs EXPORT and is recorded in the audit log.
"""

from __future__ import annotations

import csv
import io
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from recruiter.accounts import audit
from recruiter.accounts.roles import EXPORT, Actor, require
from recruiter.core.db import current_data_version, get_setting, open_session, set_setting
from recruiter.core.errors import InvalidValue
from recruiter.core.models import (
    KINDS,
    Activity,
    Community,
    CommunityKind,
    Feedback,
    Match,
    Profile,
    Prospect,
    Stage,
    User,
    as_utc,
    check_stage,
    utcnow,
)
from recruiter.core.text import spreadsheet_safe
from recruiter.matching.ranking import audience_label, rank_communities

# How many of the best communities a background ranking stores as matches: enough to filter by kind,
# audience or text and still have pages of results, small enough to store in about a second.
RANKED_LIMIT = 1000
PAGE_SIZE = 50
SORTS = {"fit": "best fit first", "audience": "largest audience first", "name": "name A–Z",
         "stage": "pipeline stage"}


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
    communities = session.exec(select(func.count()).select_from(Community)).one()
    stored = session.exec(select(func.count()).select_from(Match).where(Match.profile_id == profile.id)).one()
    info = get_setting(_ranking_key(profile.id), None, session=session) or {}
    data_version = current_data_version(session=session)
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
    return as_utc(value).isoformat() if value is not None else None


_ranking_lock = threading.Lock()
_ranking_now: set[tuple[str, int]] = set()


def rank_profile(profile_id: int, *, db_url: str | None = None, limit: int = RANKED_LIMIT) -> int | None:
    """Rank every community for the profile and store the best `limit` as matches; returns how many.

    Slow (loads the model, syncs the index, scores everything): run it in a worker thread. Returns None when
    the same profile is already being ranked (two tabs must not rank twice at once).
    """
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
            data_version = current_data_version(session=session)
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


@dataclass(frozen=True)
class MatchRow:
    """One community in a profile's ranked list, with where it stands in the pipeline: a row of the Prospects
    table, of the editor's preview and of the CSV export."""

    community_id: int
    prospect_id: int | None
    fit: int
    score: float
    rank: int | None
    name: str
    url: str
    kind: str
    audience_size: int | None
    audience: str
    stage: Stage
    feedback: Feedback | None
    next_follow_up: date | None
    why: str
    owner: str | None = None  # the email of the prospect's owner

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values (the web table's row, the CSV's cells)."""
        return {"community_id": self.community_id, "prospect_id": self.prospect_id, "fit": self.fit,
                "score": self.score, "rank": self.rank, "name": self.name, "url": self.url, "kind": self.kind,
                "audience_size": self.audience_size, "audience": self.audience, "stage": self.stage.value,
                "feedback": self.feedback.value if self.feedback else None,
                "next_follow_up": self.next_follow_up.isoformat() if self.next_follow_up else None,
                "why": self.why, "owner": self.owner}


def preview_matches(profile: Profile, *, db_url: str | None = None, limit: int = 10) -> list[MatchRow]:
    """The top matches for a profile as edited (saved or not), stored nowhere: the editor's live preview."""
    with open_session(db_url) as session:  # ranking syncs the index first
        results = rank_communities(profile, session=session, limit=limit, store=False)
    return [MatchRow(community_id=r.community_id, prospect_id=None, fit=r.fit, score=r.score, rank=position,
                     name=r.name or r.url, url=r.url, kind=r.kind, audience_size=r.audience_size,
                     audience=audience_label(r.audience_size), stage=Stage(r.stage or Stage.discovered),
                     feedback=None, next_follow_up=None, why=r.why)
            for position, r in enumerate(results, start=1)]


# --- the ranked list -------------------------------------------------------------------------------------

@dataclass
class MatchFilters:
    kind: CommunityKind | str | None = None
    min_audience: int | None = None
    stage: Stage | str | None = None
    text: str = ""
    sort: str = "fit"
    include_not_a_fit: bool = False
    owner_id: int | None = None  # only prospects this user owns ("mine")


def _match_query(profile_id: int, filters: MatchFilters):
    stage_expr = func.coalesce(Prospect.stage, Stage.discovered.value)
    conditions = [Match.profile_id == profile_id]
    if filters.kind:
        try:
            kind = CommunityKind(filters.kind)
        except ValueError:
            raise InvalidValue(f"unknown kind {filters.kind!r} (kinds: {', '.join(KINDS)})") from None
        conditions.append(Community.kind == kind.value)
    if filters.min_audience:
        conditions.append(Community.audience_size >= int(filters.min_audience))
    if filters.stage:
        conditions.append(stage_expr == check_stage(filters.stage))
    if filters.owner_id is not None:
        conditions.append(Prospect.owner_id == filters.owner_id)
    words = [w for w in re.split(r"\s+", (filters.text or "").strip()) if w]
    for word in words[:8]:
        pattern = f"%{word.lower()}%"
        conditions.append(or_(func.lower(Community.name).like(pattern), func.lower(Community.title).like(pattern),
                              func.lower(Community.description).like(pattern), func.lower(Community.url).like(pattern)))
    if not filters.include_not_a_fit and filters.stage != Stage.declined:
        conditions.append(or_(Prospect.feedback.is_(None), Prospect.feedback != Feedback.not_a_fit.value))
    return and_(*conditions), stage_expr


def match_page(profile_id: int, *, session: Session, filters: MatchFilters | None = None, offset: int = 0,
               limit: int = PAGE_SIZE) -> tuple[list[MatchRow], int]:
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
                    Prospect.feedback, Prospect.next_follow_up, User.email)
             .join(Community, Community.id == Match.community_id)
             .outerjoin(Prospect, Prospect.community_id == Match.community_id)
             .outerjoin(User, User.id == Prospect.owner_id)
             .where(where).order_by(*order, Match.id).offset(max(0, offset)).limit(limit))
    rows = [MatchRow(community_id=cid, prospect_id=pid, fit=fit, score=round(float(score), 4), rank=rank,
                     name=name or title or url, url=url, kind=kind, audience_size=audience,
                     audience=audience_label(audience), stage=Stage(stage or Stage.discovered),
                     feedback=Feedback(feedback) if feedback else None, next_follow_up=follow_up, why=why,
                     owner=owner)
            for (fit, score, why, rank, cid, name, title, url, kind, audience, pid, stage, feedback, follow_up, owner)
            in session.exec(query).all()]
    return rows, total


MATCH_CSV_COLUMNS = ["rank", "fit", "score", "name", "url", "kind", "audience_size", "stage", "feedback",
                     "next_follow_up", "owner", "why"]


def matches_csv(profile_id: int, *, actor: Actor, session: Session, filters: MatchFilters | None = None) -> str:
    """Every stored match passing the filters as CSV (what the list shows, without paging). Needs EXPORT;
    audited as "export"."""
    actor = require(actor, EXPORT, session=session)
    rows, _ = match_page(profile_id, session=session, filters=filters, offset=0, limit=1_000_000)
    profile = session.get(Profile, profile_id)
    audit.record(actor, "export", profile.name if profile else str(profile_id),
                 {"what": "prospects", "format": "csv", "rows": len(rows)}, session=session)
    session.commit()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=MATCH_CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        values = row.as_dict()
        writer.writerow({k: spreadsheet_safe(values[k]) for k in MATCH_CSV_COLUMNS})
    return out.getvalue()
