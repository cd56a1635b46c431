"""Read models of the pipeline for the screens: the board's cards, and the dashboard's funnel, follow-ups,
recent activity and per-profile counts. Queries only: every change goes through `recruiter.outreach.pipeline`.

They are dataclasses so the pages (and tests) read named fields, and so items from elsewhere can join them:
a `FollowUp` carries its `source` ("prospect" for a date set on a prospect; email sequences add their steps
due soon as `source="sequence"`), and `follow_ups` merges whatever lists it is given, soonest first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import case, func, or_
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
from recruiter.outreach.pipeline import owner_emails
from recruiter.outreach.sequences import due_steps

# The stages a prospect moves through on the way to a performing partner; `declined` leaves the path.
FUNNEL_STAGES = [s for s in STAGES if s != "declined"]
UPCOMING_DAYS = 14


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


# --- the board -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BoardCard:
    prospect_id: int
    community_id: int
    name: str
    url: str
    kind: str
    stage: str
    fit: int | None
    next_follow_up: date | None
    follow_up_due: bool  # today or overdue
    contacted_at: date | None
    feedback: str | None
    last_activity_at: datetime | None
    last_activity: str  # e.g. "note: asked about the sample", "moved to contacted"
    owner: str | None = None  # the owner's email


@dataclass(frozen=True)
class Board:
    columns: dict[str, list[BoardCard]]  # every stage, in pipeline order
    totals: dict[str, int]  # cards per stage matching the filters, including those not loaded

    def hidden(self, stage: str) -> int:
        """Cards of a stage beyond those loaded (the column says "+ N more")."""
        return self.totals[stage] - len(self.columns[stage])

    @property
    def empty(self) -> bool:
        return not any(self.totals.values())


# Setting a reminder is not something that happened with the community (the card shows the date anyway).
NOT_ACTIVITY = ("follow_up",)


def _last_activities(prospect_ids: list[int], *, session: Session) -> dict[int, Activity]:
    """Each prospect's newest activity (one windowed query per chunk)."""
    out: dict[int, Activity] = {}
    for part in chunked(prospect_ids, 900):
        newest = (select(Activity.id, func.row_number().over(
            partition_by=Activity.prospect_id, order_by=(Activity.at.desc(), Activity.id.desc())).label("n"))
            .where(Activity.prospect_id.in_(part), Activity.kind.not_in(NOT_ACTIVITY)).subquery())
        for activity in session.exec(select(Activity).join(newest, newest.c.id == Activity.id)
                                     .where(newest.c.n == 1)).all():
            out[activity.prospect_id] = activity
    return out


def _describe(activity: Activity) -> str:
    label = activity.kind.replace("_", " ")
    detail = " ".join((activity.detail or "").split())
    return f"{label}: {detail}" if detail else label


def _like(word: str) -> str:
    """A LIKE pattern finding `word` anywhere, its own % and _ taken as the characters they are."""
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _board_filters(query, *, profile_id: int | None, kind: str | None, text: str, owner_id: int | None):
    if profile_id:
        query = query.where(Prospect.profile_id == profile_id)
    if owner_id is not None:
        query = query.where(Prospect.owner_id == owner_id)
    if kind:
        query = query.where(Community.kind == kind)
    for word in text.strip().lower().split()[:8]:
        pattern = _like(word)
        query = query.where(or_(func.lower(Community.name).like(pattern, escape="\\"),
                                func.lower(Community.url).like(pattern, escape="\\")))
    return query


