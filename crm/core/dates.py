"""Date values from front matter, yearly occurrences and cadence arithmetic (no clock).

Parsers raise ``ValueError`` with a message fit to show a user; the loader turns
that into a located problem.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta
from typing import Literal

from crm.core.model import ContactCap, PartialDate, Span

Feb29Rule = Literal["feb28", "mar1"]

_PARTIAL = re.compile(r"^(?:(\d{4})-|--)?(\d{2})-(\d{2})$")
_SPAN = re.compile(r"^(\d+)\s*([dwmy])$")
_TYPED_SPAN = re.compile(r"^(\d+)\s*([a-z]+)$")
# Units a person types on a command line ("2 weeks"); files keep the short 2w.
_SPAN_WORDS: dict[str, Literal["d", "w", "m", "y"]] = {
    "d": "d", "day": "d", "days": "d",
    "w": "w", "wk": "w", "wks": "w", "week": "w", "weeks": "w",
    "m": "m", "mo": "m", "month": "m", "months": "m",
    "y": "y", "yr": "y", "yrs": "y", "year": "y", "years": "y",
}  # fmt: skip
# Dates outside these years are typos (9999-12-31 for "forever"); they would also overflow
# date arithmetic. Spans are capped at a century for the same reason.
MIN_YEAR, MAX_YEAR = 1000, 2999
_MAX_DAYS = {"d": 36_500, "w": 5_200, "m": 1_200, "y": 100}
_NAMED_SPANS = {
    "daily": Span(1, "d"),
    "weekly": Span(1, "w"),
    "biweekly": Span(2, "w"),
    "monthly": Span(1, "m"),
    "quarterly": Span(3, "m"),
    "yearly": Span(1, "y"),
    "annually": Span(1, "y"),
}


def parse_date(text: str) -> date:
    """Return the date written as ``YYYY-MM-DD``."""
    text = text.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f"'{text}' is not a date (expected YYYY-MM-DD)")
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a real date ({exc})") from None
    _check_year(text, day.year)
    return day


def _check_year(text: str, year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"'{text}' is out of range (years {MIN_YEAR} to {MAX_YEAR})")


def parse_partial_date(text: str, order: DateOrder | None = None) -> PartialDate:
    """Return a date whose year may be unknown: ``YYYY-MM-DD``, ``--MM-DD`` or ``MM-DD``, or
    written as a person writes it (``3 March 1980``, ``Mar 3, 1980``, ``3.3.1980``, ``14 March``;
    slash dates by ``order``, as in the log).
    """
    text = text.strip()
    m = _PARTIAL.match(text)
    if not m:
        return _written_partial(text, order)
    year = int(m[1]) if m[1] else None
    if year is not None:
        _check_year(text, year)
    month, day = int(m[2]), int(m[3])
    # Year-less dates are checked against a leap year so that --02-29 is allowed.
    try:
        date(year or 2000, month, day)
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a real date ({exc})") from None
    return PartialDate(month, day, year)


def _written_partial(text: str, order: DateOrder | None) -> PartialDate:
    """Return a front matter date written in words or with dots (the log's forms, or no year)."""
    for form in _YEARLESS:
        if m := form.fullmatch(text):
            leap = _built({**m.groupdict(), "y": "2000"}, text, None, yearless=True)
            return PartialDate(leap.month, leap.day)
    if any(form.fullmatch(text) for form in _WRITTEN):
        day = parse_written_date(
            text, order
        )  # raises the part that is wrong (day 30 in '30 Feb 1980')
        return PartialDate(day.month, day.day, day.year)
    raise ValueError(f"'{text}' is not a date (expected YYYY-MM-DD, --MM-DD or MM-DD)")


def parse_datetime(text: str) -> date | datetime:
    """Return ``YYYY-MM-DD`` as a date, or ``YYYY-MM-DD HH:MM`` (or ``T``) as a naive datetime."""
    text = text.strip()
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}:\d{2}))?", text)
    if not m:
        raise ValueError(f"'{text}' is not a date (expected YYYY-MM-DD or YYYY-MM-DD HH:MM)")
    day = parse_date(m[1])
    if m[2] is None:
        return day
    return datetime.combine(day, parse_time(m[2]))


def parse_time(text: str) -> time:
    """Return ``HH:MM`` as a time."""
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ValueError(f"'{text}' is not a time (expected HH:MM)")
    return time(int(m[1]), int(m[2]))


