"""The iCalendar feed: customers' dates, follow-ups and reach-out reminders as bytes (deterministic).

Occurrences are expanded over a window around ``today`` (``[feed] days_back`` /
``days_ahead``) instead of being sent as RRULEs, so every title can say the right age
and a Feb 29 birthday lands where ``[vault] feb29`` says in every client alike.

Events are written as text by ``crm.icswrite`` (icalendar takes minutes at 100,000
customers); icalendar writes the header and VTIMEZONE, and ``render_reference``, the
all-icalendar renderer, is kept for the tests to compare against byte for byte. Each
customer renders on its own (``customer_block``), so blocks can be cached per file.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, vDuration

from crm.core.config import Config
from crm.core.dates import Feb29Rule, occurrence_in
from crm.core.model import Customer, PartialDate
from crm.feed import icswrite
from crm.rules.rhythm import contact_state, planned_day

EventKind = Literal["reachout", "followup", "birthday", "lead", "anniversary", "since", "date"]
_KIND_ORDER: tuple[EventKind, ...] = (
    "reachout",
    "followup",
    "birthday",
    "lead",
    "anniversary",
    "since",
    "date",
)
_KIND_RANK = {kind: rank for rank, kind in enumerate(_KIND_ORDER)}
_CATEGORY = {
    "reachout": "Reach out",
    "followup": "Follow-up",
    "birthday": "Birthday",
    "lead": "Reminder",
    "anniversary": "Anniversary",
    "since": "Customer since",
    "date": "Date",
}
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PRODID = "-//crm//Customer calendar feed//EN"
FOLLOWUP_LENGTH = icswrite.FOLLOWUP_LENGTH
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One event of the feed: an all-day event, or a timed one when ``at`` is set."""

    uid: str
    kind: EventKind
    day: date
    summary: str
    customer: Customer
    at: time | None = None


def window(config: Config, today: date) -> tuple[date, date]:
    """Return the first and last day (inclusive) the feed covers."""
    feed = config.feed
    return today - timedelta(days=feed.days_back), today + timedelta(days=feed.days_ahead)


def feed_events(customers: Iterable[Customer], config: Config, today: date) -> list[FeedEvent]:
    """Return every event of the feed inside the window, sorted by day, time, kind and name."""
    ctx = _context(config, today)
    events: list[FeedEvent] = []
    for c in customers:
        events.extend(_events(c, ctx))
    events.sort(key=lambda e: (_when(e.day, e.at, e.kind), e.customer.name.casefold(), e.uid))
    return events


def customer_events(c: Customer, config: Config, today: date) -> list[FeedEvent]:
    """Return one customer's events inside the window (none for a lost customer), unsorted."""
    return _events(c, _context(config, today))


@dataclass(frozen=True, slots=True)
class _Context:
    """What every customer's events and VEVENTs share on one day under one config."""

    config: Config
    today: date
    start: date
    end: date
    style: icswrite.Style
    stamp: str
    details: bool


_last_context: list[_Context] = []  # one entry: a build asks thousands of times in a row


def _context(config: Config, today: date) -> _Context:
    last = _last_context[0] if _last_context else None
    # Identity, not equality: hashing or comparing a Config per customer is a hot spot.
    if last is not None and last.config is config and last.today == today:
        return last
    start, end = window(config, today)
    tz_param, tz_suffix = _tz_form(config.timezone)
    style = icswrite.Style(today, tz_param, tz_suffix, config.feed.alarms)
    ctx = _Context(
        config, today, start, end, style, icswrite.stamp_line(style), config.feed.include_details
    )
    _last_context[:] = [ctx]
    return ctx


def _events(c: Customer, ctx: _Context) -> list[FeedEvent]:
    # Lost customers are out of every report, so they stay out of the calendar too.
    if c.status == "lost":
        return []
    start, end = ctx.start, ctx.end
    return [e for e in _customer_events(c, ctx) if start <= e.day <= end]


@lru_cache(maxsize=8192)
def _when(day: date, at: time | None, kind: EventKind) -> str:
    """Return day, time and kind as one string that sorts like the tuple of the three."""
    t = at or time.min
    return (
        f"{day.isoformat()}T{t.hour:02}{t.minute:02}{t.second:02}{t.microsecond:06}"
        f"{_KIND_RANK[kind]}"
    )


