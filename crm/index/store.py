"""The on-disk cache of a vault (``.crm/index.sqlite``): what changed since last time, and queries.

One row per customer file, keyed by its path relative to the vault, with the size and mtime
it had when parsed, the parsed customer and its problems (JSON, see ``crm.codec``), and
columns that do not depend on today (due date, away, contact cap...). A report asks for
the few customers that can possibly appear in it; only those are decoded, and the pure
functions of ``crm.relations`` then decide exactly as they would over the whole vault.

The index is only ever a cache: a schema, ``crm`` version or config change rebuilds it; a
corrupt file is deleted and rebuilt; a locked or unwritable one is bypassed with a plain
parse. Nothing here is fatal.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePath, PurePosixPath
from time import perf_counter
from typing import Any, TypeVar

from crm import __version__
from crm.core.config import Config
from crm.core.model import Customer, Problem
from crm.index import codec
from crm.index.rows import (
    DAY,
    MMDD,
    BlockRenderer,
    FeedBlocks,
    Progress,
    parse_changed,
)
from crm.rules.search import haystack
from crm.vault.files import path_key, scan
from crm.vault.load import Vault, assemble, duplicate_ids, duplicate_problem, load_vault
from crm.vault.reader import problem_order

__all__ = [
    "BlockRenderer",
    "Facets",
    "FeedBlocks",
    "Index",
    "Stats",
    "StoredBlock",
    "facets",
    "feed_key",
    "index_path",
    "open_index",
    "parse_changed",
    "path_key",
    "scan",
]

SCHEMA = 9
INDEX_DIR = ".crm"
INDEX_NAME = "index.sqlite"
# The meta key of a token each rebuild writes: a reader notices when the index was rebuilt under it.
BUILD = "build"
BUSY_SECONDS = 10.0
# A file modified this close to the scan may change again within the same mtime tick;
# it is stored as unknown so that the next run parses it again (git's "racy clean" rule).
RACY_NS = 2_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_loads = json.loads
INSERT_BLOCK = (
    "INSERT OR REPLACE INTO blocks (fid, day, key, name, timed, events, tags, segment, status, "
    "company) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

_TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    fid INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    cid TEXT,
    id_key TEXT,
    name_key TEXT,
    data TEXT,
    problems TEXT NOT NULL,
    status TEXT,
    tracked INTEGER NOT NULL DEFAULT 0,
    due INTEGER,
    back INTEGER,
    noisy_until INTEGER,
    loyal_until INTEGER,
    winback INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX files_stat ON files (path, size, mtime_ns);
CREATE INDEX files_cid ON files (cid);
CREATE INDEX files_id_key ON files (id_key);
CREATE INDEX files_name_key ON files (name_key);
CREATE INDEX files_due ON files (tracked, due);
CREATE INDEX files_back ON files (tracked, back);
CREATE INDEX files_noisy ON files (noisy_until);
CREATE INDEX files_loyal ON files (loyal_until);
CREATE INDEX files_winback ON files (winback);
CREATE INDEX files_problems ON files (fid) WHERE problems != '[]';
CREATE TABLE marks (fid INTEGER NOT NULL, kind INTEGER NOT NULL, value INTEGER NOT NULL);
CREATE INDEX marks_value ON marks (kind, value, fid);
CREATE INDEX marks_fid ON marks (fid);
CREATE TABLE fts_done (fid INTEGER PRIMARY KEY);
CREATE TABLE blocks (
    fid INTEGER NOT NULL,
    day INTEGER NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    timed INTEGER NOT NULL,
    events BLOB NOT NULL,
    tags TEXT NOT NULL,
    segment TEXT,
    status TEXT NOT NULL,
    company TEXT
);
CREATE UNIQUE INDEX blocks_key ON blocks (day, key, fid);
CREATE INDEX blocks_fid ON blocks (fid);
CREATE VIRTUAL TABLE fts USING fts5 (text, tokenize = 'trigram', detail = 'none');
"""


# Stored rows, columns and calendar blocks are computed by these modules: the blocks by the
# feed's renderer, which the index is handed and never imports, but whose code it stores.
CODE_PACKAGES = ("core", "vault", "rules", "index", "feed")
# One customer's calendar block as stored: name (casefolded), timed, the feed's opaque bytes.
StoredBlock = tuple[str, bool, bytes]


