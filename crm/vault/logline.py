"""Reading one ``## Log`` bullet as a dated entry, the way people write them.

The common ``- YYYY-MM-DD kind: text`` line is matched by the loader in one go
(``crm.vault.syntax.QUICK_ENTRY``); every other bullet comes here. A bullet that still cannot
be read is skipped with a *warning* whose message starts with ``SKIPPED`` and names the part
that is wrong, so that a caller can count them (``skipped_lines``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time

from crm.core import dates
from crm.core.dates import DateOrder
from crm.core.kinds import NO_KIND
from crm.core.model import Problem
from crm.vault.syntax import ENTRY_DATE, ENTRY_REST

# Every warning about a log line the loader could not read starts with this.
SKIPPED = "log line skipped: "
NO_DATE = "no date at the start (write e.g. '- 2026-11-02 call: text')"


@dataclass(frozen=True, slots=True)
class Entry:
    """The parts of a dated log bullet: its day, time, kind (``NO_KIND`` when none) and text."""

    day: date
    time: time | None
    kind: str
    text: str


def read_entry(rest: str, order: DateOrder | None = None) -> Entry | str:
    """Return the entry a bullet's text (after ``- `` and any ``[ ]``) holds, or why it is none.

    Slash dates (``03/04/2026``) are read by ``order``; without one they are refused.
    """
    m = ENTRY_DATE.match(rest)
    if m is None:
        return NO_DATE
    try:
        day = dates.parse_written_date(m["date"], order)
    except ValueError as exc:
        return str(exc)
    after = rest[m.end() :]
    r = ENTRY_REST.match(after)
    if r is None:
        return f"cannot read '{after.strip()}' after the date"
    at = None
    if r["time"]:
        try:
            at = dates.parse_time(r["time"])
        except ValueError as exc:
            return str(exc)
    kind = r["kind"].lower() if r["kind"] else NO_KIND
    return Entry(day, at, kind, (r["text"] or "").strip())


def entry_date(rest: str, order: DateOrder | None = None) -> date | None:
    """Return the day of a bullet's text, or None when it is not a readable entry."""
    entry = read_entry(rest, order)
    return entry.day if isinstance(entry, Entry) else None


def is_skipped_line(problem: Problem) -> bool:
    """Return True when ``problem`` is the warning about a log line the loader skipped."""
    return problem.severity == "warning" and problem.message.startswith(SKIPPED)


def skipped_lines(problems: Iterable[Problem]) -> int:
    """Return how many log lines ``problems`` say were skipped."""
    return sum(1 for p in problems if is_skipped_line(p))
