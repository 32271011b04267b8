"""Dates, times and spans typed on the command line: one parser, exact results, clean errors."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner, Result

from crm.cli import main
from crm.core.dates import parse_day, parse_typed_span
from crm.core.model import Span
from tests.conftest import WriteVault

MONDAY = date(2026, 11, 23)
FORMS = (
    "(expected YYYY-MM-DD, today, yesterday, tomorrow, a weekday (friday, fri), "
    "20 Dec, Dec 20, 20 Dec 2026, Dec 20, 2026 or 20.12.2026)"
)


@pytest.mark.parametrize(
    ("text", "future", "past"),
    [
        ("2026-12-20", date(2026, 12, 20), date(2026, 12, 20)),
        ("today", MONDAY, MONDAY),
        ("yesterday", date(2026, 11, 22), date(2026, 11, 22)),
        ("Tomorrow", date(2026, 11, 24), date(2026, 11, 24)),
        ("friday", date(2026, 11, 27), date(2026, 11, 20)),
        ("fri", date(2026, 11, 27), date(2026, 11, 20)),
        ("monday", date(2026, 11, 30), date(2026, 11, 16)),  # a weekday is never today
        ("20 Dec", date(2026, 12, 20), date(2025, 12, 20)),
        ("Dec 20", date(2026, 12, 20), date(2025, 12, 20)),
        ("23 Nov", MONDAY, MONDAY),  # a day and month may be today
        ("29 Feb", date(2028, 2, 29), date(2024, 2, 29)),
        ("20 Dec 2026", date(2026, 12, 20), date(2026, 12, 20)),
        ("Dec 20, 2026", date(2026, 12, 20), date(2026, 12, 20)),
        ("20.12.2026", date(2026, 12, 20), date(2026, 12, 20)),
    ],
)
def test_typed_days(text: str, future: date, past: date) -> None:
    assert parse_day(text, today=MONDAY, direction="future") == future
    assert parse_day(text, today=MONDAY, direction="past") == past


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("14d", Span(14, "d")),
        ("2w", Span(2, "w")),
        ("2 weeks", Span(2, "w")),
        ("10 days", Span(10, "d")),
        ("3 months", Span(3, "m")),
        ("1 year", Span(1, "y")),
        ("monthly", Span(1, "m")),
    ],
)
def test_typed_spans(text: str, span: Span) -> None:
    assert parse_typed_span(text) == span


def test_a_bad_span_names_the_forms() -> None:
    with pytest.raises(ValueError) as err:
        parse_typed_span("a fortnight")
    assert str(err.value) == (
        "'a fortnight' is not a span "
        "(expected 14d, 2w, 3m, 1y, 10 days, 2 weeks, 3 months, 1 year, weekly or monthly)"
    )


BELLA = "---\nname: Bella Rossi\nfirst_name: Bella\n---\n## Log\n- 2026-11-02 call: hi\n"


def run(root: object, *args: str) -> Result:
    return CliRunner().invoke(main, ["--vault", str(root), *args])


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--date", "yesterday"], "- 2026-11-22 visit: trim"),
        (["--date", "friday"], "- 2026-11-20 visit: trim"),
        (["--date", "20 Dec"], "- 2025-12-20 visit: trim"),
        (["--date", "2 Nov 2026", "--time", "9:30"], "- 2026-11-02 09:30 visit: trim"),
        (["--date", "21.11.2026"], "- 2026-11-21 visit: trim"),
        (["--date", "tomorrow", "--today", "2026-12-31"], "- 2027-01-01 visit: trim"),
    ],
)
def test_log_date(write_vault: WriteVault, args: list[str], line: str) -> None:
    root = write_vault({"bella.md": BELLA})
    result = run(root, "log", "bella", "visit: trim", "--today", "2026-11-23", *args)
    assert (result.exit_code, result.stderr) == (0, "")
    assert line in (root / "bella.md").read_text().splitlines()


@pytest.mark.parametrize(
    ("args", "added"),
    [
        (["snooze", "bella", "--until", "friday"], "+snooze_until: 2026-11-27"),
        (["snooze", "bella", "--until", "20 Dec"], "+snooze_until: 2026-12-20"),
        (["snooze", "bella", "--until", "10 Jan"], "+snooze_until: 2027-01-10"),
        (["snooze", "bella", "--for", "2 weeks"], "+snooze_until: 2026-12-07"),
        (["snooze", "bella", "--for", "10 days"], "+snooze_until: 2026-12-03"),
        (["snooze", "bella", "--for", "3 months"], "+snooze_until: 2027-02-23"),
        (["followup", "bella", "tomorrow"], "+next_contact: 2026-11-24"),
        (["followup", "bella", "fri", "14:30"], "+next_contact: 2026-11-27 14:30"),
        (["followup", "bella", "Dec 1", "--time", "9:05"], "+next_contact: 2026-12-01 09:05"),
        (["away", "bella", "20 Dec", "6 Jan"], "+away: {from: 2026-12-20, to: 2027-01-06}"),
        (["away", "bella", "20.12.2026..2027-01-06"], "+away: {from: 2026-12-20, to: 2027-01-06}"),
        (
            ["away", "bella", "2026-12-20", "2027-01-06"],
            "+away: {from: 2026-12-20, to: 2027-01-06}",
        ),
    ],
)
def test_future_dates(write_vault: WriteVault, args: list[str], added: str) -> None:
    root = write_vault({"bella.md": BELLA})
    result = run(root, *args, "--today", "2026-11-23", "--dry-run")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == f"--- a/bella.md\n+++ b/bella.md\n@@ -3,0 +4 @@\n{added}\n"


def test_today_takes_the_same_forms(write_vault: WriteVault) -> None:
    root = write_vault({"bella.md": BELLA})
    fixed = run(root, "upcoming", "--today", "2026-11-24", "--format", "json")
    assert (
        run(root, "upcoming", "--today", "24 Nov 2026", "--format", "json").stdout == fixed.stdout
    )
    assert run(root, "upcoming", "--today", "24.11.2026", "--format", "json").stdout == fixed.stdout


def usage(command: str, usage_args: str, message: str) -> str:
    return (
        f"Usage: main {command} [OPTIONS] {usage_args}\n"
        f"Try 'main {command} --help' for help.\n\nError: {message}\n"
    )


@pytest.mark.parametrize(
    ("args", "err"),
    [
        (
            ["log", "bella", "call: x", "--date", "last week"],
            usage("log", "NAME TEXT", f"Invalid value for '--date': 'last week' is not a date {FORMS}"),
        ),
        (
            ["log", "bella", "call: x", "--time", "noon"],
            usage("log", "NAME TEXT", "Invalid value for '--time': 'noon' is not a time (expected HH:MM)"),
        ),
        (
            ["snooze", "bella", "--until", "31 Nov"],
            usage(
                "snooze", "NAME",
                f"Invalid value for '--until': day 31 in '31 Nov' (November has 30 days) {FORMS}",
            ),
        ),
        (
            ["snooze", "bella", "--for", "a while"],
            usage(
                "snooze", "NAME",
                "Invalid value for '--for': 'a while' is not a span (expected 14d, 2w, 3m, 1y, "
                "10 days, 2 weeks, 3 months, 1 year, weekly or monthly)",
            ),
        ),
        (
            ["followup", "bella", "03/04/2026"],
            usage(
                "followup", "NAME DATE [TIME]",
                "Invalid value for 'DATE': '03/04/2026' could be day/month or month/day: "
                f'set date_order = "DMY" or "MDY" in crm.toml {FORMS}',
            ),
        ),
        (
            ["followup", "bella", "friday", "9:00", "--time", "10:00"],
            usage("followup", "NAME DATE [TIME]", "give the time once: DATE TIME or --time TIME"),
        ),
        (
            ["away", "bella", "2026-12-20"],
            usage("away", "NAME FROM [TO]", "'2026-12-20' is not a range: give FROM TO or FROM..TO"),
        ),
        (
            ["away", "bella", "2026-12-20..someday"],
            usage("away", "NAME FROM [TO]", f"Invalid value for '[TO]': 'someday' is not a date {FORMS}"),
        ),
        (
            ["upcoming", "--today", "someday"],
            usage("upcoming", "", f"Invalid value for '--today': 'someday' is not a date {FORMS}"),
        ),
    ],
)  # fmt: skip
def test_bad_input_is_a_usage_error(write_vault: WriteVault, args: list[str], err: str) -> None:
    root = write_vault({"bella.md": BELLA})
    result = run(root, *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", err.replace(" \n", "\n"))
    assert (root / "bella.md").read_text() == BELLA


def test_slash_dates_follow_date_order(write_vault: WriteVault) -> None:
    root = write_vault({"bella.md": BELLA, "crm.toml": '[vault]\ndate_order = "DMY"\n'})
    result = run(root, "followup", "bella", "03/04/2027", "--dry-run")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.endswith("+next_contact: 2027-04-03\n")


@pytest.mark.parametrize(
    "words",
    [
        ["20", "Dec", "6", "Jan"],
        ["20 Dec", "6 Jan"],
        ["20", "Dec", "2026", "6", "Jan", "2027"],
        ["Dec", "20", "Jan", "6"],
        ["2026-12-20..2027-01-06"],
    ],
)
def test_a_range_reads_as_typed_quoted_or_not(write_vault: WriteVault, words: list[str]) -> None:
    root = write_vault({"crm.toml": ""})
    result = CliRunner().invoke(
        main, ["--vault", str(root), "closed", *words, "--today", "2026-12-01"]
    )
    assert (result.exit_code, result.output.splitlines()[0]) == (
        0,
        f"{root}/crm.toml: closed 2026-12-20 to 2027-01-06",
    )
