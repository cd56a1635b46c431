"""Writing communities out in the import shape (so an export re-imports to the same rows)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from recruiter.core.models import Community

EXPORT_COLUMNS = ["url", "kind", "name", "title", "description", "language", "audience_size", "site_name",
                  "author", "feed_url", "recent_posts", "emails", "socials", "source", "first_seen", "last_seen"]


def community_to_dict(community: Community) -> dict[str, Any]:
    data = {key: getattr(community, key) for key in EXPORT_COLUMNS}
    for key in ("first_seen", "last_seen"):
        data[key] = data[key].isoformat(timespec="seconds") if data[key] else None
    return data


def export_rows(*, session: Session, kind: str | None = None) -> list[dict[str, Any]]:
    query = select(Community).order_by(Community.id)
    if kind:
        query = query.where(Community.kind == kind)
    return [community_to_dict(c) for c in session.exec(query).all()]
