"""Building index rows: find the customer files and their stat, parse them (in parallel).

A row holds the parsed customer and its problems as JSON, and the columns that do not
depend on today, so that a report is a query (see ``crm.index.store``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from crm.core.config import Config
from crm.core.model import Customer
from crm.index import codec
from crm.rules import cap, loyalty, replies, rewards, rhythm
from crm.rules.search import haystack
from crm.vault.parse import parse_path

# Below this many changed files a process pool costs more than it saves.
PARALLEL_MIN = 400
CHUNK = 250
# Kinds of marks: a yearly month*100+day, a date's ordinal, and the newest contact day's
# ordinal (on a day before it the rhythm starts from an earlier contact: the rule decides).
MMDD, DAY, LAST = 0, 1, 2

Progress = Callable[[int, int], None]
# The feed's renderer of one customer's calendar block on a day: the customer's name as the
# feed breaks ties on it, whether some event has a time, and the block as bytes only the feed
# reads. It runs in the pool's workers, so it must pickle: a module-level function.
BlockRenderer = Callable[[Customer, Config, date], tuple[str, bool, bytes]]


@dataclass(frozen=True, slots=True)
class FeedBlocks:
    """Ask a build for every changed customer's calendar block on ``day``, made by ``render``."""

    day: date
    render: BlockRenderer
    key: str = ""  # joins the config's key of stored blocks: what else the renderer reads


@dataclass(frozen=True, slots=True)
class Row:
    """One file's row, as a worker computes it."""

    path: str
    size: int
    mtime_ns: int
    cid: str | None
    head: str | None
    rest: bytes | None
    name: str | None
    problems: str
    status: str | None = None
    nickname: str | None = None
    tracked: int = 0
    reach: int = 1  # 0: opted out of every kind of outreach
    due: int | None = None
    back: int | None = None
    noisy_until: int | None = None
    loyal_until: int | None = None
    newest: int | None = None  # the newest contact entry's day: briefs hold on days from it on
    last: int | None = None  # the rhythm's last contact day, when tracked (a later one is a plan)
    away_from: int | None = None
    snooze: int | None = None
    value: float | None = None
    visits: str | None = None  # the loyalty rules' days (``codec.encode_visits``)
    thanked_last: int | None = None  # the newest thank-you's day
    outreach: str | None = None  # the cap and the outreach days, when it can be over the cap
    owed_from: int | None = None  # a reply can be owed from this day ...
    owed_until: int | None = None  # ... until the day before this one (None: not answered yet)
    owed: str | None = None  # the inbound entries owed on some day (``replies.owed_spans``)
    rewards: str | None = (
        None  # each reward's days, when one can come due (``codec.encode_rewards``)
    )
    text: str | None = None  # what ``crm search`` looks in (``rules.search.haystack``)
    marks: tuple[tuple[int, int], ...] = ()
    # The calendar block for the feed's day, when the build was asked for one (``FeedBlocks``):
    # name, timed, events, and what the feed filters on (``codec.encode_facets``).
    block: tuple[Any, ...] | None = None


