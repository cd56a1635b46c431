"""The one template engine: first contacts, follow-ups, activation messages, playbooks and sequences.

A template is the user's text with `{placeholders}`. `fill` replaces the placeholders it has values for and
leaves every other brace as written (`{other}`, `{0}`, `{name.__class__}` stay text: templates are never
evaluated). `message_values` gives the values for one community:

- `{name}` the community's name, `{community}` its name or title, `{profile}` what the profile sells;
- `{ref_link}` the partner's tracked link, else the merchant's link pattern filled in;
- `{ref_code}`, `{tracked_url}` the partner's stored code and latest tracked link;
- `{merchant}` the shop's name, `{signature}` the sign-off;
- `{unsubscribe}` (sequences only) the line that tells the reader how to stop the emails.

A value that is not known yet reads as a visible gap (`[tracked link: make a link first]`) so nobody sends a
message with a hole in it by mistake.

Changing the stored templates needs OUTREACH, the shop's name and the referral link pattern PARTNERS
(`recruiter.accounts.roles`); each change is recorded in the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from urllib.parse import quote

from sqlmodel import Session, select

from recruiter.accounts import audit
from recruiter.accounts.roles import OUTREACH, PARTNERS, Actor, require
from recruiter.core.db import get_setting, set_setting
from recruiter.core.models import Community, Profile, ReferralCode, TrackedLink

PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")
TEMPLATES_KEY = "outreach_templates"
REFERRAL_LINK_KEY = "referral_link_template"
MERCHANT_SETTING = "merchant_name"
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
NO_CODE = "[ref code: make a link first]"
NO_LINK = "[tracked link: make a link first]"
NO_MERCHANT = "[your shop]"
NO_REF_LINK = "(your referral link)"
# The visible gaps above: fine in a draft the user reads before sending, never in a message a sequence sends.
GAPS = (NO_CODE, NO_LINK, NO_MERCHANT, NO_REF_LINK)
SEQUENCE_PLACEHOLDERS = ("name", "community", "profile", "ref_link", "ref_code", "tracked_url", "merchant",
                         "signature", "unsubscribe")


def fill(template: str, values: Mapping[str, object]) -> str:
    """Replace the `{placeholders}` that have a value; leave every other brace as written."""
    return PLACEHOLDER_RE.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0),
                              template or "")


def unfilled(text: str, names: Mapping[str, object] | None = None) -> list[str]:
    """Known placeholders still in a text (all `{word}` forms when `names` is None)."""
    found = PLACEHOLDER_RE.findall(text or "")
    return [f"{{{n}}}" for n in found if names is None or n in names]


# --- the values of one community -------------------------------------------------------------------------

def stored_ref_code(community_id: int, *, session: Session) -> str | None:
    return session.exec(select(ReferralCode.code).where(ReferralCode.community_id == community_id)).first()


def latest_link(community_id: int, *, session: Session) -> TrackedLink | None:
    """The partner's most recently made tracked link, if any."""
    return session.exec(select(TrackedLink).where(TrackedLink.community_id == community_id)
                        .order_by(TrackedLink.created_at.desc(), TrackedLink.id.desc())).first()


def merchant_name(*, session: Session) -> str:
    # Unset, the gap shows in the message instead of reading oddly ("the our shop team").
    return get_setting(MERCHANT_SETTING, None, session=session) or NO_MERCHANT


def set_merchant_name(name: str, *, actor: Actor, session: Session) -> None:
    actor = require(actor, PARTNERS, session=session)
    audit.record(actor, "merchant.set", name.strip(), session=session)
    set_setting(MERCHANT_SETTING, name.strip(), session=session)


def referral_pattern(*, session: Session) -> str:
    """The merchant's referral link pattern (`{code}` or `{slug}` filled in per partner), '' when unset."""
    return get_setting(REFERRAL_LINK_KEY, "", session=session) or ""


def set_referral_pattern(pattern: str, *, actor: Actor, session: Session) -> None:
    actor = require(actor, PARTNERS, session=session)
    pattern = (pattern or "").strip()
    if pattern == referral_pattern(session=session):
        return
    audit.record(actor, "referral_pattern.set", pattern, session=session)
    set_setting(REFERRAL_LINK_KEY, pattern, session=session)


