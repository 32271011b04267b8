"""Yearly occasions (``[[occasions]]``): their dates, lead time, once a year; ``[feed] drafts``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import icalendar
import pytest
from click.testing import CliRunner, Result

from crm.cli import main
from crm.core.model import Span
from crm.core.occasions import Occasion, day_in, parse_occasions
from tests.conftest import WriteVault, vevents

HOLIDAY = """\
[[occasions]]
name = "Holiday greetings"
date = "12-20"
template = "holiday"
"""
GREETING = """\
---
kind: greeting
channel: email
topic: holidays
---
Hi {{ hello }}, happy {{ occasion.name }} on {{ occasion.date | date("d MMMM") }}!
"""


def run(root: Path, *args: str, plain: bool = False) -> Result:
    env = {"CRM_NO_INDEX": "1"} if plain else {}
    return CliRunner().invoke(main, ["--vault", str(root), *args], env=env)


def person(name: str, front: str = "", log: str = "") -> str:
    first, _, _ = name.partition(" ")
    return (
        f"---\nname: {name}\nfirst_name: {first}\nemail: {first.lower()}@example.com\n{front}"
        f"---\n\n## Log\n{log}"
    )


VISITED = "- 2026-10-01 visit: cut\n"


@pytest.fixture
def holiday_vault(write_vault: WriteVault) -> Path:
    return write_vault(
        {
            "crm.toml": HOLIDAY,
            "templates/messages/holiday.md": GREETING,
            "ada.md": person("Ada Lind", log=VISITED),
            "ben.md": person(
                "Ben Ott",
                log=VISITED + "- 2026-11-01 greeting: hi [campaign: holiday-greetings-2026]\n",
            ),
            "cy.md": person(
                "Cy Park",
                log=VISITED + "- 2026-11-02 greeting: hi [campaign: holiday-2026-12-01]\n",
            ),
            "dee.md": person(
                "Dee Ray",
                log=VISITED + "- 2025-12-15 greeting: hi [campaign: holiday-greetings-2025]\n",
            ),
            "eve.md": person("Eve Old", log="- 2024-12-10 visit: cut\n"),  # over two years ago
            "fay.md": person("Fay Near", log="- 2024-12-16 visit: cut\n"),
        }
    )


# -- dates ------------------------------------------------------------------------------------


def test_rule_dates_name_a_weekday_of_a_month() -> None:
    mothers = Occasion("Mother's day", "first Sunday of May", "mum")
    assert mothers.next_on(date(2026, 12, 15)) == date(2027, 5, 2)
    assert mothers.next_on(date(2027, 5, 2)) == date(2027, 5, 2)
    assert mothers.next_on(date(2027, 5, 3)) == date(2028, 5, 7)
    assert day_in("last Friday in November", 2026) == date(2026, 11, 27)
    assert day_in("Last fri of nov", 2027) == date(2027, 11, 26)
    assert day_in("2nd Tuesday of March", 2026) == date(2026, 3, 10)
    assert day_in("12-24", 2026) == date(2026, 12, 24)
    assert mothers.campaign(2027) == "mother-s-day-2027"


@pytest.mark.parametrize(
    ("year", "feb29", "day"),
    [
        (2027, "feb28", date(2027, 2, 28)),
        (2027, "mar1", date(2027, 3, 1)),
        (2028, "feb28", date(2028, 2, 29)),
        (2028, "mar1", date(2028, 2, 29)),
    ],
)
def test_a_leap_day_occasion_follows_feb29_in_a_common_year(
    year: int, feb29: str, day: date
) -> None:
    assert Occasion("Leap", "02-29", "leap").on(year, feb29) == day  # type: ignore[arg-type]


def test_an_occasion_reaches_customers_seen_in_the_last_two_years_by_default() -> None:
    problems: list[str] = []
    found = parse_occasions(
        [
            {"name": "A", "date": "12-20", "template": "a"},
            {"name": "B", "date": "12-20", "template": "b", "within": "6m", "lead_days": 0},
            {"name": "C", "date": "12-20", "template": "c", "within": "any"},
        ],
        problems.append,
    )
    assert problems == []
    assert [(o.within, o.lead_days) for o in found] == [
        (Span(2, "y"), 7),
        (Span(6, "m"), 0),
        (None, 7),
    ]


def test_bad_occasions_are_located_problems_of_crm_toml(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": HOLIDAY
            + """
[[occasions]]
name = "Bad rule"
date = "fifth Sunday of May"
template = "holiday"

