"""Referral codes and tracked links.

A partner's `ref_code` is derived from its name (or URL) plus a short digest of its canonical URL, e.g.
`yoga-with-anna-k3xq`: readable for the partner, stable (stored on first use, so running `link` twice gives
the same code even if the community is renamed) and unique (the digest grows on the rare collision). The
tracked URL is the destination with the chosen platform's referral parameter, or UTM parameters.

Making a link or setting a code needs PARTNERS (`recruiter.accounts.roles`) and is recorded in the audit log.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlmodel import Session, func, select

from recruiter.accounts import audit
from recruiter.accounts.roles import PARTNERS, Actor, require
from recruiter.core.errors import RecruiterError
from recruiter.core.models import Community, ReferralCode, TrackedLink
from recruiter.partners.activation import tick_step
from recruiter.partners.platforms import Platform, chosen_platform, get_platform

SLUG_MAX = 24
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class LinkError(RecruiterError, ValueError):
    pass


@dataclass
class TrackedLinkResult:
    ref_code: str
    tracked_url: str
    destination: str
    platform: str
    url: str
    name: str

    def public(self) -> dict[str, str]:
        return {"ref_code": self.ref_code, "tracked_url": self.tracked_url, "url": self.url, "name": self.name,
                "destination": self.destination, "platform": self.platform}


def slugify(text: str, max_length: int = SLUG_MAX) -> str:
    """Lower-case ASCII words joined by '-', cut at a word boundary when too long."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug[:max_length]
        slug = cut.rsplit("-", 1)[0] if "-" in cut[max_length // 2:] else cut
    return slug.strip("-")


def community_slug(community: Community) -> str:
    name = re.sub(r"^\s*/?(r|u)/", "", community.name or "")  # "r/yoga" reads better as "yoga"
    slug = slugify(name)
    if not slug:
        parts = urlsplit(community.url)
        host = re.sub(r"^(www\.)", "", parts.hostname or "")
        path = [p for p in parts.path.split("/") if p and p not in ("r", "user", "c", "channel", "podcast")]
        slug = slugify(path[-1] if path else host.rsplit(".", 1)[0])
    return slug or "partner"


def _digest(url: str, length: int) -> str:
    raw = base64.b32encode(hashlib.sha256(url.encode()).digest()).decode().lower()
    return raw[:length]


def ref_code_for(community: Community, *, session: Session) -> str:
    """The community's referral code, made and stored the first time it is asked for."""
    stored = session.exec(select(ReferralCode).where(ReferralCode.community_id == community.id)).first()
    if stored is not None:
        return stored.code
    slug = community_slug(community)
    for length in (4, 6, 8, 12, 20):
        code = f"{slug}-{_digest(community.url, length)}"
        taken = session.exec(select(ReferralCode).where(ReferralCode.code == code)).first()
        if taken is None:
            break
    else:  # pragma: no cover - a 100-bit collision
        raise LinkError(f"could not make a unique referral code for {community.url}")
    session.add(ReferralCode(community_id=community.id, code=code))
    session.commit()
    return code


def set_ref_code(community: Community, code: str, *, actor: Actor, session: Session) -> str:
    """Use the code a platform already gave the partner (so imports keyed by it match). Needs PARTNERS."""
    actor = require(actor, PARTNERS, session=session)
    code = code.strip().lower()
    if not CODE_RE.match(code):
        raise LinkError(f"ref code {code!r} must be lower-case letters, digits and '-' (at most 63)")
    other = session.exec(select(ReferralCode).where(ReferralCode.code == code)).first()
    if other is not None and other.community_id != community.id:
        raise LinkError(f"ref code {code!r} already belongs to another partner")
    stored = session.exec(select(ReferralCode).where(ReferralCode.community_id == community.id)).first()
    if stored is None:
        stored = ReferralCode(community_id=community.id, code=code)
    stored.code = code
    session.add(stored)
    audit.record(actor, "link.ref_code", community.url, {"ref_code": code}, session=session)
    session.commit()
    return code


def community_by_ref_code(code: str, *, session: Session) -> Community | None:
    row = session.exec(select(ReferralCode).where(func.lower(ReferralCode.code) == code.strip().lower())).first()
    return session.get(Community, row.community_id) if row else None


def check_destination(raw: str) -> str:
    text = (raw or "").strip()
    if not text:
        raise LinkError("the destination URL is empty")
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text):
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise LinkError(f"destination must be an http(s) URL, got {raw!r}")
    host = parts.hostname or ""
    if " " in text or not host or ("." not in host and host != "localhost"):
        raise LinkError(f"destination is not a URL: {raw!r}")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, parts.fragment))


def build_tracked_url(destination: str, ref_code: str, platform: Platform) -> str:
    """The destination with the platform's referral parameter set (replacing any earlier value), keeping the
    destination's own parameters and fragment."""
    parts = urlsplit(check_destination(destination))
    link = platform.referral_link
    if link.get("type") == "utm":
        params = {k: v.replace("{ref_code}", ref_code) for k, v in link["params"].items()}
    else:
        params = {link["param"]: ref_code}
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def create_link(community: Community, destination: str, *, actor: Actor, session: Session,
                platform: str | None = None) -> TrackedLinkResult:
    """Give the partner its ref code and a tracked URL for the destination; both are stored and stable.
    Needs PARTNERS; audited as "link.create"."""
    actor = require(actor, PARTNERS, session=session)
    chosen = get_platform(platform) if platform else chosen_platform(session=session)
    code = ref_code_for(community, session=session)
    clean = check_destination(destination)
    tracked = build_tracked_url(clean, code, chosen)
    row = session.exec(select(TrackedLink).where(TrackedLink.community_id == community.id,
                                                 TrackedLink.destination == clean,
                                                 TrackedLink.platform == chosen.key)).first()
    if row is None:
        session.add(TrackedLink(community_id=community.id, destination=clean, platform=chosen.key,
                                tracked_url=tracked))
    elif row.tracked_url != tracked:
        row.tracked_url = tracked
        session.add(row)
    audit.record(actor, "link.create", community.url, {"destination": clean, "ref_code": code,
                                                      "platform": chosen.key}, session=session)
    session.commit()
    tick_step(community, "link_created", actor=actor, session=session, source="link", note=tracked,
              only_if_missing=True)
    return TrackedLinkResult(ref_code=code, tracked_url=tracked, destination=clean, platform=chosen.key,
                             url=community.url, name=community.name)
