"""An ideal-client profile turned into search queries ("facets") with weights.

A merchant's one-line description mixes what is sold ("Yoga mats and online classes"), who buys it ("for
beginners") and what they want ("who want more flexibility and less back pain"). A community can match on
any of these, and a community's description talks about its members' interests, not about a product; so the
description is split by its grammar (no language model, no topic lists) into:

- ``description``: the whole text, as written;
- ``audience``: the people after "for" ("university students"), also phrased as a community of them;
- ``needs``: the "who want / looking to / struggling with" clause, the audience's problems;
- ``topic``: the product phrase with commerce words removed ("yoga ... classes"), phrased as what people
  discuss ("people interested in yoga, classes");
- ``keywords``: the merchant's own keywords, when given.

Each facet becomes one embedding query; `recruiter.ranking` combines their cosines with the weights here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from recruiter.core.models import Profile
from recruiter.core.text import STOP_WORDS, sentences, words

# Words that say how something is sold, not what it is about: they carry no audience signal.
COMMERCE_WORDS = frozenset(["app", "apps", "platform", "platforms", "service", "services", "software", "tool", "tools", "toolkit", "subscription", "subscriptions", "box", "boxes", "kit", "kits", "shop", "shops", "store", "stores", "marketplace", "brand", "brands", "product", "products", "company", "agency", "online", "digital", "course", "courses", "class", "classes", "lesson", "lessons", "program", "programs", "programme", "plan", "plans", "template", "templates", "solution", "solutions", "startup", "membership", "memberships", "delivery", "deliveries", "ticketing", "tickets", "ticket", "site", "website", "sdk", "api", "saas", "hosted", "open-source", "source", "open", "premium", "affordable", "cheap", "quality", "handmade", "custom", "organic"])

_FOR_RE = re.compile(r"\s(?:for|aimed at|to help|helping|that helps?|which helps?)\s", re.I)
# "We sell X to Y" / "Our X ..." : the merchant talking about itself says nothing about the audience.
_SELLER_RE = re.compile(r"^(?:(?:we|i)\s+(?:sell|make|offer|build|design|create|provide|run|ship)s?|our|my)\s+",
                        re.I)
_ACTIVITY_END_RE = re.compile(r"\b(?:hunting|looking|searching|shopping|applying|preparing|saving|"
                              r"studying|training|competing|fighting|caring|waiting|asking)\s*$", re.I)
_TO_RE = re.compile(r"\s(?:to)\s", re.I)
_NEEDS_RE = re.compile(
    r"\b(?:who|that|which)\s+(?:want|wants|need|needs|love|loves|like|likes|are|is|struggle|struggles|"
    r"follow|follows|care|cares|hope|hopes|try|tries|dream|dreams|enjoy|enjoys|have|has)\b.*"
    r"|\b(?:looking|trying|struggling|wanting|hoping|learning|running|dealing|working|with)\b.*",
    re.I,
)


@dataclass(frozen=True)
class Facet:
    name: str
    text: str
    weight: float


@dataclass(frozen=True)
class DescriptionParts:
    product: str
    audience: str
    needs: str
    topic_terms: tuple[str, ...]


def split_description(description: str) -> DescriptionParts:
    """Product / audience / needs of a merchant's description, by its grammar alone."""
    text = " ".join((description or "").split()).strip()
    first = sentences(text)[0] if sentences(text) else text
    first = first.rstrip(".!? ")
    seller = _SELLER_RE.match(first)
    if seller:
        first = first[seller.end():]
    # "Indoor plant shop: rare houseplants, ..." — the part after a colon lists what is sold.
    product, audience = first, ""
    match = None
    for candidate in _FOR_RE.finditer(first):  # the last "for": "apps for X for Y" sells to Y ...
        if match is not None and _ACTIVITY_END_RE.search(first[: candidate.start()]):
            continue  # ... but in "developers hunting for a job" the "for" belongs to what they do
        match = candidate
    if match is None and seller:
        match = _TO_RE.search(first)  # "we sell desks to remote workers"
    if match is not None:
        product, audience = first[: match.start()].strip(), first[match.end():].strip()
    needs = ""
    need_match = _NEEDS_RE.search(audience)
    if need_match:
        needs = audience[need_match.start():].strip()
        audience = audience[: need_match.start()].strip().rstrip(",")
    topic_terms = tuple(dict.fromkeys(
        w for w in words(product.replace(":", " "))
        if len(w) >= 3 and w not in STOP_WORDS and w not in COMMERCE_WORDS and not w.isdigit()
    ))
    return DescriptionParts(product=product, audience=audience, needs=needs, topic_terms=topic_terms)


def profile_facets(profile: Profile) -> list[Facet]:
    description = " ".join((profile.description or "").split()).strip()
    facets: list[Facet] = []
    if description:
        facets.append(Facet("description", description, 1.0))
        parts = split_description(description)
        if parts.audience:
            facets.append(Facet("audience", f"a community of {parts.audience}", 0.5))
        if parts.needs:
            facets.append(Facet("needs", f"{parts.audience or 'people'} {parts.needs}", 0.3))
        if parts.topic_terms:
            facets.append(Facet("topic", "people interested in " + ", ".join(parts.topic_terms), 0.5))
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
        words_ = part.rstrip(".!?").split()
        queries.append(" ".join(words_[:8]))
    return list(dict.fromkeys(q for q in queries if q)) or [profile.name]