def make_row(
    rel: str, size: int, mtime_ns: int, root: Path, config: Config, blocks: FeedBlocks | None = None
) -> Row:
    """Return the index row of one file: parse it and precompute what does not depend on today.

    With ``blocks``, the row also carries the customer's calendar block for that day, rendered
    here (in a worker of the pool) so that a cold ``crm ics`` need not decode every customer.
    """
    path = root / rel
    customer, problems = parse_path(path, root, date_order=config.date_order)
    encoded_problems = codec.encode_problems(problems)
    if customer is None:
        return Row(
            rel,
            size,
            mtime_ns,
            cid=None,
            head=None,
            rest=None,
            name=None,
            problems=encoded_problems,
        )
    c = customer
    r = rhythm.rhythm(c, config)
    marks: list[tuple[int, int]] = []
    for d in c.important_dates():
        if d.yearly:
            marks.append((MMDD, d.date.month * 100 + d.date.day))
        elif d.date.year is not None:
            marks.append((DAY, date(d.date.year, d.date.month, d.date.day).toordinal()))
    if c.customer_since is not None:
        marks.append((MMDD, c.customer_since.month * 100 + c.customer_since.day))
    planned = rhythm.planned_day(c)
    back = c.away.end + timedelta(days=1) if c.away is not None else None
    # Every day a contact can fall due: the rhythm's, the planned one, back from away, snooze end.
    for day in (planned, r.due, back, c.snooze_until):
        if day is not None:
            marks.append((DAY, day.toordinal()))
    is_tracked = rhythm.tracked(c, config)
    if is_tracked and r.last is not None:
        marks.append((LAST, r.last.day.toordinal()))
    limit = cap.cap_of(c, config)
    outreach = [] if limit is None else cap.outreach_days(c, config)
    noisy = cap.noisy_until(c, config, outreach)
    visits = loyalty.visits_of(c)
    loyal = loyalty.loyal_until(c, config.loyalty, visits)
    newest = rhythm.newest_contact(c, config.kinds)
    head, rest = codec.encode_parts(c, newest)
    owed = replies.owed_spans(c, config.kinds)
    answered = [end for *_, end in owed]
    earning = rewards.days_of(c, config.rewards)
    may = any(rewards.may_earn(r, d, c.value) for r, d in zip(config.rewards, earning, strict=True))
    return Row(
        path=rel,
        size=size,
        mtime_ns=mtime_ns,
        cid=c.id,
        head=head,
        rest=rest,
        name=c.name,
        problems=encoded_problems,
        status=c.status,
        nickname=c.nickname,
        tracked=int(is_tracked),
        reach=int(not c.no_contact),
        due=None if r.due is None else r.due.toordinal(),
        back=None if back is None else back.toordinal(),
        noisy_until=None if noisy is None else noisy.toordinal(),
        loyal_until=None if loyal is None else loyal.toordinal(),
        newest=None if newest is None else newest.day.toordinal(),
        last=r.last.day.toordinal() if is_tracked and r.last is not None else None,
        away_from=None if c.away is None else c.away.start.toordinal(),
        snooze=None if c.snooze_until is None else c.snooze_until.toordinal(),
        value=c.value,
        visits=codec.encode_visits(visits),
        thanked_last=visits.thanked[-1] if visits.thanked else None,
        outreach=None if noisy is None or limit is None else codec.encode_outreach(limit, outreach),
        owed_from=owed[0][0] if owed else None,
        owed_until=None if not owed or None in answered else max(e for e in answered if e),
        owed=codec.dumps(owed) if owed else None,
        rewards=codec.encode_rewards(earning) if may else None,
        text=haystack(c),
        marks=tuple(sorted(set(marks))),
        block=None if blocks is None else _block(c, config, blocks),
    )


def _block(c: Customer, config: Config, blocks: FeedBlocks) -> tuple[Any, ...]:
    name, timed, data = blocks.render(c, config, blocks.day)
    return (name, int(timed), data, *codec.encode_facets(c))


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


def _rows(
    root: str,
    items: Sequence[tuple[str, int, int]],
    config: Config,
    racy_after: int,
    blocks: FeedBlocks | None = None,
) -> list[Row]:
    """Return the rows of a chunk of files (runs in a worker process)."""
    base = Path(root)
    out = []
    for rel, size, stamp in items:
        row = make_row(rel, size, stamp, base, config, blocks)
        # Content written in the last moments may change again within the same mtime tick:
        # store no stamp, so the next command parses it again. (A fresh ctime alone, from a
        # chmod or a backdated mtime, is no such risk.)
        if stamp >= racy_after and _mtime_ns(base / rel) >= racy_after:
            row = dataclasses.replace(row, mtime_ns=-1)
        out.append(row)
    return out


def parse_changed(
    root: Path,
    items: Sequence[tuple[str, int, int]],
    config: Config,
    racy_after: int,
    progress: Progress | None = None,
    workers: int | None = None,
    *,
    min_parallel: int = PARALLEL_MIN,
    chunk: int = CHUNK,
    blocks: FeedBlocks | None = None,
) -> Iterator[Row]:
    """Yield the rows of ``items``, parsed across the machine's cores when there are many."""
    total = len(items)
    chunks = [items[i : i + chunk] for i in range(0, total, chunk)]
    workers = workers or _cores()
    done = 0
    if total < min_parallel or workers < 2:
        for part in chunks:
            yield from _rows(str(root), part, config, racy_after, blocks)
            done += len(part)
            if progress:
                progress(done, total)
        return
    # Imported here: only a cold build or a big change needs a pool, and the import is slow.
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = pool.map(
            _rows,
            [str(root)] * len(chunks),
            chunks,
            [config] * len(chunks),
            [racy_after] * len(chunks),
            [blocks] * len(chunks),
        )
        for rows in results:
            yield from rows
            done += len(rows)
            if progress:
                progress(done, total)


def _cores() -> int:
    """Return how many cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
