"""The date and cadence rules, with plain dates and no clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path

import pytest

from crm.core.config import Config, parse_config
from crm.core.dates import (
    add_span,
    next_occurrence,
    occurrence_in,
    parse_cap,
    parse_datetime,
    parse_partial_date,
    parse_span,
    years_since,
)
from crm.core.kinds import Kinds
from crm.core.model import ContactCap, Customer, Location, PartialDate, Span
from crm.rules import cap, rhythm
from crm.vault.parse import parse_bytes

D = date.fromisoformat


def customer(front: str, log: str = "") -> Customer:
    """Parse one customer file written inline; it must load without errors."""
    text = f"---\nname: Test Person\nfirst_name: Test\n{front}---\n"
    if log:
        text += "## Log\n" + log
    c, problems = parse_bytes(text.encode(), Path("t.md"), "t")
    assert c is not None
    assert [p for p in problems if p.severity == "error"] == []
    return c


def config(toml: str = "") -> Config:
    import tomllib

    cfg, problems = parse_config(tomllib.loads(toml), Location(Path("crm.toml")))
    assert problems == []
    return cfg


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("14d", Span(14, "d")),
        ("2w", Span(2, "w")),
        ("3m", Span(3, "m")),
        ("1y", Span(1, "y")),
        ("weekly", Span(1, "w")),
        ("Monthly", Span(1, "m")),
        ("quarterly", Span(3, "m")),
        ("yearly", Span(1, "y")),
    ],
)
def test_parse_span(text: str, span: Span) -> None:
    assert parse_span(text) == span


@pytest.mark.parametrize("text", ["0d", "often", "14", "d14", "-3d", "2 weeks"])
def test_parse_span_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="is not a cadence"):
        parse_span(text)


def test_parse_cap() -> None:
    assert parse_cap("4/30d") == ContactCap(4, Span(30, "d"))
    assert parse_cap(" 2 / weekly ") == ContactCap(2, Span(1, "w"))
    with pytest.raises(ValueError, match="not a contact limit"):
        parse_cap("4 per month")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1989-12-02", PartialDate(12, 2, 1989)),
        ("--04-14", PartialDate(4, 14, None)),
        ("04-14", PartialDate(4, 14, None)),
        ("--02-29", PartialDate(2, 29, None)),
        ("2000-02-29", PartialDate(2, 29, 2000)),
    ],
)
def test_parse_partial_date(text: str, expected: PartialDate) -> None:
    assert parse_partial_date(text) == expected


@pytest.mark.parametrize("text", ["2026-02-30", "2025-02-29", "--02-30", "13-01", "1989/12/02"])
def test_parse_partial_date_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_partial_date(text)


def test_parse_datetime_keeps_the_time_when_given() -> None:
    assert parse_datetime("2026-11-25") == D("2026-11-25")
    assert parse_datetime("2026-11-25 14:30") == datetime(2026, 11, 25, 14, 30)
    assert parse_datetime("2026-11-25T09:05") == datetime(2026, 11, 25, 9, 5)
    with pytest.raises(ValueError, match="not a time"):
        parse_datetime("2026-11-25 25:00")


# --- cadence arithmetic ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "span", "expected"),
    [
        ("2026-01-31", "1m", "2026-02-28"),
        ("2028-01-31", "1m", "2028-02-29"),
        ("2026-03-31", "1m", "2026-04-30"),
        ("2026-01-31", "2m", "2026-03-31"),
        ("2026-08-31", "6m", "2027-02-28"),
        ("2028-02-29", "1y", "2029-02-28"),
        ("2026-12-15", "1m", "2027-01-15"),
        ("2026-11-23", "2w", "2026-12-07"),
        ("2026-11-23", "14d", "2026-12-07"),
    ],
)
def test_add_span_uses_calendar_months_clamped_to_month_end(
    start: str, span: str, expected: str
) -> None:
    assert add_span(D(start), parse_span(span)) == D(expected)


def test_add_span_goes_back() -> None:
    assert add_span(D("2026-03-31"), parse_span("1m"), -1) == D("2026-02-28")


# --- yearly dates ------------------------------------------------------------------------


def test_feb29_falls_on_feb28_in_common_years_by_default() -> None:
    leapling = PartialDate(2, 29, 1996)
    assert occurrence_in(leapling, 2027) == D("2027-02-28")
    assert occurrence_in(leapling, 2028) == D("2028-02-29")
    assert occurrence_in(leapling, 2027, "mar1") == D("2027-03-01")
    assert next_occurrence(leapling, D("2026-11-23")) == D("2027-02-28")
    assert next_occurrence(leapling, D("2027-03-01")) == D("2028-02-29")
    assert years_since(leapling, D("2027-02-28")) == 31


def test_next_occurrence_is_on_or_after_today() -> None:
    bday = PartialDate(12, 2, 1989)
    assert next_occurrence(bday, D("2026-12-02")) == D("2026-12-02")
    assert next_occurrence(bday, D("2026-12-03")) == D("2027-12-02")
    assert years_since(bday, D("2026-12-02")) == 37


def test_year_less_dates_have_no_age() -> None:
    bday = PartialDate(4, 14, None)
    assert next_occurrence(bday, D("2026-11-23")) == D("2027-04-14")
    assert years_since(bday, D("2027-04-14")) is None


def test_upcoming_shows_age_and_years_where_known() -> None:
    c = customer(
        "birthday: 1989-12-02\nanniversary: --12-05\ncustomer_since: 2019-12-01\n"
        "dates:\n  - {label: Shop opening, date: 2021-12-10}\n"
        "  - {label: Wedding, date: 2026-12-12, yearly: false}\n"
        "  - {label: Old one-off, date: 2026-01-01, yearly: false}\n"
    )
    got = [
        (u.day.isoformat(), u.kind, u.label, u.age)
        for u in rhythm.upcoming([c], Config(), D("2026-11-23"), 30)
    ]
    assert got == [
        ("2026-12-01", "date", "Customer since", 7),
        ("2026-12-02", "birthday", "Birthday", 37),
        ("2026-12-05", "anniversary", "Anniversary", None),
        ("2026-12-10", "date", "Shop opening", 5),
        ("2026-12-12", "date", "Wedding", None),
    ]


def test_upcoming_window_includes_today_and_the_last_day() -> None:
    c = customer("birthday: --11-23\nanniversary: --12-23\n")
    days = [u.day for u in rhythm.upcoming([c], Config(), D("2026-11-23"), 30)]
    assert days == [D("2026-11-23"), D("2026-12-23")]
    days = [u.day for u in rhythm.upcoming([c], Config(), D("2026-11-23"), 29)]
    assert days == [D("2026-11-23")]


def test_upcoming_feb29_with_mar1_rule() -> None:
    c = customer("birthday: 2000-02-29\n")
    cfg = config('[vault]\nfeb29 = "mar1"\n')
    got = rhythm.upcoming([c], cfg, D("2027-02-20"), 30)
    assert [(u.day, u.age) for u in got] == [(D("2027-03-01"), 27)]


def test_lost_customers_have_no_upcoming_dates() -> None:
    c = customer("status: lost\nbirthday: --12-01\n")
    assert rhythm.upcoming([c], Config(), D("2026-11-23"), 30) == []


# --- last contact ------------------------------------------------------------------------


def test_last_contact_is_the_later_of_front_matter_and_log() -> None:
    c = customer("last_contact: 2026-10-01\n", "- 2026-09-01 call: hi\n- 2026-10-05 email: x\n")
    last = rhythm.last_contact(c, Kinds())
    assert last is not None and last.day == D("2026-10-05")
    assert last.entry is not None and last.entry.kind == "email"
    c = customer("last_contact: 2026-10-09\n", "- 2026-10-05 email: x\n")
    last = rhythm.last_contact(c, Kinds())
    assert last is not None and (last.day, last.entry) == (D("2026-10-09"), None)


def test_notes_and_open_tasks_do_not_count_as_contact() -> None:
    c = customer(
        "",
        "- 2026-09-01 visit: cut\n"
        "- 2026-11-01 note: she prefers mornings\n"
        "- [ ] 2026-11-10 call: ask about the wedding\n"
        "- [x] 2026-10-01 call: booked\n",
    )
    last = rhythm.last_contact(c, Kinds())
    assert last is not None and last.day == D("2026-10-01")
    assert [(i.kind, i.done, rhythm.is_contact(i, Kinds())) for i in c.log] == [
        ("visit", True, True),
        ("note", True, False),  # it happened, but a note is no contact
        ("call", False, False),  # an open task has not happened
        ("call", True, True),
    ]


def test_log_entries_may_be_in_any_order_and_carry_a_time() -> None:
    c = customer("", "- 2026-10-05 09:30 call: late\n- 2026-10-05 08:00 text: early\n")
    last = rhythm.last_contact(c, Kinds())
    assert last is not None and last.entry is not None
    assert (last.entry.kind, last.entry.time) == ("call", time(9, 30))


# --- cadence and due dates ---------------------------------------------------------------


def test_cadence_precedence_own_then_tag_then_segment_then_default() -> None:
    cfg = config('[defaults]\ncadence = "90d"\n[cadence]\nvip = "14d"\nsalon = "6w"\n')
    assert rhythm.cadence_for(customer("cadence: 7d\ntags: [vip]\n"), cfg) == Span(7, "d")
    assert rhythm.cadence_for(customer("tags: [new, vip]\n"), cfg) == Span(14, "d")
    assert rhythm.cadence_for(customer("segment: salon\n"), cfg) == Span(6, "w")
    assert rhythm.cadence_for(customer("tags: [vip]\nsegment: salon\n"), cfg) == Span(14, "d")
    assert rhythm.cadence_for(customer(""), cfg) == Span(90, "d")
    assert rhythm.cadence_for(customer(""), Config()) is None


def state(front: str, today: str, log: str = "", cfg: Config | None = None) -> tuple[str, ...]:
    s = rhythm.contact_state(customer(front, log), cfg or Config(), D(today))
    due = s.due.isoformat() if s.due else "-"
    return (s.state, due, str(s.days_overdue))


def test_due_is_last_contact_plus_cadence() -> None:
    front = "cadence: 1m\nlast_contact: 2026-01-31\n"
    assert state(front, "2026-02-27") == ("ok", "2026-02-28", "None")
    assert state(front, "2026-02-28") == ("due", "2026-02-28", "None")
    assert state(front, "2026-03-01") == ("overdue", "2026-02-28", "1")


def test_planned_next_contact_makes_it_due_sooner_only() -> None:
    base = "cadence: 30d\nlast_contact: 2026-11-01\n"
    assert state(base + "next_contact: 2026-11-10\n", "2026-11-05")[1] == "2026-11-10"
    assert state(base + "next_contact: 2026-11-10 15:00\n", "2026-11-05")[1] == "2026-11-10"
    # Later than the cadence's due date, or before the last contact: the cadence wins.
    assert state(base + "next_contact: 2026-12-20\n", "2026-11-05")[1] == "2026-12-01"
    assert state(base + "next_contact: 2026-10-20\n", "2026-11-05")[1] == "2026-12-01"


def test_never_contacted_with_a_cadence_is_flagged() -> None:
    assert state("cadence: 14d\n", "2026-11-23") == ("never", "-", "None")
    assert state("", "2026-11-23") == ("untracked", "-", "None")


def test_lost_and_paused_are_never_flagged() -> None:
    old = "cadence: 14d\nlast_contact: 2026-01-01\n"
    assert state(old + "status: lost\n", "2026-11-23")[0] == "inactive"
    assert state(old + "status: paused\n", "2026-11-23")[0] == "inactive"
    assert state(old + "status: lead\n", "2026-11-23")[0] == "overdue"


def test_snooze_until_after_today_holds_back() -> None:
    old = "cadence: 14d\nlast_contact: 2026-01-01\n"
    assert state(old + "snooze_until: 2026-11-30\n", "2026-11-23") == (
        "snoozed",
        "2026-11-30",
        "None",
    )
    # When the snooze ends the customer is due that day, and late from then on.
    assert state(old + "snooze_until: 2026-11-23\n", "2026-11-23") == ("due", "2026-11-23", "None")
    assert state(old + "snooze_until: 2026-11-23\n", "2026-11-25") == ("overdue", "2026-11-23", "2")


def test_away_period_straddling_today_moves_due_past_its_end() -> None:
    front = "cadence: 14d\nlast_contact: 2026-10-01\naway: {from: 2026-11-20, to: 2026-11-30}\n"
    assert state(front, "2026-11-23") == ("away", "2026-12-01", "None")
    assert state(front, "2026-11-30") == ("away", "2026-12-01", "None")
    assert state(front, "2026-12-01") == ("due", "2026-12-01", "None")
    assert state(front, "2026-12-03") == ("overdue", "2026-12-01", "2")


def test_due_date_inside_a_future_away_period_moves_after_it() -> None:
    front = "cadence: 14d\nlast_contact: 2026-11-20\naway: {from: 2026-12-01, to: 2026-12-10}\n"
    assert state(front, "2026-11-23") == ("ok", "2026-12-11", "None")
    assert state(front, "2026-12-05") == ("away", "2026-12-11", "None")


def test_overdue_before_an_away_period_restarts_the_day_they_are_back() -> None:
    front = "cadence: 14d\nlast_contact: 2026-09-01\naway: {from: 2026-10-01, to: 2026-10-10}\n"
    assert state(front, "2026-09-20") == ("overdue", "2026-09-15", "5")
    assert state(front, "2026-11-23") == ("overdue", "2026-10-11", "43")


def test_never_contacted_and_away_waits_until_they_are_back() -> None:
    front = "cadence: 14d\naway: {from: 2026-11-20, to: 2026-11-30}\n"
    assert state(front, "2026-11-23") == ("away", "2026-12-01", "None")
    assert state(front, "2026-12-01") == ("never", "-", "None")


def test_overdue_orders_never_contacted_then_most_overdue() -> None:
    cs = [
        replace(customer("cadence: 14d\nlast_contact: 2026-11-01\n"), id="a", name="Ann"),
        replace(customer("cadence: 14d\nlast_contact: 2026-10-01\n"), id="b", name="Bea"),
        replace(customer("cadence: 14d\n"), id="c", name="Cy"),
        replace(customer("cadence: 14d\nlast_contact: 2026-11-20\n"), id="d", name="Dan"),
    ]
    got = [(s.customer.id, s.days_overdue) for s in rhythm.overdue(cs, Config(), D("2026-11-23"))]
    assert got == [("c", None), ("b", 39), ("a", 8)]


# --- too much contact --------------------------------------------------------------------


def test_too_much_contact_counts_contact_and_broadcast_inside_the_trailing_period() -> None:
    log = (
        "- 2026-10-24 email: newsletter\n"  # outside 30 days back from 2026-11-23
        "- 2026-10-25 email: offer\n"
        "- 2026-11-01 visit: cut\n"
        "- 2026-11-05 note: likes jazz\n"  # a note is no contact
        "- [ ] 2026-11-06 call: ask about the wedding\n"  # nor is an open task
        "- 2026-11-10 greeting: happy holidays\n"  # a broadcast counts
        "- 2026-11-20 call: checking in\n"
        "- 2026-11-30 call: booked\n"  # after today: a plan
    )
    c = customer("max_contacts: 2/30d\n", log)
    found = cap.too_much_contact(c, Config(), D("2026-11-23"))
    assert found is not None
    assert (found.count, found.since) == (4, D("2026-10-25"))
    assert [e.kind for e in found.entries] == ["email", "visit", "greeting", "call"]
    assert cap.too_much_contact(c, Config(), D("2026-12-10")) is None


def test_default_cap_and_kind_classes_come_from_crm_toml() -> None:
    log = "- 2026-11-10 visit: cut\n- 2026-11-20 visit: color\n"
    c = customer("", log)
    cfg = config('[defaults]\nmax_contacts = "1/30d"\n')
    found = cap.noisy([c], cfg, D("2026-11-23"))
    assert [(n.count, n.cap) for n in found] == [(2, ContactCap(1, Span(30, "d")))]
    assert cap.noisy([c], Config(), D("2026-11-23")) == []
    quiet = config('[defaults]\nmax_contacts = "1/30d"\n[kinds]\nnote = ["Visit"]\n')
    assert cap.noisy([c], quiet, D("2026-11-23")) == []


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("away: {from: 2026-01-01, to: 9999-12-31}\n", "away: '9999-12-31' is out of range"),
        ("last_contact: 9999-12-31\n", "last_contact: '9999-12-31' is out of range"),
        ("birthday: 0001-01-01\n", "birthday: '0001-01-01' is out of range"),
        ("cadence: 99999y\n", "cadence: '99999y' is too long (at most 100 years)"),
        ("max_contacts: 2/1000000000d\n", "max_contacts: '1000000000d' is too long"),
    ],
)
def test_absurd_dates_and_spans_are_problems_not_crashes(front: str, message: str) -> None:
    text = f"---\nname: Test Person\nfirst_name: Test\n{front}---\n"
    c, problems = parse_bytes(text.encode(), Path("t.md"), "t")
    assert c is not None
    assert [p.message for p in problems if p.message.startswith(message)], problems
    # Whatever survived, every report still works on it.
    cfg = config('[defaults]\ncadence = "14d"\n')
    rhythm.contact_state(c, cfg, D("2026-11-23"))
    rhythm.upcoming([c], cfg, D("2026-11-23"), 366)


def test_dates_still_to_come_have_no_negative_or_zero_ages() -> None:
    c = customer(
        "birthday: 2030-01-10\nanniversary: 2026-12-01\n"
        "dates:\n  - {label: Wedding, date: 2026-12-05}\n"
    )
    got = [
        (u.day.isoformat(), u.kind, u.age)
        for u in rhythm.upcoming([c], Config(), D("2026-11-23"), 366 * 5)
        if u.day.year <= 2031
    ]
    assert got == [
        ("2026-12-05", "date", None),
        ("2027-12-01", "anniversary", 1),
        ("2031-01-10", "birthday", 1),
    ]
