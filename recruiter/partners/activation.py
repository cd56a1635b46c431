"""Activating joined partners: a checklist per partner, message templates, reminders and the stage moves.

Most partners who join never promote, so each joined partner walks a checklist: welcome sent, link created,
assets shared, first promotion, first sale. Steps are ticked by hand, by `link` (link created) and by
performance imports (first promotion = first day with clicks, first sale = first day with conversions).
Activity moves the partner on through `recruiter.outreach.pipeline.set_stage` so the history is kept: the first
promotion makes it `activated`, the first sale `performing`. Stages only ever move forward here.

Ticking a step by hand needs PARTNERS (`recruiter.accounts.roles`); a tick is recorded in the audit log
("activation.step"), and the stage moves it causes are recorded as the pipeline records every move.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from recruiter.accounts import audit
from recruiter.accounts.roles import PARTNERS, Actor, require
from recruiter.core.db import chunked
from recruiter.core.errors import RecruiterError
from recruiter.core.models import (
    PARTNER_STAGES,
    ActivationStep,
    Community,
    PerformanceDay,
    Prospect,
    Stage,
    StageChange,
    as_utc,
    utcnow,
)
from recruiter.outreach.pipeline import apply_stage, log_activity
from recruiter.outreach.templates import fill, message_values

STEPS = ["welcome_sent", "link_created", "assets_shared", "first_promotion", "first_sale"]
STEP_LABELS = {
    "welcome_sent": "Welcome sent",
    "link_created": "Link created",
    "assets_shared": "Assets shared",
    "first_promotion": "First promotion",
    "first_sale": "First sale",
}
PARTNER_ORDER = [Stage.joined, Stage.activated, Stage.performing]
DEFAULT_STUCK_DAYS = 7

# The message to send to get a partner past each step; placeholders are filled by render_template.
TEMPLATES = {
    "welcome_sent": (
        "Subject: Welcome to the {merchant} partner program\n\n"
        "Hi {name},\n\n"
        "Thank you for joining! Your audience is exactly who we make things for, so we're glad to have you.\n"
        "Your personal link: {tracked_url}\n"
        "Your referral code: {ref_code}\n\n"
        "Next I'll send you product photos and a few angles that work well. Anything you need, just reply.\n\n"
        "{signature}"
    ),
    "link_created": (
        "Hi {name},\n\nHere is your tracked link: {tracked_url}\n"
        "Every visit and sale through it is credited to you (code {ref_code}).\n\n{signature}"
    ),
    "assets_shared": (
        "Subject: Everything you need to mention {merchant}\n\n"
        "Hi {name},\n\n"
        "Here is a small kit: product photos, a short description in our words, and three ideas that fit "
        "your audience. Use any of it, or none: your own words convert best.\n"
        "Your link again: {tracked_url}\n\n{signature}"
    ),
    "first_promotion": (
        "Subject: An easy first mention?\n\n"
        "Hi {name},\n\n"
        "It's been a little while since you joined. Would a first mention fit in your next post or episode? "
        "If it helps, I can send a free sample to try first, or a discount code just for your audience.\n"
        "Your link: {tracked_url}\n\n{signature}"
    ),
    "first_sale": (
        "Subject: People are clicking - a few ideas to turn that into sales\n\n"
        "Hi {name},\n\n"
        "Your audience is visiting us through your link (thank you!). Partners who get their first sales "
        "fastest show the product in use and mention a reason to buy now. Want a time-limited code for "
        "your readers?\n\n{signature}"
    ),
}


class ActivationError(RecruiterError, ValueError):
    pass


@dataclass
class Reminder:
    url: str
    name: str
    stage: str
    step: str
    waiting_days: int
    since: str

    def public(self) -> dict[str, Any]:
        return {"url": self.url, "name": self.name, "stage": self.stage, "step": self.step,
                "label": STEP_LABELS[self.step], "waiting_days": self.waiting_days, "since": self.since}


def check_step(step: str) -> str:
    key = step.strip().lower().replace("-", "_").replace(" ", "_")
    if key not in STEPS:
        raise ActivationError(f"unknown step {step!r} (steps: {', '.join(STEPS)})")
    return key


def _as_datetime(value: date | datetime | None) -> datetime:
    if value is None:
        return utcnow()
    if isinstance(value, datetime):
        return as_utc(value)
    return datetime.combine(value, time(12, 0), tzinfo=UTC)


def active_day():
    """A performance day with any activity: clicks, conversions or revenue (the SQL condition)."""
    return (PerformanceDay.clicks > 0) | (PerformanceDay.conversions > 0) | (PerformanceDay.revenue > 0)


def _prospect(community: Community, *, session: Session) -> Prospect | None:
    return session.exec(select(Prospect).where(Prospect.community_id == community.id)).first()


def next_step(done: set[str]) -> str | None:
    """The first unticked step after the furthest ticked one: a partner already selling is not reminded
    that the welcome was never ticked."""
    furthest = max((STEPS.index(s) for s in done if s in STEPS), default=-1)
    return next((s for s in STEPS[furthest + 1:] if s not in done), None)


def mark_step(community: Community, step: str, *, actor: Actor, session: Session, source: str = "manual",
              note: str = "", at: date | datetime | None = None, only_if_missing: bool = False) -> ActivationStep:
    """Tick a checklist step (re-ticking keeps the earliest time); activity steps move the stage on.
    Needs PARTNERS."""
    actor = require(actor, PARTNERS, session=session)
    return tick_step(community, step, actor=actor, session=session, source=source, note=note, at=at,
                     only_if_missing=only_if_missing)


def tick_step(community: Community, step: str, *, actor: Actor, session: Session, source: str = "manual",
              note: str = "", at: date | datetime | None = None, only_if_missing: bool = False) -> ActivationStep:
    """`mark_step` without the permission check, for a service that checked its own (a link, an import)."""
    step = check_step(step)
    when = _as_datetime(at)
    row = session.exec(select(ActivationStep).where(ActivationStep.community_id == community.id,
                                                    ActivationStep.step == step)).first()
    if row is not None and only_if_missing:
        return row
    new = row is None
    if row is None:
        row = ActivationStep(community_id=community.id, step=step, done_at=when, source=source, note=note)
    elif when < as_utc(row.done_at):
        row.done_at, row.source = when, source
    if note and not row.note:
        row.note = note
    session.add(row)
    audit.record(actor, "activation.step", community.url, {"step": step, "done": True, "source": source},
                 session=session)
    session.commit()
    prospect = _prospect(community, session=session)
    if prospect is not None and new:
        log_activity(prospect, "activation", STEP_LABELS[step], session=session,
                     data={"step": step, "source": source})
    if step == "first_promotion":
        advance_stage(community, Stage.activated, actor=actor, session=session, at=when)
    elif step == "first_sale":
        advance_stage(community, Stage.performing, actor=actor, session=session, at=when)
    return row


def unmark_step(community: Community, step: str, *, actor: Actor, session: Session) -> bool:
    """Untick a step (the stage stays where the activity took it). Needs PARTNERS."""
    actor = require(actor, PARTNERS, session=session)
    step = check_step(step)
    row = session.exec(select(ActivationStep).where(ActivationStep.community_id == community.id,
                                                    ActivationStep.step == step)).first()
    if row is None:
        return False
    session.delete(row)
    audit.record(actor, "activation.step", community.url, {"step": step, "done": False}, session=session)
    session.commit()
    return True


def advance_stage(community: Community, target: Stage, *, actor: Actor, session: Session,
                  at: datetime | None = None) -> bool:
    """Move a partner forward to `target` (joined → activated → performing); never backwards, never a
    non-partner. The change is dated at the activity, but never before the stage it leaves."""
    prospect = _prospect(community, session=session)
    if prospect is None or prospect.stage not in PARTNER_ORDER:
        return False
    if PARTNER_ORDER.index(prospect.stage) >= PARTNER_ORDER.index(target):
        return False
    when = max(as_utc(at or utcnow()), as_utc(prospect.stage_changed_at))
    when = min(when, utcnow())
    if target is Stage.performing and prospect.stage == Stage.joined:
        apply_stage(community, Stage.activated, actor=actor, session=session, at=when)  # a sale implies a promotion
    apply_stage(community, target, actor=actor, session=session, at=when)
    return True


def joined_at(prospect_id: int, *, session: Session) -> datetime | None:
    """When the partner first reached a partner stage."""
    when = session.exec(select(StageChange.at).where(StageChange.prospect_id == prospect_id,
                                                     StageChange.to_stage.in_(PARTNER_STAGES))
                        .order_by(StageChange.at)).first()
    return as_utc(when) if when else None


def render_template(step: str, community: Community, *, session: Session, signature: str | None = None) -> str:
    """The message for a step with the partner's name, code and latest tracked link filled in (gaps read as
    gaps, in the CLI and the web app alike, so nobody sends a message with one by mistake)."""
    step = check_step(step)
    return fill(TEMPLATES[step], message_values(community, session=session, signature=signature))


def steps_by_community(community_ids: list[int], *, session: Session) -> dict[int, dict[str, ActivationStep]]:
    out: dict[int, dict[str, ActivationStep]] = defaultdict(dict)
    for chunk in chunked(community_ids):
        for row in session.exec(select(ActivationStep).where(ActivationStep.community_id.in_(chunk))).all():
            out[row.community_id][row.step] = row
    return out


def first_activity(community_ids: list[int], *, session: Session) -> dict[int, dict[str, date]]:
    """{community id: {"click": first day with any activity, "sale": first day with a conversion or revenue}}."""
    out: dict[int, dict[str, date]] = defaultdict(dict)
    if not community_ids:
        return out
    for cid, day in session.exec(select(PerformanceDay.community_id, func.min(PerformanceDay.day))
                                 .where(PerformanceDay.community_id.in_(community_ids), active_day())
                                 .group_by(PerformanceDay.community_id)).all():
        out[cid]["click"] = day
    for cid, day in session.exec(select(PerformanceDay.community_id, func.min(PerformanceDay.day))
                                 .where(PerformanceDay.community_id.in_(community_ids),
                                        (PerformanceDay.conversions > 0) | (PerformanceDay.revenue > 0))
                                 .group_by(PerformanceDay.community_id)).all():
        out[cid]["sale"] = day
    return out


def partners(*, session: Session) -> list[tuple[Prospect, Community]]:
    return list(session.exec(select(Prospect, Community).join(Community, Community.id == Prospect.community_id)
                             .where(Prospect.stage.in_(PARTNER_STAGES)).order_by(Community.name)).all())


@dataclass(frozen=True)
class ChecklistStep:
    step: str
    label: str
    done_at: datetime | None
    source: str | None

    @property
    def done(self) -> bool:
        return self.done_at is not None

    def public(self) -> dict[str, Any]:
        return {"step": self.step, "label": self.label, "done": self.done,
                "done_at": self.done_at.isoformat(timespec="seconds") if self.done_at else None,
                "source": self.source}


@dataclass(frozen=True)
class Checklist:
    """A partner's activation checklist, with days from joining to the first click and to the first sale."""

    url: str
    name: str
    stage: Stage | None
    joined_at: datetime | None
    steps: tuple[ChecklistStep, ...]
    next_step: str | None
    days_to_first_click: int | None
    days_to_first_sale: int | None

    @property
    def done(self) -> int:
        return sum(1 for step in self.steps if step.done)

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def is_partner(self) -> bool:
        return self.stage is not None and self.stage in PARTNER_STAGES

    def public(self) -> dict[str, Any]:
        """{url, name, stage, joined_at, steps: [{step, label, done, done_at, source}], next_step, done, total,
        days_to_first_click, days_to_first_sale, is_partner}."""
        return {"url": self.url, "name": self.name, "stage": self.stage.value if self.stage else None,
                "joined_at": self.joined_at.isoformat(timespec="seconds") if self.joined_at else None,
                "steps": [step.public() for step in self.steps], "next_step": self.next_step,
                "done": self.done, "total": self.total, "days_to_first_click": self.days_to_first_click,
                "days_to_first_sale": self.days_to_first_sale, "is_partner": self.is_partner}

    def row(self) -> dict[str, Any]:
        """One flat row (the `activation list` table): which steps are done, progress and activation times."""
        row: dict[str, Any] = {"url": self.url, "name": self.name, "stage": self.stage.value if self.stage else None,
                               "next_step": self.next_step, "days_to_first_click": self.days_to_first_click,
                               "days_to_first_sale": self.days_to_first_sale, "progress": f"{self.done}/{self.total}"}
        for step in self.steps:
            row[step.step] = "yes" if step.done else ""
        return row


