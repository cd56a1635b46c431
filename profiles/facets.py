"""An ideal-client profile turned into search queries ("facets") with weights.

A merchant's one-paragraph description mixes who the audience is, what problems they have and what is sold.
Each is a different way a community can match, so each becomes its own query; keywords make one more.
"""

from __future__ import annotations

from dataclasses import dataclass

from recruiter.models import Profile
from recruiter.text import sentences


@dataclass(frozen=True)
class Facet:
    name: str
    text: str
    weight: float


def profile_facets(profile: Profile) -> list[Facet]:
    description = (profile.description or "").strip()
    facets: list[Facet] = []
    if description:
        facets.append(Facet("description", description, 1.0))
        parts = sentences(description)
        if len(parts) > 1:
            for number, part in enumerate(parts[:4], start=1):
                facets.append(Facet(f"sentence {number}", part, 0.5 / len(parts[:4])))
    keywords = [k.strip() for k in profile.keywords or [] if k.strip()]
    if keywords:
        facets.append(Facet("keywords", ", ".join(keywords), 0.6 if description else 1.0))
    if not facets:
        facets.append(Facet("name", profile.name, 1.0))
    return facets


def profile_queries(profile: Profile) -> list[str]:
    """Short search queries for discovery on other sites: the keywords, then the description's sentences."""
    queries = [k.strip() for k in profile.keywords or [] if k.strip()]
    for part in sentences(profile.description or ""):
        words = part.rstrip(".!?").split()
        queries.append(" ".join(words[:8]))
    return list(dict.fromkeys(q for q in queries if q)) or [profile.name]
