"""Tracking platforms a small merchant weighs, read from `recruiter/partners/data/platforms.json`, and the choice made.

The choice (a `setting`) decides two things: the referral parameter tracked links carry, and the column names
performance imports look for first. With no choice made, links carry UTM parameters. Choosing is a platform
setting: it needs PLATFORM (`recruiter.accounts.roles`) and is recorded in the audit log.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlmodel import Session

from recruiter.accounts import audit
from recruiter.accounts.roles import PLATFORM, Actor, require
from recruiter.core.db import get_setting, set_setting
from recruiter.core.errors import RecruiterError

PLATFORM_SETTING = "tracking_platform"
DEFAULT_PLATFORM = "utm"


class PlatformError(RecruiterError, ValueError):
    pass


@dataclass(frozen=True)
class Platform:
    key: str
    name: str
    website: str
    sources: list[str]
    best_for: str
    referral_link: dict[str, Any]
    coupon_tracking: str
    payouts: str
    pricing_model: str
    pricing_note: str
    attribution: str
    csv_columns: dict[str, list[str]] = field(default_factory=dict)
    as_of: str = ""  # the date these facts were written down (the catalog's, unless the platform says)

    @property
    def link_param(self) -> str | None:
        return self.referral_link.get("param") if self.referral_link.get("type") == "query" else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "name": self.name, "website": self.website, "best_for": self.best_for,
            "link_format": self.link_format(), "link_example": self.referral_link.get("example", ""),
            "link_note": self.referral_link.get("note", ""), "coupon_tracking": self.coupon_tracking,
            "payouts": self.payouts, "pricing_model": self.pricing_model, "pricing_note": self.pricing_note,
            "attribution": self.attribution, "csv_columns": self.csv_columns, "sources": self.sources,
            "as_of": self.as_of,
        }

    def link_format(self) -> str:
        if self.referral_link.get("type") == "utm":
            return "?" + "&".join(f"{k}={v}" for k, v in self.referral_link["params"].items())
        return f"?{self.link_param}={{ref_code}}"


@lru_cache(maxsize=1)
def _catalog() -> dict[str, Any]:
    text = (Path(__file__).parent / "data" / "platforms.json").read_text(encoding="utf-8")
    return json.loads(text)


def catalog_as_of() -> str:
    return _catalog()["as_of"]


def catalog_note() -> str:
    """Where the facts come from and how old they are, in one line for people: shown with every comparison."""
    note = _catalog().get("note", "").strip()
    return f"Facts as of {catalog_as_of()}: {note}" if note else f"Facts as of {catalog_as_of()}."


def list_platforms() -> list[Platform]:
    fields = Platform.__dataclass_fields__
    return [Platform(**{"as_of": catalog_as_of(), **{k: v for k, v in item.items() if k in fields}})
            for item in _catalog()["platforms"]]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def get_platform(name: str) -> Platform:
    """A platform by key or name, forgiving case, spaces and punctuation ("impact.com", "First Promoter")."""
    wanted = _slug(name)
    if wanted in ("utmonly", "none", "utms"):
        wanted = "utm"
    for platform in list_platforms():
        if wanted in (_slug(platform.key), _slug(platform.name)):
            return platform
    prefixed = [p for p in list_platforms() if wanted and _slug(p.name).startswith(wanted)]
    if len(prefixed) == 1:
        return prefixed[0]
    raise PlatformError(f"unknown platform {name!r} (known: {', '.join(p.key for p in list_platforms())})")


def chosen_platform(*, session: Session) -> Platform:
    return get_platform(get_setting(PLATFORM_SETTING, DEFAULT_PLATFORM, session=session) or DEFAULT_PLATFORM)


def has_chosen_platform(*, session: Session) -> bool:
    return get_setting(PLATFORM_SETTING, None, session=session) is not None


def choose_platform(name: str, *, actor: Actor, session: Session) -> Platform:
    actor = require(actor, PLATFORM, session=session)
    platform = get_platform(name)
    audit.record(actor, "platform.choose", platform.key, session=session)
    set_setting(PLATFORM_SETTING, platform.key, session=session)
    return platform


COMPARISON_ROWS = [
    ("link_format", "Referral link"), ("coupon_tracking", "Coupon tracking"), ("payouts", "Payouts"),
    ("pricing_model", "Pricing model"), ("pricing_note", "Pricing"), ("attribution", "Attribution"),
    ("best_for", "Best for"),
]


def comparison_table() -> list[dict[str, str]]:
    """One row per fact, one column per platform: the side-by-side view."""
    platforms = list_platforms()
    rows = []
    for key, label in COMPARISON_ROWS:
        row = {"fact": label}
        for platform in platforms:
            row[platform.key] = platform.to_dict()[key]
        rows.append(row)
    row = {"fact": "CSV columns"}
    for platform in platforms:
        row[platform.key] = "; ".join(f"{k}: {' / '.join(v)}" for k, v in platform.csv_columns.items())
    rows.append(row)
    return rows