def checklist(community: Community, *, session: Session, today: date | None = None) -> Checklist:
    """The partner's checklist with times: days from joining to the first click and to the first sale."""
    prospect = _prospect(community, session=session)
    steps = steps_by_community([community.id], session=session).get(community.id, {})
    joined = joined_at(prospect.id, session=session) if prospect else None
    first = first_activity([community.id], session=session).get(community.id, {})

    def days_from_join(day: date | None) -> int | None:
        if day is None or joined is None:
            return None
        return max(0, (day - joined.date()).days)

    items = tuple(ChecklistStep(step=step, label=STEP_LABELS[step],
                                done_at=as_utc(steps[step].done_at) if step in steps else None,
                                source=steps[step].source if step in steps else None) for step in STEPS)
    return Checklist(url=community.url, name=community.name, stage=Stage(prospect.stage) if prospect else None,
                     joined_at=joined, steps=items, next_step=next_step({i.step for i in items if i.done}),
                     days_to_first_click=days_from_join(first.get("click")),
                     days_to_first_sale=days_from_join(first.get("sale")))


def checklists(*, session: Session) -> list[Checklist]:
    """Every partner's checklist, by name."""
    return [checklist(community, session=session) for _prospect, community in partners(session=session)]


def reminders(*, session: Session, days: int = DEFAULT_STUCK_DAYS, today: date | None = None) -> list[Reminder]:
    """Partners waiting `days` or more on a step: the next unticked step, counted from the previous tick
    (or from joining). Longest waits first."""
    today = today or utcnow().date()
    pairs = partners(session=session)
    steps = steps_by_community([c.id for _, c in pairs], session=session)
    out: list[Reminder] = []
    for prospect, community in pairs:
        done = steps.get(community.id, {})
        pending = next_step(set(done))
        if pending is None:
            continue
        ticks = [as_utc(done[s].done_at) for s in STEPS[:STEPS.index(pending)] if s in done]
        since = max(ticks) if ticks else (joined_at(prospect.id, session=session) or as_utc(prospect.stage_changed_at))
        waiting = (today - since.date()).days
        if waiting >= days:
            out.append(Reminder(url=community.url, name=community.name, stage=prospect.stage, step=pending,
                                waiting_days=waiting, since=since.date().isoformat()))
    out.sort(key=lambda r: -r.waiting_days)
    return out


