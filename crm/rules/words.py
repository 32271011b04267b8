"""Matching words as a person means them: case and accents do not count."""

from __future__ import annotations

import functools
import re
import unicodedata


@functools.lru_cache(maxsize=4096)
def folded(text: str) -> str:
    """Return ``text`` for matching: case-folded, accents removed (``Café`` matches ``cafe``).

    Cached: a vault's likes and topics repeat from customer to customer.
    """
    if text.isascii():
        return text.lower()  # casefold and NFKD change no ASCII text but its case
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def mentions(text: str, word: str) -> bool:
    """Return True when ``word`` appears in ``text`` as whole words, its plural too.

    Case- and accent-insensitive: ``copper`` is in "Copper tones" and "coppers", not in
    "copperplate".
    """
    words = folded(word).split()
    if not words:
        return False
    pattern = r"\s+".join(re.escape(w) for w in words)
    return re.search(rf"(?<!\w){pattern}(?:e?s)?(?!\w)", folded(text)) is not None


def about(topic: str, words: str) -> bool:
    """Return True when a topic and a person's words (a dislike, an opt-out) name the same
    thing: either mentions the other (``birthday`` and ``birthdays``, ``colour`` and
    ``bright colours``)."""
    return mentions(topic, words) or mentions(words, topic)
