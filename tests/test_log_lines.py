"""Log lines as people write them, slash dates by ``date_order``, and the lines that are skipped."""

from __future__ import annotations

import json
import os
import time as time_
from datetime import date, time
from pathlib import Path

import pytest
from click.testing import CliRunner

from crm.cli import main
from crm.core.model import Away, Problem
from crm.vault.logline import SKIPPED, is_skipped_line, skipped_lines
from crm.vault.parse import parse_bytes
from tests.conftest import WriteVault

HEAD = "---\nname: Bella Rossi\nfirst_name: Bella\n---\n## Log\n"


def one_entry(line: str, date_order: str | None = None) -> tuple[date, time | None, str, str, bool]:
    text = HEAD + line + "\n"
    c, problems = parse_bytes(text.encode(), Path("bella.md"), "bella", date_order=date_order)  # type: ignore[arg-type]
    assert problems == []
    assert c is not None and len(c.log) == 1
    e = c.log[0]
    assert e.location.line == 6
    return e.day, e.time, e.kind, e.text, e.done


def test_iso_date_with_a_colon_and_no_kind() -> None:
    assert one_entry("- 2026-11-02: cut and colour") == (
        date(2026, 11, 2), None, "-", "cut and colour", True
    )  # fmt: skip


def test_iso_date_and_text_without_a_kind() -> None:
    assert one_entry("- 2026-11-02 cut and colour") == (
        date(2026, 11, 2), None, "-", "cut and colour", True
    )  # fmt: skip


def test_day_month_name_year() -> None:
    assert one_entry("- 2 Nov 2026 called about booking") == (
        date(2026, 11, 2), None, "-", "called about booking", True
    )  # fmt: skip


def test_month_name_day_comma_year_with_a_kind() -> None:
    assert one_entry("- Nov 2, 2026 call: about the booking") == (
        date(2026, 11, 2), None, "call", "about the booking", True
    )  # fmt: skip


def test_dotted_day_month_year() -> None:
    assert one_entry("- 21.11.2026 text: photos sent") == (
        date(2026, 11, 21), None, "text", "photos sent", True
    )  # fmt: skip


def test_an_em_dash_after_the_date() -> None:
    assert one_entry("- 2026-11-21 — texted photos") == (
        date(2026, 11, 21), None, "-", "texted photos", True
    )  # fmt: skip


def test_a_dash_after_the_kind() -> None:
    assert one_entry("- 2026-11-22 text - she loved them") == (
        date(2026, 11, 22), None, "text", "she loved them", True
    )  # fmt: skip


def test_an_obsidian_daily_note_link() -> None:
    assert one_entry("- [[2026-11-02]] visit: balayage") == (
        date(2026, 11, 2), None, "visit", "balayage", True
    )  # fmt: skip
    assert one_entry("- [[2026-11-02|Monday]] visit: balayage")[:3] == (
        date(2026, 11, 2), None, "visit"
    )  # fmt: skip


def test_a_bold_date() -> None:
    assert one_entry("- **2026-11-02** visit: trim") == (
        date(2026, 11, 2), None, "visit", "trim", True
    )  # fmt: skip


def test_a_time_and_tasks_are_kept() -> None:
    assert one_entry("- 2 Nov 2026 14:30 call: booked") == (
        date(2026, 11, 2), time(14, 30), "call", "booked", True
    )  # fmt: skip
    assert one_entry("- 2026-11-02 14:30: call: booked") == (
        date(2026, 11, 2), time(14, 30), "call", "booked", True
    )  # fmt: skip
    assert one_entry("- [ ] 2 Nov 2026 call: ring back") == (
        date(2026, 11, 2), None, "call", "ring back", False
    )  # fmt: skip
    assert one_entry("- [x] 2 Nov 2026 rang back") == (
        date(2026, 11, 2), None, "-", "rang back", True
    )  # fmt: skip
    # The reader marks only unchecked tasks as no contact; a note's class comes from [kinds].
    assert one_entry("- 2 Nov 2026 note: prefers mornings")[2:] == (
        "note",
        "prefers mornings",
        True,
    )


@pytest.mark.parametrize(
    ("order", "day"), [("DMY", date(2026, 4, 3)), ("MDY", date(2026, 3, 4))]
)  # fmt: skip
def test_slash_dates_read_by_date_order(order: str, day: date) -> None:
    assert one_entry("- 03/04/2026 visit: trim", order) == (day, None, "visit", "trim", True)


def warnings_for(body: str, date_order: str | None = None) -> list[str]:
    text = HEAD + body
    c, problems = parse_bytes(text.encode(), Path("bella.md"), "bella", date_order=date_order)  # type: ignore[arg-type]
    assert c is not None
    assert all(p.severity == "warning" for p in problems)
    return [str(p) for p in problems]


