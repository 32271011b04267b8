"""The day's agenda as ``crm agenda``, ``crm digest`` and the phone page show it.

The facade (``Collection``) answers who is late, due, noisy or loyal from narrow rows; this
adds what only the outreach layer knows: the drafts waiting in the outbox and the occasions
in their lead time with messages still to send.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from crm.core.model import Customer, Problem
from crm.index.collection import Collection
from crm.outreach.outbox import waiting
from crm.report import views


def agenda_of(
    collection: Collection,
    today: date,
    limit: int | None = None,
    *,
    shown: Callable[[Iterable[Problem]], list[Problem]] = list,
) -> tuple[views.Agenda, list[Customer]]:
    """Return the agenda of ``today`` and the customers its rows may name (``limit`` rows per
    section, default ``[agenda] rows``); ``shown`` says how the problems' paths read."""
    config = collection.config
    customers = collection.candidates(
        upcoming_days=views.AGENDA_DAYS, lost_worth=config.loyalty.winback_min_value
    )
    problems = [*collection.config_problems, *collection.index().problems()]
    drafts = waiting(collection.outbox)
    occasions = occasion_rows(collection, today)
    keep = config.agenda_rows if limit is None else limit
    noisy, thanked = collection.noisy(), collection.thanked(limit=keep)
    contact = collection.contact_lists(keep)
    owed, earned = collection.replies(keep), collection.rewards(keep)
    found = views.agenda(
        customers,
        shown(problems),
        config,
        today,
        drafts,
        occasions,
        noisy=noisy,
        thanked=thanked,
        contact=contact,
        limit=keep,
        owed=owed,
        earned=earned,
    )
    # Everyone its rows may name (for their links): the noisy, loyal and late ones too.
    late = [*contact[0].shown, *contact[1].shown]
    named = [*(x.customer for x in thanked.shown), *(s.customer for s in late), *noisy]
    named += [o.customer for o in owed.shown] + [e.customer for e in earned.shown]
    return found, list({c.location.path: c for c in [*named, *customers]}.values())


def occasion_rows(collection: Collection, today: date) -> list[dict[str, Any]]:
    """Return the agenda's rows of the occasions in their lead time with messages to send."""
    config = collection.config
    from crm.core.occasions import any_in_lead

    if not any_in_lead(config.occasions, today, config.feb29):
        return []  # the whole vault is read only while an occasion is near
    from crm.outreach.occasions import due_occasions

    found = due_occasions(collection.vault().customers, config, today, collection.root)
    return [
        views.occasion_row(
            d.text, d.occasion.name, d.day, d.occasion.template, d.campaign, d.to_send
        )
        for d in found
        if d.to_send
    ]
