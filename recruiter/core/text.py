"""Small text helpers shared by the catalogue, ranking, reasons and the lexical index: the text a community is
embedded from and its digest, words, stems, stop words."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from recruiter.core.config import embedding_model_name

STOP_WORDS = frozenset(["a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "like", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves", "get", "got", "want", "wants", "who're", "people", "anyone", "everyone", "everything", "thing", "things", "lot", "lots", "new", "best", "via", "etc", "www", "com", "http", "https", "org", "one", "use", "using", "used", "way", "ways", "make", "makes", "making", "us", "it's", "don't", "can't", "i'm", "you're", "we're", "they're", "s", "t", "re", "ve", "ll", "d", "m"])

RECENT_POSTS_IN_TEXT = 10

_WORD_RE = re.compile(r"[a-z0-9][a-z0-9'+#-]*[a-z0-9+#]|[a-z0-9]")


def words(text: str) -> list[str]:
    return [w.strip("'") for w in _WORD_RE.findall(text.lower())]


def stem(word: str) -> str:
    """A light suffix stripper: enough to match "plants"/"plant", "brewing"/"brew", "coaches"/"coach"."""
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh"), ("xes", "x"),
                         ("ing", ""), ("ers", "er"), ("ed", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss" if suffix == "s" else "\0"):
            return word[: len(word) - len(suffix)] + keep
    return word


def content_terms(text: str) -> list[str]:
    """Distinct meaningful words of a text, in order: no stop words, no bare numbers, at least 3 letters."""
    seen: dict[str, None] = {}
    for word in words(text):
        if len(word) >= 3 and word not in STOP_WORDS and not word.isdigit():
            seen.setdefault(word, None)
    return list(seen)


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text or "")
    return [p.strip() for p in parts if len(p.strip()) > 2]


def community_text(community: Any) -> str:
    """The text a community is embedded (and lexically indexed) from: what it is called and what it covers."""
    get = community.get if isinstance(community, dict) else lambda k, d=None: getattr(community, k, d)
    parts: list[str] = []
    for key in ("name", "title", "description"):
        value = (get(key, "") or "").strip()
        if value and value not in parts:
            parts.append(value)
    posts = [p.strip() for p in (get("recent_posts", None) or [])[:RECENT_POSTS_IN_TEXT] if p and p.strip()]
    if posts:
        parts.append("Recent: " + "; ".join(posts))
    return "\n".join(parts)


def content_hash(text: str, model: str | None = None) -> str:
    return hashlib.sha256(f"{model or embedding_model_name()}\n{text}".encode()).hexdigest()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A cell value that a spreadsheet will not run as a formula: text starting with = + - @ (tab, CR) gets a
    leading apostrophe, which spreadsheets hide and `recruiter import` strips again."""
    if isinstance(value, str) and (value.startswith(FORMULA_STARTS) or _protected(value)):
        return "'" + value  # text that already looks protected gets one more, so import gives it back exactly
    return value


def _protected(value: str) -> bool:
    """Apostrophes, then a formula start: what `spreadsheet_safe` writes, so one apostrophe is ours to strip."""
    return value.startswith("'") and value.lstrip("'").startswith(FORMULA_STARTS)


def from_spreadsheet(value: Any) -> Any:
    """Undo `spreadsheet_safe`: drop a leading apostrophe that protects a formula-like start (= + - @ tab CR),
    so an export imported again gives back the exact text. Any other leading apostrophe is the value's own."""
    if isinstance(value, str) and _protected(value):
        return value[1:]
    return value
