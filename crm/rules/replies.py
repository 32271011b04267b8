"""Replies you owe: what came in from a customer and was not answered; pure functions.

An entry of an *inbound* kind (``[kinds] inbound``: a question, a request, a missed call) is
answered by the first contact entry from you on its day or later (on the same day, not one
written at an earlier time). Until then it is a reply you owe, late from ``[outreach]
reply_within`` after it came in. Nothing holds a reply back: not the quiet period, a snooze or
an absence, since answering is not bombarding. Lost customers are out, as in every report.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, time

from crm.core.config import Config
from crm.core.dates import add_span
from crm.core.kinds import Kinds
from crm.core.model import Customer, Interaction


@dataclass(frozen=True, slots=True)
class Owed:
    """A customer waiting for your answer: what they asked (oldest first) and since when."""

    customer: Customer
    asked: tuple[Interaction, ...]
    late_on: date  # the day the reply becomes late: ``reply_within`` after the first question

    @property
    def since(self) -> date:
        """Return the day of the oldest unanswered entry."""
        return self.asked[0].day

    def late(self, today: date) -> bool:
        """Return True on and after the day the reply becomes late."""
        return today >= self.late_on


def _at(entry: Interaction) -> tuple[date, time]:
    return entry.day, entry.time or time.min


def _key(entry: Interaction) -> tuple[int, str]:
    day, at = _at(entry)
    return day.toordinal(), at.isoformat()


def _answers(answer: Interaction, asked: Interaction) -> bool:
    """Return True when ``answer`` came on or after ``asked`` (times compared when both have one)."""
    if answer.day != asked.day or answer.time is None or asked.time is None:
        return answer.day >= asked.day
    return answer.time >= asked.time


def _asked(customer: Customer, kinds: Kinds) -> list[tuple[Interaction, date | None]]:
    """Return each inbound entry owed on some day, oldest first, with the day the first contact
    entry answers it (None: none yet); one answered on its own day is owed on no day."""
    done = [i for i in customer.log if i.done]
    answers = [i for i in done if kinds.answers(i.kind)]
    found = []
    for asked in sorted((i for i in done if kinds.inbound(i.kind)), key=_at):
        end = min((a.day for a in answers if _answers(a, asked)), default=None)
        if end != asked.day:
            found.append((asked, end))
    return found


def unanswered(customer: Customer, kinds: Kinds, today: date) -> tuple[Interaction, ...]:
    """Return the inbound entries on or before ``today`` that no contact entry by ``today``
    answers, oldest first."""
    return tuple(
        i for i, end in _asked(customer, kinds) if i.day <= today and (end is None or end > today)
    )


def reply_owed(customer: Customer, config: Config, today: date) -> Owed | None:
    """Return the reply the customer waits for on ``today``, or None."""
    if customer.status == "lost":
        return None
    asked = unanswered(customer, config.kinds, today)
    if not asked:
        return None
    return Owed(customer, asked, add_span(asked[0].day, config.outreach.reply_within))


def replies(customers: Iterable[Customer], config: Config, today: date) -> list[Owed]:
    """Return every reply owed on ``today``, the longest waiting first (then by name)."""
    found = [o for c in customers if (o := reply_owed(c, config, today)) is not None]
    found.sort(key=lambda o: order_key(_key(o.asked[0]), o.customer.name.casefold(), o.customer.id))
    return found


# One inbound entry as the index stores it: its day's ordinal, its time ("00:00:00" when it
# has none), and the ordinal of the day a contact entry answers it (None: not yet).
Span_ = tuple[int, str, int | None]


def owed_spans(customer: Customer, kinds: Kinds) -> list[Span_]:
    """Return the inbound entries that are owed on some day, with the day each is answered:
    today-independent, so the index stores them (``oldest_owed`` reads them). Lost: none."""
    if customer.status == "lost":
        return []
    return [
        (*_key(i), None if end is None else end.toordinal()) for i, end in _asked(customer, kinds)
    ]


def oldest_owed(spans: list[Span_], today: date) -> tuple[int, str] | None:
    """Return the day and time of the oldest entry owed on ``today`` (``reply_owed`` sorts by
    it), or None when none is."""
    t = today.toordinal()
    return next(((d, at) for d, at, end in spans if d <= t and (end is None or end > t)), None)


def order_key(asked: tuple[int, str], name: str, cid: str) -> tuple[int, str, str, str]:
    """Return where a reply owed sorts: the oldest first, then by name (case-folded) and id."""
    return asked[0], asked[1], name, cid


def waiting(since: date, today: date) -> str:
    """Return how long someone has waited: 'today', '1 day', '3 days'."""
    days = (today - since).days
    return "today" if days <= 0 else f"{days} day{'' if days == 1 else 's'}"


def due_text(owed: Owed, today: date) -> str:
    """Return where the reply stands: 'late 2 days', 'late today', 'by Thu 12-03'."""
    if not owed.late(today):
        return f"by {owed.late_on:%a %m-%d}"
    days = (today - owed.late_on).days
    return "late today" if days == 0 else f"late {days} day{'' if days == 1 else 's'}"


def asked_texts(owed: Owed) -> Iterator[str]:
    """Yield what each unanswered entry says: its text, else its kind ('missed-call')."""
    for entry in owed.asked:
        yield entry.text.strip() or entry.kind
