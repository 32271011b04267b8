"""A campaign at send time: ask the audience rules again, and log each sent message back once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from crm.core.config import Config
from crm.core.errors import CrmError
from crm.core.model import Customer
from crm.edit.changes import append_log
from crm.outreach.outbox import Draft, Moved, set_status
from crm.outreach.templates import GAP
from crm.rules.audience import Audience, campaign_marker, held, in_campaign


def recheck(draft: Draft, customer: Customer | None, config: Config, day: date) -> str | None:
    """Return why ``draft`` must not go out on ``day`` after all (None: it may).

    The rules are asked again, as the customer's file says now: since the draft was written
    they may have been contacted, gone away, opted out, or had another campaign's message.
    """
    if customer is None:
        return f"no customer {draft.customer!r} in the vault any more"
    audience = Audience(
        campaign=draft.campaign,
        day=day,
        channel=draft.channel,
        topic=draft.topic,
        quiet=config.outreach.quiet,
        nameless=True,  # the greeting is written already
        winback=draft.winback,
        reply=draft.reply,
    )
    why = held(customer, audience, config)
    return None if why is None else f"held back now: {why}"


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
