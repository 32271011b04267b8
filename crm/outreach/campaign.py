"""A campaign at send time: ask the audience rules again, and log each sent message back once."""

from __future__ import annotations

from datetime import date

from crm.core.config import Config
from crm.core.errors import CrmError
from crm.core.model import Customer
from crm.edit.changes import append_log
from crm.outreach.outbox import Draft
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
