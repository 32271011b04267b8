"""Whom to thank and whom to win back: pure functions of customers, config and today.

A customer is *loyal* when, in the year up to today, they have at least
``min_visits`` log entries of a loyal kind (``visit``, ``purchase``), or when their
``value`` is at least ``min_value``. They were *thanked lately* when a ``thanks``,
``gift`` or ``card`` entry falls inside the trailing thanks period. A lost customer
is *worth winning back* when their ``value`` is at least ``winback_min_value``.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from crm.core.config import LoyaltyConfig
from crm.core.dates import add_span
from crm.core.kinds import Kinds
from crm.core.model import Customer, Span
from crm.rules.cap import at_most_days, busiest
from crm.rules.rhythm import INACTIVE, is_active, last_contact

LOYAL_KINDS = ("visit", "purchase")
THANKS_KINDS = ("thanks", "gift", "card")
YEAR = Span(1, "y")


@dataclass(frozen=True, slots=True)
class Loyal:
    """A loyal customer who has not been thanked inside the period."""

    customer: Customer
    visits: int
    last_visit: date | None
    last_thanked: date | None


@dataclass(frozen=True, slots=True)
class Lost:
    """A lost customer worth winning back, and when they were last in touch."""

    customer: Customer
    last_contact: date | None
    days_gone: int | None


@dataclass(frozen=True, slots=True)
class Visits:
    """The log days the loyalty rules read, as sorted ordinals: today-independent, so the index
    stores them, and plain numbers, so that it reads them back fast."""

    visits: tuple[int, ...]  # of visit and purchase entries
    thanked: tuple[int, ...]  # of thanks, gift and card entries


def visits_of(customer: Customer) -> Visits:
    """Return the days of the customer's visits and thank-yous, from the log."""
    log = customer.log
    return Visits(
        tuple(sorted(i.day.toordinal() for i in log if i.kind in LOYAL_KINDS)),
        tuple(sorted(i.day.toordinal() for i in log if i.kind in THANKS_KINDS)),
    )


def visits_in_year(visits: Visits, today: date) -> tuple[int, ...]:
    """Return the days (ordinals) of visit/purchase entries in the year up to and including
    ``today``."""
    return _between(visits.visits, add_span(today, YEAR, -1).toordinal(), today.toordinal())


def _between(days: tuple[int, ...], after: int, upto: int) -> tuple[int, ...]:
    """Return the sorted ``days`` after ``after`` and up to and including ``upto``."""
    return days[bisect.bisect_right(days, after) : bisect.bisect_right(days, upto)]


def thanks_since(settings: LoyaltyConfig, today: date, period: Span | None = None) -> date:
    """Return the day before the thanks period up to ``today``: a thank-you after it is lately."""
    return add_span(today, period or settings.thanks_period, -1)


def last_thanked(visits: Visits, today: date) -> date | None:
    """Return the newest thanks/gift/card entry on or before ``today``."""
    n = bisect.bisect_right(visits.thanked, today.toordinal())
    return date.fromordinal(visits.thanked[n - 1]) if n else None


def is_loyal(visits: int, value: float | None, *, min_visits: int, min_value: float) -> bool:
    """Return True for ``visits`` in the year of at least ``min_visits`` (when it is above 0), or
    a ``value`` of at least ``min_value``."""
    return (min_visits > 0 and visits >= min_visits) or (value is not None and value >= min_value)


def loyal_until(
    customer: Customer, settings: LoyaltyConfig, visits: Visits | None = None
) -> date | None:
    """Return the last day on which ``thanks`` can count the customer as loyal (None: never).

    Today-independent, so the index can store it: by value for ever, by visits up to a year
    after the last visit, if any one year held enough of them. ``visits``: the customer's
    ``visits_of``, when the caller has them.
    """
    if not is_active(customer):
        return None
    if is_loyal(0, customer.value, min_visits=0, min_value=settings.min_value):
        return date.max
    found = visits if visits is not None else visits_of(customer)
    days = [date.fromordinal(d) for d in found.visits]
    if not is_loyal(busiest(days, YEAR), None, min_visits=settings.min_visits, min_value=0):
        return None
    return days[-1] + timedelta(days=at_most_days(YEAR))


