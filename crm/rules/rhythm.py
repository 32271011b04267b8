"""Whom to contact and whom to leave alone: pure functions of customers, config and today."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Generic, Literal, TypeVar

from crm.core.closures import Closure, closure_on, moved, reopens
from crm.core.config import Config
from crm.core.dates import add_span, next_occurrence, years_since
from crm.core.kinds import Kinds
from crm.core.model import Away, Customer, Interaction, PartialDate, Span

T = TypeVar("T")
INACTIVE = ("lost", "paused")
State = Literal[
    "overdue", "never", "due", "ok", "snoozed", "away", "closed", "inactive", "no contact",
    "untracked",
]  # fmt: skip
CUSTOMER_SINCE = "Customer since"
UpcomingKind = Literal["birthday", "anniversary", "date", "relative", "followup", "due"]


@dataclass(frozen=True, slots=True)
class LastContact:
    """When the customer was last in touch, and the log entry that says so (if any)."""

    day: date
    entry: Interaction | None


@dataclass(frozen=True, slots=True)
class Rhythm:
    """The part of a customer's contact rhythm that does not depend on today."""

    cadence: Span | None
    last: LastContact | None
    due: date | None


@dataclass(frozen=True, slots=True)
class ContactState:
    """A customer's contact rhythm as seen on one day."""

    customer: Customer
    state: State
    cadence: Span | None
    last: LastContact | None
    due: date | None
    days_overdue: int | None

    @property
    def flagged(self) -> bool:
        """Return True when the customer should be contacted now."""
        return self.state in ("overdue", "never")


@dataclass(frozen=True, slots=True)
class Counted(Generic[T]):
    """The first rows of a list a digest shows, and how long the whole list is."""

    shown: list[T]
    total: int


def counted(items: Sequence[T], limit: int) -> Counted[T]:
    """Return the first ``limit`` of ``items`` (0: all) and how many there are."""
    return Counted(list(items[:limit] if limit else items), len(items))


@dataclass(frozen=True, slots=True)
class Upcoming:
    """One dated thing coming up for a customer."""

    day: date
    customer: Customer
    kind: UpcomingKind
    label: str
    age: int | None = None
    at: time | None = None


def is_contact(entry: Interaction, kinds: Kinds) -> bool:
    """Return True when the entry resets the contact rhythm: done, and of a contact kind."""
    return entry.done and kinds.resets(entry.kind)


def last_contact(customer: Customer, kinds: Kinds, today: date | None = None) -> LastContact | None:
    """Return the later of front matter ``last_contact`` and the newest contact entry.

    A date after ``today`` is a plan, not contact: it is left out (with no ``today``, nothing is).
    """
    newest = newest_contact(customer, kinds, today)
    fm = customer.last_contact
    if fm is not None and today is not None and fm > today:
        fm = None
    if newest is None:
        return None if fm is None else LastContact(fm, None)
    if fm is not None and fm > newest.day:
        return LastContact(fm, None)
    return LastContact(newest.day, newest)


def newest_contact(
    customer: Customer, kinds: Kinds, today: date | None = None
) -> Interaction | None:
    """Return the newest contact entry of the log on or before ``today`` (no ``today``: of all)."""
    return max(
        (i for i in customer.log if is_contact(i, kinds) and (today is None or i.day <= today)),
        key=lambda i: (i.day, i.time or time.min),
        default=None,
    )


def cadence_for(customer: Customer, config: Config) -> Span | None:
    """Return the customer's cadence: their own, else their first tag or segment's, else the default."""
    if customer.cadence is not None:
        return customer.cadence
    by_tag = dict(config.cadence_by_tag)
    for key in (*customer.tags, customer.segment):
        if key is not None and key in by_tag:
            return by_tag[key]
    return config.default_cadence


def planned_day(customer: Customer) -> date | None:
    """Return the day of the planned ``next_contact`` (its date when it has a time)."""
    nc = customer.next_contact
    return nc.date() if isinstance(nc, datetime) else nc


def planned_shown(customer: Customer, config: Config) -> date | None:
    """Return the day a planned follow-up is asked for: its own, or for one that falls inside a
    closure, the first open day after it."""
    planned = planned_day(customer)
    return None if planned is None else moved(planned, config.closures)


def rhythm(customer: Customer, config: Config, today: date | None = None) -> Rhythm:
    """Return cadence, last contact and due date as of ``today``.

    With no ``today``, every entry counts, however late: the rhythm from the newest contact
    day on, which the index stores.
    """
    cadence = cadence_for(customer, config)
    last = last_contact(customer, config.kinds, today)
    if cadence is None or last is None:
        return Rhythm(cadence, last, None)
    due = add_span(last.day, cadence)
    planned = planned_day(customer)
    if planned is not None and last.day < planned < due:
        due = planned
    return Rhythm(cadence, last, due)


def is_active(customer: Customer) -> bool:
    """Return False for lost and paused customers and for those who opted out of every kind of
    outreach (``opt_out: all``): they are never contacted, not even thanked."""
    return customer.status not in INACTIVE and not customer.no_contact


def tracked(customer: Customer, config: Config) -> bool:
    """Return True when the customer is active and has a cadence, so that they fall due."""
    return is_active(customer) and cadence_for(customer, config) is not None


def contact_state(customer: Customer, config: Config, today: date) -> ContactState:
    """Return whether the customer is overdue, due, fine, or must be left alone on ``today``."""
    r = rhythm(customer, config, today)

    def result(state: State, due: date | None) -> ContactState:
        late = (today - due).days if due is not None and due < today else None
        return ContactState(customer, state, r.cadence, r.last, due, late)

    if customer.status in INACTIVE:
        return result("inactive", r.due)
    if customer.no_contact:
        return result("no contact", r.due)
    if r.cadence is None:
        return result("untracked", None)
    return result(*decide(r.due, customer.away, customer.snooze_until, config.closures, today))


