"""The iCalendar feed: golden bytes, two independent parsers, RFC details, UIDs, privacy."""

from __future__ import annotations

import os
import re
from dataclasses import fields
from datetime import date, datetime
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
import vobject
from click.testing import CliRunner

from crm.cli import main
from crm.core.config import FeedConfig
from crm.feed.blocks import build_feed
from crm.feed.events import clean, uid_part
from tests.conftest import EXAMPLE, WriteVault
from tests.reference import feed_events, load

GOLDEN = Path(__file__).parent / "golden" / "example-2026-11-23.ics"
TODAY = date(2026, 11, 23)
SHORT = "[feed]\ndays_ahead = 60\n"  # one occurrence of each yearly date


def ics(root: Path, *args: str) -> bytes:
    result = CliRunner().invoke(main, ["--vault", str(root), "ics", "--today", "2026-11-23", *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def feed(root: Path, today: date = TODAY) -> bytes:
    config, vault = load(root)
    return build_feed(vault.customers, config, today)


def summaries(data: bytes) -> dict[str, str]:
    cal = icalendar.Calendar.from_ical(data)
    return {str(e["UID"]): str(e["SUMMARY"]) for e in cal.walk("VEVENT")}


def customer(name: str, front: str = "", body: str = "") -> str:
    return f"---\nname: {name}\nfirst_name: {name.split()[0]}\n{front}---\n{body}"


def test_example_feed_matches_golden_file_and_is_reproducible() -> None:
    first = ics(EXAMPLE)
    if os.environ.get("CRM_UPDATE_GOLDEN"):
        GOLDEN.write_bytes(first)
    assert first == GOLDEN.read_bytes()
    assert ics(EXAMPLE) == first


def test_feed_parses_with_icalendar_and_with_vobject() -> None:
    data = GOLDEN.read_bytes()
    cal = icalendar.Calendar.from_ical(data)
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["X-WR-CALNAME"]) == "Lumen Hair Studio customers"
    assert str(cal["NAME"]) == "Lumen Hair Studio customers"
    ours = sorted((str(e["UID"]), str(e["SUMMARY"])) for e in cal.walk("VEVENT"))

    other = vobject.readOne(data.decode("utf-8"))
    theirs = sorted((e.uid.value, e.summary.value) for e in other.vevent_list)
    assert theirs == ours
    assert len(ours) == 53  # with the closure, its reminder and two years of holiday greetings
    assert ("reachout-priya-raman-never@crm", "Reach out to Priya Raman (never contacted)") in ours
    timed = next(e for e in other.vevent_list if e.uid.value == "followup-priya-raman-20261125@crm")
    assert timed.dtstart.value.isoformat() == "2026-11-25T14:30:00+01:00"
    leap = next(e for e in other.vevent_list if e.uid.value == "birthday-bella-rossi-2027@crm")
    assert (leap.summary.value, leap.dtstart.value) == ("Bella Rossi turns 31", date(2027, 2, 28))


def test_feb29_birthday_shows_up_in_a_common_year_when_expanded() -> None:
    cal = icalendar.Calendar.from_ical(GOLDEN.read_bytes())
    found = recurring_ical_events.of(cal).between(date(2027, 2, 1), date(2027, 3, 2))
    assert [(str(e["SUMMARY"]), e.start) for e in found] == [
        ("Bella Rossi turns 31", date(2027, 2, 28))
    ]


def test_feb29_moves_to_march_first_when_the_vault_says_so(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": '[vault]\nfeb29 = "mar1"\n',
            "leap.md": customer("Leap Day", "birthday: 2000-02-29\n"),
        }
    )
    data = feed(root, date(2027, 1, 10))
    assert summaries(data)["birthday-leap-2027@crm"] == "Leap Day turns 27"
    assert b"DTSTART;VALUE=DATE:20270301\r\n" in data
    data = feed(root, date(2028, 1, 10))
    assert b"DTSTART;VALUE=DATE:20280229\r\n" in data


