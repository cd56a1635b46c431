"""The column names people use for community fields, and the words they use for kinds.

Shared by the readers (to tell a JSON wrapper's list of communities from a community's own list field) and
the importer (to map any row onto the community's fields). Names are compared after lower-casing and dropping
spaces, ``_`` and ``-``.
"""

from __future__ import annotations

import re

ALIASES: dict[str, tuple[str, ...]] = {
    "url": ("url", "link", "website", "homepage", "href", "uri", "channelurl", "subreddit", "communityurl",
            "address"),
    # A feed reader's two URLs: the feed, and the site it belongs to (the community's URL when known).
    "feed_url": ("feedurl", "feed", "xmlurl", "rss", "rssurl", "feedlink", "rssfeed", "atomurl"),
    "site_url": ("siteurl", "htmlurl", "sitelink"),
    "name": ("name", "communityname", "channel", "podcast", "show", "blog", "podcastname", "showname",
             "channelname", "blogname", "publication"),
    "title": ("title", "headline", "tagline", "text"),
    "description": ("description", "about", "summary", "bio", "publicdescription", "desc", "details", "subtitle"),
    "audience_size": ("audiencesize", "audience", "subscribers", "subscribercount", "followers",
                      "followercount", "members", "listeners", "size", "readers"),
    "kind": ("kind", "type", "categorykind", "platform", "communitytype"),
    "language": ("language", "lang", "locale"),
    "recent_posts": ("recentposts", "posts", "recenttitles", "episodes", "items", "recentpoststitles"),
    "emails": ("emails", "email", "contactemail", "contactemails", "contact"),
    "socials": ("socials", "social", "sociallinks", "links"),
    "site_name": ("sitename",),
    "author": ("author", "owner", "host", "creator", "byline"),
}
ALIAS_LOOKUP = {alias: key for key, aliases in ALIASES.items() for alias in aliases}
# Columns an export writes that describe the stored row, not the community: never imported as data.
BOOKKEEPING = {"id", "source", "firstseen", "lastseen", "contenthash", "extra"}

KIND_SYNONYMS = {
    "reddit": "subreddit", "sub": "subreddit", "rss": "blog", "feed": "blog", "website": "blog", "site": "blog",
    "channel": "youtube", "yt": "youtube", "video": "youtube", "pod": "podcast", "substack": "newsletter",
    "email": "newsletter", "community": "forum", "discourse": "forum", "board": "forum", "": "",
    "podcasts": "podcast", "blogs": "blog", "newsletters": "newsletter", "forums": "forum",
    "subreddits": "subreddit", "audio": "podcast",
}


def column_key(name: object) -> str:
    """A column name as compared: lower case without spaces, underscores or dashes."""
    return re.sub(r"[\s_\-]", "", str(name).lower())


def field_of(name: object) -> str | None:
    """The community field a column name means, or None."""
    return ALIAS_LOOKUP.get(column_key(name))
