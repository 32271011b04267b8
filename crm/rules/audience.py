"""Who may get a message: the audience rules of ``crm draft``, pure functions of a customer.

Each rule has a fixed reason name (``REASONS``); a customer is held back by the first rule that
says no, in that order, so that every held customer is counted once. The rules never bombard:
away, snoozed, opted out, contacted lately, near their ``max_contacts``, already in the
campaign, or with nothing to greet them by, nobody gets a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from crm.core.config import Config
from crm.core.dates import add_span
from crm.core.model import Customer, Span
from crm.core.occasions import Occasion
from crm.rules import loyalty, replies, respect, rewards, rhythm
from crm.rules.cap import in_cap_period, outreach
from crm.rules.filters import CustomerFilter
from crm.rules.words import mentions

# The reasons, in the order the rules ask; the summary and --explain print these names.
REASONS = (
    "lost",
    "paused",
    "away",
    "snoozed",
    "opted out",
    "already in this campaign",
    "had it this year",
    "draft waiting",
    "contacted lately",
    "at max_contacts",
    "dislikes the topic",
    "no email address",
    "no phone number",
    "needs a first name",
    "no person to greet",
    "not in the audience",
    # Found while writing the message (``crm.outreach``): a value it needs, a number that
    # does not parse.
    "template needs a value",
    "bad address",
)
PHONE_CHANNELS = ("sms", "whatsapp")


@dataclass(frozen=True, slots=True)
class Audience:
    """What the rules need to know about a message: its campaign, topic, channel, the send day."""

    campaign: str
    day: date
    channel: str  # email, sms, whatsapp, or any (see ``channel_for``)
    topic: str | None = None
    kind: str | None = None  # the template's kind: a broadcast one (an offer) is a topic too
    likes: str | None = None  # --likes WORD: it is also a topic the customer must not dislike
    quiet: Span = Span(7, "d")
    nameless: bool = False  # the template greets without a name
    greet_orgs: bool = False  # the template may greet an organisation by its own name
    winback: bool = False  # --report winback: lost customers are the audience
    # --report replies: an answer they wait for, never held back as contact would be (the
    # quiet period, max_contacts, a pause, a snooze or an absence).
    reply: bool = False
    occasion: Occasion | None = None  # a yearly occasion: one message of it a year
    occasion_day: date | None = None  # the day of it this message is for


@dataclass(frozen=True, slots=True)
class Held:
    """A customer the rules hold back, and why (a name of ``REASONS`` and its detail)."""

    customer: Customer
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.reason} ({self.detail})" if self.detail else self.reason


def likes(customer: Customer, word: str) -> bool:
    """Return True when one of the customer's likes mentions ``word`` (see ``mentions``)."""
    return any(mentions(like, word) for like in customer.likes)


def channel_for(customer: Customer, channel: str) -> str:
    """Return the channel to write on: the template's, or for ``any`` the customer's ``prefer``,
    else email when they have an address, else sms."""
    if channel != "any":
        return channel
    if customer.prefer is not None:
        return customer.prefer
    return "email" if customer.emails else "sms"


def in_campaign(customer: Customer, campaign: str) -> bool:
    """Return True when a log entry of the customer carries the marker ``[campaign: NAME]``."""
    marker = campaign_marker(campaign)
    return any(marker in i.text for i in customer.log)


def campaign_marker(campaign: str) -> str:
    """Return the text a sent message's log entry ends with: ``[campaign: holidays-2026]``."""
    return f"[campaign: {campaign}]"


CAMPAIGN_MARKER = re.compile(r"\[campaign: ([^\]]+)\]")


SEASON = 182  # days either side of an occasion's day: a message drafted then was for it


def had_occasion(customer: Customer, occasion: Occasion, day: date) -> str | None:
    """Return the campaign in which the customer already had the message of ``occasion`` on
    ``day``: its yearly campaign (``holiday-greetings-2026``), or a campaign of its template
    named by default (``holiday-2026-12-01``) drafted within half a year of ``day``."""
    yearly = occasion.campaign(day.year)
    dated = re.compile(rf"{re.escape(occasion.template)}-(\d{{4}})-(\d{{2}})-(\d{{2}})")
    for entry in customer.log:
        for name in CAMPAIGN_MARKER.findall(entry.text):
            if name == yearly:
                return str(name)
            m = dated.fullmatch(name)
            if m is not None:
                try:
                    drafted = date(int(m[1]), int(m[2]), int(m[3]))
                except ValueError:
                    continue
                if abs((drafted - day).days) <= SEASON:
                    return str(name)
    return None


def held(customer: Customer, audience: Audience, config: Config) -> Held | None:
    """Return why the customer gets no message of ``audience``, or None when they may get one."""
    first = next(iter(_rules(customer, audience, config)), None)
    return None if first is None else Held(customer, first[0], first[1])


