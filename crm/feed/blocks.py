"""One customer's rendered events, a block: what the index caches per customer file.

Each customer renders on its own (``customer_block``, a pure function), so the feed is the
header, every customer's events merged in feed order, and the footer. The index stores a
block as opaque bytes (``render_block``, handed to it by the feed) and gives them back for
``stored_entries`` to turn into feed entries.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from itertools import repeat
from typing import TYPE_CHECKING

from crm.core.config import Config
from crm.core.model import Customer
from crm.feed.business import business_entries
from crm.feed.events import context, details, events_in_window, when
from crm.feed.render import Entry, feed_from_entries, look, vevent

if TYPE_CHECKING:
    from crm.feed.messages import Messages


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


def customer_block(
    c: Customer, config: Config, today: date, messages: Messages | None = None
) -> Block:
    """Return one customer's VEVENTs, rendered, with the keys that place them in the feed.

    With ``messages`` (``[feed] drafts``), a birthday's or anniversary's reminder carries the
    message of its template (see ``crm.feed.messages``).
    """
    ctx = context(config, today)
    lk = look(config, today)
    text = details(c) if lk.details else ""
    events = events_in_window(c, ctx)
    lead = config.feed.lead_days
    if messages is not None:
        from crm.feed.messages import message_for  # Jinja2 only when drafts are on
    rendered = []
    for e in events:
        about = text
        if messages is not None and e.own is not None and (e.kind == "lead" or not lead):
            said = message_for(c, config, e.day, e.own, messages)
            about = "\n\n".join(t for t in (said, text) if t)
        rendered.append(BlockEvent(when(e.day, e.at, e.kind), e.uid, vevent(e, lk, about).encode()))
    rendered.sort(key=lambda b: (b.when, b.uid))
    timed = any(e.at is not None for e in events)
    return Block(c.name.casefold(), tuple(rendered), timed)


def block_entries(block: Block) -> list[Entry]:
    """Return a block's events as feed entries (see ``feed_from_entries``)."""
    name = block.name.encode()
    return [(e.when.encode(), name, e.uid.encode(), e.vevent) for e in block.events]


def build_feed(customers: Iterable[Customer], config: Config, today: date) -> bytes:
    """Return the whole feed for ``customers`` as seen on ``today``, the business's events too
    (an occasion's count of messages to send is left to the live feed)."""
    entries: list[Entry] = business_entries(config, today)
    timed = False
    for c in customers:
        block = customer_block(c, config, today)
        entries += block_entries(block)
        timed = timed or block.timed
    return feed_from_entries(entries, timed, config, today)


def render_block(
    c: Customer, config: Config, today: date, messages: Messages | None = None
) -> tuple[str, bool, bytes]:
    """Return one customer's block as the index stores it: casefolded name, timed, bytes.

    The index calls this in its parse workers, so it must stay a module-level function
    (``messages`` goes in with ``functools.partial``).
    """
    block = customer_block(c, config, today, messages)
    return block.name, block.timed, encode_block(block)


# A block is stored as bytes: "S", then when, uid and VEVENT of each event, all joined by US.
# One split in C turns it back into feed entries, several times faster than JSON at 100,000
# customers. US is a control character, which ``crm.feed.events.clean`` keeps out of every
# text; should one turn up anyway, the block is stored as "J" and JSON instead.
_US = b"\x1f"
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode_block(block: Block) -> bytes:
    """Return one customer's rendered calendar events as bytes (see ``stored_entries``)."""
    fields: list[bytes] = []
    for e in block.events:
        fields += (e.when.encode(), e.uid.encode(), e.vevent)
    if not any(_US in f for f in fields):
        return b"S" + _US.join(fields)
    plain = [[e.when, e.uid, e.vevent.decode("utf-8")] for e in block.events]
    return b"J" + _dumps(plain).encode("utf-8")


def stored_entries(name: bytes, data: bytes) -> list[Entry]:
    """Return the feed entries of a block stored by ``encode_block``, for the customer ``name``."""
    if data[:1] == b"J":
        return [
            (day.encode(), name, uid.encode(), vevent.encode("utf-8"))
            for day, uid, vevent in json.loads(data[1:].decode("utf-8"))
        ]
    if len(data) == 1:
        return []
    fields = data[1:].split(_US)
    n = len(fields) // 3
    return list(zip(fields[0::3], repeat(name, n), fields[1::3], fields[2::3], strict=True))
