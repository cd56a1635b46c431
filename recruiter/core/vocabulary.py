"""The closed vocabularies of the data model (community kinds, pipeline stages) without the data model.

`recruiter.core.models` uses these enums for its columns and re-exports them; the CLI reads them from here so
that `recruiter --help` and commands that never touch the database do not import SQLModel and SQLAlchemy
(about a third of a second of a cold start).
"""

from __future__ import annotations

from enum import StrEnum


class CommunityKind(StrEnum):
    blog = "blog"
    podcast = "podcast"
    subreddit = "subreddit"
    youtube = "youtube"
    newsletter = "newsletter"
    forum = "forum"
    other = "other"


KINDS = [k.value for k in CommunityKind]


class Stage(StrEnum):
    discovered = "discovered"
    shortlisted = "shortlisted"
    contacted = "contacted"
    replied = "replied"
    negotiating = "negotiating"
    joined = "joined"
    activated = "activated"
    performing = "performing"
    declined = "declined"


STAGES = [s.value for s in Stage]

# The web app's roles, least to most: a viewer reads, a member works prospects, an admin manages the team and
# the settings, an owner can do everything (at least one always remains).
ROLES = ("viewer", "member", "admin", "owner")

__all__ = ["KINDS", "ROLES", "STAGES", "CommunityKind", "Stage"]
