"""``crm draft``: one personal draft per customer the audience rules let through."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from email.errors import HeaderParseError
from email.headerregistry import Address
from pathlib import Path
from typing import Any

from crm.core.config import Config
from crm.core.model import Customer, Span
from crm.core.occasions import Occasion
from crm.outreach import links
from crm.outreach.drafted import Drafted, read_runs, remember
from crm.outreach.outbox import draft_path, draft_text, write_draft
from crm.outreach.render import Rendered, RenderFailed, render
from crm.outreach.templates import Template
from crm.report.rows import entry_line
from crm.rules.audience import PHONE_CHANNELS, Audience, Held, held
from crm.rules.rhythm import last_contact

CONTEXT_LOG_LINES = 3


@dataclass(frozen=True, slots=True)
class Planned:
    """A draft to write: the customer, the message, where the file goes."""

    customer: Customer
    message: Rendered
    to: str
    path: Path


@dataclass(frozen=True, slots=True)
class Plan:
    """What ``crm draft`` will do: the drafts, and everyone held back with the reason."""

    campaign: str
    folder: Path
    drafts: tuple[Planned, ...]
    held: tuple[Held, ...]


def default_campaign(template: str, day: date) -> str:
    """Return the campaign name of a template sent on ``day``: ``holiday-2026-12-01``."""
    return f"{template}-{day.isoformat()}"


def recipient(customer: Customer, channel: str, region: str) -> str:
    """Return whom the message goes to: 'Name <address>' for email, the E.164 number else.

    Raises ``links.BadNumber`` for a phone number that does not parse.
    """
    if channel in PHONE_CHANNELS:
        return links.e164(customer.phones[0], region)
    return str(Address(display_name=customer.name, addr_spec=customer.emails[0]))


def plan(
    template: Template,
    customers: Sequence[Customer],
    config: Config,
    day: date,
    *,
    campaign: str,
    outbox: Path,
    quiet: Span,
    likes: str | None = None,
    winback: bool = False,
    reply: bool = False,
    waiting: Mapping[str, str] | None = None,
    left_out: Sequence[Customer] = (),
    extra: Mapping[str, Any] | None = None,
    occasion: Occasion | None = None,
    news: Collection[str] = (),
) -> Plan:
    """Return the drafts of ``template`` for ``customers`` (already chosen) on ``day``.

    ``waiting`` names, by customer id, another campaign with a draft for them still to send
    (they get one message at a time); ``left_out`` are customers asked for by id whom the
    filters or the template's audience leave out (held back, so that nobody vanishes);
    ``extra`` are names every message sees (a closure's dates); for an ``occasion``, whoever
    had its message this year is held back; ``news`` names, by id, the customers a closure
    notice concerns: news of their own next visit, which the quiet period never holds back.
    """
    audience = Audience(
        campaign=campaign,
        day=day,
        channel=template.channel,
        topic=template.topic,
        kind=template.kind,
        likes=likes,
        quiet=quiet,
        nameless=template.nameless,
        greet_orgs=template.greet_organisations,
        winback=winback,
        reply=reply,
        occasion=occasion,
        occasion_day=occasion.nearest(day, config.feb29) if occasion else None,
    )
    drafts: list[Planned] = []
    holds = [Held(c, "not in the audience", "left out by the filters") for c in left_out]
    others = waiting or {}
    for c in customers:
        path = draft_path(outbox, campaign, c.id)
        why = held(c, replace(audience, quiet=Span(0, "d")) if c.id in news else audience, config)
        if why is None and path.exists():
            why = Held(c, "already in this campaign", "drafted")
        if why is None and others.get(c.id, campaign) != campaign:
            why = Held(c, "draft waiting", f"in {others[c.id]}")
        if why is not None:
            holds.append(why)
            continue
        try:
            message = render(template, c, config, day, campaign, extra)
        except RenderFailed as exc:
            holds.append(Held(c, "template needs a value", exc.reason))
            continue
        try:
            to = recipient(c, message.channel, config.business.region)
        except (ValueError, IndexError, HeaderParseError) as exc:  # a number, an email address
            holds.append(Held(c, "bad address", str(exc) or f"{c.emails[0]!r} is no address"))
            continue
        drafts.append(Planned(c, message, to, path))
    return Plan(campaign, outbox / campaign, tuple(drafts), tuple(holds))


def front_of(
    p: Planned, template: Template, campaign: str, winback: bool, reply: bool = False
) -> dict[str, Any]:
    """Return the draft's front matter keys, in the order the file shows them."""
    return {
        "to": p.to,
        "name": p.customer.name,
        "channel": p.message.channel,
        "subject": p.message.subject,
        "customer": p.customer.id,
        "campaign": campaign,
        "template": template.name,
        "kind": template.kind,
        "log": log_summary(template),
        "topic": template.topic,
        "winback": True if winback else None,
        "reply": True if reply else None,
        "status": "draft",
    }


def sender_context(customer: Customer, config: Config, day: date) -> dict[str, Any]:
    """Return what the sender sees beside the message (never sent): likes, dislikes, the last
    three log lines, the last contact."""
    found: dict[str, Any] = {}
    if customer.likes:
        found["likes"] = list(customer.likes)
    if customer.dislikes:
        found["dislikes"] = list(customer.dislikes)
    done = [i for i in customer.log if i.done and i.day <= day]
    done.sort(key=lambda i: (i.day, i.time is not None, i.time))
    if done:
        found["log"] = [entry_line(i) for i in done[-CONTEXT_LOG_LINES:]]
    last = last_contact(customer, config.kinds, day)
    if last is not None:
        found["last_contact"] = last.day
    return found


def log_summary(template: Template) -> str:
    """Return what the log says was sent: the template's ``log`` (the one in the vault's own
    language, never a variant's), else the template's name."""
    return template.log or template.name


def write(
    p: Plan,
    template: Template,
    config: Config,
    day: date,
    *,
    winback: bool = False,
    reply: bool = False,
    drafted: Drafted | None = None,
) -> list[Path]:
    """Write the plan's drafts; return their paths.

    ``drafted`` is how this run asked the rules: the campaign remembers it, with whom it wrote
    to, in ``campaign.toml``, for ``crm send`` to ask them again the same way.
    """
    if drafted is not None:
        read_runs(p.folder)  # one it cannot read stops the run before any draft is written
    written = []
    for item in p.drafts:
        front = front_of(item, template, p.campaign, winback, reply)
        context = sender_context(item.customer, config, day)
        write_draft(item.path, draft_text(front, context, item.message.body))
        written.append(item.path)
    if drafted is not None and p.drafts:
        ids = tuple(item.customer.id for item in p.drafts)
        remember(
            p.folder, replace(drafted, drafts=ids, news=tuple(i for i in drafted.news if i in ids))
        )
    return written
