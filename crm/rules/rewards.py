"""Rewards due and coming (``[[rewards]]``): pure functions of customers, config and today.

A reward by entries is *due* when the customer has ``every`` entries of its kind since the last
``reward`` entry that counts for it, and *coming* one entry before; a reward by value is due
while ``value`` has reached one more step of ``spent`` than the rewards given. A ``reward``
entry counts for the rewards its text names (``- 2026-12-01 reward: free blow-dry``), or for
every reward when it names none. Entries on the reward's day were spent on it. Lost and paused
customers are left out, as in ``crm thanks``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from crm.core.config import Config
from crm.core.kinds import REWARD
from crm.core.model import Customer
from crm.core.rewards import Reward
from crm.rules.rhythm import INACTIVE
from crm.rules.words import folded

Standing = Literal["due", "coming"]
# One reward's days, as ordinals: the entries it counts and the rewards given, both sorted.
Days = tuple[tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class Earned:
    """A reward a customer has due (or one entry away), and how far they are."""

    customer: Customer
    reward: Reward
    standing: Standing
    count: int  # entries since the last reward given (by value: the rewards earned)
    last_given: date | None


def days_of(customer: Customer, rewards: Iterable[Reward]) -> tuple[Days, ...]:
    """Return, per reward, the days of the entries it counts and of the rewards given for it:
    today-independent, so the index stores them."""
    log = [i for i in customer.log if i.done]
    given = [(i.day.toordinal(), folded(i.text)) for i in log if i.kind == REWARD]
    chosen = tuple(rewards)
    names = [folded(r.name) for r in chosen]
    found = []
    for reward, name in zip(chosen, names, strict=True):
        counted = sorted(i.day.toordinal() for i in log if i.kind == reward.kind)
        # An entry naming no reward counts for every one.
        mine = sorted(d for d, text in given if name in text or not any(n in text for n in names))
        found.append((tuple(counted) if reward.every is not None else (), tuple(mine)))
    return tuple(found)


def standing(
    reward: Reward, days: Days, value: float | None, today: date
) -> tuple[Standing, int, date | None] | None:
    """Return whether ``reward`` is due or coming on ``today``, the count, and the last reward
    given; None when it is neither."""
    counted, given = days
    t = today.toordinal()
    n = bisect.bisect_right(given, t)
    last = given[n - 1] if n else None
    last_day = None if last is None else date.fromordinal(last)
    if reward.spent is not None:
        earned = math.floor((value or 0) / reward.spent + 1e-9)
        return ("due", earned, last_day) if earned > n else None
    every = reward.every or 1
    since = 0 if last is None else bisect.bisect_right(counted, last)
    count = bisect.bisect_right(counted, t) - since
    if count >= every:
        return "due", count, last_day
    if count == every - 1 and count > 0:
        return "coming", count, last_day
    return None


def may_earn(reward: Reward, days: Days, value: float | None) -> bool:
    """Return True when ``reward`` can be due or coming on some day (the index asks only those)."""
    counted, given = days
    if reward.spent is not None:
        return math.floor((value or 0) / reward.spent + 1e-9) > 0
    every = reward.every or 1
    # The most entries between two rewards given (or after the last) is the most a count reaches.
    bounds = [*given, math.inf]
    start = 0
    for bound in bounds:
        end = bisect.bisect_right(counted, bound) if bound != math.inf else len(counted)
        if end - start >= max(every - 1, 1):
            return True
        start = end
    return False


def earned(
    customers: Iterable[Customer],
    config: Config,
    today: date,
    days: Callable[[Customer], tuple[Days, ...]] | None = None,
) -> list[Earned]:
    """Return every reward due or coming on ``today``: due first, then by name and reward.

    ``days`` gives each customer's ``days_of`` (by default from the log; the index stores them).
    """
    rewards = config.rewards
    found = []
    for c in customers:
        if c.status in INACTIVE or not rewards:
            continue
        mine = days(c) if days is not None else days_of(c, rewards)
        for reward, d in zip(rewards, mine, strict=True):
            got = standing(reward, d, c.value, today)
            if got is not None:
                found.append(Earned(c, reward, *got))
    found.sort(key=lambda e: earned_key(e.standing, e.customer.name.casefold(), e.customer.id, e.reward))  # fmt: skip
    return found


def earned_key(
    standing: Standing, name: str, cid: str, reward: Reward
) -> tuple[bool, str, str, int]:
    """Return where a reward sorts: due first, then by name (case-folded), id and reward."""
    return standing != "due", name, cid, reward.number
