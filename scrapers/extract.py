"""Contact and link extraction from HTML: feeds, emails, social profiles, recent
posts, about/contact pages and outbound links (for discovery's snowballing).

Pure functions over an lxml tree and the page URL; no I/O.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from .htmldoc import is_element, text_content

FEED_TYPES = {
    "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json",
    "application/x.atom+xml", "application/x-rss+xml", "text/xml", "application/xml",
}
_EMAIL = re.compile(r"(?<![\w.+-])([A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,24})(?![\w-])")
_OBFUSCATED_EMAIL = re.compile(
    r"\b([A-Za-z0-9._%+-]{1,64})\s*[\[\(\{]\s*at\s*[\]\)\}]\s*([A-Za-z0-9-]+(?:\s*[\[\(\{]\s*dot\s*[\]\)\}]\s*[A-Za-z0-9-]+)+)\b",
    re.I,
)
_FILE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".css", ".js", ".ico", ".avif")
_PLACEHOLDER_EMAIL_DOMAINS = {"example.com", "example.org", "example.net", "domain.com", "email.com", "yourdomain.com", "sentry.io"}

SOCIAL_HOSTS = {
    "twitter.com": "twitter", "x.com": "twitter", "facebook.com": "facebook", "fb.com": "facebook",
    "instagram.com": "instagram", "linkedin.com": "linkedin", "youtube.com": "youtube", "youtu.be": "youtube",
    "tiktok.com": "tiktok", "pinterest.com": "pinterest", "github.com": "github", "threads.net": "threads",
    "bsky.app": "bluesky", "twitch.tv": "twitch", "patreon.com": "patreon", "reddit.com": "reddit",
    "mastodon.social": "mastodon", "t.me": "telegram", "discord.gg": "discord", "discord.com": "discord",
    "soundcloud.com": "soundcloud", "vimeo.com": "vimeo", "medium.com": "medium", "tumblr.com": "tumblr",
    "flickr.com": "flickr", "spotify.com": "spotify", "substack.com": "substack",
}
_ABOUT_WORDS = re.compile(
    r"\b(about|about[-_ ]us|about[-_ ]me|contact|contact[-_ ]us|impressum|kontakt|imprint|team|advertise|"
    r"work[-_ ]with[-_ ]me|write[-_ ]for[-_ ]us|sponsor(ship)?s?|partners?)\b",
    re.I,
)


MAX_ANCHORS = 5000  # huge pages: the first anchors hold the navigation, contacts and blogroll


def _anchors(root, *tags: str):
    """The first MAX_ANCHORS elements of ``tags`` (default <a>)."""
    for count, element in enumerate(root.iter(*(tags or ("a",)))):
        if count >= MAX_ANCHORS:
            return
        yield element


@lru_cache(maxsize=8192)
def absolute(base_url: str, href: str | None) -> str | None:
    """An absolute http(s) URL without fragment, or None for javascript:, mailto: etc."""
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    try:
        joined = urljoin(base_url, href)
        parts = urlsplit(joined)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def base_url_of(root, page_url: str) -> str:
    """The document's base URL: <base href> when present, else the page URL."""
    for base in root.iter("base"):
        href = base.get("href")
        if href:
            return urljoin(page_url, href.strip())
    return page_url


@lru_cache(maxsize=8192)
def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def same_site(a: str, b: str) -> bool:
    return _host(a) == _host(b)