@dataclass
class Stats:
    """What one refresh found and did, with seconds per phase."""

    files: int = 0
    customers: int = 0
    problems: int = 0
    parsed: int = 0
    removed: int = 0
    rebuilt: str | None = None
    phases: dict[str, float] = field(default_factory=dict)


def index_path(root: Path) -> Path:
    """Return where the index of the vault at ``root`` lives."""
    return root / INDEX_DIR / INDEX_NAME


M = TypeVar("M", bound=Callable[..., Any])


class Replaced(sqlite3.OperationalError):
    """The index was rebuilt or dropped by another process while this one was reading it."""


def _or_plain(method: M) -> M:
    """Answer from one snapshot of the index, or from a plain parse when the database fails
    mid-command (damaged pages, I/O) or another crm rebuilt it meanwhile.
    """

    @functools.wraps(method)
    def wrapper(self: Index, *args: Any, **kwargs: Any) -> Any:
        try:
            with self._snapshot():
                return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            self.fall_back(exc)
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class Index:
    """An up-to-date view of one vault, answered from the index (or from a plain parse)."""

    def __init__(
        self,
        root: Path,
        conn: sqlite3.Connection | None,
        scan_problems: list[Problem],
        stats: Stats,
        plain: Vault | None = None,
        config: Config | None = None,
        build: str | None = None,
    ) -> None:
        self.root = root
        self.config = config
        self.conn = conn
        self.scan_problems = scan_problems
        self.stats = stats
        self._plain = plain
        self._vault: Vault | None = plain
        self._losers: set[int] | None = None
        self._build = build

    @property
    def bypassed(self) -> bool:
        """Return True when the index could not be used and the vault was parsed directly."""
        return self._plain is not None

    def close(self) -> None:
        """Close the database connection."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def fall_back(self, exc: sqlite3.DatabaseError) -> None:
        """Drop the database for this command and parse the vault; a damaged file is deleted."""
        self.close()
        sound = isinstance(exc, Replaced) or (
            isinstance(exc, sqlite3.OperationalError) and _is_busy(exc)
        )
        if not sound:
            _remove(index_path(self.root))  # only a cache: the next command rebuilds it
        self._plain = self._vault = load_vault(self.root, self.config or Config())
        self.stats.rebuilt = f"bypassed: index failed ({exc})"

    def _db(self) -> sqlite3.Connection:
        assert self.conn is not None
        return self.conn

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Hold one read transaction, so that every query of one answer sees the same index.

        Raises ``Replaced`` when the index is no longer the build this one opened: another crm
        rebuilt it (its row ids now mean other files) or dropped its tables.
        """
        db = self.conn
        if db is None or db.in_transaction:
            yield
            return
        db.execute("BEGIN")
        try:
            if _build_of(db) != self._build:
                raise Replaced("rebuilt by another crm meanwhile")
            yield
        finally:
            with contextlib.suppress(sqlite3.Error):
                db.execute("COMMIT")  # it only read: nothing to lose

    @_or_plain
    def vault(self) -> Vault:
        """Return every customer and problem, exactly as ``load_vault`` would."""
        if self._vault is None:
            rows = self._db().execute("SELECT path, data, problems FROM files").fetchall()
            rows.sort(key=lambda r: path_key(r[0]))
            parsed = (self._decode(path, data, problems) for path, data, problems in rows)
            self._vault = assemble(self.root, parsed, self.scan_problems)
        return self._vault

    def _decode(
        self, rel: str, data: str | None, problems: str
    ) -> tuple[Customer | None, list[Problem]]:
        path = self.root / rel
        customer = None if data is None else codec.decode_customer(data, path)
        return customer, codec.decode_problems(problems, path)

    def _duplicates(self) -> tuple[set[int], list[Problem]]:
        """Return the rows that lose an id clash (the first path wins) and their problems."""
        rows = self._db().execute(
            "SELECT fid, path, cid FROM files WHERE cid IN "
            "(SELECT cid FROM files WHERE cid IS NOT NULL GROUP BY cid HAVING COUNT(*) > 1)"
        )
        fid_of: dict[str, int] = {}
        claims: list[tuple[str, PurePath]] = []
        for fid, rel, cid in rows:
            fid_of[rel] = fid
            claims.append((cid, PurePosixPath(rel)))
        losers: set[int] = set()
        problems: list[Problem] = []
        for loser, cid, owner in duplicate_ids(claims):
            losers.add(fid_of[loser.as_posix()])
            problems.append(duplicate_problem(self.root / loser, cid, owner))
        return losers, problems

    @_or_plain
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

    @_or_plain
    def count(self) -> int:
        """Return the number of customers in the vault."""
        if self._vault is not None:
            return len(self._vault.customers)
        (n,) = self._db().execute("SELECT COUNT(*) FROM files WHERE cid IS NOT NULL").fetchone()
        return int(n) - len(self._loser_ids())

    def _loser_ids(self) -> set[int]:
        if self._losers is None:
            self._losers = self._duplicates()[0]
        return self._losers

    def _fids(self, sql: str, params: Iterable[Any] = ()) -> set[int]:
        return {fid for (fid,) in self._db().execute(sql, tuple(params))}

    def _customers(self, fids: Iterable[int]) -> list[Customer]:
        """Return the customers of the rows ``fids`` (duplicates left out), in vault order."""
        wanted = sorted(set(fids) - self._loser_ids())
        found: list[Customer] = []
        db = self._db()
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            found.extend(
                codec.decode_customer(data, self.root / rel)
                for rel, data in db.execute(
                    "SELECT path, data FROM files WHERE data IS NOT NULL "
                    f"AND fid IN ({','.join('?' * len(batch))})",
                    batch,
                )
            )
        found.sort(key=lambda c: (c.name.casefold(), c.id))
        return found

    def _all_fids(self) -> set[int]:
        return self._fids("SELECT fid FROM files WHERE cid IS NOT NULL")

    @_or_plain
    def candidates(
        self,
        today: date,
        *,
        overdue: bool = False,
        due_today: bool = False,
        upcoming_days: int | None = None,
        noisy: bool = False,
        loyalty: bool = False,
    ) -> list[Customer]:
        """Return, in vault order, every customer who may appear in the chosen reports on ``today``.

        A superset: the reports still decide with ``crm.relations``, so their results are
        exactly those over the whole vault. Each question is one indexed query.
        """
        if self._vault is not None:
            return list(self._vault.customers)
        t = today.toordinal()
        fids: set[int] = set()
        if overdue:
            fids |= self._fids(
                "SELECT fid FROM files WHERE tracked = 1 AND (due IS NULL OR due < ?)", [t]
            )
        if due_today:
            fids |= self._fids(f"SELECT fid FROM marks WHERE kind = {DAY} AND value = ?", [t])
        if upcoming_days is not None:
            end = today + timedelta(days=upcoming_days)
            if upcoming_days >= 366:
                fids |= self._all_fids()
            else:
                mmdd = ",".join(map(str, sorted(_month_days(today, end))))
                fids |= self._fids(
                    f"SELECT fid FROM marks WHERE kind = {MMDD} AND value IN ({mmdd}) "
                    f"UNION SELECT fid FROM marks WHERE kind = {DAY} AND value BETWEEN ? AND ?",
                    [t, end.toordinal()],
                )
        if noisy:
            fids |= self._fids("SELECT fid FROM files WHERE noisy_until >= ?", [t])
        if loyalty:
            # With the thresholds of crm.toml: agenda's "Say thank you" and "Worth winning back".
            fids |= self._fids("SELECT fid FROM files WHERE loyal_until >= ?", [t])
            fids |= self._fids("SELECT fid FROM files WHERE winback = 1")
        return self._customers(fids)

    @_or_plain
    def named(self, name: str) -> list[Customer]:
        """Return, in vault order, the customers whose id or name starts with ``name`` (casefolded).

        That covers every customer ``crm.index.collection.resolve`` can pick for ``name``.
        """
        if self._vault is not None:
            return list(self._vault.customers)
        low = name.casefold()
        if not low or low[-1] == "\U0010ffff":
            return self._customers(self._all_fids())
        high = low[:-1] + chr(ord(low[-1]) + 1)
        return self._customers(
            self._fids(
                "SELECT fid FROM files WHERE id_key >= ?1 AND id_key < ?2 "
                "UNION SELECT fid FROM files WHERE name_key >= ?1 AND name_key < ?2",
                [low, high],
            )
        )

    def search(self, words: Sequence[str]) -> list[Customer]:
        """Return, in vault order, the customers whose text may contain every word (a superset)."""
        grams = sorted({w[i : i + 3] for w in words for i in range(len(w) - 2)})
        if grams and self._vault is None:
            try:
                self._sync_fts()  # a write: before the read snapshot of _matching
            except sqlite3.DatabaseError as exc:
                self.fall_back(exc)
        return self._matching(grams)

    @_or_plain
    def _matching(self, grams: list[str]) -> list[Customer]:
        if self._vault is not None:
            return list(self._vault.customers)
        if not grams:
            return self._customers(self._all_fids())
        query = " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)
        return self._customers(self._fids("SELECT rowid FROM fts WHERE fts MATCH ?", [query]))

    def _sync_fts(self) -> None:
        """Bring the full-text table up to date; it is filled on first use, not by every build."""
        db = self._db()
        unfilled = "SELECT fid FROM files WHERE cid IS NOT NULL EXCEPT SELECT fid FROM fts_done"
        if not self._fids(unfilled):
            return
        try:
            db.execute("BEGIN IMMEDIATE")
            if _build_of(db) != self._build:
                raise Replaced("rebuilt by another crm meanwhile")
            # Again under the write lock: another crm may have filled it meanwhile.
            missing = sorted(self._fids(unfilled))
            # In batches: at 100,000 customers the whole table would not fit in memory at once.
            for start in range(0, len(missing), 500):
                batch = missing[start : start + 500]
                for fid, rel, data in db.execute(
                    f"SELECT fid, path, data FROM files WHERE fid IN ({','.join('?' * len(batch))})",
                    batch,
                ).fetchall():
                    text = haystack(codec.decode_customer(data, self.root / rel))
                    db.execute("INSERT INTO fts (rowid, text) VALUES (?, ?)", (fid, text))
                    db.execute("INSERT INTO fts_done (fid) VALUES (?)", (fid,))
            db.execute("COMMIT")
        except sqlite3.Error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

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
        day, key = blocks.day.toordinal(), feed_key(config)
        db = self._db()
        with self._snapshot():
            losers = self._loser_ids()
            missing = sorted(
                self._fids(
                    "SELECT fid FROM files WHERE cid IS NOT NULL "
                    "EXCEPT SELECT fid FROM blocks WHERE day = ? AND key = ?",
                    [day, key],
                )
                - losers
            )
            # Read every stored block before writing any: a cursor must not see its own inserts.
            for fid, name, timed, events, tags, segment, status, company in db.execute(
                "SELECT fid, name, timed, events, tags, segment, status, company FROM blocks "
                "WHERE day = ? AND key = ?",
                (day, key),
            ):
                if fid in losers:
                    continue
                if keep is None or keep(Facets(tuple(_loads(tags)), segment, status, company)):
                    yield name, bool(timed), events
        storing = self._prune_blocks(day, key) if missing else False
        for start in range(0, len(missing), 500):
            batch = missing[start : start + 500]
            rows: list[tuple[Any, ...]] = []
            with self._snapshot():
                found = db.execute(
                    f"SELECT fid, path, data FROM files WHERE fid IN ({','.join('?' * len(batch))})",
                    batch,
                ).fetchall()
            for fid, rel, data in found:
                c = codec.decode_customer(data, self.root / rel)
                name, timed, events = render(c, config, blocks.day)
                rows.append(
                    (fid, day, key, name, int(timed), events)
                    + (codec.dumps(list(c.tags)), c.segment, c.status, c.company)
                )
                if keep is None or keep(facets(c)):
                    yield name, timed, events
            if storing:
                storing = self._store_blocks(rows)

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
            if _build_of(db) != self._build:
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
    """What the feed's filters (--tag/--segment/--status/--company) look at in a customer."""

    tags: tuple[str, ...]
    segment: str | None
    status: str
    company: str | None


