"""A campaign at send time: ask the audience rules again about what changed since the draft, and
log each sent message back once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal

from crm.core.config import Config
from crm.core.dates import add_span
from crm.core.errors import CrmError
from crm.core.model import Customer, Span
from crm.edit.changes import append_log
from crm.outreach.drafted import Drafted
from crm.outreach.outbox import Draft, Moved, set_status
from crm.outreach.templates import GAP
from crm.rules.audience import REASONS, Audience, campaign_marker, held, in_campaign
from crm.rules.cap import outreach


def recheck(
    draft: Draft, customer: Customer | None, config: Config, day: date, run: Drafted | None = None
) -> str | None:
    """Return why ``draft`` must not go out on ``day`` after all (None: it may).

    With the ``run`` that wrote it (``campaign.toml``), only what changed since then holds it
    back: the customer went away, snoozed, paused, was lost, opted out, had this campaign's
    message, reached ``max_contacts``, or was contacted after the draft was written
    (``contacted_since``). The quiet period is the run's, never the config's: whatever
    the draft accepted is accepted still. Without a run (an outbox from before
    ``campaign.toml``) the rules are asked again as they stand, with ``[outreach] quiet``.
    """
    if customer is None:
        return f"no customer {draft.customer!r} in the vault any more"
    audience = Audience(
        campaign=draft.campaign,
        day=day,
        channel=draft.channel,
        topic=draft.topic,
        kind=draft.kind,
        quiet=config.outreach.quiet if run is None else NO_QUIET,
        nameless=True,  # the greeting is written already
        winback=draft.winback,
        reply=draft.reply,
    )
    why = held(customer, audience, config)
    if run is not None and (why is None or REASONS.index(why.reason) > _CONTACT):
        since = None if draft.reply else contacted_since(customer, run, config, day)
        if since is not None:
            return f"held back now: contacted since it was drafted ({since})"
    return None if why is None else f"held back now: {why}"


NO_QUIET = Span(0, "d")
_CONTACT = REASONS.index("contacted lately")


def contacted_since(customer: Customer, run: Drafted, config: Config, day: date) -> date | None:
    """Return the day of the newest outreach up to ``day`` that came after ``run`` drafted the
    customer's message (None: none did, or the message is news that contact never holds back).

    What the log (or ``last_contact``) says is dated, not stamped when it was written, so
    "after" is what crm can tell: an entry dated after the draft day; one dated within the
    run's quiet period up to that day, which the draft would have refused had it been there;
    and one on the draft day with a time later than the run's minute. Any other entry on the draft
    day (no time, or no time known for the run) reads as one the draft saw.
    """
    if customer.id in run.news:
        return None
    refused_since = add_span(run.day, run.quiet, -1) if run.quiet.amount else run.day

    def later(on: date, at: time | None) -> bool:
        return on > refused_since or (on == run.day and _after(at, run.time))

    days = [i.day for i in outreach(customer, config) if i.day <= day and later(i.day, i.time)]
    if customer.last_contact is not None and customer.last_contact <= day:
        if later(customer.last_contact, None):
            days.append(customer.last_contact)
    return max(days, default=None)


def _after(at: time | None, drafted: time | None) -> bool:
    """Return True when an entry's time is later than the minute the draft was written."""
    return at is not None and drafted is not None and at > drafted


def log_back(draft: Draft, customer: Customer | None, day: date) -> bool:
    """Append the sent message to its customer's ``## Log``, once: False when it is there.

    ``- DAY kind: summary [campaign: NAME]``, with the minimal, atomic edit ``crm log`` makes.
    """
    if customer is None:
        raise CrmError(f"no customer {draft.customer!r} in the vault any more")
    if in_campaign(customer, draft.campaign):
        return False
    text = f"{draft.log or draft.campaign} {campaign_marker(draft.campaign)}"
    append_log(customer.location.path, day, draft.kind, text)
    return True


@dataclass(frozen=True, slots=True)
class Marked:
    """What marking one draft as sent did: ``sent`` (``why``: it could not be logged back),
    ``already`` sent, ``gap`` (it still holds ``[...]``), or ``moved`` (``why``: by whom)."""

    draft: Draft
    outcome: Literal["sent", "already", "gap", "moved"]
    why: str | None = None


def mark_sent(draft: Draft, customer: Customer | None, *, now: datetime, today: date) -> Marked:
    """Mark a draft sent by hand as sent (``sent: NOW``), and log it back to ``customer`` once.

    ``crm sent`` and the phone page's "mark as sent" both come here: a draft still holding
    ``[...]`` is refused, and one another ``crm send`` moved on meanwhile is left alone.
    """
    if draft.status == "sent":
        return Marked(draft, "already")
    if GAP in draft.body:
        return Marked(draft, "gap", f"still holds {GAP}")
    try:
        draft = set_status(draft, "sent", expect=(draft.status,), sent=now.isoformat(), error=None)
    except Moved as exc:
        return Marked(draft, "moved", str(exc))
    try:
        log_back(draft, customer, today)
    except CrmError as exc:
        return Marked(draft, "sent", str(exc))
    return Marked(draft, "sent")