def referral_link(community: Community, *, session: Session) -> str:
    """The partner's tracked link when one was made, else the merchant's link pattern filled in, else ''."""
    link = latest_link(community.id, session=session)
    if link is not None:
        return link.tracked_url
    pattern = get_setting(REFERRAL_LINK_KEY, "", session=session) or ""
    code = stored_ref_code(community.id, session=session) or ""
    slug = re.sub(r"[^a-z0-9]+", "-", (community.name or community.url).lower()).strip("-")[:40]
    return pattern.replace("{code}", code or slug).replace("{slug}", slug)


def community_name(community: Community) -> str:
    return community.name or community.title or community.author or community.site_name or "there"


def message_values(community: Community, *, session: Session, profile: Profile | None = None,
                   ref_link: str | None = None, signature: str | None = None) -> dict[str, str]:
    """Every placeholder's value for one community (see the module's docstring)."""
    link = latest_link(community.id, session=session)
    merchant = merchant_name(session=session)
    ref = ref_link if ref_link is not None else referral_link(community, session=session)
    return {
        "name": community_name(community),
        "community": community.name or community.title or community.url,
        "profile": (profile.description or profile.name) if profile else "",
        "ref_link": ref or NO_REF_LINK,
        "ref_code": stored_ref_code(community.id, session=session) or NO_CODE,
        "tracked_url": link.tracked_url if link else NO_LINK,
        "merchant": merchant,
        "signature": signature or f"- the {merchant} team",
    }


def render_template(template: str, *, community: Community, profile: Profile | None, ref_link: str,
                    session: Session | None = None) -> str:
    """Fill an outreach template for a community (the prospect page's subject and body)."""
    values = {
        "name": community_name(community),
        "community": community.name or community.title or community.url,
        "profile": (profile.description or profile.name) if profile else "",
        "ref_link": ref_link or NO_REF_LINK,
    }
    if session is not None:
        values = {**message_values(community, session=session, profile=profile, ref_link=ref_link), **values}
    return fill(template, values)


def unknown_placeholders(template: str, known: tuple[str, ...] = SEQUENCE_PLACEHOLDERS) -> list[str]:
    """The `{word}` placeholders of a template this engine has no value for (a typo such as `{nmae}`)."""
    return sorted({f"{{{n}}}" for n in PLACEHOLDER_RE.findall(template or "") if n not in known})


def gaps(template: str, values: Mapping[str, object]) -> list[str]:
    """Placeholders of a template that would not be filled with a real value: unknown ones, empty ones, and
    those whose value is still a visible gap (no tracked link made yet, no shop name set). A message sent
    without the user reading it first must have none."""
    out = []
    for name in dict.fromkeys(PLACEHOLDER_RE.findall(template or "")):
        value = values.get(name)
        text = "" if value is None else str(value)
        if name not in values or not text.strip() or any(gap in text for gap in GAPS):
            out.append(f"{{{name}}}")
    return out


# --- the merchant's stored templates ---------------------------------------------------------------------

def outreach_templates(*, session: Session) -> list[dict[str, str]]:
    stored = get_setting(TEMPLATES_KEY, None, session=session)
    return stored if isinstance(stored, list) and stored else [dict(t) for t in DEFAULT_TEMPLATES]


def save_outreach_templates(templates: list[dict[str, str]], *, actor: Actor, session: Session) -> None:
    actor = require(actor, OUTREACH, session=session)
    cleaned = [{"name": str(t.get("name") or f"Template {i}").strip(), "subject": str(t.get("subject") or ""),
                "body": str(t.get("body") or "")} for i, t in enumerate(templates, start=1)]
    audit.record(actor, "templates.save", "", {"names": [t["name"] for t in cleaned]}, session=session)
    set_setting(TEMPLATES_KEY, cleaned, session=session)


def mailto_link(to: str | None, subject: str, body: str) -> str:
    return f"mailto:{quote(to or '', safe='@,')}?subject={quote(subject, safe='')}&body={quote(body, safe='')}"


def follow_up_in(days: int) -> date:
    return date.today() + timedelta(days=days)
