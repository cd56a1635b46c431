"""Partner scorecards, segments, playbooks, the stage funnel, trends and which kinds of community perform.

Segments are always judged on the 30 days up to today, whatever period the totals cover:
  top              activity in the last 30 days and in the top 20 % by 30-day revenue (always at least one)
  rising           activity in the last 30 days and 30-day revenue above the 30 days before
  steady           activity in the last 30 days otherwise
  dormant          activity before, none in the last 30 days
  never-activated  joined, no activity ever
"Activity" is a day with clicks, conversions or revenue.

Every report is a list of frozen dataclasses (read models): the web app reads their fields, the CLI prints
`public()`, whose keys are the CLI's JSON/CSV contract. Amounts are `Decimal` in cents (`recruiter.partners.money`).
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, func, select

from recruiter.core.errors import InvalidValue
from recruiter.core.models import (
    Community,
    CommunityKind,
    PerformanceDay,
    ReferralCode,
    Stage,
    StageChange,
    as_utc,
    utcnow,
)
from recruiter.outreach.dashboard import funnel as pipeline_funnel
from recruiter.outreach.templates import fill, merchant_name, message_values
from recruiter.partners.activation import active_day, partners
from recruiter.partners.money import ZERO, money_json, per, to_money

SEGMENTS = ["top", "rising", "steady", "dormant", "never-activated"]
WINDOW_DAYS = 30
TOP_SHARE = 0.2
PARTNER_COLUMNS = ["url", "name", "stage", "ref_code", "clicks", "conversions", "revenue", "commission", "epc",
                   "conversion_rate", "last_activity", "segment"]
FUNNEL_STAGES = [s for s in Stage if s is not Stage.declined]


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


@dataclass
class _Numbers:
    clicks: int = 0
    conversions: int = 0
    revenue: Decimal = ZERO
    commission: Decimal = ZERO


def _sums(ids: list[int], *, session: Session, since: date | None = None, until: date | None = None
          ) -> dict[int, _Numbers]:
    query = (select(PerformanceDay.community_id, func.sum(PerformanceDay.clicks), func.sum(PerformanceDay.conversions),
                    func.sum(PerformanceDay.revenue), func.sum(PerformanceDay.commission))
             .where(PerformanceDay.community_id.in_(ids)).group_by(PerformanceDay.community_id))
    if since is not None:
        query = query.where(PerformanceDay.day >= since)
    if until is not None:
        query = query.where(PerformanceDay.day <= until)
    # Stored amounts are in cents: the database's float sum is off by far less than half a cent, and
    # `to_money` rounds it back to the exact total.
    return {cid: _Numbers(int(c or 0), int(v or 0), to_money(r), to_money(m))
            for cid, c, v, r, m in session.exec(query).all()}


def _last_active(ids: list[int], *, session: Session) -> dict[int, date]:
    return dict(session.exec(select(PerformanceDay.community_id, func.max(PerformanceDay.day))
                             .where(PerformanceDay.community_id.in_(ids), active_day())
                             .group_by(PerformanceDay.community_id)).all())


def segment_partners(ids: list[int], *, session: Session, today: date | None = None) -> dict[int, str]:
    """Each partner's segment (see the module docstring)."""
    today = today or utcnow().date()
    start = today - timedelta(days=WINDOW_DAYS - 1)
    previous_start = start - timedelta(days=WINDOW_DAYS)
    last = _last_active(ids, session=session)
    recent = _sums(ids, session=session, since=start, until=today)
    before = _sums(ids, session=session, since=previous_start, until=start - timedelta(days=1))
    active = [cid for cid in ids if cid in last and last[cid] >= start]
    out: dict[int, str] = {}
    for cid in ids:
        if cid not in last:
            out[cid] = "never-activated"
        elif cid not in active:
            out[cid] = "dormant"
    if active:
        def strength(cid: int) -> tuple[Decimal, int, int]:
            n = recent.get(cid, _Numbers())
            return (n.revenue, n.conversions, n.clicks)

        ordered = sorted(active, key=strength, reverse=True)
        count = max(1, round(TOP_SHARE * len(ordered)))
        threshold = strength(ordered[count - 1])
        for cid in ordered:
            if strength(cid) >= threshold:
                out[cid] = "top"
            elif recent.get(cid, _Numbers()).revenue > before.get(cid, _Numbers()).revenue:
                out[cid] = "rising"
            else:
                out[cid] = "steady"
    return out


