"""What a customer's "no" covers: their opt-outs and dislikes read as they meant them.

A person writes ``opt_out: [promotions, sms]`` or ``dislikes: [marketing emails]``. A message
is about its template's topic and, when its kind is broadcast (an offer, a newsletter), about
that kind too; each is widened to its synonym group (``crm.core.topics``), so "promotions"
holds back a message whose topic is "offers". Channel words (email, texts, WhatsApp...) name a
channel and never a topic or kind: disliking "marketing emails" holds back offers, not an email
about a reward they earned. A phrase of channel words only refuses that channel.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from crm.core.config import Config
from crm.core.fields import CHANNELS
from crm.core.model import OPT_OUT_ALL, Customer, Location, Problem
from crm.core.topics import Groups
from crm.rules.words import about, folded

# The words of each channel as people write them, plural included.
CHANNEL_WORDS: dict[str, str] = {
    **{c: c for c in CHANNELS},
    **{f"{c}s": c for c in CHANNELS if c != "sms"},
    "e-mail": "email", "e-mails": "email", "mail": "email", "mails": "email",
    "text": "sms", "texts": "sms", "text message": "sms", "text messages": "sms",
    "sms's": "sms", "wa": "whatsapp", "whatsapp message": "whatsapp",
    "whatsapp messages": "whatsapp",
}  # fmt: skip
_CHANNEL = re.compile(
    r"(?<!\w)(?:"
    + "|".join(re.escape(w) for w in sorted(CHANNEL_WORDS, key=len, reverse=True))
    + r")(?!\w)"
)


@dataclass(frozen=True, slots=True)
class Message:
    """What a message is about: its topic, its kind when broadcast, a liked word, its channel."""

    channel: str
    topics: tuple[str, ...] = ()


def message(
    config: Config,
    channel: str,
    *,
    topic: str | None = None,
    kind: str | None = None,
    likes: str | None = None,
) -> Message:
    """Return what a message is about: ``topic``, ``likes`` and a broadcast ``kind``, each with
    the words of its synonym group."""
    broadcast = kind if kind and config.kinds.class_of(kind) == "broadcast" else None
    return Message(channel, _about(config.topics, topic, likes, broadcast))


@functools.lru_cache(maxsize=256)
def _about(groups: Groups, *named: str | None) -> tuple[str, ...]:
    # Asked once per customer of a draft, with the same few words: cached.
    words: list[str] = []
    for word in filter(None, named):
        for w in (word, *group_of(groups, word)):
            if w not in words:
                words.append(w)
    return tuple(words)


def group_of(groups: Groups, word: str) -> tuple[str, ...]:
    """Return the words of every synonym group that ``word`` belongs to (its name included)."""
    found: list[str] = []
    for name, words in groups:
        if any(_same(word, w) for w in (name, *words)):
            found.extend((name, *words))
    return tuple(found)


def _same(a: str, b: str) -> bool:
    fa, fb = folded(a), folded(b)
    return fa == fb or fa.rstrip("s") == fb.rstrip("s")


@functools.lru_cache(maxsize=4096)
def split_channel(phrase: str) -> tuple[str, frozenset[str]]:
    """Return a phrase without its channel words, and the channels those words name:
    'marketing emails' is ('marketing', {'email'})."""
    text = folded(phrase)
    channels = frozenset(CHANNEL_WORDS[m[0]] for m in _CHANNEL.finditer(text))
    rest = " ".join(_CHANNEL.sub(" ", text).split())
    return rest, channels


@functools.lru_cache(maxsize=4096)  # a vault's dislikes repeat from customer to customer
def covers(phrase: str, m: Message, *, opt_out: bool = False) -> bool:
    """Return True when a customer's ``phrase`` (an opt-out or a dislike) refuses message ``m``.

    An opt-out of ``all`` refuses everything; a phrase of channel words only refuses that
    channel; any other phrase refuses a message about its words, whatever the channel
    ('marketing emails' is about marketing).
    """
    if opt_out and phrase == OPT_OUT_ALL:
        return True
    rest, channels = split_channel(phrase)
    if not rest:
        return m.channel in channels
    return any(about(t, rest) for t in m.topics)


def refused_by(phrases: Iterable[str], m: Message, *, opt_out: bool = False) -> list[str]:
    """Return the phrases that refuse message ``m`` (``opt_out``: they are opt-outs)."""
    return [p for p in phrases if covers(p, m, opt_out=opt_out)]


def unknown_opt_outs(
    customers: Iterable[Customer],
    config: Config,
    known: Iterable[str],
    line_of: Callable[[Customer], int | None],
) -> list[Problem]:
    """Return a warning for each opt-out that names no known topic, kind or channel, listing
    those it can name: a typo must not quietly let messages through.

    ``known`` are the words the vault's templates use (their topics and kinds); with the
    synonym groups and the channels they are what an opt-out can name. ``line_of`` finds the
    ``opt_out`` line of a customer's file.
    """
    words = known_words(config, known)
    found = []
    for c in customers:
        unknown = [
            item
            for item in c.opt_out
            if item != OPT_OUT_ALL
            and (rest := split_channel(item)[0])
            and not any(about(rest, w) for w in words)
        ]
        if unknown:
            named = ", ".join(repr(u) for u in unknown)
            message = (
                f"opt_out: {named} names no topic, template kind or channel that crm knows, "
                f"so it holds back nothing (known: {', '.join(words)}; [topics] adds words)"
            )
            where = Location(c.location.path, line_of(c) or 1)
            found.append(Problem(where, message, "warning"))
    return found


def known_words(config: Config, known: Iterable[str]) -> list[str]:
    """Return every word an opt-out can name: the templates', the groups', the channels'."""
    words = [OPT_OUT_ALL, *CHANNELS]
    for w in (*known, *(x for name, ws in config.topics for x in (name, *ws))):
        if w and folded(w) not in (folded(x) for x in words):
            words.append(w)
    return words