def test_every_line_is_crlf_and_folded_within_75_octets_without_splitting_characters(
    write_vault: WriteVault,
) -> None:
    long_name = "李伟" * 40 + " Ünïcødé"
    root = write_vault({"li.md": customer(long_name, "birthday: 1985-12-09\n")})
    data = feed(root)
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    for line in data.split(b"\r\n")[:-1]:
        assert len(line) <= 75
        line.decode("utf-8")  # a fold inside a multi-byte character would fail here
    assert summaries(data)["birthday-li-2026@crm"] == f"{long_name} turns 41"


def test_text_is_escaped_and_control_characters_are_stripped(write_vault: WriteVault) -> None:
    front = 'name: "Smith, Jo; \\u0007Esc\\u001b"\nfirst_name: Jo\nbirthday: --05-01\n'
    root = write_vault({"odd.md": f"---\n{front}---\n"})
    data = feed(root, date(2027, 4, 1))
    assert b"SUMMARY:Smith\\, Jo\\; Esc's birthday\r\n" in data
    assert b"\x07" not in data and b"\x1b" not in data
    assert clean("a\x00b\x07c\nd\te") == "abc d e"


def test_all_day_events_are_date_valued_transparent_and_end_next_day(
    write_vault: WriteVault,
) -> None:
    root = write_vault(
        {"crm.toml": SHORT, "ana.md": customer("Ana García", "birthday: 1989-12-02\n")}
    )
    cal = icalendar.Calendar.from_ical(feed(root))
    (event,) = cal.walk("VEVENT")
    assert event.to_ical().decode().splitlines() == [
        "BEGIN:VEVENT",
        "SUMMARY:Ana García turns 37",
        "DTSTART;VALUE=DATE:20261202",
        "DTEND;VALUE=DATE:20261203",
        "DTSTAMP:20261123T000000Z",
        "UID:birthday-ana-2026@crm",
        "CATEGORIES:Birthday",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]
    assert not cal.walk("VTIMEZONE")


def test_timed_follow_up_has_a_vtimezone_for_its_tzid(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": '[vault]\ntimezone = "America/New_York"\n',
            "bo.md": customer("Bo Lee", "next_contact: 2026-12-01 09:15\n"),
        }
    )
    data = feed(root)
    assert b"DTSTART;TZID=America/New_York:20261201T091500\r\n" in data
    assert b"DTEND;TZID=America/New_York:20261201T094500\r\n" in data
    cal = icalendar.Calendar.from_ical(data)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["America/New_York"]
    (event,) = cal.walk("VEVENT")
    assert "TRANSP" not in event
    assert event.start == datetime.fromisoformat("2026-12-01T09:15:00-05:00")


def test_ages_years_and_year_less_dates(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "zoe.md": customer(
                "Zoë Müller",
                "birthday: --03-14\ncustomer_since: 2019-12-01\nanniversary: 2016-11-28\n"
                "dates:\n  - label: Shop opening\n    date: 2021-12-01\n"
                "  - label: Wedding\n    date: 2026-12-05\n    yearly: false\n",
            )
        }
    )
    titles = sorted(summaries(feed(root)).values())
    assert titles == [
        "Zoë Müller's birthday",
        "Zoë Müller: 7 years as a customer",
        "Zoë Müller: 8 years as a customer",
        "Zoë Müller: Shop opening (5 years)",
        "Zoë Müller: Shop opening (6 years)",
        "Zoë Müller: Wedding",
        "Zoë Müller: anniversary (10 years)",
        "Zoë Müller: anniversary (11 years)",
    ]