def board(*, session: Session, profile_id: int | None = None, kind: str | None = None, text: str = "",
          owner_id: int | None = None, per_stage: int = 200) -> Board:
    """Cards per stage (newest moves first, at most `per_stage` each) with fit, next follow-up and last activity.

    Filters: the profile that put the prospect in the pipeline, the community's kind, words found in the
    community's name or URL (case-insensitive), and the owner ("mine"). Counts and cards are both read in SQL,
    so a pipeline of many thousands of prospects loads only the cards shown."""
    filters = {"profile_id": profile_id, "kind": kind, "text": text, "owner_id": owner_id}
    joined = select(Prospect.stage, func.count()).join(Community, Community.id == Prospect.community_id)
    counts = dict(session.exec(_board_filters(joined, **filters).group_by(Prospect.stage)).all())
    totals = {stage: int(counts.get(stage, 0)) for stage in STAGES}
    totals["discovered"] += sum(int(n) for stage, n in counts.items() if stage not in totals)
    newest = _board_filters(
        select(Prospect.id, func.row_number().over(
            partition_by=Prospect.stage, order_by=(Prospect.stage_changed_at.desc(), Prospect.id.desc())).label("n"))
        .join(Community, Community.id == Prospect.community_id), **filters).subquery()
    pairs = session.exec(select(Prospect, Community).join(Community, Community.id == Prospect.community_id)
                         .join(newest, newest.c.id == Prospect.id).where(newest.c.n <= per_stage)
                         .order_by(Prospect.stage_changed_at.desc(), Prospect.id.desc())).all()
    columns: dict[str, list[tuple[Prospect, Community]]] = {s: [] for s in STAGES}
    for prospect, community in pairs:
        columns[prospect.stage if prospect.stage in columns else "discovered"].append((prospect, community))
    shown = [pair for stage in STAGES for pair in columns[stage]]
    community_ids = [c.id for _, c in shown]
    fits: dict[int, int] = {}
    for part in chunked(community_ids, 900):
        fit_query = select(Match.community_id, func.max(Match.fit)).where(Match.community_id.in_(part))
        if profile_id:
            fit_query = fit_query.where(Match.profile_id == profile_id)
        fits.update(dict(session.exec(fit_query.group_by(Match.community_id)).all()))
    prospect_ids = [p.id for p, _ in shown]
    owners = owner_emails([p.owner_id for p, _ in shown], session=session)
    contacted = contacted_prospect_ids(prospect_ids, session=session)
    last = _last_activities(prospect_ids, session=session)
    today = date.today()
    cards: dict[str, list[BoardCard]] = {s: [] for s in STAGES}
    for stage in STAGES:
        for prospect, community in columns[stage]:
            moved_at = as_utc(prospect.stage_changed_at)
            activity = last.get(prospect.id)
            if activity is not None and as_utc(activity.at) >= moved_at:
                last_at, last_text = as_utc(activity.at), _describe(activity)
            else:
                last_at, last_text = moved_at, f"moved to {prospect.stage}"
            first_contact = contacted.get(prospect.id)
            cards[stage].append(BoardCard(
                prospect_id=prospect.id, community_id=community.id, name=community.name or community.url,
                url=community.url, kind=community.kind, stage=stage, fit=fits.get(community.id),
                next_follow_up=prospect.next_follow_up,
                follow_up_due=bool(prospect.next_follow_up and prospect.next_follow_up <= today),
                contacted_at=as_utc(first_contact).date() if first_contact else None,
                feedback=prospect.feedback, last_activity_at=last_at, last_activity=last_text,
                owner=owners.get(prospect.owner_id) if prospect.owner_id else None))
    return Board(columns=cards, totals=totals)



# --- the dashboard: funnel -------------------------------------------------------------------------------

def funnel_counts(*, session: Session, profile_id: int | None = None) -> dict[str, int]:
    """How many prospects are at each stage now."""
    query = select(Prospect.stage, func.count()).group_by(Prospect.stage)
    if profile_id:
        query = query.where(Prospect.profile_id == profile_id)
    counts = dict(session.exec(query).all())
    return {stage: int(counts.get(stage, 0)) for stage in STAGES}


@dataclass(frozen=True)
class FunnelStep:
    stage: str
    reached: int  # prospects that got this far (or further), declined ones included
    now: int  # prospects at this stage now
    conversion: float | None  # share of those who reached the stage before that reached this one


@dataclass(frozen=True)
class Funnel:
    steps: list[FunnelStep]
    declined: int
    declined_before_contact: int  # judged not a fit, never written to
    declined_after_contact: int  # said no (or went silent and were closed)

    @property
    def total(self) -> int:
        return self.steps[0].reached if self.steps else 0


