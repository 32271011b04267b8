"""Several crm processes on one index: none of them ever answers from empty or foreign tables."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from crm.core.config import load_config
from crm.index import build, schema, store
from crm.index.build import open_index
from crm.index.schema import index_path
from crm.vault.load import load_vault
from tests.conftest import WriteVault, wall_clock

ANA = "---\nname: Ana García\nfirst_name: Ana\n---\n## Log\n- 2026-11-01 call: booked\n"
BEN = "---\nname: Ben Okafor\nfirst_name: Ben\n---\n## Log\n- 2026-10-01 visit: cut\n"


def indexed(root: Path, **kwargs: Any) -> store.Index:
    config, _ = load_config(root)
    return open_index(root, config, now=wall_clock(), **kwargs)


def names(root: Path) -> list[str]:
    config, _ = load_config(root)
    return [c.name for c in load_vault(root, config).customers]


def backdate(root: Path) -> None:
    """Give every file an old mtime, so that no scan parses it again for being just written."""
    for path in root.glob("*.md"):
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 60 * 1_000_000_000))


@pytest.mark.parametrize("round_", range(3))
def test_eight_first_commands_at_once_all_find_the_customer(
    round_: int, write_vault: WriteVault
) -> None:
    root = write_vault({"ana-garcia.md": ANA, "ben-okafor.md": BEN})  # no index yet
    command = [sys.executable, "-m", "crm", "--vault", str(root), "log", "ana"]
    procs = [
        subprocess.Popen(
            [*command, f"call: entry {n}", "--date", "2026-11-23"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(8)
    ]
    try:
        outcomes = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert [(p.returncode, err) for p, (_, err) in zip(procs, outcomes, strict=True)] == [
        (0, "")
    ] * 8
    lines = (root / "ana-garcia.md").read_text(encoding="utf-8").splitlines()
    assert lines[:6] == ANA.splitlines()
    assert sorted(lines[6:]) == [f"- 2026-11-23 call: entry {n}" for n in range(8)]


def test_an_index_built_while_waiting_for_the_write_lock_is_kept(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({"ana.md": ANA, "ben.md": BEN})
    backdate(root)
    others: list[store.Index] = []

    class Late(sqlite3.Connection):
        """Found no index; another crm builds one before this one gets the write lock."""

        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if sql == "BEGIN IMMEDIATE" and not others:
                others.append(indexed(root))
            return super().execute(sql, *args)

    real = sqlite3.connect
    factories = iter([Late])
    monkeypatch.setattr(
        sqlite3,
        "connect",
        lambda *a, **k: real(*a, **k, factory=next(factories, sqlite3.Connection)),
    )
    late = indexed(root)
    assert others[0].stats.rebuilt == "new index"
    assert (late.stats.rebuilt, late.stats.parsed) == (None, 0)  # not dropped and built again
    assert [c.name for c in others[0].vault().customers] == ["Ana García", "Ben Okafor"]
    assert not others[0].bypassed


def test_a_reader_sees_the_old_index_while_another_crm_rebuilds_it(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({"ana.md": ANA, "ben.md": BEN})
    reader = indexed(root)
    seen: list[object] = []
    real = build.parse_changed

    def parse_and_read(*args: Any, **kwargs: Any) -> Any:
        # Mid-rebuild, the new tables are still empty: the reader must not see them.
        seen.append((reader.count(), [c.name for c in reader.named("ana")]))
        return real(*args, **kwargs)

    monkeypatch.setattr(build, "parse_changed", parse_and_read)
    rebuilt = indexed(root, rebuild=True)
    assert seen == [(2, ["Ana García"])]
    assert rebuilt.stats.rebuilt == "rebuild requested"
    # Once the rebuild is in, the reader's row ids name other rows: it parses the files instead.
    assert [c.name for c in reader.vault().customers] == ["Ana García", "Ben Okafor"]
    assert reader.stats.rebuilt == "bypassed: index failed (rebuilt by another crm meanwhile)"
    assert index_path(root).exists()  # sound, only newer: not deleted
    assert rebuilt.count() == 2 and not rebuilt.bypassed


@pytest.mark.parametrize(
    "script",
    [
        "DROP TABLE files; DROP TABLE meta;",
        # What an older crm's rebuild left for a moment: empty tables, new meta.
        "DELETE FROM files; DELETE FROM meta; INSERT INTO meta VALUES ('schema', '1');",
    ],
)
def test_a_reader_whose_tables_are_dropped_or_emptied_meanwhile_parses_the_files(
    script: str, write_vault: WriteVault
) -> None:
    root = write_vault({"ana.md": ANA, "ben.md": BEN})
    reader = indexed(root)
    with closing(sqlite3.connect(index_path(root), isolation_level=None)) as other:
        other.executescript(script)
    assert reader.count() == 2
    assert [c.name for c in reader.named("ben")] == names(root)
    assert reader.bypassed


def test_many_first_opens_of_a_new_index_at_once_all_get_it(tmp_path: Path) -> None:
    # SQLite runs no busy handler for `PRAGMA journal_mode = WAL`: before crm waited for it
    # itself, about one round in twenty had an opener fail with "database is locked".
    def first_open(path: Path, errors: list[str]) -> None:
        try:
            with closing(schema.connect(path)) as conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            errors.append(str(exc))

    errors: list[str] = []
    for round_ in range(100):
        path = tmp_path / str(round_) / ".crm" / "index.sqlite"
        path.parent.mkdir(parents=True)
        threads = [threading.Thread(target=first_open, args=(path, errors)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert errors == []
