"""Matching words as a person means them: case and accents do not count."""

from __future__ import annotations

import functools
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
