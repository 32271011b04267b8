"""Whom to tell that the business closes, and what the agenda and feed say about closures.

Pure functions of customers, config and today. The people to tell about a closure are those
it affects: whoever would be due, or has a follow-up planned, while the business is closed or
in the week after it reopens (the busy week); whoever usually comes around then (their
median gap between visits puts the next one inside it); and the regulars named by
``[outreach] regulars``. Being loyal alone is no reason: most of a salon's customers are.
The audience rules of ``crm draft`` then hold back anyone who must not be written to, except
the quiet period: the notice is news of their own next visit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from crm.core.closures import Closure, closure_on, coming, continues, reopens, tells
from crm.core.config import Config
from crm.core.model import Customer
from crm.rules.rhythm import contact_state, is_active, is_contact, planned_day

AFTER = timedelta(days=7)  # the week after a closure: the customers who would wait for it
MIN_VISITS = 3  # a habit needs at least two gaps between visits


@dataclass(frozen=True, slots=True)
class ToTell:
    """A customer to tell about a closure, and why (each reason, in rule order)."""

    customer: Customer
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return "; ".join(self.reasons)


def usual_next(customer: Customer, config: Config, today: date) -> tuple[int, date] | None:
    """Return the customer's median gap between visits (days) and the day it puts the next one,
    from their contact entries up to ``today``; None with fewer than three visits."""
    days = sorted({i.day for i in customer.log if is_contact(i, config.kinds) and i.day <= today})
    if len(days) < MIN_VISITS:
        return None
    import statistics  # only here: it imports decimal and fractions, for every report

    gap = round(statistics.median((b - a).days for a, b in zip(days, days[1:], strict=False)))
    if gap <= 0:
        return None
    return gap, days[-1] + timedelta(days=gap)


def reasons(
    c: Customer, closure: Closure, config: Config, today: date, open_config: Config | None = None
) -> Iterator[str]:
    """Yield why the closure concerns the customer (nothing: it does not); ``open_config`` is
    ``config`` without its closures (made once by a caller that asks for many customers)."""
    if not is_active(c):
        return
    busy_end = reopens(closure, config.closures) - timedelta(days=1) + AFTER
    # The rhythm as it would be without closures: when they would be due.
    state = contact_state(c, open_config or replace(config, closures=()), today)
    if state.due is not None and closure.start <= state.due <= busy_end:
        yield f"due {state.due}"
    planned = planned_day(c)
    if planned is not None and closure.start <= planned <= busy_end:
        yield f"follow-up planned {planned}"
    usual = usual_next(c, config, today)
    if usual is not None and closure.start <= usual[1] <= closure.end:
        yield f"usually comes every {usual[0]} days, next around {usual[1]}"
    keys = [*c.tags, *([c.segment] if c.segment else [])]
    regular = next((k for k in keys if k in config.outreach.regulars), None)
    if regular is not None:
        yield f"regular ({regular})"


def to_tell(
    customers: Sequence[Customer], closure: Closure, config: Config, today: date
) -> list[ToTell]:
    """Return the customers to tell about ``closure``, by name, with their reasons."""
    found = []
    open_config = replace(config, closures=())
    for c in customers:
        why = tuple(reasons(c, closure, config, today, open_config))
        if why:
            found.append(ToTell(c, why))
    found.sort(key=lambda t: (t.customer.name.casefold(), t.customer.id))
    return found


def closure_for(config: Config, today: date, template: str | None = None) -> Closure | None:
    """Return the next closure not over by ``today`` that starts a run of closed days (told
    with ``template``, when given)."""
    closures = config.closures
    return next(
        (
            c
            for c in coming(closures, today)
            if (template is None or c.notice == template) and not continues(c, closures)
        ),
        None,
    )


@dataclass(frozen=True, slots=True)
class Notice:
    """A line about the business's calendar: closed today, a closure coming, time to tell."""

    day: date
    kind: str  # "closed", "closure", "tell"
    text: str
    closure: Closure


def notices(config: Config, today: date, days: int) -> list[Notice]:
    """Return what the agenda says about closures from ``today`` through ``days`` ahead."""
    found = []
    end = today + timedelta(days=days)
    closures = config.closures
    now = closure_on(today, closures)
    back = today
    if now is not None:
        back = reopens(now, closures)
        why = f" ({now.reason})" if now.reason else ""
        last = back - timedelta(days=1)  # closures end to end are one run of closed days
        found.append(Notice(today, "closed", f"Closed{why} until {last}: nobody is due; open again {back}", now))  # fmt: skip
    for c in coming(closures, today):
        if c.start < back:
            continue  # closed already: today's closure, or one that runs on from it
        if tells(c, closures) and c.notice_day <= end:
            # From its notice day until it begins: a reminder each day.
            found.append(Notice(c.notice_day, "tell", tell_text(c), c))
        if c.start <= end:
            found.append(Notice(c.start, "closure", closed_text(c), c))
    found.sort(key=lambda n: (n.day, n.kind))
    return found


def closed_text(c: Closure) -> str:
    """Return the title of a closure: 'Closed: winter holiday (2026-12-20 to 2027-01-06)'."""
    span = f"{c.start} to {c.end}" if c.end != c.start else str(c.start)
    return f"Closed: {c.reason} ({span})" if c.reason else f"Closed ({span})"


def tell_text(c: Closure) -> str:
    """Return the reminder to tell customers: 'Tell customers about the closure ...'."""
    return f"Tell customers about the closure from {c.start}: crm draft {c.notice}"
