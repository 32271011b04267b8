"""What the feed shows of a customer: dated events over a window around ``today`` (pure).

Occurrences are expanded over the window (``[feed] days_back`` / ``days_ahead``) instead of
being sent as RRULEs, so every title can say the right age and a Feb 29 birthday lands where
``[vault] feb29`` says in every client alike.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal, get_args

from crm.core.config import Config
from crm.core.dates import Feb29Rule, occurrence_in
from crm.core.model import Customer, PartialDate
from crm.rules.replies import asked_texts, reply_owed
from crm.rules.rhythm import contact_state, planned_day, planned_shown

EventKind = Literal[
    "reply",
    "reachout",
    "followup",
    "birthday",
    "lead",
    "anniversary",
    "since",
    "date",
    "closed",
    "occasion",
]
# The order of a day's events; the business's own (``crm.feed.business``) come after every
# customer's.
_KIND_ORDER: tuple[EventKind, ...] = get_args(EventKind)
_KIND_RANK = {kind: rank for rank, kind in enumerate(_KIND_ORDER)}
CATEGORY: dict[EventKind, str] = {
    "reply": "Reply",
    "reachout": "Reach out",
    "followup": "Follow-up",
    "birthday": "Birthday",
    "lead": "Reminder",
    "anniversary": "Anniversary",
    "since": "Customer since",
    "date": "Date",
    "closed": "Closed",
    "occasion": "Occasion",
}
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One event of the feed: an all-day event, or a timed one when ``at`` is set."""

    uid: str
    kind: EventKind
    day: date
    summary: str
    customer: Customer | None  # None: the business's own (a closure, an occasion)
    at: time | None = None
    last: date | None = None  # an all-day event that lasts through this day (a closure)
    own: str | None = None  # "birthday" or "anniversary": the customer's own day, or its reminder


def window(config: Config, today: date) -> tuple[date, date]:
    """Return the first and last day (inclusive) the feed covers."""
    feed = config.feed
    return today - timedelta(days=feed.days_back), today + timedelta(days=feed.days_ahead)


@dataclass(frozen=True, slots=True)
class Context:
    """What every customer's events share on one day under one config."""

    config: Config
    today: date
    start: date
    end: date


_last_context: list[Context] = []  # one entry: a build asks thousands of times in a row


def context(config: Config, today: date) -> Context:
    """Return the window of ``today`` under ``config`` (the last one is kept for the next call)."""
    last = _last_context[0] if _last_context else None
    # Identity, not equality: hashing or comparing a Config per customer is a hot spot.
    if last is not None and last.config is config and last.today == today:
        return last
    start, end = window(config, today)
    ctx = Context(config, today, start, end)
    _last_context[:] = [ctx]
    return ctx


def events_in_window(c: Customer, ctx: Context) -> list[FeedEvent]:
    """Return one customer's events inside the window (none for a lost customer), unsorted."""
    # Lost customers are out of every report, so they stay out of the calendar too.
    if c.status == "lost":
        return []
    start, end = ctx.start, ctx.end
    return [e for e in _occurrences(c, ctx) if start <= e.day <= end]


@lru_cache(maxsize=8192)
def when(day: date, at: time | None, kind: EventKind) -> str:
    """Return day, time and kind as one string that sorts like the tuple of the three."""
    t = at or time.min
    return (
        f"{day.isoformat()}T{t.hour:02}{t.minute:02}{t.second:02}{t.microsecond:06}"
        f"{_KIND_RANK[kind]}"
    )


def _occurrences(c: Customer, ctx: Context) -> Iterator[FeedEvent]:
    start, end = ctx.start, ctx.end
    feb29 = ctx.config.feb29
    name = clean(c.name)
    slug = uid_part(c.id)
    lead = ctx.config.feed.lead_days
    for d in c.important_dates():
        if d.kind in ("birthday", "anniversary", "relative"):
            # A relative's events are told apart by their name: a family has several birthdays.
            who = f"{slug}-{_key(d.label)}" if d.kind == "relative" else slug
            kind: EventKind = "anniversary" if d.kind == "anniversary" else "birthday"
            for day in _yearly(d.date, start, end + timedelta(days=lead), feb29):
                if d.date.year is not None and day.year <= d.date.year:
                    continue  # the day itself is not a birthday or an anniversary
                years = None if d.date.year is None else day.year - d.date.year
                own = None if d.kind == "relative" else d.kind
                if day <= end:
                    yield FeedEvent(
                        f"{d.kind}-{who}-{day.year}@crm",
                        kind,
                        day,
                        _birthday(name, years)
                        if d.kind == "birthday"
                        else _birthday(f"{name}'s {clean(d.label)}", years)
                        if d.kind == "relative"
                        else _anniversary(name, years),
                        c,
                        own=own,
                    )
                if lead:
                    weekday = _WEEKDAYS[day.weekday()]
                    yield FeedEvent(
                        f"{d.kind}-soon-{who}-{day.year}@crm",
                        "lead",
                        day - timedelta(days=lead),
                        f"Birthday of {name}'s {clean(d.label)} on {weekday}"
                        if d.kind == "relative"
                        else f"{name}'s {d.kind} on {weekday}",
                        c,
                        own=own,
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
    yield from _reply_event(c, name, slug, ctx.config, ctx.today)


def _labelled(
    c: Customer,
    name: str,
    slug: str,
    label: str,
    pd: PartialDate,
    yearly: bool,
    ctx: Context,
) -> Iterator[FeedEvent]:
    key = _key(f"{label}\0{pd.isoformat()}")
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
    written = planned_day(c)
    planned = planned_shown(c, config)
    if written is not None and planned is not None:
        at = c.next_contact.time() if isinstance(c.next_contact, datetime) else None
        # Inside a closure it waits for the day the business opens; the UID stays the plan's.
        closed = f" (planned {written})" if planned != written else ""
        yield FeedEvent(
            f"followup-{slug}-{_compact(written)}@crm",
            "followup",
            planned,
            f"Follow up with {name}{closed}",
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
        state.state in ("due", "ok", "away", "snoozed", "closed")
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


def _reply_event(
    c: Customer, name: str, slug: str, config: Config, today: date
) -> Iterator[FeedEvent]:
    """Yield the reply owed: on the day it turns late, then (late) on today; one UID throughout."""
    owed = reply_owed(c, config, today)
    if owed is None:
        return
    asked = clean("; ".join(asked_texts(owed)))
    late = (today - owed.late_on).days
    status = f"late {late} day{'s' if late != 1 else ''}" if late > 0 else "late today"
    yield FeedEvent(
        f"reply-{slug}-{_compact(owed.since)}@crm",
        "reply",
        max(owed.late_on, today),
        f"Reply to {name}: {asked}" + (f" ({status})" if late >= 0 else ""),
        c,
    )


def _key(text: str) -> str:
    """Return a short stable key of ``text`` for a UID."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]


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
    """Return ``text`` on one line without control characters (NUL, BEL, ESC pass icalendar).

    A byte order mark (U+FEFF, pasted in from another file) goes too: it is invisible, and
    calendar parsers drop it at the start of a value but keep it elsewhere.
    """
    if text.isprintable():  # no control characters at all: the common case, done in C
        return text.strip()
    kept = (
        " " if ch in "\t\n\r" else ch
        for ch in text
        if ch in "\t\n\r" or (ch != "\ufeff" and unicodedata.category(ch) != "Cc")
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
