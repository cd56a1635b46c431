"""Partner scorecards, segments, playbooks, the stage funnel, trends and which kinds of community perform.

Segments are always judged on the 30 days up to today, whatever period the totals cover:
  top              activity in the last 30 days and in the top 20 % by 30-day revenue (always at least one)
  rising           activity in the last 30 days and 30-day revenue above the 30 days before
  steady           activity in the last 30 days otherwise
  dormant          activity before, none in the last 30 days
  never-activated  joined, no activity ever
"Activity" is a day with clicks, conversions or revenue.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, func, select

from recruiter.core.errors import InvalidValue
from recruiter.core.models import (
    PARTNER_STAGES,
    STAGES,
    Community,
    PerformanceDay,
    Prospect,
    ReferralCode,
    StageChange,
    utcnow,
)
from recruiter.outreach.templates import fill, merchant_name, message_values

SEGMENTS = ["top", "rising", "steady", "dormant", "never-activated"]
WINDOW_DAYS = 30
TOP_SHARE = 0.2
PARTNER_COLUMNS = ["url", "name", "stage", "ref_code", "clicks", "conversions", "revenue", "commission", "epc",
                   "conversion_rate", "last_activity", "segment"]
FUNNEL_STAGES = [s for s in STAGES if s != "declined"]


def _active():
    return (PerformanceDay.clicks > 0) | (PerformanceDay.conversions > 0) | (PerformanceDay.revenue > 0)


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


@dataclass
class _Numbers:
    clicks: int = 0
    conversions: int = 0
    revenue: float = 0.0
    commission: float = 0.0


def _sums(ids: list[int], *, session: Session, since: date | None = None, until: date | None = None
          ) -> dict[int, _Numbers]:
    query = (select(PerformanceDay.community_id, func.sum(PerformanceDay.clicks), func.sum(PerformanceDay.conversions),
                    func.sum(PerformanceDay.revenue), func.sum(PerformanceDay.commission))
             .where(PerformanceDay.community_id.in_(ids)).group_by(PerformanceDay.community_id))
    if since is not None:
        query = query.where(PerformanceDay.day >= since)
    if until is not None:
        query = query.where(PerformanceDay.day <= until)
    return {cid: _Numbers(int(c or 0), int(v or 0), float(r or 0), float(m or 0))
            for cid, c, v, r, m in session.exec(query).all()}


def _last_active(ids: list[int], *, session: Session) -> dict[int, date]:
    return dict(session.exec(select(PerformanceDay.community_id, func.max(PerformanceDay.day))
                             .where(PerformanceDay.community_id.in_(ids), _active())
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
        def strength(cid: int) -> tuple[float, int, int]:
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


def partner_pairs(*, session: Session) -> list[tuple[Prospect, Community]]:
    return list(session.exec(select(Prospect, Community).join(Community, Community.id == Prospect.community_id)
                             .where(Prospect.stage.in_(PARTNER_STAGES))).all())


def partner_scorecards(*, session: Session, since: date | None = None, today: date | None = None,
                       segment: str | None = None) -> list[dict[str, Any]]:
    """One scorecard per partner (joined, activated, performing), best revenue first."""
    if segment is not None and segment not in SEGMENTS:
        raise InvalidValue(f"unknown segment {segment!r} (segments: {', '.join(SEGMENTS)})")
    pairs = partner_pairs(session=session)
    ids = [c.id for _, c in pairs]
    totals = _sums(ids, session=session, since=since)
    last = _last_active(ids, session=session)
    segments = segment_partners(ids, session=session, today=today)
    codes = dict(session.exec(select(ReferralCode.community_id, ReferralCode.code)
                              .where(ReferralCode.community_id.in_(ids))).all()) if ids else {}
    rows = []
    for prospect, community in pairs:
        n = totals.get(community.id, _Numbers())
        rows.append({
            "url": community.url, "name": community.name, "kind": community.kind, "stage": prospect.stage,
            "ref_code": codes.get(community.id), "clicks": n.clicks, "conversions": n.conversions,
            "revenue": round(n.revenue, 2), "commission": round(n.commission, 2),
            "epc": _ratio(n.revenue, n.clicks), "conversion_rate": _ratio(n.conversions, n.clicks),
            "last_activity": last[community.id].isoformat() if community.id in last else None,
            "segment": segments[community.id],
        })
    rows.sort(key=lambda r: (-r["revenue"], -r["clicks"], r["name"].lower(), r["url"]))
    if segment:
        rows = [r for r in rows if r["segment"] == segment]
    return rows


def segment_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(SEGMENTS, 0)
    for row in rows:
        counts[row["segment"]] += 1
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
    rows = partner_scorecards(session=session, today=today, segment="top")
    if not rows:
        return "mention us regularly, showing the product in use"
    kinds: dict[str, int] = defaultdict(int)
    for row in rows:
        kinds[row["kind"]] += 1
    kind = max(kinds, key=kinds.get)
    today = today or utcnow().date()
    ids = [c.id for c in session.exec(select(Community).where(Community.url.in_([r["url"] for r in rows]))).all()]
    active_days = dict(session.exec(
        select(PerformanceDay.community_id, func.count(func.distinct(PerformanceDay.day)))
        .where(PerformanceDay.community_id.in_(ids), _active(),
               PerformanceDay.day >= today - timedelta(days=WINDOW_DAYS - 1), PerformanceDay.day <= today)
        .group_by(PerformanceDay.community_id)).all())
    parts = [f"are mostly {kind}s" if kind != "other" else "come in all kinds"]
    if active_days:
        days = statistics.median(active_days.values())
        parts.append(f"send visitors on about {days:g} day{'s' if days != 1 else ''} a month")
    rates = [r["conversion_rate"] for r in rows if r["conversion_rate"] is not None]
    if rates:
        parts.append(f"turn {statistics.median(rates) * 100:.1f} % of their clicks into sales")
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]


def playbook(segment: str, *, session: Session, community: Community | None = None,
             today: date | None = None) -> dict[str, Any]:
    """The playbook of a segment; with a community, its message filled in for that partner."""
    if segment not in PLAYBOOKS:
        raise InvalidValue(f"unknown segment {segment!r} (segments: {', '.join(SEGMENTS)})")
    book = PLAYBOOKS[segment]
    practice = top_practice(session=session, today=today)
    values: dict[str, object] = {"merchant": merchant_name(session=session), "top_practice": practice}
    partners = partner_scorecards(session=session, today=today, segment=segment)
    if community is not None:
        card = next((r for r in partner_scorecards(session=session, today=today) if r["url"] == community.url), {})
        values.update(message_values(community, session=session))
        values.update(clicks=card.get("clicks", 0), conversions=card.get("conversions", 0),
                      last_activity=card.get("last_activity") or "-")
    return {"segment": segment, "goal": book["goal"],
            "actions": [fill(a, values) for a in book["actions"]],
            "message": fill(book["template"], values),
            "partners": [{"url": r["url"], "name": r["name"]} for r in partners]}


# --- funnel, trend, kinds -------------------------------------------------------------------------------------

def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def funnel(*, session: Session, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per stage: prospects that reached it (or a later one), conversion from the stage before, how many are
    there now, and the median days spent in it (from the stage history, finished stays only)."""
    now = now or utcnow()
    history: dict[int, list[StageChange]] = defaultdict(list)
    for change in session.exec(select(StageChange).order_by(StageChange.prospect_id, StageChange.at,
                                                            StageChange.id)).all():
        history[change.prospect_id].append(change)
    current = dict(session.exec(select(Prospect.id, Prospect.stage)).all())
    furthest: dict[int, int] = {}
    durations: dict[str, list[float]] = defaultdict(list)
    declined = 0
    for pid, stage in current.items():
        reached = [c.to_stage for c in history.get(pid, [])] + [stage]
        positions = [FUNNEL_STAGES.index(s) for s in reached if s in FUNNEL_STAGES]
        furthest[pid] = max(positions) if positions else 0
        declined += stage == "declined"
        changes = history.get(pid, [])
        for this, following in itertools.pairwise(changes):
            durations[this.to_stage].append((_aware(following.at) - _aware(this.at)).total_seconds() / 86400)
    rows = []
    previous = None
    for index, stage in enumerate(FUNNEL_STAGES):
        reached = sum(1 for f in furthest.values() if f >= index)
        days = durations.get(stage)
        rows.append({"stage": stage, "reached": reached,
                     "conversion": _ratio(reached, previous) if previous is not None else None,
                     "now": sum(1 for s in current.values() if s == stage),
                     "median_days_in_stage": round(statistics.median(days), 1) if days else None})
        previous = reached
    rows.append({"stage": "declined", "reached": declined, "conversion": None, "now": declined,
                 "median_days_in_stage": None})
    return rows


