"""Times at daylight-saving changes: a skipped time moves forward by the gap, a repeated one is
the first, with a message; and no event of the feed ever ends before it starts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from click.testing import CliRunner, Result

from crm.cli import main
from crm.core.config import Config, FeedConfig
from crm.core.localtime import clock_change, on_the_clock, planned
from crm.core.model import Customer, Location
from crm.feed.blocks import build_feed
from crm.feed.icswrite import Style, timed_span, vevent
from tests.conftest import WriteVault

BERLIN = '[vault]\ntimezone = "Europe/Berlin"\n'
BELLA = "---\nname: Bella Rossi\nfirst_name: Bella\n---\n"


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--vault", str(root), *args])


# The rule, on its own


def test_a_time_the_clocks_skip_is_moved_forward_by_the_gap() -> None:
    edge = clock_change(datetime(2026, 3, 29, 2, 30), "Europe/Berlin")
    assert edge is not None and edge.skipped
    assert str(edge) == (
        "2026-03-29 02:30 does not exist in Europe/Berlin (the clocks go forward from 02:00 to 03:00)"
    )
    assert edge.meant == datetime(2026, 3, 29, 3, 30)
    assert edge.read_as() == "03:30"
    ny = clock_change(datetime(2026, 3, 8, 2, 30), "America/New_York")
    assert ny is not None and ny.meant == datetime(2026, 3, 8, 3, 30)
    assert str(ny) == (
        "2026-03-08 02:30 does not exist in America/New_York "
        "(the clocks go forward from 02:00 to 03:00)"
    )


def test_a_time_the_clocks_show_twice_is_the_first() -> None:
    edge = clock_change(datetime(2026, 10, 25, 2, 30), "Europe/Berlin")
    assert edge is not None and not edge.skipped
    assert str(edge) == (
        "2026-10-25 02:30 happens twice in Europe/Berlin (the clocks go back from 03:00 to 02:00)"
    )
    assert edge.meant == datetime(2026, 10, 25, 2, 30)
    assert edge.read_as() == "the first 02:30, before the change"


def test_half_an_hour_gaps_and_a_skipped_day_are_said_as_they_are() -> None:
    lord_howe = clock_change(datetime(2026, 10, 4, 2, 15), "Australia/Lord_Howe")
    assert lord_howe is not None and lord_howe.meant == datetime(2026, 10, 4, 2, 45)
    assert str(lord_howe).endswith("(the clocks go forward from 02:00 to 02:30)")
    # Samoa skipped 30 December 2011 altogether.
    apia = clock_change(datetime(2011, 12, 30, 10, 0), "Pacific/Apia")
    assert apia is not None and apia.read_as() == "2011-12-31 10:00"
    assert str(apia).endswith("(the clocks go forward from 00:00 to 2011-12-31 00:00)")


@pytest.mark.parametrize(
    ("moment", "zone"),
    [
        (datetime(2026, 3, 29, 3, 0), "Europe/Berlin"),  # the first minute after the gap
        (datetime(2026, 3, 29, 1, 59), "Europe/Berlin"),
        (datetime(2026, 10, 25, 3, 0), "Europe/Berlin"),  # just after the repeated hour
        (datetime(2026, 6, 1, 2, 30), "Europe/Berlin"),
        (datetime(2026, 3, 29, 2, 30), "UTC"),
        (datetime(2026, 3, 29, 2, 30), "Asia/Kolkata"),
    ],
)
def test_an_ordinary_time_is_itself(moment: datetime, zone: str) -> None:
    assert clock_change(moment, zone) is None
    assert on_the_clock(moment, zone) == moment


def test_planned_writes_the_time_the_file_keeps() -> None:
    assert planned(date(2026, 3, 29), None, "Europe/Berlin") == ("2026-03-29", None)
    assert planned(date(2026, 3, 29), time(9, 5), "Europe/Berlin") == ("2026-03-29 09:05", None)
    value, edge = planned(date(2026, 3, 29), time(2, 30), "Europe/Berlin")
    assert value == "2026-03-29 03:30" and edge is not None


# crm followup


def test_followup_moves_a_skipped_time_forward_and_says_so(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": BERLIN, "bella.md": BELLA})
    result = run(root, "followup", "bella", "2026-03-29", "02:30", "--today", "2026-03-01")
    assert result.exit_code == 0
    assert result.stderr == (
        "note: 2026-03-29 02:30 does not exist in Europe/Berlin (the clocks go forward from "
        "02:00 to 03:00); the follow-up is at 03:30\n"
    )
    assert result.stdout == (
        "--- a/bella.md\n+++ b/bella.md\n@@ -3,0 +4 @@\n+next_contact: 2026-03-29 03:30\n"
    )
    assert (root / "bella.md").read_text() == (
        "---\nname: Bella Rossi\nfirst_name: Bella\nnext_contact: 2026-03-29 03:30\n---\n"
    )


def test_followup_keeps_a_repeated_time_and_says_it_is_the_first(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": BERLIN, "bella.md": BELLA})
    result = run(root, "followup", "bella", "2026-10-25", "--time", "2:30", "--today", "2026-10-01")
    assert result.exit_code == 0
    assert result.stderr == (
        "note: 2026-10-25 02:30 happens twice in Europe/Berlin (the clocks go back from 03:00 "
        "to 02:00); the follow-up is at the first 02:30, before the change\n"
    )
    assert "next_contact: 2026-10-25 02:30\n" in (root / "bella.md").read_text()


def test_followup_at_an_ordinary_time_or_in_utc_says_nothing_more(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": BERLIN, "bella.md": BELLA})
    result = run(root, "followup", "bella", "2026-03-29", "03:30", "--today", "2026-03-01")
    assert (result.exit_code, result.stderr) == (0, "")
    (root / "crm.toml").write_text("")  # no zone named: follow-up times are UTC, which has no DST
    result = run(root, "followup", "bella", "2026-03-29", "02:30", "--today", "2026-03-01")
    assert (result.exit_code, result.stderr) == (0, "")
    assert "next_contact: 2026-03-29 02:30\n" in (root / "bella.md").read_text()


def test_followup_dry_run_shows_the_moved_time_and_writes_nothing(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": BERLIN, "bella.md": BELLA})
    result = run(
        root, "followup", "bella", "2026-03-29", "2:00", "--today", "2026-03-01", "--dry-run"
    )
    assert result.exit_code == 0
    assert "+next_contact: 2026-03-29 03:00\n" in result.stdout
    assert result.stderr.endswith("; the follow-up is at 03:00\n")
    assert (root / "bella.md").read_text() == BELLA


# A time written by hand


def test_check_warns_at_a_hand_written_time_the_clocks_skip(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault(
        {
            "crm.toml": BERLIN,
            "bella.md": "---\nname: Bella Rossi\nfirst_name: Bella\nnext_contact: 2026-03-29 02:30\n---\n",
            "ana.md": "---\nname: Ana\nfirst_name: Ana\nnext_contact: 2026-10-25 02:30\n---\n",
        }
    )
    monkeypatch.chdir(root)
    result = run(root, "check", "--today", "2026-03-01")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == (
        "bella.md:4: warning: next_contact 2026-03-29 02:30 does not exist in Europe/Berlin "
        "(the clocks go forward from 02:00 to 03:00); the calendar shows it at 03:30\n"
    )
    assert run(root, "check", "--strict", "--today", "2026-03-01").exit_code == 1


# The feed


def instants(data: bytes) -> dict[str, tuple[datetime | date, datetime | date]]:
    """Return each event's start and end as icalendar reads them: UID -> (DTSTART, DTEND)."""
    cal = icalendar.Calendar.from_ical(data)
    return {str(e["UID"]): (e.decoded("DTSTART"), e.decoded("DTEND")) for e in cal.walk("VEVENT")}