@dataclass(frozen=True)
class PartnerScorecard:
    """One partner's numbers over the period asked for, and its segment (always judged on the last 30 days)."""

    url: str
    name: str
    kind: str
    stage: Stage
    ref_code: str | None
    clicks: int
    conversions: int
    revenue: Decimal
    commission: Decimal
    epc: Decimal | None  # earnings (revenue) per click
    conversion_rate: float | None
    last_activity: date | None
    segment: str

    def public(self) -> dict[str, Any]:
        """The CLI's row: {url, name, kind, stage, ref_code, clicks, conversions, revenue, commission, epc,
        conversion_rate, last_activity, segment}."""
        return {"url": self.url, "name": self.name, "kind": self.kind, "stage": self.stage.value,
                "ref_code": self.ref_code, "clicks": self.clicks, "conversions": self.conversions,
                "revenue": money_json(self.revenue), "commission": money_json(self.commission),
                "epc": money_json(self.epc), "conversion_rate": self.conversion_rate,
                "last_activity": self.last_activity.isoformat() if self.last_activity else None,
                "segment": self.segment}


def partner_scorecards(*, session: Session, since: date | None = None, today: date | None = None,
                       segment: str | None = None) -> list[PartnerScorecard]:
    """One scorecard per partner (joined, activated, performing), best revenue first."""
    if segment is not None and segment not in SEGMENTS:
        raise InvalidValue(f"unknown segment {segment!r} (segments: {', '.join(SEGMENTS)})")
    pairs = partners(session=session)
    ids = [c.id for _, c in pairs]
    totals = _sums(ids, session=session, since=since)
    last = _last_active(ids, session=session)
    segments = segment_partners(ids, session=session, today=today)
    codes = dict(session.exec(select(ReferralCode.community_id, ReferralCode.code)
                              .where(ReferralCode.community_id.in_(ids))).all()) if ids else {}
    cards = []
    for prospect, community in pairs:
        n = totals.get(community.id, _Numbers())
        cards.append(PartnerScorecard(
            url=community.url, name=community.name, kind=community.kind, stage=Stage(prospect.stage),
            ref_code=codes.get(community.id), clicks=n.clicks, conversions=n.conversions, revenue=n.revenue,
            commission=n.commission, epc=per(n.revenue, n.clicks), conversion_rate=_ratio(n.conversions, n.clicks),
            last_activity=last.get(community.id), segment=segments[community.id]))
    cards.sort(key=lambda r: (-r.revenue, -r.clicks, r.name.lower(), r.url))
    if segment:
        cards = [r for r in cards if r.segment == segment]
    return cards


def segment_counts(cards: list[PartnerScorecard]) -> dict[str, int]:
    counts = dict.fromkeys(SEGMENTS, 0)
    for card in cards:
        counts[card.segment] += 1
    return counts


# --- playbooks ----------------------------------------------------------------------------------------------

