"""When the business is closed (``[[closures]]`` in ``crm.toml``): nobody is due on a closed day.

A closure is a run of days, both ends included. A reach-out that falls inside one moves to the
first open day after it (``open_day``), so the agenda never asks for a call the business
cannot make; the customers who would have been due are the ones to tell beforehand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from crm.core.dates import parse_date
from crm.core.tables import each_table

NOTICE_TEMPLATE = "closure"
NOTICE_DAYS = 21
MAX_NOTICE_DAYS = 366
KEYS = ("from", "to", "reason", "notice", "notice_days")


@dataclass(frozen=True, slots=True)
class Closure:
    """Days the business is closed, and how to tell its customers."""

    start: date  # ``from`` in crm.toml
    end: date  # ``to``, included
    reason: str = ""
    notice: str = NOTICE_TEMPLATE  # the message template that tells customers
    notice_days: int = NOTICE_DAYS  # how many days before ``start`` to tell them
    number: int = field(default=0, compare=False)  # its place among [[closures]] in crm.toml

    @property
    def notice_day(self) -> date:
        """Return the day to tell customers: ``notice_days`` before the closure."""
        return self.start - timedelta(days=self.notice_days)

    def __str__(self) -> str:
        days = f"{self.start} to {self.end}" if self.end != self.start else str(self.start)
        return f"{days} ({self.reason})" if self.reason else days


def closure_on(day: date, closures: Sequence[Closure]) -> Closure | None:
    """Return the closure ``day`` falls in, else None."""
    for c in closures:
        if c.start <= day <= c.end:
            return c
    return None


def open_day(day: date, closures: Sequence[Closure]) -> date:
    """Return ``day`` itself when the business is open, else the first open day after it."""
    while (c := closure_on(day, closures)) is not None:
        day = c.end + timedelta(days=1)
    return day


def reopens(closure: Closure, closures: Sequence[Closure]) -> date:
    """Return the first open day after ``closure`` (another closure right after it counts too)."""
    return open_day(closure.end + timedelta(days=1), closures)


def last_open_before(closure: Closure, closures: Sequence[Closure]) -> date:
    """Return the last open day before ``closure``."""
    day = closure.start - timedelta(days=1)
    while (c := closure_on(day, closures)) is not None:
        day = c.start - timedelta(days=1)
    return day


def moved(day: date, closures: Sequence[Closure]) -> date:
    """Return the day a reach-out (or a planned follow-up) on ``day`` is asked for: ``day``
    itself, or for a day inside a closure the first open day after it. Nobody is due on a
    closed day; one already late when a closure begins stays as late (see ``rhythm``)."""
    return open_day(day, closures) if closures else day


def run_of(closure: Closure, closures: Sequence[Closure]) -> tuple[date, date]:
    """Return the first and last closed day of the run ``closure`` is in (closures end to end
    are one run of closed days)."""
    return (
        last_open_before(closure, closures) + timedelta(days=1),
        reopens(closure, closures) - timedelta(days=1),
    )


def continues(closure: Closure, closures: Sequence[Closure]) -> bool:
    """Return True when ``closure`` starts the day after another ends: customers are told of
    the run once, by its first closure."""
    return closure_on(closure.start - timedelta(days=1), closures) is not None


def tells(closure: Closure, closures: Sequence[Closure]) -> bool:
    """Return True when customers are to be told of ``closure`` beforehand: ``notice_days``
    is not 0, and it starts a run of closed days."""
    return closure.notice_days > 0 and not continues(closure, closures)


def coming(closures: Sequence[Closure], today: date) -> list[Closure]:
    """Return the closures not over by ``today``, earliest first."""
    return sorted((c for c in closures if c.end >= today), key=lambda c: c.start)


def parse_closures(value: Any, bad: Callable[..., None]) -> tuple[Closure, ...]:
    """Return the ``[[closures]]`` of crm.toml; each problem names its table by number."""
    found = [
        replace(made, number=n)
        for n, made in each_table(value, "closures", KEYS, _closure, bad, "from and to")
    ]
    found.sort(key=lambda c: c.start)
    for before, after in zip(found, found[1:], strict=False):
        if after.start <= before.end:
            bad(
                f"closures[{after.number}].from: overlaps closures[{before.number}] "
                f"({before}); one closure per run of days",
                "warning",
            )
    return tuple(found)


def _closure(tab: dict[str, Any], where: str, bad: Callable[..., None]) -> Closure | None:
    ends = []
    for key in ("from", "to"):
        value = tab.get(key)
        if value is None:
            bad(f"{where}.{key}: missing (a date, 2026-12-24)")
            return None
        day = day_of(value)
        if day is None:
            bad(f"{where}.{key}: '{value}' is not a date (2026-12-24)")
            return None
        ends.append(day)
    start, end = ends
    if end < start:
        bad(f"{where}.to: {end} is before from ({start})")
        return None
    values: dict[str, Any] = {}
    for key in ("reason", "notice"):
        if key in tab:
            if isinstance(tab[key], str) and tab[key].strip():
                values[key] = tab[key].strip()
            else:
                bad(f"{where}.{key} must be text")
    if "notice_days" in tab:
        days = tab["notice_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_NOTICE_DAYS:
            bad(f"{where}.notice_days must be a whole number from 0 to {MAX_NOTICE_DAYS}")
        else:
            values["notice_days"] = days
    return Closure(start, end, **values)


def day_of(value: Any) -> date | None:
    """Return a TOML date (``2026-12-24``) or a quoted ISO date as a date, else None."""
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return parse_date(value.strip())
        except ValueError:
            return None
    return None
