"""Closures (``[[closures]]``): due dates move to the first open day, whom to tell, the feed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import icalendar
import pytest
from click.testing import CliRunner, Result

from crm.cli import main
from crm.core.closures import Closure, last_open_before, moved, open_day, reopens
from tests.conftest import WriteVault, vevents

# Two closures back to back: the business reopens on 2027-01-07.
ADJACENT = """\
[defaults]
cadence = "30d"

[[closures]]
from = 2026-12-24
to = 2026-12-31
reason = "winter holiday"

[[closures]]
from = 2027-01-01
to = 2027-01-06
reason = "inventory"
"""


def run(root: Path, *args: str, plain: bool = False) -> Result:
    env = {"CRM_NO_INDEX": "1"} if plain else {}
    return CliRunner().invoke(main, ["--vault", str(root), *args], env=env)


def output(root: Path, *args: str) -> str:
    """Return the output of a command, after checking that the plain path says the same."""
    indexed = run(root, *args)
    assert indexed.exit_code == 0, indexed.output
    plain = run(root, *args, plain=True)
    assert (plain.exit_code, plain.output) == (0, indexed.output)
    return indexed.output


def person(name: str, front: str = "", log: str = "") -> str:
    first, _, _ = name.partition(" ")
    slug = first.lower()
    return (
        f"---\nname: {name}\nfirst_name: {first}\nemail: {slug}@example.com\n{front}---\n\n"
        f"## Log\n{log}"
    )


def visit(day: str) -> str:
    return f"- {day} visit: cut\n"


@pytest.fixture
def rhythm_vault(write_vault: WriteVault) -> Path:
    return write_vault(
        {
            "crm.toml": ADJACENT,
            "ada.md": person("Ada Lind", log=visit("2026-11-30")),  # due 12-30: inside
            "ben.md": person("Ben Ott", log=visit("2026-12-05")),  # due 01-04: the next one
            "cy.md": person("Cy Park", log=visit("2026-11-01")),  # due 12-01: missed before
            "dee.md": person("Dee Ray"),  # never contacted
            "eve.md": person("Eve Sand", log=visit("2026-12-20")),  # due 01-19: after
        }
    )


def test_moved_and_open_days_are_pure_functions_of_the_closures() -> None:
    first = Closure(date(2026, 12, 24), date(2026, 12, 31))
    second = Closure(date(2027, 1, 1), date(2027, 1, 6))
    both = (first, second)
    assert open_day(date(2026, 12, 24), both) == date(2027, 1, 7)
    assert open_day(date(2026, 12, 23), both) == date(2026, 12, 23)
    assert reopens(first, both) == date(2027, 1, 7)
    assert last_open_before(second, both) == date(2026, 12, 23)
    # Inside: the first open day after; outside: unchanged (a past closure changes nothing).
    assert moved(date(2026, 12, 30), both) == date(2027, 1, 7)
    assert moved(date(2026, 12, 1), both) == date(2026, 12, 1)
    assert moved(date(2027, 1, 19), both) == date(2027, 1, 19)
    assert moved(date(2026, 12, 30), ()) == date(2026, 12, 30)


def test_before_the_closure_only_the_missed_one_is_overdue(rhythm_vault: Path) -> None:
    assert output(rhythm_vault, "overdue", "--today", "2026-12-23") == (
        "NAME     LATE   LAST CONTACT      EVERY  LIKES\n"
        "Dee Ray  never  never             30d\n"
        "Cy Park  22d    2026-11-01 visit  30d\n"
    )
    # Ada's 12-30 and Ben's 01-04 are asked for on 01-07, the day the business opens.
    assert output(rhythm_vault, "upcoming", "--today", "2026-12-23") == (
        "DATE        WHEN    NAME      WHAT       NOTE\n"
        "2027-01-07  in 15d  Ada Lind  reach out\n"
        "2027-01-07  in 15d  Ben Ott   reach out\n"
        "2027-01-19  in 27d  Eve Sand  reach out\n"
    )
    assert output(rhythm_vault, "upcoming", "--today", "2026-12-23", "--days", "14") == (
        "Nothing in the next 14 days.\n"
    )


def test_on_a_closed_day_nobody_is_due_not_even_the_never_contacted(rhythm_vault: Path) -> None:
    assert output(rhythm_vault, "overdue", "--today", "2026-12-28") == "Nobody is overdue.\n"
    upcoming = (
        "DATE        WHEN    NAME      WHAT       NOTE\n"
        "2027-01-07  in 10d  Ada Lind  reach out\n"
        "2027-01-07  in 10d  Ben Ott   reach out\n"
        "2027-01-07  in 10d  Cy Park   reach out\n"
        "2027-01-07  in 10d  Dee Ray   reach out\n"
    )
    assert output(rhythm_vault, "upcoming", "--today", "2026-12-28", "--days", "14") == upcoming
    assert output(rhythm_vault, "agenda", "--today", "2026-12-28") == (
        "Agenda for Mon 2026-12-28 (5 customers)\n\n"
        # Closures end to end are one run: closed until its last day, and no reminder to tell
        # customers about the second while the first is on.
        "Closed (winter holiday) until 2027-01-06: nobody is due; open again 2027-01-07\n\n"
        "Next 14 days (4)\n" + "".join(f"  {line}\n" for line in upcoming.splitlines())
    )
    shown = output(rhythm_vault, "show", "ada", "--today", "2026-12-28")
    assert "  contact:        on track, every 30d, last 2026-11-30 (visit), due 2027-01-07\n" in (
        shown
    )
    assert "Next dates:\n  2027-01-07  reach out\n" in shown


def test_the_agenda_json_says_the_business_is_closed(rhythm_vault: Path) -> None:
    shown = json.loads(output(rhythm_vault, "agenda", "--today", "2027-01-02", "--format", "json"))
    assert shown["closures"][0] == {
        "date": "2027-01-02",
        "kind": "closed",
        "what": "Closed (inventory) until 2027-01-06: nobody is due; open again 2027-01-07",
        "from": "2027-01-01",
        "to": "2027-01-06",
    }
    assert shown["overdue"] == []
    assert shown["due_today"] == []


def test_on_the_reopen_day_everyone_moved_is_due_today(rhythm_vault: Path) -> None:
    # Cy was late before the closure began: he waited while it lasted, and is as late as ever.
    assert output(rhythm_vault, "overdue", "--today", "2027-01-07") == (
        "NAME     LATE   LAST CONTACT      EVERY  LIKES\n"
        "Dee Ray  never  never             30d\n"
        "Cy Park  37d    2026-11-01 visit  30d\n"
    )
    assert output(rhythm_vault, "upcoming", "--today", "2027-01-07") == (
        "DATE        WHEN    NAME      WHAT       NOTE\n"
        "2027-01-07  today   Ada Lind  reach out\n"
        "2027-01-07  today   Ben Ott   reach out\n"
        "2027-01-19  in 12d  Eve Sand  reach out\n"
    )
    agenda = output(rhythm_vault, "agenda", "--today", "2027-01-07", "--format", "json")
    assert [r["id"] for r in json.loads(agenda)["due_today"]] == ["ada", "ben"]
    # A day later the moved ones are a day late, counted from the day the business opened.
    assert output(rhythm_vault, "overdue", "--today", "2027-01-08") == (
        "NAME      LATE   LAST CONTACT      EVERY  LIKES\n"
        "Dee Ray   never  never             30d\n"
        "Cy Park   38d    2026-11-01 visit  30d\n"
        "Ada Lind  1d     2026-11-30 visit  30d\n"
        "Ben Ott   1d     2026-12-05 visit  30d\n"
    )


def test_a_past_closure_changes_nothing_and_a_follow_up_inside_one_waits(
    write_vault: WriteVault,
) -> None:
    root = write_vault(
        {
            "crm.toml": ADJACENT + "\n[[closures]]\nfrom = 2026-06-01\nto = 2026-06-05\n",
            "old.md": person("Old Late", "cadence: 60d\n", visit("2026-03-01")),
            "lee.md": person("Lee Plan", "next_contact: 2026-12-30\n", visit("2026-12-10")),
        }
    )
    assert output(root, "overdue", "--today", "2026-12-10") == (
        "NAME      LATE  LAST CONTACT      EVERY  LIKES\nOld Late  224d  2026-03-01 visit  60d\n"
    )
    # Planned for a closed day: asked for the day the business opens, once.
    assert output(root, "upcoming", "--today", "2026-12-20", "--days", "30") == (
        "DATE        WHEN    NAME      WHAT                            NOTE\n"
        "2027-01-07  in 18d  Lee Plan  follow-up (planned 2026-12-30)\n"
    )
    shown = output(root, "show", "old", "--today", "2026-12-28")
    assert (
        "  contact:        waits: the business is closed, every 60d, last 2026-03-01 (visit), due 2027-01-07\n"
        in shown
    )


MOVED = ("Ada Lind", "Ben Ott ", "Cy Park ", "Dee Ray ")


@pytest.mark.parametrize(
    ("today", "days", "shown"),
    [
        ("2027-01-05", "1", "Nothing in the next 1 days.\n"),
        ("2027-01-06", "0", "Nothing in the next 0 days.\n"),
        (
            "2027-01-05",
            "2",
            "DATE        WHEN  NAME      WHAT       NOTE\n"
            + "".join(f"2027-01-07  Thu   {n}  reach out\n" for n in MOVED),
        ),
        (
            "2027-01-06",
            "1",
            "DATE        WHEN      NAME      WHAT       NOTE\n"
            + "".join(f"2027-01-07  tomorrow  {n}  reach out\n" for n in MOVED),
        ),
    ],
)
def test_upcoming_across_the_reopen_day_is_the_same_with_and_without_the_index(
    rhythm_vault: Path, today: str, days: str, shown: str
) -> None:
    assert output(rhythm_vault, "upcoming", "--today", today, "--days", days) == shown


def test_the_feed_asks_for_the_reach_out_on_the_reopen_day(rhythm_vault: Path) -> None:
    result = run(rhythm_vault, "ics", "--today", "2026-12-28")
    assert result.exit_code == 0, result.output
    plain = run(rhythm_vault, "ics", "--today", "2026-12-28", plain=True)
    assert plain.stdout_bytes == result.stdout_bytes
    cal = icalendar.Calendar.from_ical(result.stdout_bytes)
    starts = {str(e["UID"]): e.decoded("DTSTART") for e in cal.walk("VEVENT")}
    assert starts["reachout-ada-20270107@crm"] == date(2027, 1, 7)
    assert starts["reachout-cy-20270107@crm"] == date(2027, 1, 7)
    assert starts["reachout-eve-20270119@crm"] == date(2027, 1, 19)
    # Never contacted: not flagged while closed, asked for the day the business opens.
    assert starts["reachout-dee-20270107@crm"] == date(2027, 1, 7)
    # Both closures are one all-day event each, and the run's reminder to tell customers.
    assert vevents(result.stdout_bytes, "closure-") == {
        "closure-20261224@crm": (
            date(2026, 12, 24),
            date(2027, 1, 1),
            "Closed: winter holiday (2026-12-24 to 2026-12-31)",
            "Closed",
        ),
        "closure-20270101@crm": (
            date(2027, 1, 1),
            date(2027, 1, 7),
            "Closed: inventory (2027-01-01 to 2027-01-06)",
            "Closed",
        ),
        "closure-notice-20261224@crm": (
            date(2026, 12, 3),
            date(2026, 12, 4),
            "Tell customers about the closure from 2026-12-24: crm draft closure",
            "Reminder",
        ),
        # The inventory closure runs on from the winter one: customers are told of the run once.
    }


WINTER = """\
[outreach]
regulars = ["vip", "salon"]

