"""The on-disk cache of a vault (``.crm/index.sqlite``): what changed since last time, and queries.

One row per customer file, keyed by its path relative to the vault, with the size and mtime
it had when parsed, the parsed customer and its problems (JSON, see ``crm.index.codec``), and
columns that do not depend on today (due date, away, contact cap...). A report asks for
the few customers that can possibly appear in it; only those are decoded, and the pure
functions of ``crm.rules`` then decide exactly as they would over the whole vault.

The index is only ever a cache: a schema, ``crm`` version or config change rebuilds it
(``crm.index.schema``); a corrupt file is deleted and rebuilt, a locked or unwritable one is
bypassed with a plain parse (``crm.index.build``, ``crm.index.base``). Nothing here is fatal.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence, Set
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from crm.core.config import Config
from crm.core.model import Address, Customer, Problem
from crm.index import codec
from crm.index.base import or_plain
from crm.index.owed import Owing
from crm.index.reports import Reports
from crm.index.rows import (
    BlockRenderer,
    FeedBlocks,
)
from crm.index.schema import build_of, changes_of, feed_key
from crm.rules.search import matches
from crm.vault.files import path_key
from crm.vault.load import Vault, assemble
from crm.vault.reader import problem_order

__all__ = ["BlockRenderer", "Facets", "FeedBlocks", "Index", "StoredBlock", "facets"]

_loads = json.loads
INSERT_BLOCK = (
    "INSERT OR REPLACE INTO blocks (fid, day, key, name, timed, events, tags, segment, status, "
    "company, address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

# One customer's calendar block as stored: name (casefolded), timed, the feed's opaque bytes.
StoredBlock = tuple[str, bool, bytes]


class Index(Reports, Owing):
    """An up-to-date view of one vault, answered from the index (or from a plain parse)."""

    @or_plain
    def vault(self) -> Vault:
        """Return every customer and problem, exactly as ``load_vault`` would."""
        if self._vault is None:
            rows = (
                self._db()
                .execute("SELECT path, head, rest, problems FROM files LEFT JOIN parts USING (fid)")
                .fetchall()
            )
            rows.sort(key=lambda r: path_key(r[0]))
            parsed = (self._decode(*row) for row in rows)
            self._vault = assemble(self.root, parsed, self.scan_problems)
        return self._vault

    @or_plain
    def picked(
        self, today: date, keep: Callable[[Sequence[Customer]], Sequence[Customer]]
    ) -> list[Customer]:
        """Return, whole and in vault order, the customers ``keep`` picks from every customer.

        ``keep`` sees briefs (``codec.decode_brief``) on ``today``, 500 at a time, returns
        some of the very objects it was given, and must pick as it would from whole customers
        (by fields and the rhythm's rules): only those it picks are decoded whole.
        """
        if self._vault is not None:
            return list(keep(self._vault.customers))
        fids = sorted(self._all_fids())
        wanted: set[int] = set()
        for start in range(0, len(fids), 500):
            briefs = self._by_fid(fids[start : start + 500], brief_on=today.toordinal())
            row_of = {id(c): fid for fid, c in briefs.items()}
            ordered = sorted(briefs.values(), key=lambda c: (c.name.casefold(), c.id))
            wanted |= {row_of[id(c)] for c in keep(ordered)}
        return self._customers(wanted)

    @or_plain
    def problems(self) -> list[Problem]:
        """Return every problem of the vault, sorted by file and line, as ``load_vault`` would."""
        if self._vault is not None:
            return list(self._vault.problems)
        found = list(self.scan_problems)
        for rel, text in self._db().execute(
            "SELECT path, problems FROM files WHERE problems != '[]'"
        ):
            found.extend(codec.decode_problems(text, self.root / rel))
        losers, clashes = self._duplicates()
        self._losers = losers
        found.extend(clashes)
        found.sort(key=problem_order)
        return found

    @or_plain
    def problems_in(self, path: Path) -> list[Problem]:
        """Return the stored problems of the one file at ``path``, by line."""
        if self._vault is not None:
            return [p for p in self._vault.problems if p.location.path == path]
        rel = path.relative_to(self.root).as_posix()
        row = self._db().execute("SELECT problems FROM files WHERE path = ?", (rel,)).fetchone()
        return [] if row is None else codec.decode_problems(row[0], path)

    @or_plain
    def count(self) -> int:
        """Return the number of customers in the vault."""
        if self._vault is not None:
            return len(self._vault.customers)
        (n,) = self._db().execute("SELECT COUNT(*) FROM files WHERE cid IS NOT NULL").fetchone()
        return int(n)

    @or_plain
    def with_ids(self, wanted: Set[str]) -> dict[str, Customer]:
        """Return the customers whose id is one of ``wanted`` (exactly), by id: a campaign's
        drafts name theirs."""
        if self._vault is not None:
            return {c.id: c for c in self._vault.customers if c.id in wanted}
        keys, fids = sorted(wanted), set(self._renamed())
        for at in range(0, len(keys), 500):  # SQLite's limit of parameters per statement
            batch = keys[at : at + 500]
            marks = ",".join("?" * len(batch))
            fids |= self._fids(f"SELECT fid FROM files WHERE cid IN ({marks})", batch)
        return {c.id: c for c in self._customers(fids) if c.id in wanted}

    @or_plain
    def named(self, name: str) -> list[Customer]:
        """Return, in vault order, the customers whose id, name or nickname starts with ``name``.

        That covers every customer ``crm.index.collection.resolve`` can pick for ``name``.
        """
        if self._vault is not None:
            return list(self._vault.customers)
        low = name.casefold()
        if not low or low[-1] == "\U0010ffff":
            return self._customers(self._all_fids())
        high = low[:-1] + chr(ord(low[-1]) + 1)
        # A file that lost an id clash is stored under the id it claims, not the one it has.
        return self._customers(
            self._fids(
                "SELECT fid FROM files WHERE id_key >= ?1 AND id_key < ?2 "
                "UNION SELECT fid FROM files WHERE name_key >= ?1 AND name_key < ?2 "
                "UNION SELECT fid FROM files WHERE nick_key >= ?1 AND nick_key < ?2",
                [low, high],
            )
            | set(self._renamed())
        )

    @or_plain
    def search(self, text: str) -> list[Customer]:
        """Return, in vault order, the customers whose text contains every word of ``text``
        (``rules.search.matches``), as briefs: enough for the rows ``crm search`` prints.

        The stored case-folded text is searched by SQLite (``instr``, a substring test on
        the same characters); no full-text index is built, so the first search is as fast as
        any other. A file that lost an id clash is searched as it reads under its new id.
        """
        if self._vault is not None:
            return [c for c in self._vault.customers if matches(c, text)]
        words = text.casefold().split()
        where = " AND ".join("instr(text, ?) > 0" for _ in words) or "1"
        losers = self._renamed()
        found = self._fids(f"SELECT fid FROM texts WHERE {where}", words) - set(losers)
        found |= {fid for fid, c in self._by_fid(losers).items() if matches(c, text)}
        return self._customers(found, brief_on=date.max.toordinal())

    def feed_parts(
        self, config: Config, blocks: FeedBlocks, keep: Callable[[Facets], bool] | None = None
    ) -> Iterator[StoredBlock]:
        """Yield the calendar block of every customer ``keep`` accepts (None: all) on the day.

        Blocks stored for ``blocks.day`` and this config come straight from the table; only
        the other customers are decoded and rendered with ``blocks.render`` (a batch at a
        time, so that memory stays flat), then stored for the next run. The order does not
        matter: the feed sorts every event on its day, kind, customer name and UID.
        """
        render = blocks.render
        if self._vault is not None:
            for c in self._vault.customers:
                if keep is None or keep(facets(c)):
                    yield render(c, config, blocks.day)
            return
        day, key = blocks.day.toordinal(), feed_key(config) + blocks.key
        db = self._db()
        with self._snapshot():
            # A file that lost an id clash has its UIDs from the id it got, which depends on
            # other files: its block is rendered afresh each time and never stored.
            losers = set(self._renamed())
            missing = sorted(
                self._fids(
                    "SELECT fid FROM files WHERE cid IS NOT NULL "
                    "EXCEPT SELECT fid FROM blocks WHERE day = ? AND key = ?",
                    [day, key],
                )
                - losers
            )
            # Read every stored block before writing any: a cursor must not see its own inserts.
            for fid, name, timed, events, *facet in db.execute(
                f"SELECT fid, name, timed, events, {codec.FACET_COLUMNS} FROM blocks "
                "WHERE day = ? AND key = ?",
                (day, key),
            ):
                if fid in losers:
                    continue
                if keep is None or keep(Facets(*codec.decode_facets(*facet))):
                    yield name, bool(timed), events
            for c in self._customers(losers):
                if keep is None or keep(facets(c)):  # before rendering: most are filtered out
                    yield render(c, config, blocks.day)
        storing = self._prune_blocks(day, key) if missing else False
        for start in range(0, len(missing), 500):
            batch = missing[start : start + 500]
            rows: list[tuple[Any, ...]] = []
            with self._snapshot():
                found = db.execute(
                    "SELECT fid, path, head, rest FROM files JOIN parts USING (fid) "
                    f"WHERE fid IN ({','.join('?' * len(batch))})",
                    batch,
                ).fetchall()
            for fid, rel, head, rest in found:
                c = codec.decode_parts(head, rest, self.root / rel)
                name, timed, events = render(c, config, blocks.day)
                rows.append((fid, day, key, name, int(timed), events, *codec.encode_facets(c)))
                if keep is None or keep(facets(c)):
                    yield name, timed, events
            if storing:
                storing = self._store_blocks(rows)

    @or_plain
    def stored_feed(self, day: date, key: str) -> bytes | None:
        """Return the whole feed ``store_feed`` kept under ``key`` for ``day``, when no file
        has changed since (None: render it)."""
        if self._vault is not None:
            return None
        db = self._db()
        with self._snapshot():  # the row and its bytes from one state of the index
            row = db.execute(
                "SELECT rowid FROM feeds WHERE key = ? AND day = ? AND changes = ?",
                (key, day.toordinal(), self._changes),
            ).fetchone()
            if row is None:
                return None
            with db.blobopen("feeds", "data", row[0], readonly=True) as blob:
                return blob.read()  # straight into one bytes object: the feed may be 80 MB

    def store_feed(self, day: date, key: str, data: bytes) -> None:
        """Keep the whole feed of ``day`` under ``key`` (the config, filters...) until a file
        changes; the feeds of other days or states are dropped."""
        if self._vault is not None:
            return
        t = day.toordinal()

        def store(db: sqlite3.Connection) -> None:
            if changes_of(db) != self._changes:
                return  # files changed since this index was opened: the feed is stale already
            db.execute("DELETE FROM feeds WHERE day != ? OR changes != ?", (t, self._changes))
            rowid = db.execute(
                "INSERT OR REPLACE INTO feeds (key, day, changes, data) "
                "VALUES (?, ?, ?, zeroblob(?))",
                (key, t, self._changes, len(data)),
            ).lastrowid
            assert rowid is not None  # an INSERT always sets it
            # Written a megabyte at a time, so SQLite holds no second copy of a big feed.
            view = memoryview(data)
            with db.blobopen("feeds", "data", rowid) as blob:
                for start in range(0, len(data), 1 << 20):
                    blob.write(view[start : start + (1 << 20)])

        self._in_transaction(store)

    def _prune_blocks(self, day: int, key: str) -> bool:
        """Drop the blocks of other days or configs; return False when the index cannot be written."""
        return self._in_transaction(
            lambda db: (
                db.execute("DELETE FROM blocks WHERE day != ? OR key != ?", (day, key)).rowcount
            )
        )

    def _store_blocks(self, rows: list[tuple[Any, ...]]) -> bool:
        """Store freshly rendered blocks; return False when the index cannot be written."""
        return self._in_transaction(lambda db: db.executemany(INSERT_BLOCK, rows).rowcount)

    def _in_transaction(self, work: Callable[[sqlite3.Connection], object]) -> bool:
        # The blocks are only a cache: a busy or read-only index just means rendering again.
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            if build_of(db) != self._build:
                db.execute("ROLLBACK")  # rebuilt meanwhile: these rows would name other files
                return False
            work(db)
            db.execute("COMMIT")
        except sqlite3.Error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            return False
        return True


@dataclass(frozen=True, slots=True)
class Facets:
    """What the feed's filters (``CustomerFilter``) look at in a customer."""

    tags: tuple[str, ...]
    segment: str | None
    status: str
    company: str | None
    address: Address | None


def facets(c: Customer) -> Facets:
    """Return what the feed's filters look at in ``c``."""
    return Facets(c.tags, c.segment, c.status, c.company, c.address)
