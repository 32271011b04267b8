"""The feed kept current: load, filter and render on every vault change and at each new day.

``crm serve``, ``crm watch`` and the WSGI entry point (``crm.cli.wsgi``) share this. It builds
the WSGI app of ``crm.feed.server``, which knows nothing of how its bytes are made. The clock
is handed in (``crm.cli.clock.now``) and read once per rebuild and once a minute for a new
day, never on a request; a fixed day pins the date but not the time.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from crm.core.config import Config, load_config, vault_day
from crm.core.errors import CrmError
from crm.core.model import Problem
from crm.core.occasions import any_in_lead
from crm.feed.server import FeedApp
from crm.index.collection import Collection
from crm.index.schema import feed_key
from crm.index.store import FeedBlocks, Index
from crm.rules.filters import CustomerFilter

if TYPE_CHECKING:
    from crm.core.model import Customer
    from crm.feed.messages import Messages
    from crm.outreach.occasions import OccasionDue


def render_block(
    c: Customer, config: Config, today: date, messages: Messages | None = None
) -> tuple[str, bool, bytes]:
    """``crm.feed.blocks.render_block``, imported on the first block to render: a feed read
    back whole from the index never loads icalendar."""
    from crm.feed import blocks

    return blocks.render_block(c, config, today, messages)


def open_for_feed(collection: Collection, today: date) -> tuple[Index, FeedBlocks]:
    """Return the collection's index, with the calendar blocks of changed files rendered for
    ``today``, and how they are rendered (for ``feed_from_index``).

    The blocks are rendered while the files are parsed, across the pool's workers.
    """
    blocks = feed_blocks(collection.root, collection.config, today)
    return collection.index(blocks=blocks), blocks


def feed_blocks(root: Path, config: Config, today: date) -> FeedBlocks:
    """Return how the feed's blocks of ``today`` are rendered: with the birthday messages
    when ``[feed] drafts`` is on."""
    if not config.feed.drafts:
        return FeedBlocks(today, render_block)
    from crm.feed.messages import messages_of

    messages = messages_of(root)
    return FeedBlocks(today, functools.partial(render_block, messages=messages), messages.key)


def refuse_broken_config(problems: Iterable[Problem], done: str) -> None:
    """Raise when crm.toml has an error: the feed is then not ``done`` (written, rebuilt).

    Defaults in place of a broken crm.toml would change the zone, names and cadences of the
    whole feed: better no new feed (``crm serve`` keeps serving the last good one) until the
    file is fixed. Warnings do not stop it.
    """
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise CrmError(f"{errors[0]} (fix crm.toml; the feed is not {done})")


def feed_from_index(
    index: Index, config: Config, blocks: FeedBlocks, filters: CustomerFilter
) -> bytes:
    """Return the feed of ``blocks.day`` for the customers ``filters`` keeps, rendering only
    uncached customers.

    The whole feed is kept in the index until a file changes (or the day, the config or the
    filters do): the next ``crm ics`` or rebuild of ``crm serve`` reads it
    back. Not while an occasion is in its lead time: its messages come from the templates.
    """
    today = blocks.day
    occasions = any_in_lead(config.occasions, today, config.feb29)
    key = f"{feed_key(config)}{blocks.key} {filters!r}"
    if not occasions:
        stored = index.stored_feed(today, key)
        if stored is not None:
            return stored
    from crm.feed.blocks import stored_entries
    from crm.feed.business import business_entries
    from crm.feed.render import Entry, feed_from_entries

    keep = None if filters.everyone else filters.matches

    def collect() -> tuple[list[Entry], bool]:
        # Block by block: a block is split into its events and let go (flat memory at 100k).
        entries: list[Entry] = []
        timed = False
        for name, has_time, data in index.feed_parts(config, blocks, keep):
            entries += stored_entries(name.encode(), data)
            timed = timed or has_time
        return entries, timed

    try:
        entries, timed = collect()
    except sqlite3.DatabaseError as exc:  # damaged pages met mid-feed: a plain parse instead
        index.fall_back(exc)
        entries, timed = collect()
    entries += business_entries(config, today, occasions_due(index, config, today))
    feed = feed_from_entries(entries, timed, config, today)
    del entries
    if not occasions:
        index.store_feed(today, key, feed)
    return feed


def occasions_due(index: Index, config: Config, today: date) -> list[OccasionDue]:
    """Return the occasions in their lead time with the messages still to send; the whole
    vault is read only while one is."""
    if not any_in_lead(config.occasions, today, config.feb29):
        return []
    from crm.outreach.occasions import due_occasions  # Jinja2 only when an occasion is near

    return due_occasions(index.vault().customers, config, today, index.root)


@dataclass
class FeedJob:
    """Loads the vault and renders the feed; remembers the counts of the last build for logs.

    ``now`` is the clock (``crm.cli.clock.now``); today is its date in the vault's time zone,
    unless ``fixed_today`` pins it.
    """

    root: Path
    filters: CustomerFilter = CustomerFilter()
    fixed_today: date | None = None
    log: Callable[[str], None] = field(default=lambda message: None)
    events: int = 0
    problems: tuple[Problem, ...] = ()
    now: Callable[[], datetime] = field(kw_only=True)

    def build(self) -> bytes:
        """Return the feed as it is now, logging each problem met while loading."""
        moment = self.now()
        collection = Collection(
            self.root,
            now=moment,
            use_index=not os.environ.get("CRM_NO_INDEX"),
            on_bypass=lambda why: self.log(f"index not used ({why}); reading every file"),
        )
        config = collection.config
        refuse_broken_config(collection.config_problems, "rebuilt")
        # Through the index: a rebuild after an edit re-parses and re-renders only that file.
        today = collection.today = self.fixed_today or vault_day(config, moment)
        try:
            index, blocks = open_for_feed(collection, today)
            data = feed_from_index(index, config, blocks, self.filters)
            problems = tuple(index.problems())
        finally:
            collection.close()
        self.events = data.count(b"BEGIN:VEVENT\r\n")
        self.problems = problems
        for p in problems:
            self.log(str(p))
        return data

    def today(self) -> date:
        """Return the date the feed is built for: the day ticker asks every minute."""
        return self.fixed_today or vault_day(load_config(self.root)[0], self.now())

    def summary(self) -> str:
        """Return e.g. ``41 events, 1 problem`` for the last build."""
        n = len(self.problems)
        return f"{self.events} events" + (f", {n} problem{'s' if n != 1 else ''}" if n else "")


def describe(changes: tuple[object, ...]) -> str:
    """Return the first few changes of a batch as one short phrase."""
    shown = ", ".join(str(c) for c in changes[:5])
    return shown + (f" and {len(changes) - 5} more" if len(changes) > 5 else "")


class LiveFeed:
    """A ``FeedApp`` rebuilt by a vault watcher and a day ticker, in their threads."""

    def __init__(self, job: FeedJob, token: str, *, delay: float = 0.3) -> None:
        from crm.feed.watch import DayTicker, Watcher

        self.job = job
        self.app = FeedApp(token, job.build, clock=job.now, log=job.log)
        self._watcher = Watcher(job.root, lambda ch: self._rebuild(describe(ch)), delay=delay)
        self._ticker = DayTicker(job.today, lambda day: self._rebuild(f"new day {day}"))

    def _rebuild(self, reason: str) -> None:
        changed = self.app.refresh()
        self.job.log(
            f"{'rebuilt' if changed else 'unchanged'} feed: {self.job.summary()} ({reason})"
        )

    def start(self) -> None:
        """Start watching, then build the first feed (so no edit made meanwhile is lost)."""
        self._watcher.start()
        self.app.refresh()
        self._ticker.start()

    def stop(self) -> None:
        """Stop the watcher and the ticker."""
        self._ticker.stop()
        self._watcher.stop()


def run_watch(job: FeedJob, output: Path, stop: threading.Event, *, delay: float = 0.3) -> None:
    """Keep ``output`` current until ``stop`` is set: rebuild on vault changes and at a new day."""
    from crm.edit.atomic import write as write_atomic
    from crm.feed.watch import DayTicker, Watcher

    current = b""
    lock = threading.Lock()

    def rebuild(reason: str | None) -> None:
        nonlocal current
        with lock:
            try:
                data = job.build()
                if data != current:
                    write_atomic(output, data)
            except Exception as exc:
                if reason is None:
                    raise  # the first build: let the command fail with the real error
                job.log(f"rebuild failed, {output} left as it was ({reason}): {exc}")
                return
            verb = "wrote" if reason is None else "rebuilt" if data != current else "unchanged"
            job.log(f"{verb} {output}: {job.summary()}" + (f" ({reason})" if reason else ""))
            current = data

    watcher = Watcher(job.root, lambda ch: rebuild(describe(ch)), delay=delay, ignored=[output])
    ticker = DayTicker(job.today, lambda day: rebuild(f"new day {day}"))
    # Watch first, then build: an edit made while the first build runs is not lost.
    with watcher:
        rebuild(None)
        ticker.start()
        try:
            stop.wait()
        finally:
            ticker.stop()
