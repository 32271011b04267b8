"""The index file itself: where it lives, its tables, and whether it is current.

The schema records what the stored rows were computed with (schema number, crm version, a
hash of the code, the settings the columns depend on); any change rebuilds the index. Each
rebuild writes a build token, so a reader notices when another crm rebuilt it underneath.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import secrets
import sqlite3
import time
from pathlib import Path

from crm import __version__
from crm.core.config import Config

SCHEMA = 17
INDEX_DIR = ".crm"
INDEX_NAME = "index.sqlite"
# The meta key of a token each rebuild writes: a reader notices when the index was rebuilt under it.
BUILD = "build"
# The meta key of a token each write of changed files sets: a stored whole feed names the one
# it was made with, so that any change since (by this crm or another) makes it stale.
CHANGES = "changes"
BUSY_SECONDS = 10.0
TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    fid INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    cid TEXT,
    id_key TEXT,
    name_key TEXT,
    nick_key TEXT,
    problems TEXT NOT NULL,
    status TEXT,
    tracked INTEGER NOT NULL DEFAULT 0,
    reach INTEGER NOT NULL DEFAULT 1,
    due INTEGER,
    back INTEGER,
    noisy_until INTEGER,
    loyal_until INTEGER,
    newest INTEGER,
    last INTEGER,
    away_from INTEGER,
    snooze INTEGER,
    value REAL,
    visits TEXT,
    thanked_last INTEGER,
    outreach TEXT,
    owed_from INTEGER,
    owed_until INTEGER,
    owed TEXT,
    rewards TEXT
);
CREATE INDEX files_stat ON files (path, size, mtime_ns);
CREATE INDEX files_cid ON files (cid);
CREATE INDEX files_id_key ON files (id_key);
CREATE INDEX files_name_key ON files (name_key);
CREATE INDEX files_nick_key ON files (nick_key) WHERE nick_key IS NOT NULL;
CREATE INDEX files_due ON files (tracked, due);
CREATE INDEX files_back ON files (tracked, back);
CREATE INDEX files_noisy ON files (noisy_until);
CREATE INDEX files_loyal ON files (loyal_until);
CREATE INDEX files_lost ON files (status, value) WHERE status = 'lost';
CREATE INDEX files_problems ON files (fid) WHERE problems != '[]';
CREATE INDEX files_last ON files (last) WHERE last IS NOT NULL;
CREATE INDEX files_owed ON files (owed_from) WHERE owed_from IS NOT NULL;
CREATE INDEX files_rewards ON files (fid) WHERE rewards IS NOT NULL;
CREATE TABLE parts (fid INTEGER PRIMARY KEY, head TEXT NOT NULL, rest BLOB NOT NULL);
CREATE TABLE marks (fid INTEGER NOT NULL, kind INTEGER NOT NULL, value INTEGER NOT NULL);
CREATE INDEX marks_value ON marks (kind, value, fid);
CREATE INDEX marks_fid ON marks (fid);
CREATE TABLE texts (fid INTEGER PRIMARY KEY, text TEXT NOT NULL);
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
    company TEXT,
    address TEXT
);
CREATE UNIQUE INDEX blocks_key ON blocks (day, key, fid);
CREATE INDEX blocks_fid ON blocks (fid);
CREATE TABLE feeds (
    key TEXT PRIMARY KEY,
    day INTEGER NOT NULL,
    changes TEXT NOT NULL,
    data BLOB NOT NULL
);
"""
# Every table a rebuild drops and creates again, as TABLES names them.
_TABLE_NAMES = tuple(re.findall(r"^CREATE TABLE (\w+)", TABLES, re.MULTILINE))
# The full-text tables of indexes before schema 12, dropped when such an index is rebuilt.
_RETIRED_TABLES = ("fts_done", "fts")


# Stored rows, columns and calendar blocks are computed by these modules: the blocks by the
# feed's renderer, which the index is handed and never imports, but whose code it stores.
CODE_PACKAGES = ("core", "vault", "rules", "index", "feed")


def index_path(root: Path) -> Path:
    """Return where the index of the vault at ``root`` lives."""
    return root / INDEX_DIR / INDEX_NAME


def feed_key(config: Config) -> str:
    """Return a short key of the whole config: every setting may change a rendered event."""
    return hashlib.sha256(repr(config).encode()).hexdigest()[:16]


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Return True when the database error says another process holds the index."""
    text = str(exc)
    return "locked" in text or "busy" in text


def remove(path: Path) -> None:
    """Delete the index file and its WAL companions; it is only a cache."""
    for suffix in ("", "-wal", "-shm"):
        # Missing, a folder, or no permission: then the next open fails too, and is bypassed.
        with contextlib.suppress(OSError):
            os.unlink(f"{path}{suffix}")


def connect(path: Path) -> sqlite3.Connection:
    """Return a connection to the index at ``path`` (WAL mode), creating its folder."""
    path.parent.mkdir(exist_ok=True)
    ignore = path.parent / ".gitignore"
    if not ignore.exists():
        # Like .pytest_cache: git ignores the folder even in a vault without a .gitignore.
        ignore.write_text("*\n", encoding="utf-8")
    conn = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
    try:
        _use_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def _use_wal(conn: sqlite3.Connection) -> None:
    """Put the index in WAL mode, waiting up to ``BUSY_SECONDS`` for other processes.

    SQLite runs no busy handler for ``journal_mode = WAL`` (it needs the file to itself), so
    several crm opening a new index at once would fail at once; the mode is kept in the file,
    so an index already in WAL mode needs no lock at all.
    """
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal":
                return
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() > deadline:
                raise
        else:
            if time.monotonic() > deadline:
                raise sqlite3.OperationalError("database is locked (could not switch to WAL)")
        time.sleep(0.01)


def _fingerprint(config: Config) -> dict[str, str]:
    # Only the settings the stored columns depend on: a new feed name needs no rebuild.
    used = (
        config.default_cadence,
        config.default_max_contacts,
        config.cadence_by_tag,
        config.kinds,
        config.loyalty,
        config.rewards,
        config.date_order,  # how the log's slash dates read: the parsed rows depend on it
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


def prepare(conn: sqlite3.Connection, config: Config, rebuild: bool) -> str | None:
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
        for name in (*_TABLE_NAMES, *_RETIRED_TABLES):
            conn.execute(f"DROP TABLE IF EXISTS {name}")
        for statement in TABLES.split(";"):
            if statement.strip():
                conn.execute(statement)
        build = {BUILD: secrets.token_hex(8)}
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", (want | build).items())
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return reason


def build_of(conn: sqlite3.Connection) -> str | None:
    """Return the token of the build the index holds; None when it has none (or no meta table)."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (BUILD,)).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    return None if row is None else str(row[0])


def changes_of(conn: sqlite3.Connection) -> str:
    """Return the token of the last write of changed files ("" before the first)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (CHANGES,)).fetchone()
    return "" if row is None else str(row[0])


def mark_changed(conn: sqlite3.Connection) -> None:
    """Record, inside the caller's write transaction, that stored rows changed: every stored
    whole feed is stale (``changes_of``)."""
    conn.execute("DELETE FROM feeds")
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (CHANGES, secrets.token_hex(8))
    )
