"""One customer's rendered events, a block: what the index caches per customer file.

Each customer renders on its own (``customer_block``, a pure function), so the feed is the
header, every customer's events merged in feed order, and the footer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from crm.core.config import Config
from crm.core.model import Customer
from crm.feed.events import context, details, events_in_window, when
from crm.feed.render import Entry, feed_from_entries, look, vevent


@dataclass(frozen=True, slots=True)
class BlockEvent:
    """One rendered event: where it goes in the feed, and its VEVENT bytes."""

    when: str  # day, time and kind, sortable as text (ASCII, no newline)
    uid: str  # ASCII, no newline
    vevent: bytes


@dataclass(frozen=True, slots=True)
class Block:
    """One customer's rendered events, in feed order: what a cache keeps per customer file."""

    name: str  # the customer's name casefolded: the tie-break between customers on one day
    events: tuple[BlockEvent, ...]
    timed: bool  # some event has a time, so the feed needs the time zone's VTIMEZONE

    @property
    def data(self) -> bytes:
        """Return the customer's VEVENTs as one run of bytes."""
        return b"".join(e.vevent for e in self.events)


def customer_block(c: Customer, config: Config, today: date) -> Block:
    """Return one customer's VEVENTs, rendered, with the keys that place them in the feed."""
    ctx = context(config, today)
    lk = look(config, today)
    text = details(c) if lk.details else ""
    events = events_in_window(c, ctx)
    rendered = [
        BlockEvent(when(e.day, e.at, e.kind), e.uid, vevent(e, lk, text).encode()) for e in events
    ]
    rendered.sort(key=lambda b: (b.when, b.uid))
    timed = any(e.at is not None for e in events)
    return Block(c.name.casefold(), tuple(rendered), timed)


def block_entries(block: Block) -> list[Entry]:
    """Return a block's events as feed entries (see ``feed_from_entries``)."""
    name = block.name.encode()
    return [(e.when.encode(), name, e.uid.encode(), e.vevent) for e in block.events]


def feed_from_blocks(blocks: Iterable[Block], config: Config, today: date) -> bytes:
    """Return the feed made of customers' blocks: header, events in feed order, footer."""
    entries: list[Entry] = []
    timed = False
    for b in blocks:
        entries.extend(block_entries(b))
        timed = timed or b.timed
    return feed_from_entries(entries, timed, config, today)


def build_feed(customers: Iterable[Customer], config: Config, today: date) -> bytes:
    """Return the whole feed for ``customers`` as seen on ``today``."""
    return feed_from_blocks((customer_block(c, config, today) for c in customers), config, today)
