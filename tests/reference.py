"""What only the tests use: the all-icalendar reference renderer and a few plain helpers.

The feed writes VEVENTs as text for speed (``crm.feed.icswrite``); ``render_reference`` builds
the same feed with icalendar objects, and the tests hold the two to the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Alarm, Event

from crm.core.config import Config, load_config
from crm.core.model import Customer
from crm.feed.blocks import Block, BlockEvent, block_entries, stored_entries
from crm.feed.business import business_events
from crm.feed.events import CATEGORY, FeedEvent, context, details, events_in_window, when, window
from crm.feed.icswrite import FOLLOWUP_LENGTH
from crm.feed.render import Entry, calendar, feed_from_entries, frame, look, vevent
from crm.index.build import open_index
from crm.vault.load import Vault
from tests.conftest import wall_clock


def load(root: Path) -> tuple[Config, Vault]:
    """Return the vault's config and customers as they are on disk now, through the index."""
    config, problems = load_config(root)
    index = open_index(root, config, now=wall_clock(), enabled=not os.environ.get("CRM_NO_INDEX"))
    try:
        vault = index.vault()
    finally:
        index.close()
    return config, Vault(vault.root, vault.customers, (*problems, *vault.problems))


def feed_events(customers: Iterable[Customer], config: Config, today: date) -> list[FeedEvent]:
    """Return every event of the feed inside the window, sorted by day, time, kind and name."""
    ctx = context(config, today)
    events: list[FeedEvent] = business_events(config, today)
    for c in customers:
        events.extend(events_in_window(c, ctx))
    events.sort(key=lambda e: (when(e.day, e.at, e.kind), name_key(e), e.uid))
    return events


def name_key(e: FeedEvent) -> str:
    """Return the name an event sorts by on its day: its customer's, none for the business's."""
    return "" if e.customer is None else e.customer.name.casefold()


def render(events: Iterable[FeedEvent], config: Config, today: date) -> bytes:
    """Return the feed of ``events`` as the feed's own VEVENT writer and frame make it."""
    lk = look(config, today)
    body: list[str] = []
    timed = False
    for ev in events:
        timed = timed or ev.at is not None
        text = details(ev.customer) if lk.details and ev.customer else ""
        body.append(vevent(ev, lk, text))
    head, tail = frame(config, today, timed)
    return head + "".join(body).encode("utf-8") + tail


def render_reference(events: Iterable[FeedEvent], config: Config, today: date) -> bytes:
    """Return the feed as icalendar builds it: the reference ``render`` must match byte for byte."""
    feed = config.feed
    start, end = window(config, today)
    cal = calendar(config)
    stamp = datetime.combine(today, time.min, tzinfo=UTC)
    zone = ZoneInfo(config.timezone)
    for ev in events:
        e = Event()
        e.add("UID", ev.uid)
        e.add("DTSTAMP", stamp)
        if ev.at is None:
            e.add("DTSTART", ev.day)
            e.add("DTEND", max(ev.last or ev.day, ev.day) + timedelta(days=1))
            e.add("TRANSP", "TRANSPARENT")
        else:
            # Through UTC and back: a time the clocks skip becomes the one it stands for.
            begin = datetime.combine(ev.day, ev.at, tzinfo=zone).astimezone(UTC).astimezone(zone)
            e.add("DTSTART", begin)
            e.add("DTEND", (begin + FOLLOWUP_LENGTH).astimezone(UTC).astimezone(zone))
        e.add("SUMMARY", ev.summary)
        e.add("CATEGORIES", [CATEGORY[ev.kind]])
        if feed.include_details and ev.customer and (text := details(ev.customer)):
            e.add("DESCRIPTION", text)
        if feed.alarms:
            alarm = Alarm()
            alarm.add("ACTION", "DISPLAY")
            alarm.add("DESCRIPTION", ev.summary)
            # All-day: 09:00 on the day; timed: a quarter of an hour before.
            trigger = timedelta(hours=9) if ev.at is None else timedelta(minutes=-15)
            alarm.add("TRIGGER", trigger)
            e.add_component(alarm)
        cal.add_component(e)
    cal.add_missing_timezones(first_date=start, last_date=end + timedelta(days=1))
    data: bytes = cal.to_ical()
    return data


def feed_from_blocks(blocks: Iterable[Block], config: Config, today: date) -> bytes:
    """Return the feed made of customers' blocks: header, events in feed order, footer."""
    entries: list[Entry] = []
    timed = False
    for b in blocks:
        entries.extend(block_entries(b))
        timed = timed or b.timed
    return feed_from_entries(entries, timed, config, today)


def decode_block(name: str, timed: bool, data: bytes) -> Block:
    """Return the block stored by ``encode_block`` with its casefolded name and timed flag."""
    entries = stored_entries(name.encode(), data)
    events = tuple(BlockEvent(w.decode(), u.decode(), v) for w, _, u, v in entries)
    return Block(name, events, timed)
