"""The feed as bytes: each event's VEVENT text, the calendar around them, the feed from entries.

Events are written as text by ``crm.feed.icswrite`` (icalendar takes minutes at 100,000
customers); icalendar writes the header and VTIMEZONE, the one place it is still used. The
tests keep an all-icalendar renderer (``tests/reference.py``) to compare against byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from operator import itemgetter
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vDuration

from crm.core.config import Config
from crm.feed import icswrite
from crm.feed.events import CATEGORY, FeedEvent, clean, window

PRODID = "-//crm//Customer calendar feed//EN"


@dataclass(frozen=True, slots=True)
class Look:
    """What every VEVENT of one feed shares on one day under one config."""

    config: Config
    today: date
    style: icswrite.Style
    stamp: str  # the DTSTAMP line
    details: bool  # [feed] include_details


_last_look: list[Look] = []  # one entry: a build asks thousands of times in a row


def look(config: Config, today: date) -> Look:
    """Return how the feed of ``today`` under ``config`` writes its events (the last one is kept)."""
    last = _last_look[0] if _last_look else None
    # Identity, not equality: hashing or comparing a Config per customer is a hot spot.
    if last is not None and last.config is config and last.today == today:
        return last
    tz_param, tz_suffix = _tz_form(config.timezone)
    style = icswrite.Style(today, tz_param, tz_suffix, config.feed.alarms, config.timezone)
    result = Look(config, today, style, icswrite.stamp_line(style), config.feed.include_details)
    _last_look[:] = [result]
    return result


def vevent(ev: FeedEvent, lk: Look, description: str) -> str:
    """Return the VEVENT of one event as CRLF-terminated text."""
    return icswrite.vevent(
        lk.style,
        uid=ev.uid,
        summary=ev.summary,
        category=CATEGORY[ev.kind],
        day=ev.day,
        at=ev.at,
        description=description,
        stamp=lk.stamp,
        last=ev.last,
    )


# One event in the feed's sort: (when, customer name casefolded, UID, VEVENT), all as UTF-8
# bytes, which sort like the text they encode (UTF-8 keeps code point order).
Entry = tuple[bytes, bytes, bytes, bytes]
_ENTRY_KEY = itemgetter(0, 1, 2)
_VEVENT = itemgetter(3)


def feed_from_entries(entries: list[Entry], timed: bool, config: Config, today: date) -> bytes:
    """Return the feed made of entries (sorted here, in place); ``timed``: it needs a VTIMEZONE."""
    # Stable, and on the same key as the events' own order (day and time, kind, name, UID).
    entries.sort(key=_ENTRY_KEY)
    head, tail = frame(config, today, timed)
    return b"".join([head, *map(_VEVENT, entries), tail])


@lru_cache(maxsize=16)
def _tz_form(timezone: str) -> tuple[str, str]:
    """Return how icalendar writes a datetime in ``timezone``: its parameter and its suffix."""
    probe = Event()
    probe.add("DTSTART", datetime(2000, 1, 1, tzinfo=ZoneInfo(timezone)))
    line = probe.to_ical().decode("utf-8").replace("\r\n ", "").split("\r\n")[1]
    name, _, value = line.rpartition(":")
    return name.removeprefix("DTSTART"), "Z" if value.endswith("Z") else ""


def frame(config: Config, today: date, timed: bool) -> tuple[bytes, bytes]:
    """Return the feed's bytes before and after its events, as icalendar writes them."""
    start, end = window(config, today)
    cal = calendar(config)
    zone = ZoneInfo(config.timezone)
    if timed:
        # A stand-in timed event makes icalendar add the VTIMEZONE the real ones need.
        probe = Event()
        probe.add("DTSTART", datetime.combine(start, time.min, tzinfo=zone))
        cal.add_component(probe)
        cal.add_missing_timezones(first_date=start, last_date=end + timedelta(days=1))
        cal.subcomponents.remove(probe)
    data: bytes = cal.to_ical()
    tail = b"END:VCALENDAR\r\n"
    return data.removesuffix(tail), tail


def calendar(config: Config) -> Calendar:
    """Return an empty icalendar calendar with the feed's properties (name, refresh interval)."""
    feed = config.feed
    refresh = timedelta(minutes=max(feed.refresh_minutes, 1))
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("METHOD", "PUBLISH")
    cal.add("NAME", clean(feed.name))
    cal.add("X-WR-CALNAME", clean(feed.name))
    cal.add("REFRESH-INTERVAL", refresh, parameters={"VALUE": "DURATION"})
    cal.add("X-PUBLISHED-TTL", vDuration(refresh))
    return cal
