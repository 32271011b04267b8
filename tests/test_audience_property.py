"""A property over generated vaults: no draft is ever written for a customer the rules exclude."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from crm.core.config import Config
from crm.core.model import Away, ContactCap, Customer, Interaction, Location, Span
from crm.outreach import drafts
from crm.outreach.templates import parse_template
from crm.rules.audience import chosen

DAY = date(2026, 12, 15)
QUIET = Span(7, "d")
CAP = ContactCap(3, Span(30, "d"))
TEMPLATE = parse_template(
    Path("t.md"), "---\nkind: offer\nchannel: any\ntopic: colour\n---\nHi {{ hello }}\n"
)
KINDS = ("visit", "call", "greeting", "offer", "note", "-")
TOPICS = ("all", "colour", "offers", "sms", "email", "cards")

days = st.integers(-60, 20).map(lambda n: DAY + timedelta(days=n))
entries = st.lists(st.tuples(days, st.sampled_from(KINDS), st.booleans()), max_size=6)


@st.composite
def customers(draw: st.DrawFn, n: int) -> Customer:
    start = draw(days)
    where = Location(Path(f"c{n}.md"))
    log = tuple(
        Interaction(day, None, kind, "said hi", done, where) for day, kind, done in draw(entries)
    )
    return Customer(
        id=f"c{n}",
        name=f"Customer {n}",
        location=where,
        first_name=draw(st.sampled_from([None, "Ana", "Zoë"])),
        nickname=draw(st.sampled_from([None, "Bee"])),
        emails=draw(st.sampled_from([(), ("a@example.com",)])),
        phones=draw(st.sampled_from([(), ("+49 151 2345 6789",), ("12",)])),
        status=draw(st.sampled_from(["lead", "active", "paused", "lost"])),
        dislikes=tuple(draw(st.lists(st.sampled_from(["Colours", "loud music"]), max_size=1))),
        snooze_until=draw(st.none() | days),
        away=draw(st.none() | st.just(Away(start, start + timedelta(days=10)))),
        max_contacts=draw(st.none() | st.just(ContactCap(1, Span(90, "d")))),
        prefer=draw(st.sampled_from([None, "email", "sms", "whatsapp"])),
        opt_out=tuple(draw(st.lists(st.sampled_from(TOPICS), max_size=2))),
        last_contact=draw(st.none() | days),
        log=log,
    )


def excluded(c: Customer, config: Config) -> bool:
    """The rules, written out again plainly: True when ``c`` must get no message today."""
    channel = c.prefer or ("email" if c.emails else "sms")
    outreach = [i.day for i in c.log if i.done and i.kind != "note" and i.day <= DAY]
    recent = [d for d in [*outreach, c.last_contact] if d is not None and d <= DAY]
    cap = c.max_contacts or CAP
    in_cap = [d for d in outreach if (DAY - d).days < cap.period.amount]  # periods in days
    return (
        c.status in ("paused", "lost")
        or (c.away is not None and c.away.start <= DAY <= c.away.end)
        or (c.snooze_until is not None and c.snooze_until > DAY)
        or any(t in ("all", "colour", channel) for t in c.opt_out)
        or any((DAY - d).days < 7 for d in recent)
        or len(in_cap) + 1 > cap.count
        or "Colours" in c.dislikes
        or (channel == "email" and not c.emails)
        or (channel in ("sms", "whatsapp") and (not c.phones or c.phones[0] == "12"))
        or (c.nickname or c.first_name) is None
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(), min_size=1, max_size=8).flatmap(
    lambda ns: st.tuples(*(customers(n) for n in range(len(ns))))
))  # fmt: skip
def test_no_draft_is_ever_written_for_an_excluded_customer(people: tuple[Customer, ...]) -> None:
    config = Config(default_max_contacts=CAP)
    with tempfile.TemporaryDirectory() as folder:
        outbox = Path(folder)
        audience = chosen(list(people), config, DAY)
        plan = drafts.plan(
            TEMPLATE, audience, config, DAY, campaign="c-1", outbox=outbox, quiet=QUIET
        )
        drafts.write(plan, TEMPLATE, config, DAY)
        written = {p.stem for p in (outbox / "c-1").glob("*.md")}
        by_id = {c.id: c for c in people}
        assert {cid for cid in written if excluded(by_id[cid], config)} == set()
        # Nobody vanishes: each customer is drafted or held back with a reason.
        assert written | {h.customer.id for h in plan.held} == set(by_id)
        assert written.isdisjoint(h.customer.id for h in plan.held)