def sync_from_performance(community_ids: list[int], *, actor: Actor, session: Session) -> int:
    """Tick first promotion / first sale from imported numbers (dated at the first such day) and move the
    partner's stage on; returns how many steps were newly ticked."""
    firsts = first_activity(community_ids, session=session)
    existing = steps_by_community(community_ids, session=session)
    ticked = 0
    for community_id, first in firsts.items():
        community = session.get(Community, community_id)
        for step, key in (("first_promotion", "click"), ("first_sale", "sale")):
            day = first.get(key)
            if day is None:
                continue
            row = existing.get(community_id, {}).get(step)
            if row is None or _as_datetime(day) < as_utc(row.done_at):
                tick_step(community, step, actor=actor, session=session, source="performance", at=day)
                ticked += row is None
            else:
                # Ticked by hand before the numbers came: the stage still follows the activity.
                advance_stage(community, Stage.activated if step == "first_promotion" else Stage.performing,
                              actor=actor, session=session, at=as_utc(row.done_at))
    return ticked


@dataclass(frozen=True)
class ActivationSummary:
    """How activation goes across the program: how many partners promoted and sold, and how fast (medians)."""

    partners: int
    promoted: int
    sold: int
    median_days_to_first_click: float | None
    median_days_to_first_sale: float | None
    stuck: int

    @property
    def promoted_share(self) -> float | None:
        return round(self.promoted / self.partners, 4) if self.partners else None

    @property
    def sold_share(self) -> float | None:
        return round(self.sold / self.partners, 4) if self.partners else None

    def public(self) -> dict[str, Any]:
        return {"partners": self.partners, "promoted": self.promoted, "sold": self.sold,
                "promoted_share": self.promoted_share, "sold_share": self.sold_share,
                "median_days_to_first_click": self.median_days_to_first_click,
                "median_days_to_first_sale": self.median_days_to_first_sale, "stuck": self.stuck}


def activation_summary(*, session: Session) -> ActivationSummary:
    """How activation goes across the program: how many partners promoted and sold, and how fast (medians)."""
    pairs = partners(session=session)
    steps = steps_by_community([c.id for _, c in pairs], session=session)
    to_click: list[int] = []
    to_sale: list[int] = []
    for prospect, community in pairs:
        # The checklist holds both sources: ticks from imported numbers and ticks by hand.
        joined = joined_at(prospect.id, session=session)
        done = steps.get(community.id, {})
        if joined is None:
            continue
        for step, bucket in (("first_promotion", to_click), ("first_sale", to_sale)):
            if step in done:
                bucket.append(max(0, (as_utc(done[step].done_at).date() - joined.date()).days))
    return ActivationSummary(
        partners=len(pairs), promoted=len(to_click), sold=len(to_sale),
        median_days_to_first_click=statistics.median(to_click) if to_click else None,
        median_days_to_first_sale=statistics.median(to_sale) if to_sale else None,
        stuck=len(reminders(session=session)))