def decide(
    due: date | None,
    away: Away | None,
    snooze: date | None,
    closures: Sequence[Closure],
    today: date,
) -> tuple[State, date | None]:
    """Return the state and due day of an active customer with a cadence on ``today``, from
    plain values: the rhythm's due day, their away period, snooze and the closures.

    ``contact_state`` asks it for every customer; the index asks it with stored columns.
    """
    if away is not None:
        back = away.end + timedelta(days=1)
        # A due date inside the period, or one missed before a period that has begun, restarts
        # on the day they are back: the reminder then says "they are back", not "47 days late".
        if due is not None and due <= away.end and (away.start <= due or away.start <= today):
            due = back
        if away.start <= today <= away.end:
            return "away", moved(due or back, closures)
    if snooze is not None and due is not None and due < snooze:
        due = snooze  # "remind me on that day": lateness counts from the end of the snooze
    if snooze is not None and snooze > today:
        return "snoozed", moved(due or snooze, closures)
    # A reach-out that falls inside a closure moves to the first open day after it.
    due = None if due is None else moved(due, closures)
    closed = closure_on(today, closures)
    if closed is not None and (due is None or due <= today):
        # While the business is closed nobody is due, not even a first contact; whoever was
        # late already is late again, as late, the day it opens.
        return "closed", reopens(closed, closures)
    if due is None:
        return "never", None
    if due < today:
        return "overdue", due
    return ("due" if due == today else "ok"), due


def overdue_key(due: date | None, name: str, today: date) -> tuple[bool, date, str]:
    """Return where a flagged customer stands in "Contact now": never contacted first, then the
    most overdue, then by name (``name`` case-folded)."""
    return (due is not None, due or today, name)


def states(customers: Iterable[Customer], config: Config, today: date) -> list[ContactState]:
    """Return every customer's contact state on ``today``: reports that need several of the
    lists below compute them once and pass them on."""
    return [contact_state(c, config, today) for c in customers]


def overdue(
    customers: Iterable[Customer],
    config: Config,
    today: date,
    known: Sequence[ContactState] | None = None,
) -> list[ContactState]:
    """Return the customers to contact now, most overdue first (never contacted at the top).

    ``known``: the states of ``customers`` (``states``), when the caller has them already.
    """
    found = states(customers, config, today) if known is None else known
    flagged = [s for s in found if s.flagged]
    flagged.sort(key=lambda s: overdue_key(s.due, s.customer.name.casefold(), today))
    return flagged


def due_today(
    customers: Iterable[Customer],
    config: Config,
    today: date,
    known: Sequence[ContactState] | None = None,
) -> list[ContactState]:
    """Return the customers whose contact is due exactly on ``today`` (``known``: as ``overdue``)."""
    found = states(customers, config, today) if known is None else known
    return [s for s in found if s.state == "due"]


def upcoming(
    customers: Iterable[Customer],
    config: Config,
    today: date,
    days: int,
    known: Sequence[ContactState] | None = None,
) -> list[Upcoming]:
    """Return dates, follow-ups and due dates from ``today`` through ``days`` days ahead, by date.

    ``known``: the states of ``customers``, in their order, when the caller has them already.
    """
    end = today + timedelta(days=days)
    items: list[Upcoming] = []
    for n, c in enumerate(customers):
        if c.status == "lost":
            continue
        state = None if known is None else known[n]
        items.extend(i for i in _customer_dates(c, config, today, state) if i.day <= end)
    items.sort(key=lambda i: (i.day, i.at or time.min, i.customer.name.casefold(), i.kind))
    return items


def _customer_dates(
    c: Customer, config: Config, today: date, state: ContactState | None = None
) -> Iterator[Upcoming]:
    for d in c.important_dates():
        if d.yearly:
            first = today
            if d.date.year is not None:
                # A date still to come has no returns before it; a birthday or anniversary is
                # not one on the day itself (as in the feed), a `dates` entry shows that day.
                itself = date(d.date.year, d.date.month, d.date.day)
                if d.kind != "date":
                    itself += timedelta(days=1)
                first = max(today, itself)
            day = next_occurrence(d.date, first, config.feb29)
            kind: UpcomingKind = d.kind
            yield Upcoming(day, c, kind, d.label, years_since(d.date, day) or None)
        elif d.date.year is not None:
            day = date(d.date.year, d.date.month, d.date.day)
            if day >= today:
                yield Upcoming(day, c, "date", d.label)
    if c.customer_since is not None:
        since = c.customer_since
        day = next_occurrence(_partial(since), today, config.feb29)
        if day > since:
            yield Upcoming(day, c, "date", CUSTOMER_SINCE, day.year - since.year)
    planned = planned_shown(c, config)
    if planned is not None and planned >= today:
        at = c.next_contact.time() if isinstance(c.next_contact, datetime) else None
        label = (
            "Follow-up" if planned == planned_day(c) else f"Follow-up (planned {planned_day(c)})"
        )
        yield Upcoming(planned, c, "followup", label, at=at)
    state = state or contact_state(c, config, today)
    # Away and snoozed customers are due again on the day they are back: say so in advance.
    waiting = ("ok", "due", "away", "snoozed", "closed")
    if state.state in waiting and state.due is not None and state.due != planned:
        yield Upcoming(state.due, c, "due", "Reach out")


def _partial(day: date) -> PartialDate:
    return PartialDate(day.month, day.day, day.year)