[loyalty]
min_visits = 10

[[closures]]
from = 2026-12-24
to = 2027-01-06
reason = "winter holiday"
"""
NOTICE = """\
---
kind: notice
channel: email
subject: Closed from {{ closure.from | date("d MMMM") }}
topic: closures
---
Hi {{ hello }}, we are closed from {{ closure.from | date("d MMMM") }} to \
{{ closure.to | date("d MMMM") }} ({{ closure.reason }}). Last day: \
{{ closure.last_open | date("EEEE, d MMMM") }}; back on {{ closure.reopens | date("EEEE, d MMMM") }}.
"""
NOTICE_DE = """\
---
subject: Geschlossen ab {{ closure.from | date("d. MMMM") }}
---
Hallo {{ hello }}, geschlossen vom {{ closure.from | date("d. MMMM") }} bis \
{{ closure.to | date("d. MMMM") }}. Letzter Tag: {{ closure.last_open | date("EEEE, d. MMMM") }}; \
wieder da ab {{ closure.reopens | date("EEEE, d. MMMM") }}.
"""
TOLD = "2026-12-03"  # the notice day: 21 days before the closure
HEAD = "About the closure 2026-12-24 to 2027-01-06 (winter holiday): the customers it concerns\n"
# Each customer concerned by exactly one reason (no default cadence: only their own).
CONCERNED = {
    "ann": ("Ann Due", "cadence: 30d\n", visit("2026-11-25"), "due 2026-12-25"),
    "bo": ("Bo Week", "cadence: 60d\n", visit("2026-11-10"), "due 2027-01-09"),
    "cat": ("Cat Plan", "next_contact: 2027-01-10\n", "", "follow-up planned 2027-01-10"),
    "dan": (
        "Dan Habit",
        "",
        visit("2026-09-15") + visit("2026-10-20") + visit("2026-11-24"),
        "usually comes every 35 days, next around 2026-12-29",
    ),
    "eli": ("Eli Tag", "tags: [vip]\n", "", "regular (vip)"),
    "fay": ("Fay Seg", "segment: salon\n", "", "regular (salon)"),
}


def closure_vault(write_vault: WriteVault, people: dict[str, tuple[str, str, str]]) -> Path:
    files: dict[str, str | bytes] = {
        "crm.toml": WINTER,
        "templates/messages/closure.md": NOTICE,
        "templates/messages/closure.de.md": NOTICE_DE,
    }
    for slug, (name, front, log) in people.items():
        files[f"{slug}.md"] = person(name, front, log)
    return write_vault(files)


def explain(root: Path, *args: str) -> Result:
    return run(root, "draft", "closure", "--dry-run", "--explain", "--today", TOLD, *args)


@pytest.mark.parametrize("slug", sorted(CONCERNED))
def test_each_reason_to_tell_a_customer_about_a_closure(write_vault: WriteVault, slug: str) -> None:
    name, front, log, why = CONCERNED[slug]
    root = closure_vault(
        write_vault, {slug: (name, front, log), "kim": ("Kim None", "cadence: 30d\n", "")}
    )
    result = explain(root)
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"closure-2026-12-24: 1 draft\n{HEAD}"
        f"  draft  {name} ({slug}): email {name} <{name.split()[0].lower()}@example.com> ({why})\n"
        "Dry run: nothing written.\n"
    )


def test_being_loyal_alone_is_no_reason_to_hear_of_a_closure(write_vault: WriteVault) -> None:
    root = closure_vault(write_vault, {"gus": ("Gus Loyal", "value: 2500\n", "")})
    result = explain(root)
    assert (result.exit_code, result.output) == (
        0,
        f"closure-2026-12-24: 0 drafts\n{HEAD}Dry run: nothing written.\n",
    )


def test_the_audience_rules_but_the_quiet_period_hold_back_whom_the_closure_concerns(
    write_vault: WriteVault,
) -> None:
    people = {slug: (name, front, log) for slug, (name, front, log, _) in CONCERNED.items()}
    people |= {
        "hal": ("Hal Away", "tags: [vip]\naway: 2026-12-01..2026-12-10\n", ""),
        "ivy": ("Ivy Out", "tags: [vip]\nopt_out: [closures]\n", ""),
        # Contacted two days ago: the notice is news of her next visit, so she hears of it.
        "jo": ("Jo Lately", "tags: [vip]\n", "- 2026-12-01 call: booked\n"),
        "kim": ("Kim None", "cadence: 30d\n", visit("2026-12-20")),  # a plan: not due then
        "lea": ("Lea Lost", "tags: [vip]\nstatus: lost\n", ""),
        "max": ("Max Snooze", "tags: [vip]\nsnooze_until: 2026-12-10\n", ""),
    }
    result = explain(closure_vault(write_vault, people))
    assert result.exit_code == 0, result.output
    told = {**CONCERNED, "jo": ("Jo Lately", "", "", "regular (vip)")}
    drafts = "".join(
        f"  draft  {name} ({slug}): email {name} <{name.split()[0].lower()}@example.com> ({why})\n"
        for slug, (name, _, _, why) in sorted(told.items())
    )
    assert result.output == (
        f"closure-2026-12-24: 7 drafts; held back: 1 away, 1 snoozed, 1 opted out\n{HEAD}{drafts}"
        "  held   Hal Away (hal): away (until 2026-12-10)\n"
        "  held   Ivy Out (ivy): opted out (closures)\n"
        "  held   Max Snooze (max): snoozed (until 2026-12-10)\n"
        "Dry run: nothing written.\n"
    )


def test_the_notice_sees_the_closure_in_the_customers_language(write_vault: WriteVault) -> None:
    people = {
        "eli": ("Eli Tag", "tags: [vip]\n", ""),
        "uwe": ("Uwe Berg", "tags: [vip]\nlanguage: de\n", ""),
    }
    root = closure_vault(write_vault, people)
    result = run(root, "draft", "closure", "--today", TOLD)
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"closure-2026-12-24: 2 drafts\n{HEAD}"
        "Wrote 2 to outbox/closure-2026-12-24/; read and edit them, then: "
        "crm send closure-2026-12-24\n"
    )
    folder = root / "outbox" / "closure-2026-12-24"
    english = (folder / "eli.md").read_text(encoding="utf-8")
    assert "subject: Closed from 24 December\n" in english
    assert english.endswith(
        "Hi Eli, we are closed from 24 December to 6 January (winter holiday). "
        "Last day: Wednesday, 23 December; back on Thursday, 7 January.\n"
    )
    german = (folder / "uwe.md").read_text(encoding="utf-8")
    assert "subject: Geschlossen ab 24. Dezember\n" in german
    assert german.endswith(
        "Hallo Uwe, geschlossen vom 24. Dezember bis 6. Januar. "
        "Letzter Tag: Mittwoch, 23. Dezember; wieder da ab Donnerstag, 7. Januar.\n"
    )


def test_crm_check_names_the_closure_whose_notice_is_missing_where_it_is(
    write_vault: WriteVault,
) -> None:
    # Out of date order: the config sorts them, the problem still names the first table.
    root = write_vault(
        {
            "crm.toml": (
                '[[closures]]\nfrom = 2027-08-01\nto = 2027-08-14\nnotice = "summer"\n\n'
                "[[closures]]\nfrom = 2027-02-01\nto = 2027-02-03\n"
            ),
            "templates/messages/closure.md": NOTICE,
        }
    )
    result = run(root, "check", "--today", "2026-12-01")
    assert result.stderr.replace(f"{root}/", "") == (
        "crm.toml:4: warning: closures[1].notice: no message template 'summer' in "
        "templates/messages/ to tell customers with (crm init writes a starter)\n"
    )
    assert result.exit_code == 0


def test_a_closure_notice_with_no_closure_coming_is_refused(write_vault: WriteVault) -> None:
    root = closure_vault(write_vault, {"ann": ("Ann Due", "cadence: 30d\n", "")})
    result = explain(root, "--today", "2027-02-01")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        "crm: 'closure' tells of a closure, and crm.toml has none coming (not over by "
        "2027-02-01) that it tells of: add one with crm closed FROM TO\n",
    )


def test_a_closure_that_is_over_is_refused_and_one_begun_is_warned_of(
    write_vault: WriteVault,
) -> None:
    root = closure_vault(write_vault, {"ann": ("Ann Due", "cadence: 30d\n", visit("2026-11-25"))})
    over = explain(root, "--closure", "2026-12-24", "--today", "2027-01-10")
    assert (over.exit_code, over.stderr) == (
        2,
        "crm: the closure 2026-12-24 to 2027-01-06 (winter holiday) is over: nobody needs to hear "
        "of it\n",
    )
    begun = explain(root, "--closure", "2026-12-24", "--today", "2026-12-26")
    assert begun.exit_code == 0
    assert begun.stderr == (
        "crm: warning: the closure 2026-12-24 to 2027-01-06 (winter holiday) has begun; they "
        "learn of it late\n"
    )


def test_a_closure_day_that_is_no_date_names_the_option(write_vault: WriteVault) -> None:
    root = closure_vault(write_vault, {"ann": ("Ann Due", "", "")})
    result = explain(root, "--closure", "garbage", "--today", "2026-12-01")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: Invalid value for '--closure': 'garbage' is not a date (expected YYYY-MM-DD, "
        "today, yesterday, tomorrow, a weekday (friday, fri), 20 Dec, Dec 20, 20 Dec 2026, "
        "Dec 20, 2026 or 20.12.2026)\n"
    )


def test_closure_and_occasion_options_do_not_mix(write_vault: WriteVault) -> None:
    root = closure_vault(write_vault, {"ann": ("Ann Due", "", "")})
    result = explain(root, "--closure", "2026-12-24", "--occasion", "x")
    assert result.exit_code == 2
    assert "--closure and --occasion: one or the other" in result.stderr


def test_a_run_of_closures_is_told_once_with_its_whole_span(write_vault: WriteVault) -> None:
    run_toml = (
        WINTER.replace("to = 2027-01-06", "to = 2026-12-31")
        + '\n[[closures]]\nfrom = 2027-01-01\nto = 2027-01-06\nreason = "inventory"\n'
        + "\n[[closures]]\nfrom = 2027-03-01\nto = 2027-03-01\nnotice_days = 0\n"
    )
    root = closure_vault(write_vault, {"eli": ("Eli Tag", "tags: [vip]\n", "")})
    (root / "crm.toml").write_text(run_toml, encoding="utf-8")
    result = run(root, "draft", "closure", "--today", TOLD, "--to", "eli")
    assert result.exit_code == 0, result.output
    text = (root / "outbox" / "closure-2026-12-24" / "eli.md").read_text(encoding="utf-8")
    assert text.endswith(
        "Hi Eli, we are closed from 24 December to 6 January (winter holiday). Last day: "
        "Wednesday, 23 December; back on Thursday, 7 January.\n"
    )
    # One reminder for the run; none for a closure with notice_days = 0.
    feed = run(root, "ics", "--today", TOLD).stdout_bytes
    assert sorted(vevents(feed, "closure-notice-")) == ["closure-notice-20261224@crm"]
    agenda = run(root, "agenda", "--today", "2027-02-27").output
    assert "Tell customers" not in agenda
    assert "  2027-03-01  Closed (2027-03-01)\n" in agenda


def test_overlapping_closures_are_a_warning(write_vault: WriteVault) -> None:
    overlap = WINTER + "\n[[closures]]\nfrom = 2027-01-05\nto = 2027-01-10\n"
    root = write_vault({"crm.toml": overlap, "templates/messages/closure.md": NOTICE})
    result = run(root, "check", "--today", "2026-12-01")
    assert (result.exit_code, result.stderr) == (
        0,
        f"{root}/crm.toml:13: warning: closures[2].from: overlaps closures[1] (2026-12-24 to "
        "2027-01-06 (winter holiday)); one closure per run of days\n",
    )
