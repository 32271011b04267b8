"""The business's own events in the feed: its closures, the day to tell customers of one, and
each occasion's lead time ("Holiday greetings: 38 to send by 12-24")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from crm.core.config import Config
from crm.feed.events import CATEGORY, EventKind, when, window
from crm.feed.icswrite import vevent
from crm.feed.render import Entry, look
from crm.rules.closures import closed_text, tell_text

if TYPE_CHECKING:
    from crm.outreach.occasions import OccasionDue


def business_entries(config: Config, today: date, due: Sequence[OccasionDue] = ()) -> list[Entry]:
    """Return the feed entries of closures and occasions inside the feed's window on ``today``.

    ``due`` are the occasions whose lead time runs today, with their count of messages to send
    (``crm.outreach.occasions.due_occasions``); other years' lead times say no number.
    """
    start, end = window(config, today)
    lk = look(config, today)
    found: list[Entry] = []

    def add(kind: EventKind, uid: str, day: date, summary: str, last: date | None = None) -> None:
        text = vevent(
            lk.style,
            uid=uid,
            summary=summary,
            category=CATEGORY[kind],
            day=day,
            stamp=lk.stamp,
            last=last,
        )
        found.append((when(day, None, kind).encode(), b"", uid.encode(), text.encode()))

    for c in config.closures:
        if c.start <= end and c.end >= start:
            add("closed", f"closure-{c.start:%Y%m%d}@crm", c.start, closed_text(c), c.end)
        if start <= c.notice_day <= end and c.notice_day < c.start:
            add("lead", f"closure-notice-{c.start:%Y%m%d}@crm", c.notice_day, tell_text(c))
    counted = {(d.occasion, d.day): d for d in due}
    for o in config.occasions:
        for year in range(start.year, end.year + 2):
            day = o.on(year, config.feb29)
            lead = o.lead_start(day)
            if not start <= lead <= end:
                continue
            now = counted.get((o, day))
            summary = o.to_send(day, now.to_send if now is not None else None)
            add("occasion", f"occasion-{o.campaign(year)}@crm", lead, summary)
    return found