PLAYBOOKS: dict[str, dict[str, Any]] = {
    "top": {
        "goal": "Keep them growing and learn what works, to share with everyone else.",
        "actions": ["Thank them personally and share their numbers.", "Ask what content worked and why.",
                    "Offer a higher commission tier, early access or an exclusive code.",
                    "Turn their approach into a tip for the rest of the program (with permission)."],
        "template": ("Subject: You're one of our best partners - thank you\n\nHi {name},\n\n"
                     "Your audience sent {clicks} visits and {conversions} orders in the last period - one of the "
                     "best results in our program. What worked best for you? We'd love to raise your commission "
                     "and give your audience an exclusive offer.\n\n- the {merchant} team"),
    },
    "rising": {
        "goal": "Feed the momentum before it fades.",
        "actions": ["Congratulate them on the growth.", "Send fresh assets or a seasonal angle.",
                    "Offer a time-limited code for their audience."],
        "template": ("Subject: Things are picking up!\n\nHi {name},\n\nYour link is doing better than last month "
                     "- thank you. Would a code just for your audience help keep it going? Here is your link "
                     "again: {tracked_url}\n\n- the {merchant} team"),
    },
    "steady": {
        "goal": "Nudge towards the top: share what top partners do.",
        "actions": ["Share what top partners do ({top_practice}).", "Suggest one concrete next post or mention.",
                    "Check their link still works and the landing page fits their audience."],
        "template": ("Subject: An idea from our best partners\n\nHi {name},\n\nPartners who do best with us "
                     "{top_practice}. Would that fit your audience? Your link: {tracked_url}\n\n"
                     "- the {merchant} team"),
    },
    "dormant": {
        "goal": "Re-engage: find out what changed and give a reason to mention you again.",
        "actions": ["Ask, without pressure, whether anything got in the way.", "Offer something new: a product, "
                    "a sample, a seasonal angle, a higher commission for a month.", "Remind them of their link."],
        "template": ("Subject: Anything we can do?\n\nHi {name},\n\nWe haven't seen visits from your audience in "
                     "a while (last on {last_activity}). Is there anything that got in the way, or something new "
                     "we could send you to try? Your link still works: {tracked_url}\n\n- the {merchant} team"),
    },
    "never-activated": {
        "goal": "Onboard: remove every obstacle to a first mention.",
        "actions": ["Make sure the welcome, link and assets were sent (see `recruiter activation list`).",
                    "Offer a free sample or a call.", "Suggest one easy first mention that fits their format."],
        "template": ("Subject: Your first mention, made easy\n\nHi {name},\n\nThanks again for joining. To make a "
                     "first mention easy: here is your link {tracked_url}, and I'm happy to send a free sample "
                     "or a short text you can adapt. Would that help?\n\n- the {merchant} team"),
    },
}


def top_practice(*, session: Session, today: date | None = None) -> str:
    """What top partners do, in words, from their numbers: their kind, how often they send visitors (days
    with activity in the last 30) and how well their clicks convert."""
    cards = partner_scorecards(session=session, today=today, segment="top")
    if not cards:
        return "mention us regularly, showing the product in use"
    kinds: dict[str, int] = defaultdict(int)
    for card in cards:
        kinds[card.kind] += 1
    kind = max(kinds, key=kinds.get)
    today = today or utcnow().date()
    ids = [c.id for c in session.exec(select(Community).where(Community.url.in_([r.url for r in cards]))).all()]
    active_days = dict(session.exec(
        select(PerformanceDay.community_id, func.count(func.distinct(PerformanceDay.day)))
        .where(PerformanceDay.community_id.in_(ids), active_day(),
               PerformanceDay.day >= today - timedelta(days=WINDOW_DAYS - 1), PerformanceDay.day <= today)
        .group_by(PerformanceDay.community_id)).all())
    parts = [f"are mostly {kind}s" if kind != CommunityKind.other else "come in all kinds"]
    if active_days:
        days = statistics.median(active_days.values())
        parts.append(f"send visitors on about {days:g} day{'s' if days != 1 else ''} a month")
    rates = [r.conversion_rate for r in cards if r.conversion_rate is not None]
    if rates:
        parts.append(f"turn {statistics.median(rates) * 100:.1f} % of their clicks into sales")
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]


@dataclass(frozen=True)
class PartnerRef:
    url: str
    name: str


