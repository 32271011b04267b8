"""``crm digest``: the day's agenda as an email, plain text and HTML with tap-to-reach links.

The HTML part is ``digest.html`` (package data) in a Jinja2 environment that escapes every value:
a customer's name is data, never markup. The page has no script; each person to reach gets
``tel:`` and ``sms:`` links from their first phone (E.164, ``[business] region``) and a
``mailto:`` link from their first email.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage
from importlib import resources
from typing import Any

import jinja2

from crm.core.kinds import Kinds
from crm.core.model import Customer
from crm.outreach.links import BadNumber, e164, mailto_link, sms_link, tel_link
from crm.outreach.outbox import Draft
from crm.outreach.send import address_of, text_email
from crm.outreach.templates import GAP
from crm.report.render import cell
from crm.report.rows import entry_line
from crm.report.views import Agenda, Section, dated_columns
from crm.rules.audience import PHONE_CHANNELS
from crm.rules.rhythm import newest_contact

TEMPLATE = "digest.html"


def contact_links(
    customer: Customer | None, region: str = "", draft: Draft | None = None
) -> list[tuple[str, str]]:
    """Return the (label, href) links to reach ``customer``: call, text, email (those they have).

    With a waiting ``draft``, the link of its channel comes filled in with its message (the
    text for a phone channel, the email for email), unless it still holds ``[...]``.
    """
    if customer is None:
        return []
    ready = draft if draft is not None and GAP not in draft.body else None
    body = "" if ready is None else ready.body.strip()
    found = []
    if customer.phones:
        try:
            number = e164(customer.phones[0], region)
        except BadNumber:
            number = None  # shown as written, without links: a link would dial the wrong number
        if number:
            text = sms_link(number, body if ready and ready.channel in PHONE_CHANNELS else "")
            found += [(f"call {customer.phones[0]}", tel_link(number)), ("text", text)]
    if customer.emails:
        mail = ready is not None and ready.channel == "email"
        subject = ready.subject if ready is not None and mail else None
        link = mailto_link(customer.emails[0], subject, body if mail else "")
        found.append((f"email {customer.emails[0]}", link))
    return found


def section_view(
    s: Section,
    people: Mapping[str, Customer],
    region: str = "",
    drafts: Mapping[str, Draft] | None = None,
    kinds: Kinds | None = None,
) -> dict[str, Any]:
    """Return one agenda section as a page template reads it: plain texts, escaped there.

    ``people``: the customers of its rows, by id; ``drafts``: a waiting draft by customer id.
    With ``kinds`` (the phone page), every row that names a customer also gets their links,
    likes and last contact ("reach"), but those of "Too much contact": they need a rest.
    """
    shown: dict[str, Any] = {"title": s.title, "size": s.size, "kind": s.kind, "more": s.more_text}
    waiting = drafts or {}

    def reach(cid: Any) -> dict[str, Any]:
        c = people.get(cid) if isinstance(cid, str) and kinds and s.key != "noisy" else None
        if c is None or kinds is None:
            return {"links": [], "likes": "", "said": None}
        last = newest_contact(c, kinds)
        return {
            "links": contact_links(c, region, waiting.get(c.id)),
            "likes": cell(list(c.likes)),
            "said": None if last is None else entry_line(last),
        }

    if s.kind == "people":
        shown["rows"] = [
            {
                "id": r["id"],
                "name": r["name"],
                "late": r["late"],
                "likes": cell(r.get("likes")),
                "reach": cell(r.get("reach")),
                "said": r.get("said"),
                "links": contact_links(people.get(r["id"]), region, waiting.get(r["id"])),
                "draft": waiting[r["id"]].campaign if r["id"] in waiting else None,
            }
            for r in s.rows
        ]
    elif s.kind == "table":
        columns = s.columns or dated_columns(s.rows)
        shown["headings"] = [c.heading.capitalize() for c in columns]
        shown["rows"] = [
            {
                "id": r.get("id"),
                "cells": [cell(r.get(c.key)) for c in columns],
                **reach(r.get("id")),
            }
            for r in s.rows
        ]
    else:
        keys = ("id", "date", "when", "name", "what", "note", "campaign", "waiting")
        shown["rows"] = [
            {**{k: cell(r.get(k)) for k in keys}, **reach(r.get("id"))} for r in s.rows
        ]
    return shown


def html_of(agenda: Agenda, count: int, people: Mapping[str, Customer], region: str = "") -> str:
    """Return the digest as an HTML page (``people``: the customers of its rows, by id)."""
    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    source = resources.files("crm.outreach").joinpath(TEMPLATE).read_text(encoding="utf-8")
    sections = [section_view(s, people, region) for s in agenda.sections() if s.size]
    title = agenda.title(count)
    closed = None if agenda.closed is None else agenda.closed["what"]
    return env.from_string(source).render(title=title, closed=closed, sections=sections)


def message(
    agenda: Agenda,
    count: int,
    people: Sequence[Customer],
    *,
    from_header: str,
    to: str,
    subject: str,
    region: str,
    now: datetime,
) -> EmailMessage:
    """Return the digest email: the agenda's text, and its HTML as the alternative."""
    domain = address_of(from_header).rsplit("@", 1)[-1]
    mid = f"<crm-digest.{agenda.today}.{now:%Y%m%dT%H%M%S}@{domain}>"
    msg = text_email(from_header, to, subject, agenda.as_text(count), now=now, mid=mid)
    by_id = {c.id: c for c in people}
    html = html_of(agenda, count, by_id, region)
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg
