"""Finding more partners like the ones that perform: seeds from URLs, from scorecards or from a segment.

The method is `recruiter.matching.lookalike`; this is the one place that decides where its seeds come from, so
the CLI (`recruiter lookalike`) and the web app ("Find more like these") refuse the same things:
- exactly one of: seed URLs, the top N partners by a scorecard measure, or a segment;
- `--from-top N --by revenue|conversions|epc|clicks [--since DATE]`: the N best partners by that measure over
  the period, those with none of it left out (a partner with no revenue is not a top partner by revenue), each
  weighted by its share of the best one's figure (at least MIN_WEIGHT, so a seed is never silenced);
- `--segment NAME`: the segment's partners, best revenue first, at most `MAX_SEEDS`, weighted the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from recruiter.core.errors import InvalidValue
from recruiter.matching.lookalike import (
    MAX_SEEDS,
    Lookalike,
    LookalikeOptions,
    Seed,
    check_seeds,
    find_lookalikes,
    seeds_from_urls,
)
from recruiter.partners.reports import SEGMENTS, PartnerScorecard, partner_scorecards

MEASURES = ("revenue", "conversions", "epc", "clicks")
MIN_WEIGHT = 0.25


def _measure(card: PartnerScorecard, by: str) -> float:
    value = getattr(card, by)
    return float(value) if isinstance(value, (int, float, Decimal)) else 0.0


def _weighted(cards: list[PartnerScorecard], by: str, *, session: Session) -> list[Seed]:
    best = max((_measure(c, by) for c in cards), default=0.0)
    weights = [max(MIN_WEIGHT, _measure(c, by) / best) if best > 0 else 1.0 for c in cards]
    return seeds_from_urls([c.url for c in cards], weights=weights, session=session)


def seeds_from_top(count: int, *, by: str, session: Session, since: date | None = None) -> list[Seed]:
    """The `count` best partners by `by` (revenue, conversions, epc, clicks) since `since`, weighted by it."""
    if by not in MEASURES:
        raise InvalidValue(f"--by {by}: choose one of {', '.join(MEASURES)}")
    if not 1 <= count <= MAX_SEEDS:
        raise InvalidValue(f"--from-top {count}: between 1 and {MAX_SEEDS}")
    cards = [c for c in partner_scorecards(session=session, since=since) if _measure(c, by) > 0]
    if not cards:
        period = f" since {since.isoformat()}" if since else ""
        raise InvalidValue(f"no partner has any {by}{period} yet: import performance first "
                           "(recruiter performance import FILE)")
    cards.sort(key=lambda c: (-_measure(c, by), -float(c.revenue), c.url))
    return _weighted(cards[:count], by, session=session)


def seeds_from_segment(segment: str, *, session: Session) -> list[Seed]:
    """The segment's partners (best revenue first, at most MAX_SEEDS), weighted by revenue."""
    if segment not in SEGMENTS:
        raise InvalidValue(f"--segment {segment}: choose one of {', '.join(SEGMENTS)}")
    cards = partner_scorecards(session=session, segment=segment)
    if not cards:
        raise InvalidValue(f"no partner is in the {segment!r} segment (see `recruiter report partners`)")
    return _weighted(cards[:MAX_SEEDS], "revenue", session=session)


@dataclass(frozen=True)
class SeedChoice:
    """Where the seeds come from: exactly one of `urls`, `top` (with `by`, `since`) or `segment`."""

    urls: tuple[str, ...] = ()
    top: int | None = None
    by: str = "revenue"
    since: date | None = None
    segment: str | None = None

    def seeds(self, *, session: Session) -> list[Seed]:
        given = [bool(self.urls), self.top is not None, self.segment is not None]
        if sum(given) != 1:
            raise InvalidValue("give exactly one of --seed URL (repeatable), --from-top N or --segment NAME")
        if self.since is not None and self.top is None:
            raise InvalidValue("--since goes with --from-top (it sets the period the best partners are judged on)")
        if self.urls:
            urls = list(dict.fromkeys(self.urls))  # the same URL given twice is one seed
            if len(urls) > MAX_SEEDS:  # before looking them up (check_seeds counts the communities after)
                raise InvalidValue(f"{len(urls)} seeds: at most {MAX_SEEDS}")
            seeds = seeds_from_urls(urls, session=session)
        elif self.top is not None:
            seeds = seeds_from_top(self.top, by=self.by, since=self.since, session=session)
        else:
            seeds = seeds_from_segment(self.segment or "", session=session)
        check_seeds(seeds)
        return seeds


@dataclass(frozen=True)
class LookalikeRun:
    """What one search used and found: the seeds (names for the page's heading), the profile's id (None without
    one) and the results, best first."""

    seeds: list[Seed]
    profile_id: int | None
    results: list[Lookalike]

    def like_names(self, result: Lookalike) -> list[str]:
        """The names of the seeds a result is like, closest first."""
        names = {seed.url: seed.name for seed in self.seeds}
        return [names.get(url, url) for url in result.like]


def lookalikes(choice: SeedChoice, *, session: Session, profile_name: str | None = None, limit: int = 20,
               kind: str | None = None, include_known: bool = False,
               options: LookalikeOptions | None = None) -> LookalikeRun:
    """Communities like the chosen seeds, best first (`recruiter.matching.lookalike.find_lookalikes`)."""
    from profiles.service import require_profile

    if not 1 <= limit <= 1000:
        raise InvalidValue(f"--limit {limit}: between 1 and 1000")
    profile = require_profile(profile_name, session=session) if profile_name else None
    seeds = choice.seeds(session=session)
    results = find_lookalikes(seeds, session=session, profile=profile, limit=limit, kind=kind,
                              include_known=include_known, options=options)
    return LookalikeRun(seeds, profile.id if profile else None, results)


__all__ = ["MEASURES", "LookalikeRun", "SeedChoice", "lookalikes", "seeds_from_segment", "seeds_from_top"]