[[occasions]]
name = "Bad day"
date = "02-30"
template = "holiday"

[[occasions]]
name = "No template"
date = "05-01"
template = "nosuch"
lead_days = -1
""",
            "templates/messages/holiday.md": GREETING,
        }
    )
    result = run(root, "check")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.replace(f"{root}/", "") == (
        "crm.toml:8: occasions[2].date: 'fifth Sunday of May' is not an occasion's date "
        "(12-24, first Sunday of May, last Friday in November)\n"
        "crm.toml:13: occasions[3].date: '02-30' is no day of the year\n"
        "crm.toml:19: occasions[4].template: no message template 'nosuch' in "
        "templates/messages/\n"
        "crm.toml:20: occasions[4].lead_days must be a whole number from 0 to 366\n"
    )


# -- the lead time ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "line"),
    [
        ("2026-12-12", None),
        ("2026-12-13", "  2026-12-20  Holiday greetings: 3 to send by 12-20: crm draft holiday\n"),
        # Fay's last visit (2024-12-16) is more than two years back by now.
        ("2026-12-20", "  2026-12-20  Holiday greetings: 2 to send by 12-20: crm draft holiday\n"),
        ("2026-12-21", None),
    ],
)
def test_the_agenda_counts_the_messages_to_send_through_the_lead_time(
    holiday_vault: Path, today: str, line: str | None
) -> None:
    result = run(holiday_vault, "agenda", "--today", today)
    assert result.exit_code == 0, result.output
    assert run(holiday_vault, "agenda", "--today", today, plain=True).output == result.output
    day = date.fromisoformat(today)
    head = f"Agenda for {day:%a} {today} (6 customers)\n\n"
    if line is None:
        assert result.output == head + "Nothing to do today.\n"
    else:
        assert result.output == head + "Closures and occasions (1)\n" + line


def test_the_agenda_json_has_the_occasion(holiday_vault: Path) -> None:
    result = run(holiday_vault, "agenda", "--today", "2026-12-15", "--format", "json")
    assert json.loads(result.output)["occasions"] == [
        {
            "date": "2026-12-20",
            "name": "Holiday greetings",
            "template": "holiday",
            "campaign": "holiday-greetings-2026",
            "to_send": 3,
            "what": "Holiday greetings: 3 to send by 12-20: crm draft holiday",
        }
    ]


def occasion_events(root: Path, today: str) -> dict[str, tuple[object, ...]]:
    result = run(root, "ics", "--today", today)
    assert result.exit_code == 0, result.output
    return vevents(result.stdout_bytes, "occasion-")


def test_the_feed_has_the_lead_start_with_the_count_once_the_lead_time_runs(
    holiday_vault: Path,
) -> None:
    later = (date(2027, 12, 13), date(2027, 12, 14))
    assert occasion_events(holiday_vault, "2026-12-15") == {
        "occasion-holiday-greetings-2026@crm": (
            date(2026, 12, 13),
            date(2026, 12, 14),
            "Holiday greetings: 3 to send by 12-20",
            "Occasion",
        ),
        "occasion-holiday-greetings-2027@crm": (
            *later,
            "Holiday greetings: messages to send by 12-20",
            "Occasion",
        ),
    }
    before = occasion_events(holiday_vault, "2026-12-01")
    assert before["occasion-holiday-greetings-2026@crm"][2] == (
        "Holiday greetings: messages to send by 12-20"
    )


# -- once a year ------------------------------------------------------------------------------


def test_whoever_had_the_occasion_this_year_is_held(holiday_vault: Path) -> None:
    args = ("draft", "holiday", "--dry-run", "--explain", "--today", "2026-12-15")
    drafts = (
        "  draft  Ada Lind (ada): email Ada Lind <ada@example.com>\n"
        "  draft  Dee Ray (dee): email Dee Ray <dee@example.com>\n"
        "  draft  Fay Near (fay): email Fay Near <fay@example.com>\n"
    )
    result = run(holiday_vault, *args)
    assert (result.exit_code, result.output) == (
        0,
        "holiday-greetings-2026: 3 drafts; held back: 1 already in this campaign, "
        "1 had it this year\n" + drafts + "  held   Ben Ott (ben): already in this campaign "
        "(holiday-greetings-2026)\n"
        "  held   Cy Park (cy): had it this year (holiday-2026-12-01)\n"
        "Dry run: nothing written.\n",
    )
    # Under another campaign's name, the occasion's own campaign is one message of it too.
    renamed = run(holiday_vault, *args, "--campaign", "xmas")
    assert renamed.output == (
        "xmas: 3 drafts; held back: 2 had it this year\n" + drafts + ""
        "  held   Ben Ott (ben): had it this year (holiday-greetings-2026)\n"
        "  held   Cy Park (cy): had it this year (holiday-2026-12-01)\n"
        "Dry run: nothing written.\n"
    )


def test_a_draft_after_the_day_is_for_this_years_occasion(holiday_vault: Path) -> None:
    # Three days late is still this year's greeting: the same campaign, the same once-a-year
    # rule (and Fay's visit is now more than two years ago).
    result = run(holiday_vault, "draft", "holiday", "--dry-run", "--today", "2026-12-23")
    assert result.output.splitlines()[0] == (
        "holiday-greetings-2026: 2 drafts; held back: 1 already in this campaign, 1 had it this year"
    )


def test_a_default_named_campaign_counts_for_the_occasion_of_its_season(
    write_vault: WriteVault,
) -> None:
    # A January occasion: drafted by default name in late December, that was this occasion's.
    toml = '[[occasions]]\nname = "New year"\ndate = "01-06"\ntemplate = "holiday"\n'
    late = VISITED + "- 2026-12-28 greeting: hi [campaign: holiday-2026-12-28]\n"
    root = write_vault(
        {
            "crm.toml": toml,
            "templates/messages/holiday.md": GREETING,
            "ada.md": person("Ada Lind", log=late),
            "ben.md": person(
                "Ben Ott", log=VISITED + "- 2026-06-01 x: [campaign: holiday-2026-06-01]\n"
            ),
        }
    )
    result = run(root, "draft", "holiday", "--dry-run", "--explain", "--today", "2027-01-05")
    assert result.output == (
        "new-year-2027: 1 draft; held back: 1 had it this year\n"
        "  draft  Ben Ott (ben): email Ben Ott <ben@example.com>\n"
        "  held   Ada Lind (ada): had it this year (holiday-2026-12-28)\n"
        "Dry run: nothing written.\n"
    )


def test_an_occasions_template_without_its_occasion_is_refused(write_vault: WriteVault) -> None:
    root = write_vault(
        {"templates/messages/holiday.md": GREETING, "ada.md": person("Ada Lind", log=VISITED)}
    )
    result = run(root, "draft", "holiday", "--today", "2026-12-15")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        "crm: 'holiday' is written for an occasion, and no [[occasions]] entry in crm.toml uses "
        "it (or name one with --occasion)\n",
    )
    assert not (root / "outbox").exists()


def test_the_message_sees_the_occasion(holiday_vault: Path) -> None:
    result = run(holiday_vault, "draft", "holiday", "--today", "2026-12-15", "--to", "ada")
    assert result.exit_code == 0, result.output
    written = holiday_vault / "outbox" / "holiday-greetings-2026" / "ada.md"
    assert written.read_text(encoding="utf-8").endswith(
        "---\nHi Ada, happy Holiday greetings on 20 December!\n"
    )


# -- [feed] drafts ----------------------------------------------------------------------------

BIRTHDAY = (
    "---\nkind: greeting\nchannel: email\ntopic: birthdays\n---\nHappy birthday, {{ hello }}!\n"
)


def descriptions(root: Path, today: str = "2026-12-01") -> dict[str, str | None]:
    result = run(root, "ics", "--today", today)
    assert result.exit_code == 0, result.output
    cal = icalendar.Calendar.from_ical(result.stdout_bytes)
    return {
        str(e["UID"]): (str(e["DESCRIPTION"]) if "DESCRIPTION" in e else None)
        for e in cal.walk("VEVENT")
        if str(e["UID"]).endswith("-2026@crm")
    }


def birthday_vault(write_vault: WriteVault, feed: str) -> Path:
    return write_vault(
        {
            "crm.toml": f"[feed]\n{feed}",
            "templates/messages/birthday.md": BIRTHDAY,
            "ada.md": person("Ada Lind", "birthday: 1990-12-20\n"),
            "ben.md": person("Ben Ott", "birthday: 1990-12-20\nopt_out: [birthdays]\n"),
        }
    )


def test_drafts_put_the_message_in_the_lead_event_never_for_who_opted_out(
    write_vault: WriteVault,
) -> None:
    root = birthday_vault(write_vault, "drafts = true\nlead_days = 3\n")
    assert descriptions(root) == {
        "birthday-soon-ada-2026@crm": "Happy birthday, Ada!",
        "birthday-soon-ben-2026@crm": None,
        "birthday-ada-2026@crm": None,
        "birthday-ben-2026@crm": None,
    }
    plain = run(root, "ics", "--today", "2026-12-01", plain=True)
    assert plain.stdout_bytes == run(root, "ics", "--today", "2026-12-01").stdout_bytes


def test_without_a_lead_time_the_birthday_event_carries_the_message(
    write_vault: WriteVault,
) -> None:
    root = birthday_vault(write_vault, "drafts = true\n")
    assert descriptions(root) == {
        "birthday-ada-2026@crm": "Happy birthday, Ada!",
        "birthday-ben-2026@crm": None,
    }


def test_drafts_off_leaves_the_events_without_a_message(write_vault: WriteVault) -> None:
    root = birthday_vault(write_vault, "lead_days = 3\n")
    assert set(descriptions(root).values()) == {None}


def test_an_edited_template_renders_anew_through_the_index(write_vault: WriteVault) -> None:
    root = birthday_vault(write_vault, "drafts = true\nlead_days = 3\n")
    lead = "birthday-soon-ada-2026@crm"
    assert descriptions(root)[lead] == "Happy birthday, Ada!"
    assert descriptions(root)[lead] == "Happy birthday, Ada!"  # from the stored blocks
    template = root / "templates" / "messages" / "birthday.md"
    template.write_text(BIRTHDAY.replace("Happy birthday", "Many happy returns"), encoding="utf-8")
    assert descriptions(root)[lead] == "Many happy returns, Ada!"
    (root / "templates" / "messages" / "birthday.de.md").write_text(
        "---\n---\nAlles Gute, {{ hello }}!\n", encoding="utf-8"
    )
    (root / "ada.md").write_text(
        person("Ada Lind", "birthday: 1990-12-20\nlanguage: de\n"), encoding="utf-8"
    )
    assert descriptions(root)[lead] == "Alles Gute, Ada!"


def test_the_count_to_send_follows_the_templates_own_audience(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": HOLIDAY,
            "templates/messages/holiday.md": GREETING.replace(
                "topic: holidays\n", "topic: holidays\naudience:\n  tag: vip\n"
            ),
            "ada.md": person("Ada Lind", "tags: [vip]\n", VISITED),
            "ben.md": person("Ben Ott", "", VISITED),
        }
    )
    line = "Holiday greetings: 1 to send by 12-20: crm draft holiday"
    assert run(root, "agenda", "--today", "2026-12-15").output.endswith(f"  2026-12-20  {line}\n")
    assert run(root, "draft", "holiday", "--dry-run", "--today", "2026-12-15").output == (
        "holiday-greetings-2026: 1 draft\nDry run: nothing written.\n"
    )
    summary = occasion_events(root, "2026-12-15")["occasion-holiday-greetings-2026@crm"][2]
    assert summary == "Holiday greetings: 1 to send by 12-20"


def test_two_occasions_of_one_campaign_name_are_refused(write_vault: WriteVault) -> None:
    toml = (
        HOLIDAY
        + '\n[[occasions]]\nname = "holiday  Greetings!"\ndate = "12-24"\ntemplate = "holiday"\n'
    )
    root = write_vault({"crm.toml": toml, "templates/messages/holiday.md": GREETING})
    result = run(root, "check", "--today", "2026-12-01")
    assert (result.exit_code, result.stderr) == (
        1,
        f"{root}/crm.toml:7: occasions[2].name: 'holiday  Greetings!' makes the same campaign as "
        "occasions[1] ('Holiday greetings'): holiday-greetings-YYYY; give it another name\n",
    )


def test_an_occasion_without_its_template_is_not_announced(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": HOLIDAY, "ada.md": person("Ada Lind", log=VISITED)})
    assert "Holiday greetings" not in run(root, "agenda", "--today", "2026-12-15").output
    checked = run(root, "check", "--today", "2026-12-15")
    assert checked.exit_code == 1
    assert "occasions[1].template: no message template 'holiday'" in checked.stderr


@pytest.mark.parametrize("when", ["12-24", "--12-24", "24 Dec", "December 24", "Dec 24th"])
def test_a_day_of_the_year_reads_as_a_birthday_without_a_year_does(when: str) -> None:
    assert day_in(when, 2026) == date(2026, 12, 24)


def test_an_occasion_with_a_year_is_refused() -> None:
    with pytest.raises(ValueError, match="has a year: an occasion comes every year"):
        day_in("2026-12-24", 2026)
