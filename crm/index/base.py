"""The connection side of ``Index``: one read snapshot per answer, and the plain-parse fallback."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import Any, TypeVar

from crm.core.config import Config
from crm.core.model import Customer, Problem
from crm.index import codec
from crm.index.schema import build_of, index_path, is_busy, remove
from crm.vault.load import Vault, duplicate_ids, duplicate_problem, load_vault


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


M = TypeVar("M", bound=Callable[..., Any])


class Replaced(sqlite3.OperationalError):
    """The index was rebuilt or dropped by another process while this one was reading it."""


def or_plain(method: M) -> M:
    """Answer from one snapshot of the index, or from a plain parse when the database fails
    mid-command (damaged pages, I/O) or another crm rebuilt it meanwhile.
    """

    @functools.wraps(method)
    def wrapper(self: IndexBase, *args: Any, **kwargs: Any) -> Any:
        try:
            with self._snapshot():
                return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            self.fall_back(exc)
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class IndexBase:
    """An open index (or the plain parse that replaced it) and the row queries every answer uses."""

    def __init__(
        self,
        root: Path,
        conn: sqlite3.Connection | None,
        scan_problems: list[Problem],
        stats: Stats,
        plain: Vault | None = None,
        config: Config | None = None,
        build: str | None = None,
        changes: str = "",
    ) -> None:
        self.root = root
        self.config = config
        self.conn = conn
        self.scan_problems = scan_problems
        self.stats = stats
        self._plain = plain
        self._vault: Vault | None = plain
        self._losers: dict[int, str] | None = None
        self._build = build
        self._changes = changes  # the rows' state when opened (``schema.changes_of``)

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
            isinstance(exc, sqlite3.OperationalError) and is_busy(exc)
        )
        if not sound:
            remove(index_path(self.root))  # only a cache: the next command rebuilds it
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
            if build_of(db) != self._build:
                raise Replaced("rebuilt by another crm meanwhile")
            yield
        finally:
            with contextlib.suppress(sqlite3.Error):
                db.execute("COMMIT")  # it only read: nothing to lose

    def _decode(
        self, rel: str, head: str | None, rest: bytes | None, problems: str
    ) -> tuple[Customer | None, list[Problem]]:
        path = self.root / rel
        customer = None if head is None or rest is None else codec.decode_parts(head, rest, path)
        return customer, codec.decode_problems(problems, path)

    def _duplicates(self) -> tuple[dict[int, str], list[Problem]]:
        """Return the new id of each row that loses an id clash, and the clashes' problems."""
        db = self._db()
        rows = db.execute(
            "SELECT fid, path, cid FROM files WHERE cid IN "
            "(SELECT cid FROM files WHERE cid IS NOT NULL GROUP BY cid HAVING COUNT(*) > 1)"
        )
        fid_of: dict[str, int] = {}
        claims: list[tuple[str, PurePath]] = []
        for fid, rel, cid in rows:
            fid_of[rel] = fid
            claims.append((cid, PurePosixPath(rel)))
        if not claims:
            return {}, []

        def taken(cid: str) -> bool:
            return db.execute("SELECT 1 FROM files WHERE cid = ?", (cid,)).fetchone() is not None

        renamed: dict[int, str] = {}
        problems: list[Problem] = []
        for clash in duplicate_ids(claims, taken):
            renamed[fid_of[clash.path.as_posix()]] = clash.new_id
            problems.append(duplicate_problem(self.root, clash))
        return renamed, problems

    def _renamed(self) -> dict[int, str]:
        """Return the new id of each row that lost an id clash (see ``duplicate_ids``)."""
        if self._losers is None:
            self._losers = self._duplicates()[0]
        return self._losers

    def _decode_row(self, fid: int, rel: str, head: str, rest: bytes | None) -> Customer:
        """Return the customer of one row, under its new id when it lost an id clash: whole,
        or with ``rest`` None its brief (``codec.decode_brief``)."""
        path = self.root / rel
        customer = (
            codec.decode_brief(head, path) if rest is None else codec.decode_parts(head, rest, path)
        )
        new_id = self._renamed().get(fid)
        return customer if new_id is None else dataclasses.replace(customer, id=new_id)

    def _fids(self, sql: str, params: Iterable[Any] = ()) -> set[int]:
        return {fid for (fid,) in self._db().execute(sql, tuple(params))}

    def _customers(self, fids: Iterable[int], brief_on: int | None = None) -> list[Customer]:
        """Return the customers of the rows ``fids``, in vault order.

        With ``brief_on`` (a day's ordinal), a customer with no contact entry after that day
        comes as a brief (``codec.decode_brief``): the rhythm's rules need no more of them.
        """
        found = list(self._by_fid(fids, brief_on).values())
        found.sort(key=lambda c: (c.name.casefold(), c.id))
        return found

    def _by_fid(self, fids: Iterable[int], brief_on: int | None = None) -> dict[int, Customer]:
        """Return the customers of the rows ``fids`` by row id (see ``_customers``)."""
        wanted = sorted(set(fids))
        found: dict[int, Customer] = {}
        db = self._db()
        rest = "rest" if brief_on is None else "CASE WHEN newest > ? THEN rest END"
        first = [] if brief_on is None else [brief_on]
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            for fid, rel, head, more in db.execute(
                f"SELECT fid, path, head, {rest} FROM files JOIN parts USING (fid) "
                f"WHERE fid IN ({','.join('?' * len(batch))})",
                [*first, *batch],
            ):
                found[fid] = self._decode_row(fid, rel, head, more)
        return found

    def _all_fids(self) -> set[int]:
        return self._fids("SELECT fid FROM files WHERE cid IS NOT NULL")