def worth_winning_back(customer: Customer, min_value: float) -> bool:
    """Return True for a lost customer whose value is at least ``min_value`` (and who did not
    opt out of every message)."""
    return (
        customer.status == "lost"
        and (customer.value or 0.0) >= min_value
        and not customer.no_contact
    )


Judged = tuple[int, date | None, date | None]  # visits in the year, last visit, last thanked


def thanks_judge(
    settings: LoyaltyConfig,
    today: date,
    period: Span | None = None,
    min_visits: int | None = None,
    min_value: float | None = None,
) -> Callable[[str, float | None, Visits], Judged | None]:
    """Return the test ``thanks`` puts each customer to, on plain values: their status, value and
    days. It gives the visits in the year, the last visit and the last thank-you of a loyal
    active customer not thanked within ``period``; None for anyone else."""
    visits_floor = settings.min_visits if min_visits is None else min_visits
    value_floor = settings.min_value if min_value is None else min_value
    since = thanks_since(settings, today, period)
    year, upto = add_span(today, YEAR, -1).toordinal(), today.toordinal()  # once, not per customer

    def judge(status: str, value: float | None, visits: Visits) -> Judged | None:
        if status in INACTIVE:
            return None
        days = _between(visits.visits, year, upto)
        if not is_loyal(len(days), value, min_visits=visits_floor, min_value=value_floor):
            return None
        thanked = last_thanked(visits, today)
        if thanked is not None and thanked > since:
            return None
        return len(days), date.fromordinal(days[-1]) if days else None, thanked

    return judge


def thanks_key(visits: int, value: float | None, name: str) -> tuple[int, float, str]:
    """Return where a loyal customer stands in ``thanks``: most visits, then value, then name
    (``name`` case-folded)."""
    return (-visits, -(value or 0), name)


def thanks(
    customers: Iterable[Customer],
    settings: LoyaltyConfig,
    today: date,
    *,
    period: Span | None = None,
    min_visits: int | None = None,
    min_value: float | None = None,
    visits: Callable[[Customer], Visits] = visits_of,
) -> list[Loyal]:
    """Return loyal active customers not thanked within ``period``, most visits then value first.

    ``visits`` gives each customer's days (by default from the log; the index has them stored).
    """
    judge = thanks_judge(settings, today, period, min_visits, min_value)
    found = [
        Loyal(c, *judged)
        for c in customers
        if not c.no_contact and (judged := judge(c.status, c.value, visits(c))) is not None
    ]
    found.sort(key=lambda x: thanks_key(x.visits, x.customer.value, x.customer.name.casefold()))
    return found


def winback(
    customers: Iterable[Customer],
    settings: LoyaltyConfig,
    today: date,
    *,
    kinds: Kinds,
    min_value: float | None = None,
) -> list[Lost]:
    """Return lost customers whose value is at least ``min_value``, most valuable first."""
    floor = settings.winback_min_value if min_value is None else min_value
    found: list[Lost] = []
    for c in customers:
        if not worth_winning_back(c, floor):
            continue
        last = last_contact(c, kinds, today)
        day = last.day if last is not None else None
        found.append(Lost(c, day, (today - day).days if day is not None else None))
    found.sort(key=lambda x: (-(x.customer.value or 0), x.customer.name.casefold()))
    return found


def ago(days: int | None) -> str:
    """Return a rough age such as '12 days', '7 months' or '2 years' ('unknown' for None)."""
    if days is None:
        return "unknown"
    if days < 60:
        return f"{days} day{'' if days == 1 else 's'}"
    if days < 730:
        return f"{round(days / 30.4375)} months"  # the mean Gregorian month
    return f"{days // 365} years"