def test_unreadable_lines_are_warnings_that_name_the_wrong_part() -> None:
    body = (
        "- yesterday we talked\n"
        "- 2026-13-01 call: hi\n"
        "- 2026-02-30 call: hi\n"
        "- 2 Novembr 2026 call: hi\n"
        "- 03/04/2026 call: hi\n"
        "- 2026-11-02 25:00 call: hi\n"
        "- 2026-11-02x call: hi\n"
        "- [ ] buy the new dye\n"
    )
    assert warnings_for(body) == [
        "bella.md:6: warning: log line skipped: no date at the start"
        " (write e.g. '- 2026-11-02 call: text')",
        "bella.md:7: warning: log line skipped: month 13 in '2026-13-01'",
        "bella.md:8: warning: log line skipped: day 30 in '2026-02-30' (February 2026 has 28 days)",
        "bella.md:9: warning: log line skipped: unknown month 'Novembr' in '2 Novembr 2026'",
        "bella.md:10: warning: log line skipped: '03/04/2026' could be day/month or month/day:"
        ' set date_order = "DMY" or "MDY" in crm.toml',
        "bella.md:11: warning: log line skipped: '25:00' is not a time (expected HH:MM)",
        "bella.md:12: warning: log line skipped: cannot read 'x call: hi' after the date",
    ]
    assert warnings_for("- 21/11/2026 call: hi\n", "MDY") == [
        "bella.md:6: warning: log line skipped: month 21 in '21/11/2026'"
    ]


def test_skipped_lines_are_counted() -> None:
    text = HEAD + "- 2026-11-02 call: hi\n- soon\n- 2026-13-01 call: hi\n"
    c, problems = parse_bytes(text.encode(), Path("bella.md"), "bella")
    other = Problem(problems[0].location, "no first_name", "warning")
    assert c is not None and len(c.log) == 1
    assert skipped_lines([*problems, other]) == 2
    assert [is_skipped_line(p) for p in (*problems, other)] == [True, True, False]
    assert all(p.message.startswith(SKIPPED) for p in problems)


def crm(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--vault", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def test_check_warns_and_strict_fails(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({"bella.md": HEAD + "- 2026-11-02 call: hi\n- 2026-13-01 call: hi\n"})
    monkeypatch.chdir(root)
    warning = "bella.md:7: warning: log line skipped: month 13 in '2026-13-01'\n"
    assert crm(root, "check") == (0, "", warning)
    assert crm(root, "check", "--strict") == (1, "", warning)


def test_changing_date_order_rereads_the_files(write_vault: WriteVault) -> None:
    root = write_vault({"bella.md": HEAD + "- 03/04/2026 visit: trim\n"})
    # Old enough that the index trusts its row, rather than parse a file changed just now.
    os.utime(root / "bella.md", (time_.time() - 3600,) * 2)

    def log_days() -> list[str]:
        code, out, _ = crm(root, "show", "bella", "--format", "json", "--today", "2026-11-23")
        assert code == 0
        return [e["date"] for e in json.loads(out)["log"]]

    assert log_days() == []
    (root / "crm.toml").write_text('[vault]\ndate_order = "DMY"\n', encoding="utf-8")
    assert log_days() == ["2026-04-03"]
    (root / "crm.toml").write_text('[vault]\ndate_order = "MDY"\n', encoding="utf-8")
    assert log_days() == ["2026-03-04"]


def test_a_bad_date_order_is_a_config_problem(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": '[vault]\ndate_order = "YMD"\n'})
    code, out, err = crm(root, "check")
    assert (code, out) == (1, "")
    assert err == f'{root / "crm.toml"}:2: vault.date_order must be "DMY" or "MDY", not \'YMD\'\n'


def test_away_as_a_range_string_loads() -> None:
    text = "---\nname: Bella Rossi\nfirst_name: Bella\naway: 2026-12-10..2026-12-20\n---\n"
    c, problems = parse_bytes(text.encode(), Path("bella.md"), "bella")
    assert problems == []
    assert c is not None and c.away == Away(date(2026, 12, 10), date(2026, 12, 20))
    text = text.replace("2026-12-10..2026-12-20", "2026-12-20..2026-12-10")
    c, problems = parse_bytes(text.encode(), Path("bella.md"), "bella")
    assert [str(p) for p in problems] == [
        "bella.md:4: away: 'to' (2026-12-10) is before 'from' (2026-12-20)"
    ]
    assert c is not None and c.away is None