def funnel(*, session: Session, profile_id: int | None = None) -> Funnel:
    """Conversion between successive stages, from each prospect's furthest stage in its history.

    A declined prospect counts as having reached the furthest stage it got to before it was declined: it is in
    the denominator of the next step and did not convert, so declines lower the shares instead of vanishing."""
    position = case(*[(StageChange.to_stage == s, i) for i, s in enumerate(FUNNEL_STAGES)], else_=0)
    query = (select(Prospect.id, Prospect.stage, func.max(position))
             .join(StageChange, StageChange.prospect_id == Prospect.id, isouter=True)
             .group_by(Prospect.id, Prospect.stage))
    if profile_id:
        query = query.where(Prospect.profile_id == profile_id)
    contacted_index = FUNNEL_STAGES.index("contacted")
    furthest: list[int] = []
    now = dict.fromkeys(STAGES, 0)
    before = after = 0
    for _pid, stage, top in session.exec(query).all():
        current = FUNNEL_STAGES.index(stage) if stage in FUNNEL_STAGES else 0
        reach = max(int(top or 0), current)
        furthest.append(reach)
        now[stage if stage in now else "discovered"] += 1
        if stage == "declined":
            if reach >= contacted_index:
                after += 1
            else:
                before += 1
    steps: list[FunnelStep] = []
    previous: int | None = None
    for index, stage in enumerate(FUNNEL_STAGES):
        reached = sum(1 for f in furthest if f >= index)
        conversion = round(reached / previous, 4) if previous else None
        steps.append(FunnelStep(stage=stage, reached=reached, now=now[stage], conversion=conversion))
        previous = reached
    return Funnel(steps=steps, declined=now["declined"], declined_before_contact=before,
                  declined_after_contact=after)


# --- the dashboard: follow-ups ----------------------------------------------------------------------------

@dataclass(frozen=True)
class FollowUp:
    """Something to do for a prospect on a day: a follow-up date set on it, or (from sequences) a step due."""

    due: date
    prospect_id: int | None
    community_id: int
    name: str
    kind: str  # the community's kind ("" when the source does not say)
    stage: str | None
    source: str = "prospect"  # prospect | sequence
    detail: str = ""
    today: date = field(default_factory=date.today, compare=False)
    owner_id: int | None = None  # the prospect's owner

    @classmethod
    def of_sequence_step(cls, step: Any, *, today: date | None = None) -> FollowUp:
        """An email sequence step due soon (`recruiter.outreach.sequences.DueStep`: prospect_id, community_id,
        name, sequence, step, subject, due_at) as a follow-up, to merge with `follow_ups(..., more=...)`."""
        subject = f": {step.subject}" if getattr(step, "subject", "") else ""
        return cls(due=as_utc(step.due_at).date(), prospect_id=step.prospect_id, community_id=step.community_id,
                   name=step.name, kind="", stage=None, source="sequence",
                   detail=f"{step.sequence}, step {step.step}{subject}", today=today or date.today(),
                   owner_id=getattr(step, "owner_id", None))

    @property
    def days(self) -> int:
        """Days until due (negative: late)."""
        return (self.due - self.today).days

    @property
    def days_late(self) -> int:
        return max(0, -self.days)

    @property
    def status(self) -> str:
        return "overdue" if self.days < 0 else "today" if self.days == 0 else "upcoming"

    @property
    def when(self) -> str:
        """How a person says it: "3 d late", "today", "tomorrow", "in 5 d"."""
        days = self.days
        if days < 0:
            return f"{-days} d late"
        return "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} d"


