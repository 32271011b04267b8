"""Domain objects: frozen dataclasses that remember where they came from (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]
Status = Literal["lead", "active", "paused", "lost"]
STATUSES: tuple[Status, ...] = ("lead", "active", "paused", "lost")
DateKind = Literal["birthday", "anniversary", "date"]


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a vault file; ``line`` is 1-based, ``None`` for the whole file."""

    path: Path
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with the data, reported as ``path:line: message``."""

    location: Location
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.location}: {prefix}{self.message}"


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A calendar date whose year may be unknown (``--MM-DD``)."""

    month: int
    day: int
    year: int | None = None

    def isoformat(self) -> str:
        """Return ``YYYY-MM-DD``, or ``--MM-DD`` when the year is unknown."""
        if self.year is None:
            return f"--{self.month:02d}-{self.day:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def __str__(self) -> str:
        return self.isoformat()


@dataclass(frozen=True, slots=True)
class Span:
    """A length of time: ``amount`` days, weeks, calendar months or calendar years."""

    amount: int
    unit: Literal["d", "w", "m", "y"]

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True, slots=True)
class ContactCap:
    """At most ``count`` outreach entries inside any trailing ``period``."""

    count: int
    period: Span

    def __str__(self) -> str:
        return f"{self.count}/{self.period}"


@dataclass(frozen=True, slots=True)
class Away:
    """An inclusive range of days in which the customer must not be contacted."""

    start: date
    end: date


@dataclass(frozen=True, slots=True)
class ImportantDate:
    """A birthday, anniversary or other labelled date of a customer."""

    kind: DateKind
    label: str
    date: PartialDate
    yearly: bool
    location: Location


@dataclass(frozen=True, slots=True)
class Interaction:
    """One line of a customer's ``## Log`` section."""

    day: date
    time: time | None
    kind: str
    text: str
    # False for an unchecked task (``- [ ]``), which has not happened. Whether an entry that
    # happened is contact is its kind's class (``crm.rules.rhythm.is_contact``, ``[kinds]``).
    is_contact: bool
    location: Location


@dataclass(frozen=True, slots=True)
class Customer:
    """One customer file, with every field turned into its real type."""

    id: str
    name: str
    location: Location
    first_name: str | None = None
    last_name: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    company: str | None = None
    address: str | None = None
    tags: tuple[str, ...] = ()
    segment: str | None = None
    status: Status = "active"
    value: float | None = None
    likes: tuple[str, ...] = ()
    dislikes: tuple[str, ...] = ()
    dates: tuple[ImportantDate, ...] = ()
    customer_since: date | None = None
    cadence: Span | None = None
    last_contact: date | None = None
    next_contact: date | datetime | None = None
    snooze_until: date | None = None
    away: Away | None = None
    max_contacts: ContactCap | None = None
    log: tuple[Interaction, ...] = ()
    extra: tuple[tuple[str, str], ...] = field(default=())
    body: str = ""
