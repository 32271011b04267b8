"""Domain objects: frozen dataclasses that remember where they came from (no I/O)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]
Status = Literal["lead", "active", "paused", "lost"]
STATUSES: tuple[Status, ...] = ("lead", "active", "paused", "lost")
DateKind = Literal["birthday", "anniversary", "date", "relative"]


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

    def seen_from(self, base: Path) -> Problem:
        """Return the problem with its path relative to ``base`` when the file is inside it."""
        path = self.location.path
        if path.is_absolute():
            # Resolve the folder only: the file itself may be a symlink to somewhere else.
            with contextlib.suppress(ValueError):
                path = (path.parent.resolve() / path.name).relative_to(base)
        return replace(self, location=replace(self.location, path=path))


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


ADDRESS_PARTS = ("street", "city", "region", "postcode", "country")
# Where the city line reads "City, Region Postcode" (else "Postcode City", as in most of
# Europe) and where the postcode has a line of its own.
_CITY_FIRST = frozenset({"us", "usa", "united states", "ca", "canada", "au", "australia"})
_POSTCODE_LAST = frozenset({"uk", "gb", "united kingdom", "great britain", "england"})


@dataclass(frozen=True, slots=True)
class Address:
    """Where a customer lives: free text (one or several lines), or named parts.

    ``text`` is the written form when the file has text; otherwise the parts hold what the
    file's mapping says, and ``extra`` its other keys (kept, shown, exported as JSON).
    """

    text: str | None = None
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postcode: str | None = None
    country: str | None = None
    extra: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_parts(
        cls, parts: Mapping[str, str], extra: tuple[tuple[str, str], ...] = ()
    ) -> Address:
        """Return the address of named parts (keys of ``ADDRESS_PARTS``; others are ignored)."""
        street, city, region, postcode, country = (parts.get(p) for p in ADDRESS_PARTS)
        return cls(None, street, city, region, postcode, country, extra)

    @property
    def structured(self) -> bool:
        """Return True when the address is a mapping of parts rather than text."""
        return self.text is None

    def parts(self) -> tuple[tuple[str, str], ...]:
        """Return the parts that are set, in ``ADDRESS_PARTS`` order."""
        found = ((p, getattr(self, p)) for p in ADDRESS_PARTS)
        return tuple((p, v) for p, v in found if v)

    def lines(self) -> tuple[str, ...]:
        """Return the address as it is written on an envelope, one line per item."""
        if self.text is not None:
            return tuple(line.strip() for line in self.text.splitlines() if line.strip())
        street = tuple(line.strip() for line in (self.street or "").splitlines() if line.strip())
        country = (self.country or "").strip().casefold()
        city, region, code = self.city or "", self.region or "", self.postcode or ""
        if country in _CITY_FIRST:
            town = ", ".join(p for p in (city, " ".join(p for p in (region, code) if p)) if p)
            rest: tuple[str, ...] = (town,)
        elif country in _POSTCODE_LAST:
            rest = (city, region, code)
        else:
            rest = (" ".join(p for p in (code, city) if p), region)
        return tuple(p for p in (*street, *rest, self.country or "") if p)

    def __str__(self) -> str:
        return ", ".join(self.lines())


@dataclass(frozen=True, slots=True)
class Relative:
    """A member of the customer's family or a friend: ``family: [{name, relation, birthday}]``."""

    name: str
    relation: str | None
    birthday: PartialDate | None
    location: Location

    @property
    def label(self) -> str:
        """Return how the customer's relative is named: 'daughter Lucía', or just 'Lucía'."""
        return f"{self.relation} {self.name}" if self.relation else self.name


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
    # False for an unchecked task (``- [ ]``): planned, it has not happened. Whether an entry
    # that happened is contact is its kind's class (``crm.rules.rhythm.is_contact``, ``[kinds]``).
    done: bool
    location: Location


@dataclass(frozen=True, slots=True)
class ContactPerson:
    """The person a message to an organisation greets: ``contact: {name, first_name}``."""

    name: str | None = None
    first_name: str | None = None

    @property
    def hello(self) -> str | None:
        """Return the name to greet them with: their first name, else their name as written."""
        return self.first_name or self.name

    def __str__(self) -> str:
        if self.name and self.first_name and self.first_name not in self.name:
            return f"{self.name} ({self.first_name})"
        return self.name or self.first_name or ""


# What ``opt_out`` holds when the customer wants no outreach of any kind.
OPT_OUT_ALL = "all"
EntityKind = Literal["person", "org"]


@dataclass(frozen=True, slots=True)
class Customer:
    """One customer file, with every field turned into its real type."""

    id: str
    name: str
    location: Location
    first_name: str | None = None
    last_name: str | None = None
    nickname: str | None = None
    salutation: str | None = None
    language: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    company: str | None = None
    address: Address | None = None
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
    family: tuple[Relative, ...] = ()
    prefer: str | None = None  # the channel to write on (``crm.core.fields.CHANNELS``)
    # "all" (``OPT_OUT_ALL``), or the topics, template kinds or channels they want nothing of
    opt_out: tuple[str, ...] = ()
    kind: EntityKind | None = None  # ``kind: org`` in the file: an organisation, not a person
    contact: ContactPerson | None = None  # an organisation's contact person
    log: tuple[Interaction, ...] = ()
    extra: tuple[tuple[str, str], ...] = field(default=())
    body: str = ""

    @property
    def hello(self) -> str | None:
        """Return the name to greet with: ``salutation``, else ``nickname``, else ``first_name``;
        for an organisation, ``salutation``, else its contact person's name (never the
        organisation's own name: see ``is_org``)."""
        if self.is_org:
            return self.salutation or (self.contact.hello if self.contact else None)
        return self.salutation or self.nickname or self.first_name

    @property
    def is_org(self) -> bool:
        """Return True for an organisation: ``kind: org``, or (no ``kind``) a customer named as
        their company with no first or last name. No person's name is invented for one."""
        if self.kind is not None:
            return self.kind == "org"
        return (
            self.company is not None
            and self.first_name is None
            and self.last_name is None
            and self.company.casefold() == self.name.casefold()
        )

    @property
    def no_contact(self) -> bool:
        """Return True when the customer opted out of every kind of outreach."""
        return OPT_OUT_ALL in self.opt_out

    def important_dates(self) -> tuple[ImportantDate, ...]:
        """Return the customer's dates and the birthdays of their family, in file order."""
        if not self.family:
            return self.dates
        born = (
            ImportantDate("relative", r.label, r.birthday, True, r.location)
            for r in self.family
            if r.birthday is not None
        )
        return (*self.dates, *born)