def _period_start(day: date, by: str) -> date:
    if by == "day":
        return day
    if by == "month":
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


def trend(*, session: Session, by: str = "week", periods: int = 12, today: date | None = None,
          community_id: int | None = None) -> list[dict[str, Any]]:
    """Program totals per day, week (from Monday) or month over the last `periods`, empty periods included."""
    if by not in ("day", "week", "month"):
        raise ValueError(f"unknown period {by!r} (day, week or month)")
    today = today or utcnow().date()
    starts = [_period_start(today, by)]
    while len(starts) < periods:
        last = starts[-1]
        starts.append(_period_start(last - timedelta(days=1), by))
    starts.reverse()
    buckets = {s: {"period": s.isoformat(), "clicks": 0, "conversions": 0, "revenue": 0.0, "commission": 0.0,
                   "active_partners": set()} for s in starts}
    query = select(PerformanceDay).where(PerformanceDay.day >= starts[0], PerformanceDay.day <= today)
    if community_id is not None:
        query = query.where(PerformanceDay.community_id == community_id)
    for row in session.exec(query).all():
        bucket = buckets.get(_period_start(row.day, by))
        if bucket is None:
            continue
        bucket["clicks"] += row.clicks
        bucket["conversions"] += row.conversions
        bucket["revenue"] += row.revenue
        bucket["commission"] += row.commission
        if row.clicks or row.conversions or row.revenue:
            bucket["active_partners"].add(row.community_id)
    out = []
    for bucket in buckets.values():
        out.append({**bucket, "revenue": round(bucket["revenue"], 2), "commission": round(bucket["commission"], 2),
                    "active_partners": len(bucket["active_partners"])})
    return out


