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


def parse_partial_date(text: str) -> PartialDate:
    """Return ``YYYY-MM-DD``, ``--MM-DD`` or ``MM-DD`` as a date whose year may be unknown."""
    text = text.strip()
    m = _PARTIAL.match(text)
    if not m:
        raise ValueError(f"'{text}' is not a date (expected YYYY-MM-DD, --MM-DD or MM-DD)")
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
    unit: Literal["d", "w", "m", "y"] = m[2]  # type: ignore[assignment]  # the regex allows no other
    if int(m[1]) > _MAX_DAYS[unit]:
        raise ValueError(f"'{text}' is too long (at most 100 years)")
    return Span(int(m[1]), unit)


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