def test_reach_out_follows_contact_state(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": SHORT + '[defaults]\ncadence = "30d"\n',
            "late.md": customer("Late Person", "last_contact: 2026-10-01\n"),
            "soon.md": customer("Soon Person", "last_contact: 2026-11-10\n"),
            "lost.md": customer("Lost Person", "status: lost\nbirthday: 1990-12-01\n"),
            "paused.md": customer("Paused Person", "status: paused\nbirthday: 1990-12-01\n"),
            "snoozed.md": customer("Snoozed Person", "snooze_until: 2026-12-30\n"),
        }
    )
    assert summaries(feed(root)) == {
        "reachout-late-20261031@crm": "Reach out to Late Person (23 days overdue)",
        "reachout-soon-20261210@crm": "Reach out to Soon Person",
        "birthday-paused-2026@crm": "Paused Person turns 36",
        # Snoozed: no nagging now, one reminder on the day the snooze ends.
        "reachout-snoozed-20261230@crm": "Reach out to Snoozed Person",
    }
    # A day later the overdue reminder keeps its UID and moves to the new today.
    later = icalendar.Calendar.from_ical(feed(root, date(2026, 11, 24)))
    late = next(e for e in later.walk("VEVENT") if e["UID"] == "reachout-late-20261031@crm")
    assert late.start == date(2026, 11, 24)
    assert str(late["SUMMARY"]) == "Reach out to Late Person (24 days overdue)"


def test_uids_survive_renames_and_other_customers_edits(write_vault: WriteVault) -> None:
    ana = customer("Ana García", "id: ana\nbirthday: 1989-12-02\n")
    root = write_vault({"ana.md": ana, "bo.md": customer("Bo Lee", "birthday: 1990-01-05\n")})
    before = feed(root)
    (root / "ana.md").rename(root / "ana-garcia.md")
    assert feed(root) == before
    (root / "bo.md").write_text(customer("Bo Lee", "birthday: 1991-01-06\n"), encoding="utf-8")
    after = summaries(feed(root))
    assert after["birthday-ana-2026@crm"] == "Ana García turns 37"
    assert set(after) == set(summaries(before))


def test_non_ascii_ids_give_ascii_uids() -> None:
    assert uid_part("ana-garcia") == "ana-garcia"
    assert uid_part("李伟") == uid_part("李伟")
    assert re.fullmatch(r"h[0-9a-f]{16}", uid_part("李伟"))
    assert uid_part("a b") != uid_part("a_b")


def test_private_details_stay_out_unless_opted_in(write_vault: WriteVault) -> None:
    front = "email: secret@example.com\nphone: '+49 1'\nlikes: [oat latte]\nbirthday: 1989-12-02\n"
    body = "Private note.\n\n## Log\n- 2026-11-01 call: talked about her divorce\n"
    root = write_vault({"ana.md": customer("Ana García", front, body)})
    data = feed(root)
    for secret in (b"secret@", b"+49", b"oat latte", b"Private", b"divorce", b"DESCRIPTION"):
        assert secret not in data
    (root / "crm.toml").write_text(SHORT + "include_details = true\n", encoding="utf-8")
    cal = icalendar.Calendar.from_ical(feed(root))
    (event,) = cal.walk("VEVENT")
    assert str(event["DESCRIPTION"]) == (
        "Email: secret@example.com\nPhone: +49 1\nLikes: oat latte"
    )
    assert b"divorce" not in feed(root) and b"Private" not in feed(root)


def test_alarms_and_lead_time_are_opt_in(write_vault: WriteVault) -> None:
    root = write_vault({"ana.md": customer("Ana García", "birthday: 1989-12-02\n")})
    assert b"VALARM" not in feed(root)
    (root / "crm.toml").write_text("[feed]\nalarms = true\nlead_days = 3\n", encoding="utf-8")
    cal = icalendar.Calendar.from_ical(feed(root))
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    soon = events["birthday-soon-ana-2026@crm"]
    assert str(soon["SUMMARY"]) == "Ana García's birthday on Wed"
    assert soon.start == date(2026, 11, 29)
    (alarm,) = events["birthday-ana-2026@crm"].walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm["TRIGGER"].to_ical() == b"PT9H"


def test_calendar_properties_for_subscribing_clients() -> None:
    head = GOLDEN.read_bytes().split(b"BEGIN:VTIMEZONE")[0].decode()
    assert head.splitlines() == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//crm//Customer calendar feed//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "NAME:Lumen Hair Studio customers",
        "X-WR-CALNAME:Lumen Hair Studio customers",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]


def test_window_limits_what_is_expanded(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": "[feed]\ndays_back = 0\ndays_ahead = 10\n",
            "ana.md": customer("Ana García", "birthday: 1989-12-02\n"),
            "bo.md": customer("Bo Lee", "birthday: 1990-11-22\n"),
        }
    )
    assert list(summaries(feed(root)).values()) == ["Ana García turns 37"]