def ends_after_start(start: datetime | date, end: datetime | date) -> bool:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return end.astimezone(UTC) > start.astimezone(UTC)
    return end > start


def test_the_feed_moves_a_skipped_follow_up_and_never_ends_an_event_before_it_starts(
    write_vault: WriteVault,
) -> None:
    follow = "---\nname: {n}\nfirst_name: {n}\nnext_contact: {when}\n---\n"
    root = write_vault(
        {
            "crm.toml": BERLIN
            + '\n[[closures]]\nname = "spring break"\nfrom = 2026-03-30\nto = 2026-04-03\n',
            "gap.md": follow.format(n="Gap", when="2026-03-29 02:30"),
            "into.md": follow.format(n="Into", when="2026-03-29 01:45"),
            "twice.md": follow.format(n="Twice", when="2026-10-25 02:45"),
            "late.md": follow.format(n="Late", when="2026-11-01 23:45"),
        }
    )
    result = run(root, "ics", "--today", "2026-03-01")
    assert result.exit_code == 0, result.output
    data = result.stdout_bytes
    assert b"DTSTART;TZID=Europe/Berlin:20260329T033000\r\n" in data
    assert b"DTEND;TZID=Europe/Berlin:20260329T040000\r\n" in data
    # 01:45 plus 30 minutes lands in the gap: the end is 03:15, the time 02:15 stands for.
    assert b"DTSTART;TZID=Europe/Berlin:20260329T014500\r\nDTEND;TZID=Europe/Berlin:20260329T031500\r\n" in data  # fmt: skip
    berlin = ZoneInfo("Europe/Berlin")
    events = instants(data)
    assert events["followup-gap-20260329@crm"] == (
        datetime(2026, 3, 29, 3, 30, tzinfo=berlin),
        datetime(2026, 3, 29, 4, 0, tzinfo=berlin),
    )
    assert events["closure-20260330@crm"] == (date(2026, 3, 30), date(2026, 4, 4))
    late = [uid for uid, (start, end) in events.items() if not ends_after_start(start, end)]
    assert late == []
    assert sorted(events) == [
        "closure-20260330@crm",
        "closure-notice-20260330@crm",
        "followup-gap-20260329@crm",
        "followup-into-20260329@crm",
        "followup-late-20261101@crm",
        "followup-twice-20261025@crm",
    ]