def feed_links(root, page_url: str) -> list[str]:
    """Autodiscovered feeds: <link rel=alternate type=rss/atom>, then obvious feed anchors."""
    base = base_url_of(root, page_url)
    found: list[str] = []
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        media = (link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rel and media in FEED_TYPES:
            url = absolute(base, link.get("href"))
            if url and url not in found and "/comments/feed" not in url:
                found.append(url)
    if not found:
        for anchor in _anchors(root):
            href = (anchor.get("href") or "").strip()
            path = urlsplit(href).path.lower().rstrip("/")
            if path.endswith(("/feed", "/rss", ".rss", "/atom.xml", "/feed.xml", "/rss.xml", "/index.xml")):
                url = absolute(base, href)
                if url and same_site(url, page_url) and url not in found:
                    found.append(url)
    return found


def _clean_email(raw: str) -> str | None:
    email = unquote(raw).strip().strip(".").lower()
    if email.startswith("//"):
        return None
    if not _EMAIL.fullmatch(email):
        return None
    domain = email.rsplit("@", 1)[1]
    if email.endswith(_FILE_SUFFIXES) or domain in _PLACEHOLDER_EMAIL_DOMAINS:
        return None
    return email


def visible_text(root) -> str:
    """Text a reader could see: scripts, styles and templates left out."""
    parts: list[str] = []
    skip = {"script", "style", "noscript", "template", "head"}

    def walk(node):
        if not is_element(node):
            if node.tail:
                parts.append(node.tail)
            return
        if node.tag in skip:
            if node.tail:
                parts.append(node.tail)
            return
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
        if node.tail:
            parts.append(node.tail)

    body = root.find("body")
    for child in (body if body is not None else root):
        walk(child)
    return " ".join(parts)


def emails_in(text: str) -> list[str]:
    """Contact emails written in plain text (a channel's or a podcast's description)."""
    found: list[str] = []
    for match in _EMAIL.finditer(text or ""):
        email = _clean_email(match.group(1))
        if email and email not in found:
            found.append(email)
    return found[:20]


def emails(root, text: str | None = None) -> list[str]:
    """Contact emails: mailto: links first, then addresses written in the text."""
    found: list[str] = []

    def add(candidate: str | None) -> None:
        if candidate and candidate not in found:
            found.append(candidate)

    for anchor in _anchors(root):
        href = (anchor.get("href") or "").strip()
        if href.lower().startswith("mailto:"):
            address = href[7:].split("?")[0]
            for part in address.split(","):
                add(_clean_email(part))
    text = visible_text(root) if text is None else text
    for match in _EMAIL.finditer(text):
        add(_clean_email(match.group(1)))
    for match in _OBFUSCATED_EMAIL.finditer(text):
        domain = re.sub(r"\s*[\[\(\{]\s*dot\s*[\]\)\}]\s*", ".", match.group(2), flags=re.I)
        add(_clean_email(f"{match.group(1)}@{domain}"))
    return found[:20]


@lru_cache(maxsize=8192)
def social_kind(url: str) -> str | None:
    host = _host(url)
    for domain, kind in SOCIAL_HOSTS.items():
        if host == domain or host.endswith("." + domain):
            return kind
    return None


# Path shapes of a profile (not a post, repo or video) per network; None keeps one segment.
_PROFILE_SHAPES = {
    "linkedin": re.compile(r"^/(in|company|school|showcase)/[^/]+"),
    "youtube": re.compile(r"^/(channel/[^/]+|c/[^/]+|user/[^/]+|@[^/]+)"),
    "reddit": re.compile(r"^/(user/[^/]+|u/[^/]+|r/[^/]+)"),
    "facebook": re.compile(r"^/(pages/[^/]+(/\d+)?|groups/[^/]+|[^/]+)"),
    "mastodon": re.compile(r"^/@[^/]+"),
    "telegram": re.compile(r"^/[^/]+"),
    "discord": re.compile(r"^/(invite/)?[^/]+"),
    "spotify": re.compile(r"^/(show|artist|user)/[^/]+"),
    "bluesky": re.compile(r"^/profile/[^/]+"),
}
_NOT_PROFILES = {
    "share", "sharer", "sharer.php", "intent", "home", "login", "signin", "signup", "m", "search", "hashtag",
    "explore", "about", "help", "legal", "privacy", "terms", "policies", "settings", "dialog", "plugins", "tr",
    "watch", "embed", "p", "status", "i", "features", "pricing", "topics", "login.php", "share.php", "web",
}


def social_profile(url: str) -> str | None:
    """The profile URL a social link belongs to, or None for shares, posts and site pages."""
    kind = social_kind(url)
    if kind is None:
        return None
    parts = urlsplit(url)
    if "share" in parts.query.lower() or "url=" in parts.query.lower():
        return None
    path = re.sub(r"/{2,}", "/", parts.path)
    shape = _PROFILE_SHAPES.get(kind)
    if shape is not None:
        match = shape.match(path)
        if not match:
            return None
        profile_path = match.group(0)
    else:
        segments = [seg for seg in path.split("/") if seg]
        if not segments:
            return None
        profile_path = "/" + segments[0]
    first = profile_path.strip("/").split("/")[0].lower()
    if first in _NOT_PROFILES:
        return None
    return urlunsplit((parts.scheme, parts.netloc.lower(), profile_path.rstrip("/"), "", ""))


def socials(root, page_url: str) -> list[str]:
    """Links to the site's own profiles on social networks (share buttons, posts and
    repositories reduced to the profile they belong to, or dropped)."""
    base = base_url_of(root, page_url)
    page_kind = social_kind(page_url)
    found: list[str] = []
    for anchor in _anchors(root, "a", "link"):
        if anchor.tag == "link" and "me" not in (anchor.get("rel") or "").split():
            continue
        url = absolute(base, anchor.get("href"))
        if not url:
            continue
        profile = social_profile(url)
        if not profile or (page_kind and same_site(profile, page_url)):
            continue
        if profile not in found:
            found.append(profile)
    return found[:20]


def about_links(root, page_url: str, limit: int = 3) -> list[str]:
    """Same-site about/contact/advertise pages, most promising first."""
    base = base_url_of(root, page_url)
    scored: list[tuple[int, int, str]] = []
    seen = set()
    for index, anchor in enumerate(_anchors(root)):
        url = absolute(base, anchor.get("href"))
        if not url or not same_site(url, page_url) or url in seen or url.rstrip("/") == page_url.rstrip("/"):
            continue
        label = " ".join(text_content(anchor).split())[:80]
        path = urlsplit(url).path
        target = f"{label} {path.replace('/', ' ')}"
        match = _ABOUT_WORDS.search(target)
        if not match:
            continue
        seen.add(url)
        word = match.group(1).lower()
        rank = 0 if "contact" in word or "kontakt" in word else 1 if "about" in word else 2
        scored.append((rank, index, url))
    scored.sort()
    return [url for _, _, url in scored[:limit]]


def recent_post_links(root, page_url: str, limit: int = 10) -> list[dict]:
    """Post titles and URLs from a blog-like page: headings that link within the site."""
    base = base_url_of(root, page_url)
    posts: list[dict] = []
    seen = set()
    for heading in root.iter("h1", "h2", "h3"):
        anchor = heading if heading.tag == "a" else next(heading.iter("a"), None)
        if anchor is None:
            parent = heading.getparent()
            anchor = parent if parent is not None and parent.tag == "a" else None
        if anchor is None:
            continue
        url = absolute(base, anchor.get("href"))
        title = " ".join(text_content(heading).split())
        if not url or not title or not same_site(url, page_url) or url in seen:
            continue
        if urlsplit(url).path.strip("/") == "" or url.rstrip("/") == page_url.split("#")[0].rstrip("/"):
            continue  # the home page or the page itself ("Cancel reply", permalinks)
        seen.add(url)
        posts.append({"title": title, "url": url, "published": None})
        if len(posts) >= limit:
            break
    return posts


def outbound_links(root, page_url: str, limit: int = 200) -> list[str]:
    """Links to other sites, blogroll/"related" sections first (discovery snowballs on them)."""
    base = base_url_of(root, page_url)
    preferred: list[str] = []
    others: list[str] = []
    seen = set()
    hint = re.compile(r"blogroll|links|friends|related|partners|guests?|recommend|network|sites-we-like|xoxo", re.I)
    for anchor in _anchors(root):
        url = absolute(base, anchor.get("href"))
        if not url or same_site(url, page_url) or social_kind(url) in ("twitter", "facebook", "instagram", "linkedin", "pinterest", "tiktok"):
            continue
        if url in seen:
            continue
        seen.add(url)
        in_hint = False
        for ancestor in anchor.iterancestors():
            marker = f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}"
            if hint.search(marker):
                in_hint = True
                break
        (preferred if in_hint else others).append(url)
    return (preferred + others)[:limit]


def language(root) -> str | None:
    """<html lang>, else Content-Language meta, else og:locale."""
    lang = root.get("lang") or root.get("xml:lang")
    if lang and lang.strip():
        return lang.strip()
    for meta in root.iter("meta"):
        if (meta.get("http-equiv") or "").lower() == "content-language" and meta.get("content"):
            return meta.get("content").split(",")[0].strip()
    for meta in root.iter("meta"):
        if (meta.get("property") or "").lower() == "og:locale" and meta.get("content"):
            return meta.get("content").strip().replace("_", "-")
    return None


def meta_content(root, *names: str) -> str | None:
    """The content of the first <meta name|property|itemprop=...> among ``names``."""
    wanted = {n.lower() for n in names}
    for meta in root.iter("meta"):
        key = (meta.get("name") or meta.get("property") or meta.get("itemprop") or "").lower()
        if key in wanted and meta.get("content"):
            return meta.get("content").strip()
    return None
