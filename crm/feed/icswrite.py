"""VEVENTs written as plain text, byte for byte as icalendar 7 writes the events of the feed.

icalendar builds an object per property and per line; at 100,000 customers that is minutes.
This module writes the same lines with string operations: TEXT escaping, 75-octet folding
that never splits a UTF-8 sequence, and icalendar's property order. ``crm.feed.render`` keeps
the icalendar renderer as the reference the tests compare this against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from crm.core.localtime import on_the_clock

_LIMIT = 75  # icalendar folds when a line would reach 75 octets, so lines carry at most 74
_FOLD = "\r\n "
FOLLOWUP_LENGTH = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Style:
    """What every event of one feed shares: the stamp, the time zone's form and the options."""

    stamp: date
    tz_param: str = ""  # ";TZID=Europe/Berlin", or "" for UTC
    tz_suffix: str = "Z"  # "Z" for UTC, else ""
    alarms: bool = False
    zone: str = "UTC"  # the time zone of timed events (``[vault] timezone``)


def escape(text: str) -> str:
    r"""Return ``text`` as an iCalendar TEXT value (``\N`` and line ends become ``\n``)."""
    if text.startswith("\ufeff"):
        text = text[1:]  # icalendar reads a value as UTF-8-SIG, which drops one leading BOM
    if not ("\\" in text or ";" in text or "," in text or "\n" in text or "\r" in text):
        return text  # the common case: five scans in C instead of seven copies
    # The order is icalendar's, so that odd input such as a literal "\N" comes out the same.
    return (
        text.replace("\\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Return one content line folded at 75 octets (CRLF + space), without the final CRLF."""
    if len(line) < _LIMIT // 4 + 1 or (line.isascii() and len(line) < _LIMIT):
        return line
    if len(line.encode("utf-8")) < _LIMIT:
        return line
    parts: list[str] = []
    current: list[str] = []
    count = 0
    for ch in line:
        code = ord(ch)
        size = 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        if current and count + size >= _LIMIT:
            # icalendar keeps a trailing "\" or "^" with the next character (issue #1501).
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                parts.append("".join(current))
                current = [carried]
                count = 1
            else:
                parts.append("".join(current))
                current = []
                count = 0
        current.append(ch)
        count += size
    if current:
        parts.append("".join(current))
    return _FOLD.join(parts)


def text_line(name: str, value: str) -> str:
    """Return ``NAME:value`` with ``value`` escaped as TEXT, folded, with its CRLF."""
    return fold(f"{name}:{escape(value)}") + "\r\n"


@lru_cache(maxsize=4096)
def _all_day(day: date, last: date | None = None) -> str:
    """Return the DTSTART and DTEND lines of an all-day event (a feed has a few hundred days);
    with ``last``, of one that lasts through that day (never less than the one day)."""
    end = max(last or day, day) + timedelta(days=1)
    return f"DTSTART;VALUE=DATE:{_ymd(day)}\r\nDTEND;VALUE=DATE:{_ymd(end)}\r\n"


@lru_cache(maxsize=64)
def _categories(category: str) -> str:
    return text_line("CATEGORIES", category)


def _ymd(d: date) -> str:
    return f"{d.year:04}{d.month:02}{d.day:02}"


def stamp_line(style: Style) -> str:
    """Return the DTSTAMP line shared by every event: the feed's day at 00:00 UTC."""
    return f"DTSTAMP:{_ymd(style.stamp)}T000000Z\r\n"


def vevent(
    style: Style,
    *,
    uid: str,
    summary: str,
    category: str,
    day: date,
    at: time | None = None,
    description: str = "",
    stamp: str | None = None,
    last: date | None = None,
) -> str:
    """Return one VEVENT (with its VALARM when ``style.alarms``) as CRLF-terminated text.

    An all-day event lasts through ``last`` when given (a closure), else one day. No event
    ends before it starts: this is the one place that writes DTSTART and DTEND.
    """
    if at is None:
        when = _all_day(day, last)
        transp = "TRANSP:TRANSPARENT\r\n"
        trigger = "TRIGGER:PT9H\r\n"  # all-day: 09:00 on the day
    else:
        begin, end = timed_span(day, at, style.zone)
        when = (
            fold(f"DTSTART{style.tz_param}:{_stamp(begin)}{style.tz_suffix}")
            + "\r\n"
            + fold(f"DTEND{style.tz_param}:{_stamp(end)}{style.tz_suffix}")
            + "\r\n"
        )
        transp = ""
        trigger = "TRIGGER:-PT15M\r\n"  # timed: a quarter of an hour before
    alarm = (
        f"BEGIN:VALARM\r\nACTION:DISPLAY\r\n{text_line('DESCRIPTION', summary)}"
        f"{trigger}END:VALARM\r\n"
        if style.alarms
        else ""
    )
    # One f-string, in icalendar's order: canonical properties, the rest A-Z, then the alarm.
    return (
        f"BEGIN:VEVENT\r\n{text_line('SUMMARY', summary)}{when}"
        f"{stamp if stamp is not None else stamp_line(style)}{text_line('UID', uid)}"
        f"{_categories(category)}{text_line('DESCRIPTION', description) if description else ''}"
        f"{transp}{alarm}END:VEVENT\r\n"
    )


def timed_span(day: date, at: time, zone: str) -> tuple[datetime, datetime]:
    """Return when a timed event starts and ends on the clock of ``zone`` (naive), the end
    always after the start.

    A time the clocks skip at a daylight-saving change is written as the time it stands for
    (02:30 becomes 03:30), else a client would end the event before it starts. The end is
    30 minutes later on the clock (as on an aware datetime), moved the same way when it falls
    in the gap; a repeated time is the first of the two, as clients read it.
    """
    begin = on_the_clock(datetime.combine(day, at), zone)
    return begin, on_the_clock(begin + FOLLOWUP_LENGTH, zone)


def _stamp(dt: datetime) -> str:
    return f"{dt.year:04}{dt.month:02}{dt.day:02}T{dt.hour:02}{dt.minute:02}{dt.second:02}"