def test_an_all_day_event_whose_last_day_is_before_its_first_lasts_one_day() -> None:
    text = vevent(
        Style(date(2026, 3, 1)),
        uid="closure-20260310@crm",
        summary="Closed",
        category="Closed",
        day=date(2026, 3, 10),
        last=date(2026, 3, 7),
    )
    assert "DTSTART;VALUE=DATE:20260310\r\nDTEND;VALUE=DATE:20260311\r\n" in text


CHANGES = [
    ("Europe/Berlin", date(2026, 3, 29)),
    ("Europe/Berlin", date(2026, 10, 25)),
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
    ("Australia/Lord_Howe", date(2026, 10, 4)),  # half an hour
    ("Australia/Lord_Howe", date(2026, 4, 5)),
    ("America/Santiago", date(2026, 9, 6)),  # at midnight
    ("Pacific/Chatham", date(2026, 9, 27)),  # at 02:45
]


@pytest.mark.parametrize(("zone", "day"), CHANGES)
def test_every_follow_up_time_on_a_change_day_ends_after_it_starts(zone: str, day: date) -> None:
    """Every quarter of an hour of the day before, of, and after a change, through the whole
    feed and read back by icalendar."""
    times = [time(h, m) for h in range(24) for m in (0, 15, 30, 45)]
    customers = [
        Customer(
            id=f"c{n}",
            name=f"C{n}",
            location=Location(Path(f"c{n}.md")),
            next_contact=datetime.combine(day + timedelta(days=shift), at),
        )
        for n, (shift, at) in enumerate((s, t) for s in (-1, 0, 1) for t in times)
    ]
    config = Config(timezone=zone, timezone_set=True, feed=FeedConfig(days_back=5, days_ahead=5))
    events = instants(build_feed(customers, config, day))
    followups = {uid: span for uid, span in events.items() if uid.startswith("followup-")}
    assert len(followups) == len(customers)
    assert [uid for uid, span in followups.items() if not ends_after_start(*span)] == []
    tz = ZoneInfo(zone)
    for n, c in enumerate(customers):
        assert isinstance(c.next_contact, datetime)
        begin, end = timed_span(c.next_contact.date(), c.next_contact.time(), zone)
        # It starts when the written time first happens (a skipped one: as the gap ends)
        # and lasts at least 30 minutes.
        start = begin.replace(tzinfo=tz).astimezone(UTC)
        written = c.next_contact.replace(tzinfo=tz).astimezone(UTC)
        assert start == written, n
        assert timedelta(minutes=30) <= end.replace(tzinfo=tz).astimezone(UTC) - start