@dataclass(frozen=True)
class Playbook:
    """What to do with a segment: the goal, the actions and the message (filled in for one partner when asked),
    and the partners in it."""

    segment: str
    goal: str
    actions: tuple[str, ...]
    message: str
    partners: tuple[PartnerRef, ...] = field(default_factory=tuple)

    def public(self) -> dict[str, Any]:
        return {"segment": self.segment, "goal": self.goal, "actions": list(self.actions), "message": self.message,
                "partners": [{"url": p.url, "name": p.name} for p in self.partners]}


def playbook(segment: str, *, session: Session, community: Community | None = None,
             today: date | None = None) -> Playbook:
    """The playbook of a segment; with a community, its message filled in for that partner."""
    if segment not in PLAYBOOKS:
        raise InvalidValue(f"unknown segment {segment!r} (segments: {', '.join(SEGMENTS)})")
    book = PLAYBOOKS[segment]
    practice = top_practice(session=session, today=today)
    values: dict[str, object] = {"merchant": merchant_name(session=session), "top_practice": practice}
    cards = partner_scorecards(session=session, today=today)
    if community is not None:
        card = next((r for r in cards if r.url == community.url), None)
        values.update(message_values(community, session=session))
        values.update(clicks=card.clicks if card else 0, conversions=card.conversions if card else 0,
                      last_activity=card.last_activity.isoformat() if card and card.last_activity else "-")
    return Playbook(segment=segment, goal=book["goal"], actions=tuple(fill(a, values) for a in book["actions"]),
                    message=fill(book["template"], values),
                    partners=tuple(PartnerRef(url=r.url, name=r.name) for r in cards if r.segment == segment))


# --- funnel, trend, kinds -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FunnelRow:
    """A pipeline stage: prospects that reached it or a later one, the share of those that reached the stage
    before, how many are in it now, and the median days a finished stay in it lasted."""

    stage: Stage
    reached: int
    conversion: float | None
    now: int
    median_days_in_stage: float | None

    def public(self) -> dict[str, Any]:
        return {"stage": self.stage.value, "reached": self.reached, "conversion": self.conversion, "now": self.now,
                "median_days_in_stage": self.median_days_in_stage}


def funnel(*, session: Session, now: datetime | None = None) -> list[FunnelRow]:
    """Per stage: prospects that reached it (or a later one), conversion from the stage before, how many are
    there now (the dashboard's funnel, `recruiter.outreach.dashboard.funnel`), and the median days spent in it
    (from the stage history, finished stays only)."""
    base = pipeline_funnel(session=session)
    durations: dict[str, list[float]] = defaultdict(list)
    changes = session.exec(select(StageChange.prospect_id, StageChange.to_stage, StageChange.at)
                           .order_by(StageChange.prospect_id, StageChange.at, StageChange.id))
    for _pid, stays in itertools.groupby(changes, key=lambda change: change[0]):
        for (_, stage, began), (_, _, ended) in itertools.pairwise(stays):
            durations[stage].append((as_utc(ended) - as_utc(began)).total_seconds() / 86400)
    rows = [FunnelRow(stage=Stage(step.stage), reached=step.reached, conversion=step.conversion, now=step.now,
                      median_days_in_stage=round(statistics.median(durations[step.stage]), 1)
                      if durations.get(step.stage) else None)
            for step in base.steps]
    rows.append(FunnelRow(stage=Stage.declined, reached=base.declined, conversion=None, now=base.declined,
                          median_days_in_stage=None))
    return rows


def _period_start(day: date, by: str) -> date:
    if by == "day":
        return day
    if by == "month":
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class TrendPoint:
    """Program totals over one period (a day, a week from Monday, a month), labelled by its first day."""

    period: date
    clicks: int
    conversions: int
    revenue: Decimal
    commission: Decimal
    active_partners: int

    def public(self) -> dict[str, Any]:
        return {"period": self.period.isoformat(), "clicks": self.clicks, "conversions": self.conversions,
                "revenue": money_json(self.revenue), "commission": money_json(self.commission),
                "active_partners": self.active_partners}