def _customer_events(c: Customer, ctx: _Context) -> Iterator[FeedEvent]:
    start, end = ctx.start, ctx.end
    feb29 = ctx.config.feb29
    name = clean(c.name)
    slug = uid_part(c.id)
    lead = ctx.config.feed.lead_days
    for d in c.dates:
        if d.kind in ("birthday", "anniversary"):
            for day in _yearly(d.date, start, end + timedelta(days=lead), feb29):
                if d.date.year is not None and day.year <= d.date.year:
                    continue  # the day itself is not a birthday or an anniversary
                years = None if d.date.year is None else day.year - d.date.year
                if day <= end:
                    yield FeedEvent(
                        f"{d.kind}-{slug}-{day.year}@crm",
                        d.kind,
                        day,
                        _birthday(name, years)
                        if d.kind == "birthday"
                        else _anniversary(name, years),
                        c,
                    )
                if lead:
                    yield FeedEvent(
                        f"{d.kind}-soon-{slug}-{day.year}@crm",
                        "lead",
                        day - timedelta(days=lead),
                        f"{name}'s {d.kind} on {_WEEKDAYS[day.weekday()]}",
                        c,
                    )
        else:
            yield from _labelled(c, name, slug, d.label, d.date, d.yearly, ctx)
    if c.customer_since is not None:
        since = c.customer_since
        for day in _yearly(PartialDate(since.month, since.day, since.year), start, end, feb29):
            if day.year > since.year:
                years = day.year - since.year
                yield FeedEvent(
                    f"since-{slug}-{day.year}@crm",
                    "since",
                    day,
                    f"{name}: {years} year{'s' if years != 1 else ''} as a customer",
                    c,
                )
    yield from _contact_events(c, name, slug, ctx.config, ctx.today)


def _labelled(
    c: Customer,
    name: str,
    slug: str,
    label: str,
    pd: PartialDate,
    yearly: bool,
    ctx: _Context,
) -> Iterator[FeedEvent]:
    key = hashlib.sha256(f"{label}\0{pd.isoformat()}".encode()).hexdigest()[:8]
    title = f"{name}: {clean(label)}"
    if not yearly:
        if pd.year is not None:
            day = date(pd.year, pd.month, pd.day)
            yield FeedEvent(f"date-{slug}-{key}-{_compact(day)}@crm", "date", day, title, c)
        return
    for day in _yearly(pd, ctx.start, ctx.end, ctx.config.feb29):
        years = None if pd.year is None else day.year - pd.year
        suffix = f" ({years} year{'s' if years != 1 else ''})" if years else ""
        yield FeedEvent(f"date-{slug}-{key}-{day.year}@crm", "date", day, title + suffix, c)


def _contact_events(
    c: Customer, name: str, slug: str, config: Config, today: date
) -> Iterator[FeedEvent]:
    planned = planned_day(c)
    if planned is not None:
        at = c.next_contact.time() if isinstance(c.next_contact, datetime) else None
        yield FeedEvent(
            f"followup-{slug}-{_compact(planned)}@crm",
            "followup",
            planned,
            f"Follow up with {name}",
            c,
            at,
        )
    state = contact_state(c, config, today)
    if state.state == "never":
        yield FeedEvent(
            f"reachout-{slug}-never@crm",
            "reachout",
            today,
            f"Reach out to {name} (never contacted)",
            c,
        )
    elif state.state == "overdue" and state.due is not None:
        late = state.days_overdue
        # Same UID while overdue: clients move the one reminder along to today.
        yield FeedEvent(
            f"reachout-{slug}-{_compact(state.due)}@crm",
            "reachout",
            today,
            f"Reach out to {name} ({late} day{'s' if late != 1 else ''} overdue)",
            c,
        )
    elif (
        state.state in ("due", "ok", "away", "snoozed")
        and state.due is not None
        and state.due != planned
    ):
        # A planned follow-up on the due day is reminder enough (as in `crm upcoming`).
        yield FeedEvent(
            f"reachout-{slug}-{_compact(state.due)}@crm",
            "reachout",
            state.due,
            f"Reach out to {name}",
            c,
        )


@lru_cache(maxsize=4096)
def _compact(day: date) -> str:
    # Cached: strftime per event is slow, and a feed has a few hundred distinct days.
    return f"{day:%Y%m%d}"


def _yearly(pd: PartialDate, start: date, end: date, feb29: Feb29Rule) -> Iterator[date]:
    for year in range(start.year, end.year + 1):
        if pd.year is not None and year < pd.year:
            continue
        day = occurrence_in(pd, year, feb29)
        if start <= day <= end:
            yield day


def _birthday(name: str, age: int | None) -> str:
    return f"{name}'s birthday" if age is None else f"{name} turns {age}"


def _anniversary(name: str, years: int | None) -> str:
    if years is None:
        return f"{name}: anniversary"
    return f"{name}: anniversary ({years} year{'s' if years != 1 else ''})"


def uid_part(customer_id: str) -> str:
    """Return the customer id as it appears in UIDs: itself when plain ASCII, else a short hash."""
    if _SAFE_ID.fullmatch(customer_id):
        return customer_id
    return "h" + hashlib.sha256(customer_id.encode()).hexdigest()[:16]


def clean(text: str) -> str:
    """Return ``text`` on one line without control characters (NUL, BEL, ESC pass icalendar)."""
    if text.isprintable():  # no control characters at all: the common case, done in C
        return text.strip()
    kept = (
        " " if ch in "\t\n\r" else ch
        for ch in text
        if ch in "\t\n\r" or unicodedata.category(ch) != "Cc"
    )
    return "".join(kept).strip()


