"""Advice on a profile's wording, shared by the CLI and the web editor so both warn the same way.

The ranking reads the description: with none, a community is matched on the profile's name and keywords
alone (a profile named "yoga" with no description found gaming forums a fit of 96); with a handful of words
the fit is a rough guess. Saving is never refused for it: the warning says what to add.
"""

from __future__ import annotations

import re

MIN_DESCRIPTION_WORDS = 8
_WORD = re.compile(r"\w+")


def description_words(description: str | None) -> int:
    return len(_WORD.findall(description or ""))


def description_warning(description: str | None) -> str | None:
    """Why a description is too thin to rank on, or None when it is long enough."""
    words = description_words(description)
    if words == 0:
        return ("no description: communities are ranked on the name and keywords alone, so fit is a rough "
                "guess. Describe who buys, what problem they have and what you sell (a sentence or two).")
    if words < MIN_DESCRIPTION_WORDS:
        return (f"the description has only {words} word{'s' if words != 1 else ''}: fit is a rough guess "
                f"below {MIN_DESCRIPTION_WORDS}. Say who buys, what problem they have and what you sell.")
    return None