def trend(*, session: Session, by: str = "week", periods: int = 12, today: date | None = None,
          community_id: int | None = None) -> list[TrendPoint]:
    """Program totals per day, week (from Monday) or month over the last `periods`, empty periods included."""
    if by not in ("day", "week", "month"):
        raise InvalidValue(f"unknown period {by!r} (day, week or month)")
    today = today or utcnow().date()
    starts = [_period_start(today, by)]
    while len(starts) < periods:
        last = starts[-1]
        starts.append(_period_start(last - timedelta(days=1), by))
    starts.reverse()
    buckets = {s: _Numbers() for s in starts}
    active: dict[date, set[int]] = {s: set() for s in starts}
    query = select(PerformanceDay).where(PerformanceDay.day >= starts[0], PerformanceDay.day <= today)
    if community_id is not None:
        query = query.where(PerformanceDay.community_id == community_id)
    for row in session.exec(query).all():
        start = _period_start(row.day, by)
        bucket = buckets.get(start)
        if bucket is None:
            continue
        bucket.clicks += row.clicks
        bucket.conversions += row.conversions
        bucket.revenue += to_money(row.revenue)
        bucket.commission += to_money(row.commission)
        if row.clicks or row.conversions or row.revenue:
            active[start].add(row.community_id)
    return [TrendPoint(period=start, clicks=n.clicks, conversions=n.conversions, revenue=n.revenue,
                       commission=n.commission, active_partners=len(active[start]))
            for start, n in buckets.items()]


@dataclass(frozen=True)
class KindPerformance:
    """How partners of one kind of community (podcast, blog, subreddit...) do, together."""

    kind: str
    partners: int
    activated: int
    clicks: int
    conversions: int
    revenue: Decimal
    activation_rate: float | None
    revenue_per_partner: Decimal
    epc: Decimal | None
    conversion_rate: float | None

    def public(self) -> dict[str, Any]:
        return {"kind": self.kind, "partners": self.partners, "activated": self.activated, "clicks": self.clicks,
                "conversions": self.conversions, "revenue": money_json(self.revenue),
                "activation_rate": self.activation_rate,
                "revenue_per_partner": money_json(self.revenue_per_partner), "epc": money_json(self.epc),
                "conversion_rate": self.conversion_rate}


def kind_performance(*, session: Session, since: date | None = None) -> list[KindPerformance]:
    """Which kinds of community perform best as partners: revenue per partner first."""
    pairs = partners(session=session)
    ids = [c.id for _, c in pairs]
    totals = _sums(ids, session=session, since=since)
    last = _last_active(ids, session=session)
    groups: dict[str, _Numbers] = {}
    counts: dict[str, list[int]] = {}  # kind: [partners, activated]
    for _prospect, community in pairs:
        group = groups.setdefault(community.kind, _Numbers())
        count = counts.setdefault(community.kind, [0, 0])
        n = totals.get(community.id, _Numbers())
        count[0] += 1
        count[1] += community.id in last
        group.clicks += n.clicks
        group.conversions += n.conversions
        group.revenue += n.revenue
    rows = [KindPerformance(kind=kind, partners=counts[kind][0], activated=counts[kind][1], clicks=n.clicks,
                            conversions=n.conversions, revenue=n.revenue,
                            activation_rate=_ratio(counts[kind][1], counts[kind][0]),
                            revenue_per_partner=per(n.revenue, counts[kind][0]) or ZERO,
                            epc=per(n.revenue, n.clicks), conversion_rate=_ratio(n.conversions, n.clicks))
            for kind, n in groups.items()]
    rows.sort(key=lambda r: (-r.revenue_per_partner, -(r.activation_rate or 0), r.kind))
    return rows
