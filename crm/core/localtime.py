"""Times on a local clock at daylight-saving changes: the one rule every part of crm follows.

A time the clocks skip (02:30 when they go forward from 02:00 to 03:00) is moved forward by
the gap, to 03:30; a time they show twice (02:30 when they go back from 03:00 to 02:00) is the
first of the two, before the change. Both are how RFC 5545 reads such a time, so the feed, the
calendars that read it and ``crm followup`` agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class ClockChange:
    """A time on the clock of ``zone`` at a daylight-saving change, skipped or repeated, and
    ``meant``, the time it is read as."""

    given: datetime
    zone: str
    skipped: bool
    meant: datetime
    before: datetime  # what the clocks show just before the change (02:00; 03:00 in autumn)
    after: datetime  # and just after it (03:00; 02:00)

    def __str__(self) -> str:
        day = self.given.date()
        before, after = (self._shown(t, day) for t in (self.before, self.after))
        when = f"{self.given:%Y-%m-%d %H:%M}"
        what, way = ("does not exist", "forward") if self.skipped else ("happens twice", "back")
        return f"{when} {what} in {self.zone} (the clocks go {way} from {before} to {after})"

    def read_as(self) -> str:
        """Return the time it is read as, for a message: ``03:30``, or ``the first 02:30, before
        the change``."""
        shown = self._shown(self.meant, self.given.date())
        return shown if self.skipped else f"the first {shown}, before the change"

    @staticmethod
    def _shown(moment: datetime, day: date) -> str:
        return f"{moment:%H:%M}" if moment.date() == day else f"{moment:%Y-%m-%d %H:%M}"


def clock_change(moment: datetime, zone: str) -> ClockChange | None:
    """Return how ``moment`` (naive, on the clock of ``zone``) meets a daylight-saving change,
    or None for a time that happens once."""
    if zone == "UTC":
        return None
    tz = ZoneInfo(zone)
    first, second = moment.replace(tzinfo=tz, fold=0), moment.replace(tzinfo=tz, fold=1)
    was, becomes = first.utcoffset(), second.utcoffset()  # fold 0: the offset before a change
    if was is None or becomes is None or was == becomes:
        return None
    low, high = sorted((first.astimezone(UTC), second.astimezone(UTC)))
    while (high - low).total_seconds() > 1:  # the change: the first second with the new offset
        middle = low + timedelta(seconds=(high - low).total_seconds() // 2)
        if middle.astimezone(tz).utcoffset() == becomes:
            high = middle
        else:
            low = middle
    instant = high.replace(tzinfo=None)
    meant = on_the_clock(moment, zone)
    return ClockChange(moment, zone, becomes > was, meant, instant + was, instant + becomes)


def on_the_clock(moment: datetime, zone: str) -> datetime:
    """Return the time (naive) that ``moment`` stands for on the clock of ``zone``: a skipped
    time moved forward by the gap; any other time is itself (a repeated one, its first)."""
    if zone == "UTC":
        return moment
    tz = ZoneInfo(zone)
    return moment.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz).replace(tzinfo=None)


def planned(day: date, at: time | None, zone: str) -> tuple[str, ClockChange | None]:
    """Return ``next_contact`` for ``day`` at ``at`` as a file holds it, and the daylight-saving
    change the time meets (then it is the time it is read as)."""
    if at is None:
        return day.isoformat(), None
    edge = clock_change(datetime.combine(day, at), zone)
    when = datetime.combine(day, at) if edge is None else edge.meant
    return f"{when:%Y-%m-%d %H:%M}", edge
