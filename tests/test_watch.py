"""Live rebuilds: which events count, debouncing, editors' saves, and ``crm watch`` end to end."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from crm.feed.live import FeedJob, run_watch
from crm.feed.watch import Change, DayTicker, Watcher, relevant
from tests.conftest import WriteVault, wall_clock

TIMEOUT = 10.0
ANA = "---\nname: Ana García\nfirst_name: Ana\nbirthday: 1989-12-02\n---\n"
BO = "---\nname: Bo Lee\nfirst_name: Bo\nbirthday: 1990-12-20\n---\n"


@pytest.mark.parametrize(
    ("rel", "is_dir", "expected"),
    [
        ("ana.md", False, True),
        ("corporate/noah.md", False, True),
        ("crm.toml", False, True),
        ("corporate", True, True),
        (".ana.md.swp", False, False),
        ("ana.md~", False, False),
        (".#ana.md", False, False),
        ("#ana.md#", False, False),
        ("4913", False, False),
        (".crm/feed-token", False, False),
        (".crm/calendar.ics", False, False),
        (".git/index", False, False),
        (".git", True, False),
        ("calendar.ics", False, False),
        ("ana.md.tmp", False, False),
        ("", True, False),
    ],
)
def test_only_customer_files_config_and_folders_count(
    rel: str, is_dir: bool, expected: bool
) -> None:
    assert relevant(rel, is_dir) is expected


class Batches:
    """Collects the watcher's batches so a test can wait for the next one."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[Change, ...]] = queue.Queue()

    def __call__(self, batch: tuple[Change, ...]) -> None:
        self.queue.put(batch)

    def next(self) -> set[str]:
        return {str(c) for c in self.queue.get(timeout=TIMEOUT)}


@pytest.fixture
def watching(write_vault: WriteVault) -> Iterator[tuple[Path, Batches]]:
    root = write_vault({"ana.md": ANA})
    batches = Batches()
    with Watcher(root, batches, delay=0.1):
        yield root, batches


def test_an_edit_is_reported(watching: tuple[Path, Batches]) -> None:
    root, batches = watching
    (root / "ana.md").write_text(ANA + "\nnote\n", encoding="utf-8")
    assert batches.next() == {"modified ana.md"}


def test_reading_files_and_editor_droppings_trigger_nothing(watching: tuple[Path, Batches]) -> None:
    root, batches = watching
    (root / "ana.md").read_bytes()
    (root / ".ana.md.swp").write_bytes(b"swap")
    (root / "ana.md~").write_text(ANA, encoding="utf-8")
    (root / "4913").write_text("", encoding="utf-8")
    (root / ".crm").mkdir()
    (root / ".crm" / "calendar.ics").write_bytes(b"ours")
    # The next batch holds only the sentinel: nothing above counted.
    (root / "bo.md").write_text(BO, encoding="utf-8")
    assert batches.next() <= {"created bo.md", "modified bo.md"}


def test_an_atomic_save_is_one_change(watching: tuple[Path, Batches]) -> None:
    root, batches = watching
    tmp = root / ".ana.md.tmp1234"
    tmp.write_text(ANA + "\nsaved\n", encoding="utf-8")
    os.replace(tmp, root / "ana.md")
    assert batches.next() == {"moved in ana.md"}


def test_a_burst_is_debounced(watching: tuple[Path, Batches]) -> None:
    root, batches = watching
    for n in range(30):
        (root / "ana.md").write_text(ANA + f"\n{n}\n", encoding="utf-8")
    assert batches.next() == {"modified ana.md"}
    assert batches.queue.empty()


def test_moves_between_folders_and_deletions(watching: tuple[Path, Batches]) -> None:
    root, batches = watching
    (root / "corporate").mkdir()
    assert batches.next() == {"created corporate"}
    (root / "ana.md").rename(root / "corporate" / "ana.md")
    assert batches.next() == {"moved ana.md -> corporate/ana.md"}
    (root / "corporate" / "ana.md").rename(root / "ana.md")
    assert batches.next() == {"moved corporate/ana.md -> ana.md"}
    (root / "ana.md").unlink()
    assert batches.next() == {"deleted ana.md"}


def test_a_folder_moved_in_or_out_of_the_vault_counts(
    watching: tuple[Path, Batches], tmp_path: Path
) -> None:
    root, batches = watching
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "bo.md").write_text(BO, encoding="utf-8")
    outside.rename(root / "team")
    assert batches.next() == {"created team", "created team/bo.md"}
    (root / "team").rename(tmp_path / "gone")
    assert batches.next() == {"deleted team"}


