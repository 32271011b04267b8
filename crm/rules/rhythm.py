"""Whom to contact and whom to leave alone: pure functions of customers, config and today."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from crm.core.closures import closure_on, moved, reopens
from crm.core.config import Config
from crm.core.dates import add_span, next_occurrence, years_since
from crm.core.kinds import Kinds
from crm.core.model import ContactCap, Customer, Interaction, PartialDate, Span

INACTIVE = ("lost", "paused")
_MOST_DAYS = {"d": 1, "w": 7, "m": 31, "y": 366}
State = Literal[
    "overdue", "never", "due", "ok", "snoozed", "away", "closed", "inactive", "untracked"
]
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
class Upcoming:
    """One dated thing coming up for a customer."""

    day: date
    customer: Customer
    kind: UpcomingKind
    label: str
    age: int | None = None
    at: time | None = None


@dataclass(frozen=True, slots=True)
class Noisy:
    """A customer contacted more often than their cap allows."""

    customer: Customer
    count: int
    cap: ContactCap
    since: date
    entries: tuple[Interaction, ...]


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
    """Return False for lost and paused customers: they are never contacted, not even thanked."""
    return customer.status not in INACTIVE


def tracked(customer: Customer, config: Config) -> bool:
    """Return True when the customer is active and has a cadence, so that they fall due."""
    return is_active(customer) and cadence_for(customer, config) is not None


def contact_state(customer: Customer, config: Config, today: date) -> ContactState:
    """Return whether the customer is overdue, due, fine, or must be left alone on ``today``."""
    r = rhythm(customer, config, today)

    def result(state: State, due: date | None) -> ContactState:
        late = (today - due).days if due is not None and due < today else None
        return ContactState(customer, state, r.cadence, r.last, due, late)

    if not is_active(customer):
        return result("inactive", r.due)
    if r.cadence is None:
        return result("untracked", None)
    due = r.due
    closures = config.closures
    away = customer.away
    if away is not None:
        back = away.end + timedelta(days=1)
        # A due date inside the period, or one missed before a period that has begun, restarts
        # on the day they are back: the reminder then says "they are back", not "47 days late".
        if due is not None and due <= away.end and (away.start <= due or away.start <= today):
            due = back
        if away.start <= today <= away.end:
            return result("away", moved(due or back, closures))
    snooze = customer.snooze_until
    if snooze is not None and due is not None and due < snooze:
        due = snooze  # "remind me on that day": lateness counts from the end of the snooze
    if snooze is not None and snooze > today:
        return result("snoozed", moved(due or snooze, closures))
    # A reach-out that falls inside a closure moves to the first open day after it.
    due = None if due is None else moved(due, closures)
    closed = closure_on(today, closures)
    if closed is not None and (due is None or due <= today):
        # While the business is closed nobody is due, not even a first contact; whoever was
        # late already is late again, as late, the day it opens.
        return result("closed", reopens(closed, closures))
    if due is None:
        return result("never", None)
    if due < today:
        return result("overdue", due)
    return result("due" if due == today else "ok", due)


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
    flagged.sort(key=lambda s: (s.due is not None, s.due or today, s.customer.name.casefold()))
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


def outreach(customer: Customer, config: Config) -> Iterator[Interaction]:
    """Return the log entries that count toward ``max_contacts`` (contact and broadcast kinds)."""
    kinds = config.kinds
    return (i for i in customer.log if i.done and kinds.counts(i.kind))


def cap_of(customer: Customer, config: Config) -> ContactCap | None:
    """Return the customer's contact cap: their own ``max_contacts``, else the default."""
    return customer.max_contacts or config.default_max_contacts


def outreach_days(customer: Customer, config: Config) -> list[date]:
    """Return the days of the outreach entries, sorted: today-independent, the index stores them."""
    return sorted(i.day for i in outreach(customer, config))


def in_cap_period(
    customer: Customer, config: Config, today: date
) -> tuple[ContactCap, date, tuple[Interaction, ...]] | None:
    """Return the customer's cap, the first day of its trailing period up to ``today``, and the
    outreach entries inside it by day; None when no cap applies."""
    cap = cap_of(customer, config)
    if cap is None:
        return None
    since = add_span(today, cap.period, -1)
    inside = (i for i in outreach(customer, config) if since < i.day <= today)
    return cap, since + timedelta(days=1), tuple(sorted(inside, key=lambda i: i.day))


def over_cap(days: Sequence[date], cap: ContactCap, today: date) -> bool:
    """Return True when more of the sorted outreach ``days`` than the cap allows fall inside its
    trailing period up to ``today``: what ``too_much_contact`` finds, from the days alone."""
    since = add_span(today, cap.period, -1)
    inside = bisect.bisect_right(days, today) - bisect.bisect_right(days, since)
    return inside > cap.count


def too_much_contact(customer: Customer, config: Config, today: date) -> Noisy | None:
    """Return the overload when outreach in the trailing period exceeds the cap, else None."""
    window = in_cap_period(customer, config, today)
    if window is None or len(window[2]) <= window[0].count:
        return None
    cap, first, entries = window
    return Noisy(customer, len(entries), cap, first, entries)


def noisy(customers: Iterable[Customer], config: Config, today: date) -> list[Noisy]:
    """Return every customer contacted more than their cap allows, worst first."""
    found = [
        n for c in customers if c.status != "lost" and (n := too_much_contact(c, config, today))
    ]
    found.sort(key=lambda n: (-(n.count - n.cap.count), n.customer.name.casefold()))
    return found


def busiest(days: Sequence[date], period: Span) -> int:
    """Return the most of the sorted ``days`` inside any one window ``(day - period, day]``."""
    peak = 0
    for n, day in enumerate(days):
        # The count for any day peaks on a day with an entry; ties on that day all count.
        last = bisect.bisect_right(days, day) - 1
        if last != n:
            continue
        first = bisect.bisect_right(days, add_span(day, period, -1))
        peak = max(peak, last - first + 1)
    return peak


def at_most_days(span: Span) -> int:
    """Return the most days ``span`` can last (a month 31, a year 366)."""
    return span.amount * _MOST_DAYS[span.unit]


def noisy_until(customer: Customer, config: Config) -> date | None:
    """Return the last day on which ``too_much_contact`` can find an overload (None: never).

    Today-independent, so the index can store it: some cap period held more outreach than the
    cap, and the last outreach entry is still inside the period on that day.
    """
    cap = cap_of(customer, config)
    if cap is None:
        return None
    days = outreach_days(customer, config)
    if not days or busiest(days, cap.period) <= cap.count:
        return None
    return days[-1] + timedelta(days=at_most_days(cap.period))