def facets(c: Customer) -> Facets:
    """Return what the feed's filters look at in ``c``."""
    return Facets(c.tags, c.segment, c.status, c.company)


def feed_key(config: Config) -> str:
    """Return a short key of the whole config: every setting may change a rendered event."""
    return hashlib.sha256(repr(config).encode()).hexdigest()[:16]


def _month_days(start: date, end: date) -> set[int]:
    """Return month*100+day of every day in [start, end], with Feb 29 when it is observed then."""
    found = set()
    day = start
    while day <= end:
        found.add(day.month * 100 + day.day)
        day += timedelta(days=1)
    if 228 in found or 301 in found:
        found.add(229)
    return found


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
        if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
            return _bypass(root, config, f"index busy ({exc})")
        # A corrupt or foreign file: it is only a cache, so start again once.
        _remove(index_path(root))
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


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


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


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        # Missing, a folder, or no permission: then the next open fails too, and is bypassed.
        with contextlib.suppress(OSError):
            os.unlink(f"{path}{suffix}")


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(exist_ok=True)
    ignore = path.parent / ".gitignore"
    if not ignore.exists():
        # Like .pytest_cache: git ignores the folder even in a vault without a .gitignore.
        ignore.write_text("*\n", encoding="utf-8")
    conn = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _fingerprint(config: Config) -> dict[str, str]:
    # Only the settings the stored columns depend on: a new feed name needs no rebuild.
    used = (
        config.default_cadence,
        config.default_max_contacts,
        config.cadence_by_tag,
        config.outreach_kinds,
        config.loyalty,
    )
    return {
        "schema": str(SCHEMA),
        "crm": __version__,
        "code": _code_hash(),
        "config": repr(used),
    }


