"""The fast VEVENT writer: byte-identical to icalendar for every event the feed can hold."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.core.config import Config, FeedConfig
from crm.core.model import Customer, ImportantDate, Location, PartialDate, Span
from crm.feed.blocks import build_feed, customer_block
from crm.feed.events import FeedEvent
from crm.feed.icswrite import Style, escape, fold, vevent
from tests.conftest import EXAMPLE
from tests.reference import feed_events, feed_from_blocks, load, render, render_reference

TODAY = date(2026, 11, 23)
HERE = Location(Path("x.md"), 1)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters that need escaping or care when folding, plus multi-byte and control characters.
TRICKY = [",", ";", "\\", "\\N", "^", "\n", "\r", "\r\n", "\t", "\x00", "\x07", "\x1b", "\x85"]
WIDE = ["é", "ß", "李", "伟", "€", "😀", "👩‍👩‍👧", "\u200b", "\u2028", "a", "Z", " ", ":", '"']
CHUNK = st.sampled_from(TRICKY + WIDE) | st.characters(exclude_categories=["Cs"])
TEXT = st.lists(CHUNK, max_size=60).map("".join)
LONG_TEXT = st.one_of(TEXT, st.tuples(TEXT, st.integers(10, 40)).map(lambda t: t[0] * t[1]))
ZONES = ["UTC", "Etc/UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Etc/GMT+5"]


def test_escape_follows_icalendar_order() -> None:
    assert escape("Smith, Jo; a\\b") == "Smith\\, Jo\\; a\\\\b"
    assert escape("one\r\ntwo\nthree\rfour") == "one\\ntwo\\nthree\\nfour"
    assert escape("a\\Nb") == "a\\nb"  # icalendar reads a literal \N as a line break
    assert escape("plain") == "plain"
    # icalendar drops one leading byte order mark and keeps any other
    assert escape("\ufeff\ufeffab") == "\ufeffab"
    assert escape("a\ufeff") == "a\ufeff"


def test_fold_keeps_lines_within_75_octets_and_characters_whole() -> None:
    assert fold("S" * 74) == "S" * 74
    assert fold("S" * 75) == "S" * 74 + "\r\n S"
    folded = fold("SUMMARY:" + "李" * 50)
    lines = folded.split("\r\n ")
    assert [len(x.encode()) for x in lines] == [74, 72, 12]
    # A backslash never ends a folded line: it moves on with the character it escapes.
    assert fold("x" * 73 + "\\,") == "x" * 73 + "\r\n \\,"


def test_an_all_day_event_is_written_in_icalendars_order() -> None:
    text = vevent(
        Style(TODAY), uid="u@crm", summary="Ana, 37", category="Birthday", day=date(2026, 12, 2)
    )
    assert text.split("\r\n") == [
        "BEGIN:VEVENT",
        "SUMMARY:Ana\\, 37",
        "DTSTART;VALUE=DATE:20261202",
        "DTEND;VALUE=DATE:20261203",
        "DTSTAMP:20261123T000000Z",
        "UID:u@crm",
        "CATEGORIES:Birthday",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
        "",
    ]


@st.composite
def feed_event(draw: st.DrawFn) -> FeedEvent:
    """Return any event the renderer might be handed, with raw (unclean) text."""
    c = Customer(
        id="x",
        name=draw(TEXT),
        location=HERE,
        emails=tuple(draw(st.lists(TEXT, max_size=2))),
        phones=tuple(draw(st.lists(TEXT, max_size=2))),
        likes=tuple(draw(st.lists(LONG_TEXT, max_size=2))),
        dislikes=tuple(draw(st.lists(TEXT, max_size=2))),
    )
    kind = draw(st.sampled_from(["reachout", "followup", "birthday", "lead", "since", "date"]))
    at = draw(st.none() | st.times()) if kind == "followup" else None
    day = draw(st.dates(date(2000, 1, 1), date(2100, 12, 30)))
    uid = draw(st.from_regex(r"[a-z]{1,8}-[A-Za-z0-9._-]{1,64}-[0-9]{4}@crm", fullmatch=True))
    return FeedEvent(uid, kind, day, draw(LONG_TEXT), c, at)


@st.composite
def configs(draw: st.DrawFn, days_ahead: int = 60) -> Config:
    """Return a config with any time zone and any combination of the feed's options."""
    return Config(
        timezone=draw(st.sampled_from(ZONES)),
        feb29=draw(st.sampled_from(["feb28", "mar1"])),
        default_cadence=draw(st.none() | st.builds(Span, st.integers(1, 60), st.just("d"))),
        feed=FeedConfig(
            name=draw(TEXT),
            days_back=draw(st.integers(0, 30)),
            days_ahead=draw(st.integers(0, days_ahead)),
            refresh_minutes=draw(st.integers(0, 2000)),
            alarms=draw(st.booleans()),
            lead_days=draw(st.integers(0, 7)),
            include_details=draw(st.booleans()),
        ),
    )


@SETTINGS
@given(events=st.lists(feed_event(), max_size=6), config=configs())
def test_fast_render_matches_icalendar_for_any_events(
    events: list[FeedEvent], config: Config
) -> None:
    assert render(events, config, TODAY) == render_reference(events, config, TODAY)