def details(c: Customer) -> str:
    """Return the contact details and preferences shared when ``[feed] include_details`` is on."""
    lines = [
        ("Email", ", ".join(c.emails)),
        ("Phone", ", ".join(c.phones)),
        ("Likes", ", ".join(c.likes)),
        ("Dislikes", ", ".join(c.dislikes)),
    ]
    return "\n".join(clean(f"{k}: {v}") for k, v in lines if v)


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
    ctx = _context(config, today)
    text = details(c) if ctx.details else ""
    events = _events(c, ctx)
    rendered = [
        BlockEvent(
            _when(e.day, e.at, e.kind), e.uid, _vevent(e, ctx.style, ctx.stamp, text).encode()
        )
        for e in events
    ]
    rendered.sort(key=lambda b: (b.when, b.uid))
    timed = any(e.at is not None for e in events)
    return Block(c.name.casefold(), tuple(rendered), timed)


# One event in the feed's sort: (when, customer name casefolded, UID, VEVENT), all as UTF-8
# bytes, which sort like the text they encode (UTF-8 keeps code point order).
Entry = tuple[bytes, bytes, bytes, bytes]
_ENTRY_KEY = itemgetter(0, 1, 2)
_VEVENT = itemgetter(3)


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


def feed_from_entries(entries: list[Entry], timed: bool, config: Config, today: date) -> bytes:
    """Return the feed made of entries (sorted here, in place); ``timed``: it needs a VTIMEZONE."""
    # Stable, and on the same key as feed_events, so the bytes match the reference renderer.
    entries.sort(key=_ENTRY_KEY)
    head, tail = _frame(config, today, timed)
    return b"".join([head, *map(_VEVENT, entries), tail])


def render(events: Iterable[FeedEvent], config: Config, today: date) -> bytes:
    """Return the feed as iCalendar bytes: CRLF, folded at 75 octets, a VTIMEZONE per TZID."""
    ctx = _context(config, today)
    body: list[str] = []
    timed = False
    for ev in events:
        timed = timed or ev.at is not None
        text = details(ev.customer) if ctx.details else ""
        body.append(_vevent(ev, ctx.style, ctx.stamp, text))
    head, tail = _frame(config, today, timed)
    return head + "".join(body).encode("utf-8") + tail


def _vevent(ev: FeedEvent, style: icswrite.Style, stamp: str, description: str) -> str:
    return icswrite.vevent(
        style,
        uid=ev.uid,
        summary=ev.summary,
        category=_CATEGORY[ev.kind],
        day=ev.day,
        at=ev.at,
        description=description,
        stamp=stamp,
    )


@lru_cache(maxsize=16)
def _tz_form(timezone: str) -> tuple[str, str]:
    """Return how icalendar writes a datetime in ``timezone``: its parameter and its suffix."""
    probe = Event()
    probe.add("DTSTART", datetime(2000, 1, 1, tzinfo=ZoneInfo(timezone)))
    line = probe.to_ical().decode("utf-8").replace("\r\n ", "").split("\r\n")[1]
    name, _, value = line.rpartition(":")
    return name.removeprefix("DTSTART"), "Z" if value.endswith("Z") else ""


def _frame(config: Config, today: date, timed: bool) -> tuple[bytes, bytes]:
    """Return the feed's bytes before and after its events, as icalendar writes them."""
    start, end = window(config, today)
    cal = _calendar(config)
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


def _calendar(config: Config) -> Calendar:
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


def render_reference(events: Iterable[FeedEvent], config: Config, today: date) -> bytes:
    """Return the feed as icalendar builds it: the reference ``render`` must match byte for byte."""
    feed = config.feed
    start, end = window(config, today)
    cal = _calendar(config)
    stamp = datetime.combine(today, time.min, tzinfo=UTC)
    zone = ZoneInfo(config.timezone)
    for ev in events:
        e = Event()
        e.add("UID", ev.uid)
        e.add("DTSTAMP", stamp)
        if ev.at is None:
            e.add("DTSTART", ev.day)
            e.add("DTEND", ev.day + timedelta(days=1))
            e.add("TRANSP", "TRANSPARENT")
        else:
            begin = datetime.combine(ev.day, ev.at, tzinfo=zone)
            e.add("DTSTART", begin)
            e.add("DTEND", begin + FOLLOWUP_LENGTH)
        e.add("SUMMARY", ev.summary)
        e.add("CATEGORIES", [_CATEGORY[ev.kind]])
        if feed.include_details and (text := details(ev.customer)):
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


def build_feed(customers: Iterable[Customer], config: Config, today: date) -> bytes:
    """Return the whole feed for ``customers`` as seen on ``today``."""
    return feed_from_blocks((customer_block(c, config, today) for c in customers), config, today)
