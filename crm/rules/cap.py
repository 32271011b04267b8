"""The contact cap (``max_contacts``): whom to give a rest; pure functions of customers, config
and today."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from crm.core.config import Config
from crm.core.dates import add_span
from crm.core.model import ContactCap, Customer, Interaction, Span

_MOST_DAYS = {"d": 1, "w": 7, "m": 31, "y": 366}


@dataclass(frozen=True, slots=True)
class Noisy:
    """A customer contacted more often than their cap allows."""

    customer: Customer
    count: int
    cap: ContactCap
    since: date
    entries: tuple[Interaction, ...]


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


def over_cap(days: Sequence[int], cap: ContactCap, today: date) -> bool:
    """Return True when more of the sorted outreach ``days`` (ordinals) than the cap allows fall
    inside its trailing period up to ``today``: what ``too_much_contact`` finds, from the days."""
    since = add_span(today, cap.period, -1).toordinal()
    inside = bisect.bisect_right(days, today.toordinal()) - bisect.bisect_right(days, since)
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


def noisy_until(
    customer: Customer, config: Config, days: Sequence[date] | None = None
) -> date | None:
    """Return the last day on which ``too_much_contact`` can find an overload (None: never).

    Today-independent, so the index can store it: some cap period held more outreach than the
    cap, and the last outreach entry is still inside the period on that day. ``days``: the
    ``outreach_days``, when the caller has them.
    """
    cap = cap_of(customer, config)
    if cap is None:
        return None
    days = outreach_days(customer, config) if days is None else days
    if not days or busiest(days, cap.period) <= cap.count:
        return None
    return days[-1] + timedelta(days=at_most_days(cap.period))
