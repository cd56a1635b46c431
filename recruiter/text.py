"""Small text helpers shared by ranking, reasons and the lexical index: words, stems, stop words."""

from __future__ import annotations

import re

STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here
hers herself him himself his how i if in into is it its itself just like me more most my myself no nor not now
of off on once only or other our ours ourselves out over own same she should so some such than that the their
theirs them themselves then there these they this those through to too under until up very was we were what
when where which while who whom why will with would you your yours yourself yourselves get got want wants
who're people anyone everyone everything thing things lot lots new best via etc www com http https org one
use using used way ways make makes making us it's don't can't i'm you're we're they're s t re ve ll d m
""".split())

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
