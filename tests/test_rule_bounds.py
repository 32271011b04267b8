"""The today-independent bounds the index stores come from the rules, and never miss a day."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from crm.core.config import Config, LoyaltyConfig
from crm.core.model import ContactCap, Customer, Interaction, Location, Span
from crm.rules import cap, loyalty, rhythm

HERE = Location(Path("x.md"), 1)
START = date(2026, 1, 1)
SPANS = st.builds(Span, st.integers(1, 3), st.sampled_from(["d", "w", "m", "y"]))


def entries(kinds: list[str], offsets: list[int]) -> tuple[Interaction, ...]:
    return tuple(
        Interaction(START + timedelta(days=n), None, kind, "", True, HERE)
        for kind, n in zip(kinds, offsets, strict=False)
    )


@settings(max_examples=150, deadline=None)
@given(
    count=st.integers(0, 3),
    period=SPANS,
    kinds=st.lists(st.sampled_from(["call", "email", "visit"]), max_size=8),
    offsets=st.lists(st.integers(0, 800), min_size=8, max_size=8),
    later=st.integers(0, 1500),
)
def test_no_overload_after_noisy_until(
    count: int, period: Span, kinds: list[str], offsets: list[int], later: int
) -> None:
    c = Customer(
        "ana", "Ana", HERE, max_contacts=ContactCap(count, period), log=entries(kinds, offsets)
    )
    until = cap.noisy_until(c, Config())
    today = START + timedelta(days=later)
    if until is None or today > until:
        assert cap.too_much_contact(c, Config(), today) is None


@settings(max_examples=150, deadline=None)
@given(
    min_visits=st.integers(0, 4),
    value=st.none() | st.floats(0, 5000),
    kinds=st.lists(st.sampled_from(["visit", "purchase", "call"]), max_size=8),
    offsets=st.lists(st.integers(0, 800), min_size=8, max_size=8),
    later=st.integers(0, 1500),
)
def test_nobody_is_thanked_after_loyal_until(
    min_visits: int, value: float | None, kinds: list[str], offsets: list[int], later: int
) -> None:
    settings_ = LoyaltyConfig(min_visits=min_visits, min_value=2000.0)
    c = Customer("ana", "Ana", HERE, value=value, log=entries(kinds, offsets))
    until = loyalty.loyal_until(c, settings_)
    today = START + timedelta(days=later)
    if until is None or today > until:
        assert loyalty.thanks([c], settings_, today) == []


def test_the_stored_flags_are_the_rules_own() -> None:
    lost = Customer("bo", "Bo", HERE, status="lost", value=1500.0, cadence=Span(30, "d"))
    assert loyalty.worth_winning_back(lost, 1000.0)
    assert not loyalty.worth_winning_back(lost, 2000.0)
    assert not rhythm.tracked(lost, Config())
    assert rhythm.tracked(Customer("cy", "Cy", HERE, cadence=Span(30, "d")), Config())
    assert not rhythm.tracked(Customer("cy", "Cy", HERE), Config())
    assert (
        loyalty.loyal_until(Customer("di", "Di", HERE, value=2000.0), LoyaltyConfig()) == date.max
    )
