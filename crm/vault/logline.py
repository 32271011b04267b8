"""Reading one ``## Log`` bullet as a dated entry, the way people write them.

The common ``- YYYY-MM-DD kind: text`` line is matched by the loader in one go
(``crm.vault.syntax.QUICK_ENTRY``); every other bullet comes here. A bullet that still cannot
be read is skipped with a *warning* whose message starts with ``SKIPPED`` and names the part
that is wrong, so that a caller can count them (``skipped_lines``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

from crm.core import dates
from crm.core.dates import DateOrder
from crm.core.kinds import NO_KIND
from crm.core.model import Interaction, Location, Problem
from crm.vault.syntax import (
    BULLET,
    ENTRY_DATE,
    ENTRY_REST,
    QUICK_ENTRY,
    fenced_lines,
    log_mask,
)

_DAYS: dict[str, date] = {}  # the same few hundred log dates recur across a vault

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


def read_log(
    path: Path,
    body_lines: list[str],
    body_start: int,
    date_order: DateOrder | None,
    problems: list[Problem],
) -> Iterator[Interaction]:
    """Yield the entries of a file's ``## Log`` (its body from line ``body_start``); a line
    that cannot be read is a warning added to ``problems``."""
    fenced = fenced_lines(body_lines)
    in_log = log_mask(body_lines, fenced)
    for offset, line in enumerate(body_lines):
        if not in_log[offset] or (fenced and offset in fenced):
            continue  # an example inside ``` is text, not a heading or an entry
        if quick := QUICK_ENTRY.match(line):
            # The usual well-formed entry, matched in one go; anything else takes the
            # general path below, which reports the problem.
            task, day_text, at_text, kind, text = quick.groups()
            day = _DAYS.get(day_text) or _day(day_text)
            at = _time(at_text) if at_text else None
            if day is not None and (at is not None or not at_text):
                kind = kind.lower()
                yield Interaction(
                    day=day,
                    time=at,
                    kind=kind,
                    text=(text or "").strip(),
                    done=task != " ",
                    location=Location(path, body_start + offset),
                )
                continue
        if not (b := BULLET.match(line)):
            continue
        where = Location(path, body_start + offset)
        task, rest = b[1], b[2]
        entry = read_entry(rest, date_order)
        if isinstance(entry, str):
            if task == " " and entry == NO_DATE:
                continue  # a plain to-do without a date
            problems.append(Problem(where, SKIPPED + entry, "warning"))
            continue
        yield Interaction(
            day=entry.day,
            time=entry.time,
            kind=entry.kind,
            text=entry.text,
            done=task != " ",
            location=where,
        )


def _day(text: str) -> date | None:
    """Return the log date ``text`` (memoised), or None when it is not a real date."""
    try:
        day = dates.parse_date(text)
    except ValueError:
        return None
    if len(_DAYS) < 100_000:
        _DAYS[text] = day
    return day


def _time(text: str) -> time | None:
    try:
        return dates.parse_time(text)
    except ValueError:
        return None