def _rules(customer: Customer, a: Audience, config: Config) -> Iterable[tuple[str, str]]:
    day = a.day
    if customer.status == "lost" and not a.winback:
        yield "lost", ""
    contact = not a.reply  # what holds back contact from you, not an answer
    if contact and customer.status == "paused":
        yield "paused", ""
    away = customer.away
    if contact and away is not None and away.start <= day <= away.end:
        yield "away", f"until {away.end}"
    if contact and customer.snooze_until is not None and customer.snooze_until > day:
        yield "snoozed", f"until {customer.snooze_until}"
    channel = channel_for(customer, a.channel)
    about = respect.message(config, channel, topic=a.topic, kind=a.kind, likes=a.likes)
    if contact:  # an answer to someone who wrote to you is not outreach
        for topic in respect.refused_by(customer.opt_out, about, opt_out=True):
            yield "opted out", topic
    if in_campaign(customer, a.campaign):
        yield "already in this campaign", a.campaign
    if (
        a.occasion
        and a.occasion_day
        and (had := had_occasion(customer, a.occasion, a.occasion_day))
    ):
        yield "had it this year", had
    last = latest_outreach(customer, config, day) if contact else None
    if last is not None and a.quiet.amount and last > add_span(day, a.quiet, -1):
        yield "contacted lately", f"{last}, within {a.quiet}"
    window = in_cap_period(customer, config, day) if contact else None
    if window is not None and len(window[2]) + 1 > window[0].count:
        cap, _, entries = window
        yield "at max_contacts", f"{len(entries)} in {cap.period}, at most {cap.count}"
    for dislike in respect.refused_by(customer.dislikes, about):
        yield "dislikes the topic", dislike
    if channel == "email" and not customer.emails:
        yield "no email address", ""
    if channel in PHONE_CHANNELS and not customer.phones:
        yield "no phone number", ""
    if customer.hello is None and not a.nameless:
        if not customer.is_org:
            yield "needs a first name", ""
        elif not a.greet_orgs:
            yield "no person to greet", "an organisation: add its contact person"


def refuses(customer: Customer, config: Config, channel: str, topic: str | None) -> bool:
    """Return True when the customer opted out of, or dislikes, a message about ``topic``."""
    about = respect.message(config, channel, topic=topic)
    return bool(
        respect.refused_by(customer.opt_out, about, opt_out=True)
        or respect.refused_by(customer.dislikes, about)
    )


def latest_outreach(customer: Customer, config: Config, day: date) -> date | None:
    """Return the newest day on or before ``day`` with outreach (any entry toward
    ``max_contacts``, greetings included) or the front matter ``last_contact``."""
    days = [i.day for i in outreach(customer, config) if i.day <= day]
    if customer.last_contact is not None and customer.last_contact <= day:
        days.append(customer.last_contact)
    return max(days, default=None)


_UNITS = {"d": "day", "w": "week", "m": "month", "y": "year"}


def span_words(span: Span) -> str:
    """Return a span as words: '7 days', '1 week'."""
    unit = _UNITS[span.unit]
    return f"{span.amount} {unit}{'' if span.amount == 1 else 's'}"


def summary(held: Iterable[Held], quiet: Span) -> str:
    """Return the held customers counted by reason, in rule order:
    '12 contacted in the last 7 days, 3 away, 1 needs a first name'."""
    counts: dict[str, int] = {}
    for h in held:
        counts[h.reason] = counts.get(h.reason, 0) + 1
    label = {"contacted lately": f"contacted in the last {span_words(quiet)}"}
    return ", ".join(f"{counts[r]} {label.get(r, r)}" for r in REASONS if r in counts)


Report = Literal["overdue", "thanks", "winback", "replies", "rewards"]
REPORTS: tuple[Report, ...] = ("overdue", "thanks", "winback", "replies", "rewards")


def chosen(
    customers: Sequence[Customer],
    config: Config,
    day: date,
    *,
    filters: CustomerFilter | None = None,
    report: Report | None = None,
    likes_word: str | None = None,
    to: Sequence[str] = (),
    within: Span | None = None,
) -> list[Customer]:
    """Return whom a campaign is for, before the rules hold anyone back, sorted by name.

    ``report`` takes the customers that report lists (``winback``: the lost worth winning
    back; ``rewards``: those with a reward due, not one coming); ``likes_word`` those with a like that mentions it; ``to`` these ids only;
    ``within`` those with contact in that span up to ``day`` (an occasion's audience).
    """
    found = filters.select(customers) if filters is not None else list(customers)
    if report == "overdue":
        late = {s.customer.id for s in rhythm.overdue(found, config, day)}
        found = [c for c in found if c.id in late]
    elif report == "thanks":
        loyal = {x.customer.id for x in loyalty.thanks(found, config.loyalty, day)}
        found = [c for c in found if c.id in loyal]
    elif report == "winback":
        lost = loyalty.winback(found, config.loyalty, day, kinds=config.kinds)
        ids = {x.customer.id for x in lost}
        found = [c for c in found if c.id in ids]
    elif report == "replies":
        owed = {o.customer.id for o in replies.replies(found, config, day)}
        found = [c for c in found if c.id in owed]
    elif report == "rewards":
        due = {e.customer.id for e in rewards.earned(found, config, day) if e.standing == "due"}
        found = [c for c in found if c.id in due]
    if likes_word:
        found = [c for c in found if likes(c, likes_word)]
    if to:
        wanted = set(to)
        found = [c for c in found if c.id in wanted]
    if within is not None:
        since = add_span(day, within, -1)
        found = [
            c
            for c in found
            if (last := rhythm.last_contact(c, config.kinds, day)) and last.day > since
        ]
    return sorted(found, key=lambda c: (c.name.casefold(), c.id))