def test_day_ticker_fires_once_per_new_date() -> None:
    days = [date(2026, 11, 23)]
    seen: list[date] = []
    ticker = DayTicker(lambda: days[-1], seen.append, interval=3600)
    assert ticker.check() is False
    days.append(date(2026, 11, 24))
    assert ticker.check() is True
    assert ticker.check() is False
    assert seen == [date(2026, 11, 24)]
    ticker.start()
    ticker.stop()


class Log:
    """Collects log lines; a test can wait until a line matches."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()

    def __call__(self, line: str) -> None:
        with self._cond:
            self.lines.append(line)
            self._cond.notify_all()

    def wait_for(self, count: int) -> list[str]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.lines) >= count, timeout=TIMEOUT):
                raise AssertionError(f"timed out waiting for {count} log lines: {self.lines}")
            return list(self.lines)


def test_crm_watch_keeps_the_output_current_and_ignores_its_own_writes(
    write_vault: WriteVault,
) -> None:
    root = write_vault({"crm.toml": "[feed]\ndays_ahead = 60\n", "ana.md": ANA})
    out = root / "calendar.ics"  # inside the vault on purpose: our own writes must not loop
    log = Log()
    job = FeedJob(root, fixed_today=date(2026, 11, 23), log=log, now=wall_clock)
    stop = threading.Event()
    thread = threading.Thread(target=run_watch, args=(job, out, stop), kwargs={"delay": 0.1})
    thread.start()
    try:
        assert log.wait_for(1) == [f"wrote {out}: 1 events"]
        assert b"Ana Garc" in out.read_bytes()
        (root / "bo.md").write_text(BO, encoding="utf-8")
        lines = log.wait_for(2)
        assert lines[1].startswith(f"rebuilt {out}: 2 events (")
        assert b"Bo Lee turns 36" in out.read_bytes()
        (root / "broken.md").write_text("---\nname: [x\n---\n", encoding="utf-8")
        lines = log.wait_for(4)
        assert lines[2].startswith(f"{root / 'broken.md'}:")
        assert lines[3].startswith(f"unchanged {out}: 2 events, 1 problem (created broken.md")
        (root / "bo.md").unlink()
        lines = log.wait_for(6)
        assert lines[5].startswith(f"rebuilt {out}: 1 events, 1 problem (")
        assert "deleted bo.md" in lines[5]
        assert b"Bo Lee" not in out.read_bytes()
        assert len(log.lines) == 6  # no rebuild was set off by writing calendar.ics
    finally:
        stop.set()
        thread.join(timeout=TIMEOUT)
    assert not thread.is_alive()
    # .crm holds the index the feed is built from; nothing else is left behind.
    assert sorted(p.name for p in root.iterdir()) == [
        ".crm",
        "ana.md",
        "broken.md",
        "calendar.ics",
        "crm.toml",
    ]


def test_a_failing_callback_does_not_stop_the_watching(
    write_vault: WriteVault, caplog: pytest.LogCaptureFixture
) -> None:
    root = write_vault({"ana.md": ANA})
    batches = Batches()
    calls: list[int] = []

    def callback(batch: tuple[Change, ...]) -> None:
        calls.append(1)
        batches(batch)
        if len(calls) == 1:
            raise RuntimeError("boom")

    with Watcher(root, callback, delay=0.05):
        (root / "ana.md").write_text(ANA + "\n1\n", encoding="utf-8")
        assert batches.next() == {"modified ana.md"}
        (root / "bo.md").write_text(BO, encoding="utf-8")
        assert "created bo.md" in batches.next()
    assert "rebuild after 1 changes failed" in caplog.text


def test_touch_asks_for_a_rebuild(watching: tuple[Path, Batches]) -> None:
    root, batches = watching
    (root / "ana.md").touch()
    assert batches.next() == {"touched ana.md"}


def test_crm_watch_command_writes_dot_crm_calendar_and_stops_on_sigterm(
    write_vault: WriteVault,
) -> None:
    root = write_vault({"crm.toml": "[feed]\ndays_ahead = 60\n", "ana.md": ANA})
    out = root / ".crm" / "calendar.ics"
    command = [sys.executable, "-c", "from crm.cli import main; main()", "--vault", str(root)]
    proc = subprocess.Popen(
        [*command, "watch", "--today", "2026-11-23"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=lambda: [lines.put(x) for x in proc.stderr or ()], daemon=True
        ).start()
        assert lines.get(timeout=20) == f"wrote {out}: 1 events\n"
        (root / "bo.md").write_text(BO, encoding="utf-8")
        assert lines.get(timeout=TIMEOUT).startswith(f"rebuilt {out}: 2 events (")
        assert b"SUMMARY:Bo Lee turns 36\r\n" in out.read_bytes()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    assert proc.stdout is not None and proc.stdout.read() == ""
