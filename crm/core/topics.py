"""Words that mean the same thing to a customer: the synonym groups of topics (``[topics]``).

A template's ``topic`` (and its ``kind``, when that kind is broadcast) is matched against what
a customer dislikes or opted out of through these groups: someone who dislikes "promotions"
gets no message whose topic is "offers". ``[topics]`` in crm.toml adds words to a group, or
names a new one (see docs/outreach.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Groups = tuple[tuple[str, tuple[str, ...]], ...]

# Singular forms: a word matches its plural too (``crm.rules.words.mentions``).
DEFAULT_TOPICS: Groups = (
    (
        "offers",
        (
            "offer", "promotion", "promotional", "promo", "deal", "marketing", "discount",
            "sale", "special", "advertising", "ad",
        ),
    ),
    ("newsletter", ("newsletter", "news", "update", "mailing")),
    ("greetings", ("greeting", "season's greetings")),
    ("events", ("event", "invitation", "invite")),
)  # fmt: skip


def parse_topics(tab: dict[str, Any], bad: Callable[[str], None]) -> Groups:
    """Return the default groups extended by ``[topics]``: ``offers = ["specials"]`` adds words
    to a group, a new name starts a group of its own."""
    groups = {name: list(words) for name, words in DEFAULT_TOPICS}
    for name, value in tab.items():
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            bad(f"topics.{name} must be a list of words")
            continue
        words = groups.setdefault(name, [])
        words.extend(w.strip() for w in value if w.strip() and w.strip() not in words)
    return tuple((name, tuple(words)) for name, words in groups.items())