def test_filters_make_per_team_feeds(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": SHORT,
            "ana.md": customer("Ana García", "tags: [vip]\nbirthday: 1989-12-02\n"),
            "bo.md": customer("Bo Lee", "segment: salon\nbirthday: 1990-12-05\n"),
        }
    )
    assert list(summaries(ics(root, "--tag", "vip")).values()) == ["Ana García turns 37"]
    assert list(summaries(ics(root, "--segment", "salon")).values()) == ["Bo Lee turns 36"]
    assert summaries(ics(root, "--status", "lead")) == {}


def test_output_file_is_written_atomically(tmp_path: Path) -> None:
    out = tmp_path / "out" / "feed.ics"
    out.parent.mkdir()
    out.write_bytes(b"old")
    assert ics(EXAMPLE, "-o", str(out)) == b""
    assert out.read_bytes() == GOLDEN.read_bytes()
    assert sorted(p.name for p in out.parent.iterdir()) == ["feed.ics"]


def test_unwritable_output_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--vault", str(EXAMPLE), "ics", "-o", str(tmp_path / "missing" / "f.ics")]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"crm: cannot write {tmp_path / 'missing' / 'f.ics'}: ")


def test_feed_events_are_sorted_by_day_then_kind() -> None:
    config, vault = load(EXAMPLE)
    events = feed_events(vault.customers, config, TODAY)
    keys = [(e.day, e.at) for e in events]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)
    assert events[0].kind == "reachout"


@pytest.mark.parametrize("command", ["ics", "serve", "watch", "feed-url"])
def test_every_feed_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


def test_broken_files_are_reported_and_the_rest_still_go_out(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": SHORT,
            "ana.md": customer("Ana García", "birthday: 1989-12-02\n"),
            "bad.md": "---\nname: Bad\nfirst_name: Bad\nbirthday: 1989-13-02\n---\n",
        }
    )
    result = CliRunner().invoke(main, ["--vault", str(root), "ics", "--today", "2026-11-23"])
    assert result.exit_code == 0
    assert list(summaries(result.stdout_bytes).values()) == ["Ana García turns 37"]
    assert result.stderr == (
        f"{root / 'bad.md'}:4: birthday: '1989-13-02' is not a real date (month must be in 1..12)\n"
    )


def test_every_feed_setting_is_documented() -> None:
    doc = (Path(__file__).parent.parent / "docs" / "calendar.md").read_text(encoding="utf-8")
    for f in fields(FeedConfig):
        assert f"\n{f.name} = " in doc, f.name


def test_a_pasted_byte_order_mark_never_reaches_the_feed() -> None:
    # icalendar drops U+FEFF at the start of a value and keeps it elsewhere; the feed drops it.
    assert clean("\ufeffAna\ufeff García") == "Ana García"
    assert clean("\ufeff") == ""


def test_ics_prints_every_error_and_the_first_twenty_warnings(write_vault: WriteVault) -> None:
    files: dict[str, str | bytes] = {
        f"p{n:02d}.md": f"---\nname: Person {n:02d}\nbirthday: --12-0{1 + n % 9}\n---\n"
        for n in range(25)
    }
    files["zz-bad.md"] = "---\nname: [x\n---\n"
    root = write_vault(files)
    result = CliRunner().invoke(main, ["--vault", str(root), "ics", "--today", "2026-11-23"])
    assert result.exit_code == 0
    lines = result.stderr.replace(f"{root}/", "").splitlines()
    assert len(lines) == 22
    assert lines[0] == "p00.md:2: warning: no first_name: add one so greetings can use it"
    assert lines[19] == "p19.md:2: warning: no first_name: add one so greetings can use it"
    assert lines[20] == (
        "zz-bad.md:2: invalid YAML: did not find expected ',' or ']' "
        "(while parsing a flow sequence that opens on this line; the parser gave up on line 3)"
    )
    assert lines[21] == "… and 5 more warnings: crm check"
    assert result.stdout.count("BEGIN:VEVENT") >= 25