@functools.cache
def _code_hash() -> str:
    """Return a hash of the modules whose output the index stores: new parsing code, new index."""
    package = Path(__file__).parent.parent
    digest = hashlib.sha256()
    for name in CODE_PACKAGES:
        for module in sorted((package / name).glob("*.py")):
            digest.update(module.read_bytes())
    return digest.hexdigest()[:16]


def _meta(conn: sqlite3.Connection) -> dict[str, str]:
    """Return the stored meta rows, or {} when there is no index yet."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    return dict(conn.execute("SELECT key, value FROM meta").fetchall()) if exists else {}


def _current(have: dict[str, str], want: dict[str, str]) -> bool:
    return all(have.get(k) == v for k, v in want.items())


def _prepare(conn: sqlite3.Connection, config: Config, rebuild: bool) -> str | None:
    """Make the schema current; return why it was (re)built, or None when it was kept.

    A rebuild leaves its write transaction open: the caller fills the new tables in it, so that
    another process sees the old index or the new one, never empty tables.
    """
    want = _fingerprint(config)
    if not rebuild and _current(_meta(conn), want):
        return None
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Decided again under the write lock: another crm may have built it while this one waited.
        have = _meta(conn)
        if not rebuild and _current(have, want):
            conn.execute("COMMIT")
            return None
        reason = (
            "rebuild requested"
            if rebuild
            else "new index"
            if not have
            else "schema or crm version changed"
            if any(have.get(k) != want[k] for k in ("schema", "crm", "code"))
            else "crm.toml changed"
        )
        for name in ("meta", "files", "marks", "fts_done", "fts", "blocks"):
            conn.execute(f"DROP TABLE IF EXISTS {name}")
        for statement in _TABLES.split(";"):
            if statement.strip():
                conn.execute(statement)
        build = {BUILD: secrets.token_hex(8)}
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", (want | build).items())
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return reason


def _build_of(conn: sqlite3.Connection) -> str | None:
    """Return the token of the build the index holds; None when it has none (or no meta table)."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (BUILD,)).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    return None if row is None else str(row[0])


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
    conn = _connect(index_path(root))
    try:
        stats.rebuilt = _prepare(conn, config, rebuild)
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
        build = _build_of(conn)
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
    return Index(root, conn, scan_problems, stats, config=config, build=build)


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
                ("marks", "fid"),
                ("fts_done", "fid"),
                ("fts", "rowid"),
                ("blocks", "fid"),
            ):
                conn.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", batch)
        insert = (
            "INSERT INTO files (path, size, mtime_ns, cid, id_key, name_key, data, problems, status, "
            "tracked, due, back, noisy_until, loyal_until, winback) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        day, key = (0, "") if blocks is None else (blocks.day.toordinal(), feed_key(config))
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
                    row.data,
                    row.problems,
                    row.status,
                    row.tracked,
                    row.due,
                    row.back,
                    row.noisy_until,
                    row.loyal_until,
                    row.winback,
                ),
            ).lastrowid
            if row.marks:
                conn.executemany(
                    "INSERT INTO marks (fid, kind, value) VALUES (?, ?, ?)",
                    [(fid, kind, value) for kind, value in row.marks],
                )
            if row.block is not None:
                conn.execute(INSERT_BLOCK, (fid, day, key, *row.block))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