def prospect_follow_ups(*, session: Session, today: date | None = None, days: int = UPCOMING_DAYS,
                        limit: int = 100, mine: int | None = None) -> list[FollowUp]:
    """Prospects with a follow-up date up to `days` ahead, overdue ones included, soonest first (those owned by
    the user `mine` before the others)."""
    today = today or date.today()
    horizon = date.fromordinal(today.toordinal() + max(0, days))
    order = [Prospect.next_follow_up, Prospect.id]
    if mine is not None:
        order.insert(0, case((Prospect.owner_id == mine, 0), else_=1))
    rows = session.exec(select(Prospect, Community).join(Community, Community.id == Prospect.community_id)
                        .where(Prospect.next_follow_up.is_not(None), Prospect.next_follow_up <= horizon)
                        .order_by(*order).limit(limit)).all()
    return [FollowUp(due=p.next_follow_up, prospect_id=p.id, community_id=c.id, name=c.name or c.url, kind=c.kind,
                     stage=p.stage, today=today, owner_id=p.owner_id) for p, c in rows]


def follow_ups(*, session: Session, today: date | None = None, days: int = UPCOMING_DAYS, limit: int = 100,
               more: Iterable[FollowUp] = (), sequences: bool = True, mine: int | None = None) -> list[FollowUp]:
    """Everything to follow up within `days` (overdue first, then by date): the prospects' follow-up dates, the
    email sequence steps due (`sequences`), and any other items given in `more`, as one list. With `mine` (a
    user's id), the follow-ups of the prospects that user owns come first."""
    items = prospect_follow_ups(session=session, today=today, days=days, limit=limit, mine=mine) + list(more)
    if sequences:
        now = datetime.combine(today, time(12, 0), tzinfo=UTC) if today else None
        items += [FollowUp.of_sequence_step(step, today=today)
                  for step in due_steps(session=session, within_days=days, now=now, limit=limit)]
    items.sort(key=lambda item: (mine is not None and item.owner_id != mine, item.due, item.source != "prospect",
                                 item.name.lower()))
    return items[:limit]


# --- the dashboard: activity and profiles ----------------------------------------------------------------

@dataclass(frozen=True)
class ActivityItem:
    at: datetime
    prospect_id: int
    community_id: int
    name: str
    kind: str  # an activity kind, or "stage" for a move
    detail: str


def recent_activity(*, session: Session, limit: int = 20) -> list[ActivityItem]:
    """The newest activities and stage moves together, newest first (details whole)."""
    rows = session.exec(select(Activity, Prospect, Community)
                        .join(Prospect, Prospect.id == Activity.prospect_id)
                        .join(Community, Community.id == Prospect.community_id)
                        .order_by(Activity.at.desc(), Activity.id.desc()).limit(limit)).all()
    changes = session.exec(select(StageChange, Community)
                           .join(Prospect, Prospect.id == StageChange.prospect_id)
                           .join(Community, Community.id == Prospect.community_id)
                           .where(StageChange.from_stage.is_not(None))
                           .order_by(StageChange.at.desc(), StageChange.id.desc()).limit(limit)).all()
    items = [ActivityItem(as_utc(a.at), p.id, c.id, c.name or c.url, a.kind, a.detail) for a, p, c in rows]
    items += [ActivityItem(as_utc(s.at), s.prospect_id, c.id, c.name or c.url, "stage",
                           f"{s.from_stage} → {s.to_stage}" + (f" ({s.note})" if s.note else ""))
              for s, c in changes]
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


@dataclass(frozen=True)
class ProfileCount:
    id: int
    name: str
    matches: int
    prospects: int
    partners: int  # joined or later
    last_used: date | None


def profile_counts(*, session: Session) -> list[ProfileCount]:
    """Per profile: stored matches, prospects, partners (joined or later), last used."""
    profiles = session.exec(select(Profile).order_by(Profile.name)).all()
    matches = dict(session.exec(select(Match.profile_id, func.count()).group_by(Match.profile_id)).all())
    prospects = dict(session.exec(select(Prospect.profile_id, func.count()).group_by(Prospect.profile_id)).all())
    partners = dict(session.exec(select(Prospect.profile_id, func.count()).where(
        Prospect.stage.in_(PARTNER_STAGES)).group_by(Prospect.profile_id)).all())
    return [ProfileCount(id=p.id, name=p.name, matches=int(matches.get(p.id, 0)),
                         prospects=int(prospects.get(p.id, 0)), partners=int(partners.get(p.id, 0)),
                         last_used=as_utc(p.last_used_at).date() if p.last_used_at else None) for p in profiles]