def parse_span(text: str) -> Span:
    """Return a cadence such as ``14d``, ``2w``, ``3m``, ``1y`` or ``monthly`` as a span."""
    key = text.strip().lower()
    if key in _NAMED_SPANS:
        return _NAMED_SPANS[key]
    m = _SPAN.match(key)
    if not m or int(m[1]) == 0:
        raise ValueError(
            f"'{text}' is not a cadence (expected e.g. 14d, 2w, 3m, 1y, weekly, monthly, "
            "quarterly or yearly)"
        )
    unit = _SPAN_WORDS[m[2]]
    if int(m[1]) > _MAX_DAYS[unit]:
        raise ValueError(f"'{text}' is too long (at most 100 years)")
    return Span(int(m[1]), unit)


TYPED_SPANS = "14d, 2w, 3m, 1y, 10 days, 2 weeks, 3 months, 1 year, weekly or monthly"


def parse_typed_span(text: str) -> Span:
    """Return a span typed on a command line: a cadence, or ``10 days``, ``2 weeks``, ``3 months``."""
    m = _TYPED_SPAN.match(text.strip().lower())
    short = f"{m[1]}{_SPAN_WORDS[m[2]]}" if m and m[2] in _SPAN_WORDS else text
    try:
        return parse_span(short)
    except ValueError as exc:
        if "too long" in str(exc):
            raise ValueError(f"'{text.strip()}' is too long (at most 100 years)") from None
        raise ValueError(f"'{text.strip()}' is not a span (expected {TYPED_SPANS})") from None


def parse_cap(text: str) -> ContactCap:
    """Return ``N/period`` (e.g. ``4/30d``) as a contact cap."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\S+)\s*", text)
    if not m:
        raise ValueError(f"'{text}' is not a contact limit (expected N/period, e.g. 4/30d)")
    return ContactCap(int(m[1]), parse_span(m[2]))


def add_span(day: date, span: Span, times: int = 1) -> date:
    """Return ``day`` moved by ``span`` (negative ``times`` goes back); months clamp to month end."""
    n = span.amount * times
    if span.unit == "d":
        return day + timedelta(days=n)
    if span.unit == "w":
        return day + timedelta(weeks=n)
    months = n if span.unit == "m" else 12 * n
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def occurrence_in(pd: PartialDate, year: int, feb29: Feb29Rule = "feb28") -> date:
    """Return the day ``pd`` is observed in ``year`` (Feb 29 moves in common years)."""
    if pd.month == 2 and pd.day == 29 and not calendar.isleap(year):
        return date(year, 3, 1) if feb29 == "mar1" else date(year, 2, 28)
    return date(year, pd.month, pd.day)


def next_occurrence(pd: PartialDate, today: date, feb29: Feb29Rule = "feb28") -> date:
    """Return the first day on or after ``today`` on which the yearly date ``pd`` is observed."""
    day = occurrence_in(pd, today.year, feb29)
    if day < today:
        day = occurrence_in(pd, today.year + 1, feb29)
    return day


def years_since(pd: PartialDate, on: date) -> int | None:
    """Return how many years ``pd`` is old on its occurrence ``on`` (None when the year is unknown)."""
    return None if pd.year is None else on.year - pd.year


def parse_range(text: str) -> tuple[date, date]:
    """Return the inclusive days of ``FROM..TO`` (also ``FROM/TO`` or ``FROM TO``)."""
    parts = re.split(r"\s*(?:/|\.\.)\s*|\s+", text.strip())
    if len(parts) != 2:
        raise ValueError(f"'{text.strip()}' is not a range (expected FROM..TO)")
    start, end = (parse_date(p) for p in parts)
    if end < start:
        raise ValueError(f"'to' ({end}) is before 'from' ({start})")
    return start, end


# Dates as people write them: a small table of fixed forms, never a guess. Each form is a
# pattern over the groups y (year), m (month number), mon (month name), d (day) and, for the
# ambiguous slash form, a and b.
DateOrder = Literal["DMY", "MDY"]
Direction = Literal["past", "future"]
DATE_ORDERS: tuple[DateOrder, ...] = ("DMY", "MDY")
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = {
    **{name.lower(): n for n, name in enumerate(MONTH_NAMES, start=1)},
    **{name[:3].lower(): n for n, name in enumerate(MONTH_NAMES, start=1)},
    "sept": 9,
}
_WEEKDAYS = {
    **{name: n for n, name in enumerate(WEEKDAY_NAMES)},
    **{name[:3]: n for n, name in enumerate(WEEKDAY_NAMES)},
    **{"tues": 1, "wed": 2, "thur": 3, "thurs": 3},
}
_NTH = r"(?:st|nd|rd|th)?"
_MON = r"(?P<mon>[A-Za-z]{3,9})\.?"
DATE_FORMS: tuple[tuple[str, str], ...] = (
    ("2026-11-02", r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    ("2 Nov 2026", rf"(?P<d>\d{{1,2}}){_NTH}[ \t]+{_MON},?[ \t]+(?P<y>\d{{4}})"),
    ("Nov 2, 2026", rf"{_MON}[ \t]+(?P<d>\d{{1,2}}){_NTH},?[ \t]+(?P<y>\d{{4}})"),
    ("21.11.2026", r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})"),
    ("03/04/2026", r"(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})"),
)
# The forms above without a year, for the command line: the year follows from today.
_YEARLESS_FORMS = (
    rf"(?P<d>\d{{1,2}}){_NTH}[ \t]+{_MON}",
    rf"{_MON}[ \t]+(?P<d>\d{{1,2}}){_NTH}",
)
# Any written date, as one pattern without groups, for a larger pattern (a log line) to embed.
WRITTEN_DATE = "(?:" + "|".join(re.sub(r"\(\?P<\w+>", "(?:", p) for _, p in DATE_FORMS) + ")"
WRITTEN_FORMS = ", ".join(example for example, _ in DATE_FORMS)
_WRITTEN = tuple(re.compile(p, re.IGNORECASE) for _, p in DATE_FORMS)
_YEARLESS = tuple(re.compile(p, re.IGNORECASE) for p in _YEARLESS_FORMS)
DATE_ORDER_HINT = 'set date_order = "DMY" or "MDY" in crm.toml'


def parse_written_date(text: str, order: DateOrder | None = None) -> date:
    """Return the date written in one of ``DATE_FORMS``; slash dates are read by ``order``.

    The error names the part that is wrong (``month 13 in '2026-13-01'``).
    """
    text = text.strip()
    for form in _WRITTEN:
        if m := form.fullmatch(text):
            return _built(m.groupdict(), text, order)
    raise ValueError(f"'{text}' is not a date (expected e.g. {WRITTEN_FORMS})")


def _built(
    parts: dict[str, str | None], text: str, order: DateOrder | None, *, yearless: bool = False
) -> date:
    """Return the date of a matched form's parts, or raise the part that is wrong."""
    if parts.get("a") is not None:
        if order is None:
            raise ValueError(f"'{text}' could be day/month or month/day: {DATE_ORDER_HINT}")
        first, second = parts["a"], parts["b"]
        day_month = (first, second) if order == "DMY" else (second, first)
        parts = {"y": parts["y"], "d": day_month[0], "m": day_month[1]}
    year = int(parts["y"] or 0)
    if mon := parts.get("mon"):
        if mon.lower() not in _MONTHS:
            raise ValueError(f"unknown month '{mon}' in '{text}'")
        month = _MONTHS[mon.lower()]
    else:
        month = int(parts["m"] or 0)
    day = int(parts["d"] or 0)
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} in '{text}'")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} in '{text}' (years {MIN_YEAR} to {MAX_YEAR})")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        month_name = MONTH_NAMES[month - 1] + ("" if yearless else f" {year}")
        raise ValueError(f"day {day} in '{text}' ({month_name} has {last} days)")
    return date(year, month, day)


