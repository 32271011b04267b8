"""The business's own events in the feed: its closures, the day to tell customers of one, and
each occasion's lead time ("Holiday greetings: 38 to send by 12-24")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from crm.core.closures import tells
from crm.core.config import Config
from crm.feed.events import FeedEvent, when, window
from crm.feed.render import Entry, look, vevent
from crm.rules.closures import closed_text, tell_text

if TYPE_CHECKING:
    from crm.outreach.occasions import OccasionDue


def business_events(
    config: Config, today: date, due: Sequence[OccasionDue] = ()
) -> list[FeedEvent]:
    """Return the closures and occasions of the feed's window on ``today``.

    ``due`` are the occasions whose lead time runs today, with their count of messages to send
    (``crm.outreach.occasions.due_occasions``); other years' lead times say no number.
    """
    start, end = window(config, today)
    found = []
    for c in config.closures:
        if c.start <= end and c.end >= start:
            uid = f"closure-{c.start:%Y%m%d}@crm"
            found.append(FeedEvent(uid, "closed", c.start, closed_text(c), None, last=c.end))
        if start <= c.notice_day <= end and tells(c, config.closures):
            uid = f"closure-notice-{c.start:%Y%m%d}@crm"
            found.append(FeedEvent(uid, "lead", c.notice_day, tell_text(c), None))
    counted = {(d.occasion, d.day): d.to_send for d in due}
    for o in config.occasions:
        for year in range(start.year, end.year + 2):
            day = o.on(year, config.feb29)
            lead = o.lead_start(day)
            if start <= lead <= end:
                summary = o.to_send(day, counted.get((o, day)))
                found.append(FeedEvent(f"occasion-{o.campaign(year)}@crm", "occasion", lead, summary, None))  # fmt: skip
    return found


def business_entries(config: Config, today: date, due: Sequence[OccasionDue] = ()) -> list[Entry]:
    """Return the business's events as feed entries (before every customer's on a tie)."""
    lk = look(config, today)
    return [
        (when(e.day, None, e.kind).encode(), b"", e.uid.encode(), vevent(e, lk, "").encode())
        for e in business_events(config, today, due)
    ]
