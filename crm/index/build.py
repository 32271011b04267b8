"""Bringing the index up to date: scan the vault, parse what changed (in parallel), store it.

``open_index`` never fails on database trouble: a corrupt index is deleted and rebuilt once, and
a busy or unwritable one is bypassed with a plain parse (``Index.bypassed``).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter

from crm.core.config import Config
from crm.index.base import Stats
from crm.index.rows import FeedBlocks, Progress, parse_changed
from crm.index.schema import (
    build_of,
    changes_of,
    connect,
    feed_key,
    index_path,
    is_busy,
    mark_changed,
    prepare,
    remove,
)
from crm.index.store import INSERT_BLOCK, Index
from crm.vault.files import path_key, scan
from crm.vault.load import load_vault

# A file modified this close to the scan may change again within the same mtime tick;
# it is stored as unknown so that the next run parses it again (git's "racy clean" rule).
RACY_NS = 2_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def open_index(
    root: Path,
    config: Config,
    *,
    now: datetime,
    rebuild: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
    enabled: bool = True,
    blocks: FeedBlocks | None = None,
) -> Index:
    """Return the vault's index brought up to date; on any database trouble, a plain parse.

    ``now`` (aware) is when the caller read the clock: files modified within ``RACY_NS`` of
    it may change again unseen, so they are parsed again next time. With ``blocks`` (``crm
    ics``, the live feed), the changed files' calendar blocks for that day are rendered while
    they are parsed, across the pool's workers.
    """
    if not enabled:
        return _bypass(root, config, "CRM_NO_INDEX is set")
    try:
        return _open(
            root,
            config,
            now=now,
            rebuild=rebuild,
            progress=progress,
            workers=workers,
            blocks=blocks,
        )
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and is_busy(exc):
            return _bypass(root, config, f"index busy ({exc})")
        # A corrupt or foreign file: it is only a cache, so start again once.
        remove(index_path(root))
        try:
            index = _open(
                root,
                config,
                now=now,
                rebuild=True,
                progress=progress,
                workers=workers,
                blocks=blocks,
            )
        except (sqlite3.Error, OSError) as again:
            return _bypass(root, config, f"index unusable ({again})")
        index.stats.rebuilt = f"index was unreadable ({exc})"
        return index
    except (sqlite3.Error, OSError) as exc:
        return _bypass(root, config, f"index unusable ({exc})")


def _bypass(root: Path, config: Config, why: str) -> Index:
    start = perf_counter()
    vault = load_vault(root, config)
    stats = Stats(
        files=len(vault.customers),
        customers=len(vault.customers),
        problems=len(vault.problems),
        rebuilt=f"bypassed: {why}",
        phases={"parse": perf_counter() - start},
    )
    return Index(root, None, [], stats, plain=vault, config=config)


def _open(
    root: Path,
    config: Config,
    *,
    now: datetime,
    rebuild: bool,
    progress: Progress | None,
    workers: int | None,
    blocks: FeedBlocks | None = None,
) -> Index:
    stats = Stats()
    began = perf_counter()
    conn = connect(index_path(root))
    try:
        stats.rebuilt = prepare(conn, config, rebuild)
        t0 = perf_counter()
        stats.phases["open"] = t0 - began
        racy_after = (now - _EPOCH) // timedelta(microseconds=1) * 1000 - RACY_NS
        found, scan_problems = scan(root, config)
        # Set differences in C: at 100,000 files a Python loop over both sides costs more.
        stored = set(conn.execute("SELECT path, size, mtime_ns FROM files"))
        t1 = perf_counter()
        stats.phases["scan"] = t1 - t0
        current = set(found)
        changed = sorted(
            (current - stored) | {item for item in found if item[1] < 0},
            key=lambda item: path_key(item[0]),
        )
        gone = {rel for rel, _, _ in stored} - {rel for rel, _, _ in found}
        if changed or gone:
            _write(conn, root, config, changed, gone, racy_after, progress, workers, blocks)
        elif conn.in_transaction:
            conn.execute("COMMIT")  # the rebuild of an empty vault
        build, changes = build_of(conn), changes_of(conn)
        t2 = perf_counter()
        stats.phases["parse+write"] = t2 - t1
        stats.files = len(found)
        stats.parsed = len(changed)
        stats.removed = len(gone)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()
        raise
    return Index(root, conn, scan_problems, stats, config=config, build=build, changes=changes)


def _write(
    conn: sqlite3.Connection,
    root: Path,
    config: Config,
    changed: list[tuple[str, int, int]],
    gone: set[str],
    racy_after: int,
    progress: Progress | None,
    workers: int | None,
    blocks: FeedBlocks | None = None,
) -> None:
    """Store the changed rows and drop the deleted ones, all in one transaction (a rebuild's)."""
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE")
    try:
        paths = sorted(gone | {rel for rel, _, _ in changed})
        stale: list[int] = []
        for start in range(0, len(paths), 500):
            names = paths[start : start + 500]
            stale += [
                fid
                for (fid,) in conn.execute(
                    f"SELECT fid FROM files WHERE path IN ({','.join('?' * len(names))})", names
                )
            ]
        for start in range(0, len(stale), 500):
            batch = stale[start : start + 500]
            marks = ",".join("?" * len(batch))
            for table, column in (
                ("files", "fid"),
                ("parts", "fid"),
                ("marks", "fid"),
                ("texts", "fid"),
                ("blocks", "fid"),
            ):
                conn.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", batch)
        insert = (
            "INSERT INTO files (path, size, mtime_ns, cid, id_key, name_key, nick_key, "
            "problems, status, tracked, reach, due, back, noisy_until, loyal_until, newest, last, "
            "away_from, snooze, value, visits, thanked_last, outreach, owed_from, owed_until, owed, rewards) "
            f"VALUES ({', '.join('?' * 27)})"
        )
        day, key = (
            (0, "") if blocks is None else (blocks.day.toordinal(), feed_key(config) + blocks.key)
        )
        rows = parse_changed(root, changed, config, racy_after, progress, workers, blocks=blocks)
        for row in rows:
            fid = conn.execute(
                insert,
                (
                    row.path,
                    row.size,
                    row.mtime_ns,
                    row.cid,
                    None if row.cid is None else row.cid.casefold(),
                    None if row.name is None else row.name.casefold(),
                    None if row.nickname is None else row.nickname.casefold(),
                    row.problems,
                    row.status,
                    row.tracked,
                    row.reach,
                    row.due,
                    row.back,
                    row.noisy_until,
                    row.loyal_until,
                    row.newest,
                    row.last,
                    row.away_from,
                    row.snooze,
                    row.value,
                    row.visits,
                    row.thanked_last,
                    row.outreach,
                    row.owed_from,
                    row.owed_until,
                    row.owed,
                    row.rewards,
                ),
            ).lastrowid
            if row.head is not None and row.rest is not None:
                conn.execute(
                    "INSERT INTO parts (fid, head, rest) VALUES (?, ?, ?)",
                    (fid, row.head, row.rest),
                )
            if row.text is not None:
                conn.execute("INSERT INTO texts (fid, text) VALUES (?, ?)", (fid, row.text))
            if row.marks:
                conn.executemany(
                    "INSERT INTO marks (fid, kind, value) VALUES (?, ?, ?)",
                    [(fid, kind, value) for kind, value in row.marks],
                )
            if row.block is not None:
                conn.execute(INSERT_BLOCK, (fid, day, key, *row.block))
        mark_changed(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