TYPED_FORMS = (
    "YYYY-MM-DD, today, yesterday, tomorrow, a weekday (friday, fri), "
    "20 Dec, Dec 20, 20 Dec 2026, Dec 20, 2026 or 20.12.2026"
)


def parse_day(
    text: str, *, today: date, direction: Direction, order: DateOrder | None = None
) -> date:
    """Return the day typed on a command line, relative to ``today`` where it names no year.

    A weekday, or a day and month without a year, is the next such day (on or after today;
    for a weekday, after it) when ``direction`` is "future", the last one when it is "past".
    """
    key = text.strip().lower()
    relative = {"today": 0, "yesterday": -1, "tomorrow": 1}
    if key in relative:
        return today + timedelta(days=relative[key])
    step = 1 if direction == "future" else -1
    if key in _WEEKDAYS:
        ahead = (_WEEKDAYS[key] - today.weekday()) * step % 7 or 7
        return today + timedelta(days=ahead * step)
    try:
        for form in _YEARLESS:
            if m := form.fullmatch(text.strip()):
                return _yearless(m.groupdict(), text.strip(), today, step)
        return parse_written_date(text, order)
    except ValueError as exc:
        reason = str(exc)
        if reason.endswith(f"(expected e.g. {WRITTEN_FORMS})"):
            reason = f"'{text.strip()}' is not a date"
        raise ValueError(f"{reason} (expected {TYPED_FORMS})") from None


def _yearless(parts: dict[str, str | None], text: str, today: date, step: int) -> date:
    # Checked against a leap year, so that 29 Feb is a day; it falls on the next (or last) one.
    leap = _built({**parts, "y": "2000"}, text, None, yearless=True)
    year = today.year
    while True:
        if calendar.isleap(year) or (leap.month, leap.day) != (2, 29):
            day = date(year, leap.month, leap.day)
            if (day - today).days * step >= 0:
                return day
        year += step