def kind_performance(*, session: Session, since: date | None = None) -> list[dict[str, Any]]:
    """Which kinds of community perform best as partners: revenue per partner first."""
    pairs = partner_pairs(session=session)
    ids = [c.id for _, c in pairs]
    totals = _sums(ids, session=session, since=since)
    last = _last_active(ids, session=session)
    groups: dict[str, dict[str, Any]] = {}
    for _prospect, community in pairs:
        group = groups.setdefault(community.kind, {"kind": community.kind, "partners": 0, "activated": 0,
                                                   "clicks": 0, "conversions": 0, "revenue": 0.0})
        n = totals.get(community.id, _Numbers())
        group["partners"] += 1
        group["activated"] += community.id in last
        group["clicks"] += n.clicks
        group["conversions"] += n.conversions
        group["revenue"] += n.revenue
    rows = []
    for group in groups.values():
        rows.append({**group, "revenue": round(group["revenue"], 2),
                     "activation_rate": _ratio(group["activated"], group["partners"]),
                     "revenue_per_partner": round(group["revenue"] / group["partners"], 2),
                     "epc": _ratio(group["revenue"], group["clicks"]),
                     "conversion_rate": _ratio(group["conversions"], group["clicks"])})
    rows.sort(key=lambda r: (-r["revenue_per_partner"], -(r["activation_rate"] or 0), r["kind"]))
    return rows
