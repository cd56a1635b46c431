"""Canonical community URLs: one community, one URL, whatever form it was pasted in.

The forms seen in the wild: scheme and host case, ``www.``/``m.``/``old.`` hosts, trailing slashes, tracking
parameters (``utm_*``, ``fbclid``...), fragments, default ports, Reddit's many spellings of a subreddit,
YouTube's channel/handle/user forms and Apple Podcasts' country and slug parts.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
    "_hsenc", "_hsmi", "mkt_tok", "ref", "ref_src", "ref_url", "source", "si", "feature", "ved", "ei",
    "s_cid", "cmpid", "spm", "trk", "trkCampaign", "_ga", "_gl", "oly_anon_id", "oly_enc_id", "vero_id",
    "rss", "at_medium", "at_campaign", "ito", "share", "sh", "ncid", "CMP", "smid", "mbid", "guce_referrer",
}
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "ga_", "matomo_", "__hs")
STRIP_HOST_PREFIXES = ("www.", "m.", "mobile.", "old.", "new.", "np.", "i.")

_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_HOST_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def canonical_url(raw: str) -> str:
    """Return the canonical form of a community URL, or raise ValueError saying why it is not one.

    >>> canonical_url("HTTPS://WWW.Example.com/blog/?utm_source=x#top")
    'https://example.com/blog'
    >>> canonical_url("reddit.com/r/Python/comments/abc")
    'https://www.reddit.com/r/python/'
    """
    if not isinstance(raw, str):
        raise ValueError(f"URL must be text, got {type(raw).__name__}")
    text = raw.strip()
    if not text:
        raise ValueError("URL is empty")
    if re.match(r"^/?r/[A-Za-z0-9_]+/?$", text):  # bare "r/python"
        text = "https://www.reddit.com/" + text.lstrip("/")
    if text.startswith("//"):
        text = "https:" + text
    scheme_only = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):(?!\d)", text)
    if scheme_only and not _SCHEME_RE.match(text):
        raise ValueError(f"unsupported URL scheme {scheme_only.group(1)!r} (only http and https): {raw!r}")
    if not _SCHEME_RE.match(text):
        if " " in text or "." not in text.split("/")[0]:
            raise ValueError(f"not a URL: {raw!r}")
        text = "https://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in ("itpc", "pcast", "feed", "podcast"):
        scheme = "https"
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {parts.scheme!r} (only http and https): {raw!r}")
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        host = host.encode("idna").decode("ascii") if host and not host.isascii() else host
    except UnicodeError as exc:
        raise ValueError(f"invalid host in URL {raw!r}") from exc
    if not host or not (_HOST_RE.match(host) or _is_ip(host)):
        raise ValueError(f"invalid host in URL {raw!r}")
    if "." not in host and host != "localhost":
        raise ValueError(f"invalid host in URL {raw!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid port in URL {raw!r}") from exc
    for prefix in STRIP_HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix):]
            break

    special = _special_forms(host, parts.path, parts.query)
    if special:
        return special

    netloc = "www." + host if host in ("youtube.com", "reddit.com") else host  # their one true host
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc = f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~%")
    path = re.sub(r"/{2,}", "/", path)
    path = re.sub(r"/(index\.(html?|php))$", "/", path)
    query = _clean_query(parts.query)
    if not query:  # "/feed/?alt=rss" and "/feed?alt=rss" may differ; a bare trailing slash never does
        path = path.rstrip("/")
    return urlunsplit((scheme, netloc, path, query, ""))


def _is_ip(host: str) -> bool:
    return bool(re.match(r"^\d{1,3}(\.\d{1,3}){3}$", host)) or ":" in host


def _clean_query(query: str) -> str:
    kept = [
        (k, v)
        for k, v in parse_qsl(query, keep_blank_values=True)
        if k not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    return urlencode(kept)


def _special_forms(host: str, path: str, query: str) -> str | None:
    """Reddit, YouTube and Apple Podcasts URLs have one right form each; collapse the rest onto it."""
    segments = [unquote(s) for s in path.split("/") if s]
    if host in ("reddit.com", "redd.it") or host.endswith(".reddit.com"):
        if len(segments) >= 2 and segments[0].lower() == "r":
            return f"https://www.reddit.com/r/{segments[1].lower()}/"
        if len(segments) >= 2 and segments[0].lower() in ("user", "u"):
            return f"https://www.reddit.com/user/{segments[1].lower()}/"
        return None
    if host in ("youtube.com", "youtu.be") or host.endswith(".youtube.com"):
        if segments and segments[0].startswith("@"):
            return f"https://www.youtube.com/{segments[0].lower()}"
        if len(segments) >= 2 and segments[0] == "channel":
            return f"https://www.youtube.com/channel/{segments[1]}"
        if len(segments) >= 2 and segments[0] in ("c", "user"):
            return f"https://www.youtube.com/{segments[0]}/{segments[1].lower()}"
        return None  # other YouTube URLs (e.g. a channel's videos.xml feed) are kept as they are
    if host in ("podcasts.apple.com", "itunes.apple.com"):
        match = re.search(r"/id(\d+)", path)
        if match:
            return f"https://podcasts.apple.com/podcast/id{match.group(1)}"
        params = dict(parse_qsl(query))
        if params.get("id", "").isdigit():
            return f"https://podcasts.apple.com/podcast/id{params['id']}"
    return None


def guess_kind(url: str) -> str:
    """The community kind a canonical URL implies, or "other"."""
    host = urlsplit(url).hostname or ""
    path = urlsplit(url).path.lower()
    if host.endswith("reddit.com"):
        return "subreddit"
    if host.endswith("youtube.com"):
        return "youtube"
    if host.endswith("podcasts.apple.com") or host.endswith("podbean.com") or "anchor.fm" in host:
        return "podcast"
    if host.endswith("substack.com") or host.endswith("beehiiv.com") or host.endswith("buttondown.email"):
        return "newsletter"
    if host.startswith(("forum.", "forums.", "community.", "discourse.")):
        return "forum"
    if path.endswith((".rss", ".xml", "/feed", "/rss", ".atom")) or "blog" in host or "/blog" in path:
        return "blog"
    return "other"