def _real(pd: PartialDate) -> bool:
    try:
        date(pd.year or 2000, pd.month, pd.day)  # year-less dates may be Feb 29
    except ValueError:
        return False
    return True


PARTIAL = st.builds(
    PartialDate, st.integers(1, 12), st.integers(1, 31), st.none() | st.integers(1950, 2027)
).filter(_real)


@st.composite
def customer(draw: st.DrawFn, today: date) -> Customer:
    """Return a customer with any mix of dates, contact rhythm and awkward text."""
    name = draw(LONG_TEXT)
    dates = []
    for kind in draw(st.lists(st.sampled_from(["birthday", "anniversary", "date"]), max_size=3)):
        label = draw(TEXT) if kind == "date" else kind.capitalize()
        yearly = draw(st.booleans()) if kind == "date" else True
        pd = draw(PARTIAL)
        dates.append(ImportantDate(kind, label, pd, yearly, HERE))
    # Around today, so that follow-ups and reach-outs land inside the window.
    near = st.integers(-60, 120).map(lambda n: today + timedelta(days=n))
    next_contact = draw(
        st.builds(datetime.combine, near, st.times().map(_minutes)) | near | st.none()
    )
    return Customer(
        id=draw(st.sampled_from(["ana", "bo-lee", "李伟", "a b", "x" * 70])),
        name=name,
        location=HERE,
        emails=tuple(draw(st.lists(TEXT, max_size=2))),
        likes=tuple(draw(st.lists(LONG_TEXT, max_size=2))),
        status=draw(st.sampled_from(["lead", "active", "paused", "lost"])),
        dates=tuple(dates),
        customer_since=draw(st.none() | st.dates(date(2000, 1, 1), date(2026, 12, 31))),
        last_contact=draw(st.none() | near),
        next_contact=next_contact,
    )


def _minutes(t: time) -> time:
    return time(t.hour, t.minute)


@SETTINGS
@given(
    config=configs(days_ahead=400),
    today=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    data=st.data(),
)
def test_feed_from_blocks_matches_icalendar_for_any_customers(
    config: Config, today: date, data: st.DataObject
) -> None:
    customers = data.draw(st.lists(customer(today), max_size=5))
    reference = render_reference(feed_events(customers, config, today), config, today)
    assert build_feed(customers, config, today) == reference


def test_a_customer_block_is_the_customers_vevents_and_the_feed_is_made_of_blocks() -> None:
    config = Config(timezone="Europe/Berlin", feed=FeedConfig(lead_days=2))
    ana = Customer(
        id="ana",
        name="Ana García",
        location=HERE,
        dates=(ImportantDate("birthday", "Birthday", PartialDate(12, 2, 1989), True, HERE),),
        next_contact=datetime(2026, 11, 30, 9, 15),
    )
    bo = Customer(id="bo", name="bo Lee", location=HERE, last_contact=date(2026, 11, 1))
    block = customer_block(ana, config, TODAY)
    assert [e.uid for e in block.events] == [
        "birthday-soon-ana-2026@crm",
        "followup-ana-20261130@crm",
        "birthday-ana-2026@crm",
        "birthday-soon-ana-2027@crm",
        "birthday-ana-2027@crm",
    ]
    assert block.name == "ana garcía" and block.timed
    assert block.data.count(b"BEGIN:VEVENT\r\n") == 5
    assert customer_block(ana, config, TODAY) == block  # pure: safe to cache
    blocks = [block, customer_block(bo, config, TODAY)]
    feed = feed_from_blocks(blocks, config, TODAY)
    assert feed == build_feed([ana, bo], config, TODAY)
    assert b"BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n" in feed
    lost = Customer(id="lo", name="Lost", location=HERE, status="lost")
    assert customer_block(lost, config, TODAY).events == ()


def test_the_example_vault_renders_the_same_with_every_option() -> None:
    config, vault = load(EXAMPLE)
    golden = (Path(__file__).parent / "golden" / "example-2026-11-23.ics").read_bytes()
    assert render_reference(feed_events(vault.customers, config, TODAY), config, TODAY) == golden
    assert build_feed(vault.customers, config, TODAY) == golden
    for zone in ("UTC", "America/New_York"):
        every = replace(
            config,
            timezone=zone,
            feed=replace(config.feed, alarms=True, include_details=True, lead_days=3),
        )
        events = feed_events(vault.customers, every, TODAY)
        fast = build_feed(vault.customers, every, TODAY)
        assert fast == render_reference(events, every, TODAY)
        assert fast.count(b"BEGIN:VALARM") == len(events) > 40


def test_customers_with_the_same_name_keep_the_reference_order() -> None:
    birthday = (ImportantDate("birthday", "Birthday", PartialDate(12, 2, 1989), True, HERE),)
    twins = [
        Customer(id=cid, name=name, location=HERE, dates=birthday, last_contact=day)
        for cid, name, day in [
            ("b", "Ana", date(2026, 11, 1)),
            ("a", "ANA", date(2026, 11, 1)),
            ("a", "ana", date(2026, 11, 2)),  # a duplicate id: same UIDs, input order decides
        ]
    ]
    config = Config(default_cadence=Span(30, "d"))
    for order in (twins, twins[::-1]):
        reference = render_reference(feed_events(order, config, TODAY), config, TODAY)
        assert build_feed(order, config, TODAY) == reference
