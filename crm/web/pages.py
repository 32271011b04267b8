"""What each page shows, as plain values for its template; and the actions its forms take.

A ``Here`` is one request's view of the vault: the facade (``Collection``), the day and
whether actions are on. Pages read through the facade, so an edit made in the editor shows on
the next load; actions are the edits ``crm log``, ``crm snooze`` and ``crm sent`` make, with
the same validation, under the same lock, changing the same lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from crm.core import dates
from crm.core.errors import CrmError
from crm.core.model import Customer
from crm.index.collection import Collection
from crm.outreach.agenda import agenda_of
from crm.outreach.digest import contact_links, section_view
from crm.outreach.links import link_of
from crm.outreach.outbox import (
    Draft,
    campaign_folder,
    campaigns,
    check_campaign,
    read_draft,
    waiting_drafts,
)
from crm.outreach.templates import GAP
from crm.report import profile, rows
from crm.rules import rhythm
from crm.vault.logline import skipped_lines
from crm.vault.syntax import notes

SNOOZE_DAYS = (("1 week", 7), ("2 weeks", 14), ("1 month", 30))
NOTICES = {
    "logged": "Logged.",
    "logged-over": "Logged. They are over their contact limit now: give them a rest.",
    "snoozed": "Snoozed.",
    "sent": "Marked as sent and logged.",
    "already": "It was marked as sent already.",
}


class NotFound(Exception):
    """No such customer or campaign: the page is a 404."""


@dataclass(frozen=True, slots=True)
class Here:
    """One request's view: the vault's facade, the day, the clock's reading, and whether the
    actions are on (``blocked``: why not, when crm.toml has errors)."""

    collection: Collection
    today: date
    now: datetime
    actions: bool
    blocked: str = ""

    def customer(self, cid: str) -> Customer:
        """Return the customer with exactly this id; ``NotFound`` when there is none."""
        found = self.collection.by_id(cid)
        if found is None:
            raise NotFound(f"No customer {cid!r}")
        return found

    def drafts(self, campaign: str) -> tuple[list[Draft], list[str]]:
        """Return the drafts of ``campaign`` and why any other file there could not be read;
        ``NotFound`` for a name no campaign has."""
        try:
            folder = campaign_folder(self.collection.outbox, check_campaign(campaign))
        except CrmError:
            folder = None
        if folder is None or not folder.is_dir():
            raise NotFound(f"No campaign {campaign!r} in the outbox")
        return readable_drafts(folder, self.collection.root)


def readable_drafts(folder: Path, root: Path) -> tuple[list[Draft], list[str]]:
    """Return the drafts in ``folder`` by file name, and a message for each broken one (a
    broken draft is no reason to hide the others)."""
    drafts, broken = [], []
    for path in sorted(folder.glob("*.md")):
        try:
            drafts.append(read_draft(path))
        except CrmError as exc:
            broken.append(str(exc).replace(f"{root}/", "", 1))
    return drafts, broken


def waiting_by_customer(outbox: Path, root: Path) -> dict[str, Draft]:
    """Return the first waiting draft of each customer (campaigns by name), by customer id."""
    found: dict[str, Draft] = {}
    for campaign, ids in waiting_drafts(outbox).items():
        if set(ids) <= set(found):
            continue
        for d in readable_drafts(outbox / campaign, root)[0]:
            if d.waiting:
                found.setdefault(d.customer, d)
    return found


def today_page(here: Here) -> dict[str, Any]:
    """Return the agenda of the day, each person with their links and any waiting draft."""
    root = here.collection.root
    base = root.resolve()
    found, customers = agenda_of(
        here.collection, here.today, shown=lambda problems: [p.seen_from(base) for p in problems]
    )
    config = here.collection.config
    people = {c.id: c for c in customers}
    drafts = waiting_by_customer(here.collection.outbox, root)
    return {
        "title": f"Today, {here.today:%a %d %b %Y}",
        "closed": None if found.closed is None else found.closed["what"],
        "sections": [
            section_view(s, people, config.business.region, drafts, config.kinds)
            for s in found.sections()
            if s.size
        ],
    }


def customer_page(here: Here, cid: str) -> dict[str, Any]:
    """Return one customer as ``crm show`` has them: fields, dates, plans, the whole log."""
    c = here.customer(cid)
    config, today = here.collection.config, here.today
    draft = waiting_by_customer(here.collection.outbox, here.collection.root).get(
        c.id
    )  # fills the links
    kinds = [k for k in config.kinds.named("contact") if k != "-"] + [
        config.kinds.from_them,
        "note",
    ]
    return {
        "title": c.name,
        "c": c,
        "links": contact_links(c, config.business.region, draft),
        "drafts": [
            name for name, ids in waiting_drafts(here.collection.outbox).items() if c.id in ids
        ],
        "items": profile.profile_items(c, config, today),
        "coming": [(u.day, rows.describe(u)) for u in rhythm.upcoming([c], config, today, 366)][
            :10
        ],
        "planned": profile.planned(c, today),
        "log": [profile.entry_text(i).strip() for i in profile.recent(c, today)],
        "skipped": skipped_lines(here.collection.problems_of(c)),
        "notes": notes(c.body),
        "kinds": kinds,
        "today": today.isoformat(),
        "snooze_days": [(label, today + timedelta(days=n)) for label, n in SNOOZE_DAYS],
    }


def outbox_page(here: Here) -> dict[str, Any]:
    """Return the campaigns of the outbox with how many drafts each has and how many wait."""
    waiting = {c: len(ids) for c, ids in waiting_drafts(here.collection.outbox).items()}
    listed = [
        (name, len(list((here.collection.outbox / name).glob("*.md"))), waiting.get(name, 0))
        for name in campaigns(here.collection.outbox)
    ]
    return {"title": "Outbox", "campaigns": listed}


def campaign_page(here: Here, campaign: str) -> dict[str, Any]:
    """Return the drafts of one campaign, each with its tap-to-send link."""
    region = here.collection.config.business.region
    drafts, broken = here.drafts(campaign)
    shown = [
        {
            "id": d.customer,
            "name": d.name,
            "channel": d.channel,
            "to": d.to,
            "subject": d.subject,
            "body": d.body.strip(),
            "status": d.status,
            "error": d.error,
            "gap": GAP in d.body,
            "link": link_of(d.channel, d.to, d.subject, d.body.strip(), region),
        }
        for d in drafts
    ]
    return {"title": campaign, "drafts": shown, "broken": broken}


def log_contact(here: Here, cid: str, form: Mapping[str, str]) -> str:
    """Append ``- DATE kind: text`` to the customer's ``## Log``, as ``crm log`` does."""
    from crm.edit.contact import log_contact as log

    c = here.customer(cid)
    day = _day(here, form.get("date", ""), "past") or here.today
    entry = (day, form.get("kind", "").strip().lower(), form.get("text", ""))
    config = here.collection.config
    logged = log(c.location.path, entry, root=here.collection.root, config=config, today=here.today)
    return "logged" if logged.over is None else "logged-over"


def snooze(here: Here, cid: str, form: Mapping[str, str]) -> str:
    """Set ``snooze_until`` to the form's day, as ``crm snooze --until`` does."""
    from crm.edit.changes import Change, apply_changes

    c = here.customer(cid)
    day = _day(here, form.get("until", ""), "future")
    if day is None:
        raise CrmError("say until when: a day such as 2027-01-10")
    apply_changes(c.location.path, [Change("snooze_until", "=", day.isoformat())])
    return "snoozed"


def mark_sent(here: Here, campaign: str, form: Mapping[str, str]) -> str:
    """Mark one draft as sent and log it back, as ``crm sent CAMPAIGN ID`` does."""
    from crm.outreach.campaign import mark_sent as mark

    wanted = form.get("id", "")
    draft = next((d for d in here.drafts(campaign)[0] if d.customer == wanted), None)
    if draft is None:
        raise NotFound(f"No draft for {wanted!r} in {campaign}")
    done = mark(draft, here.collection.by_id(draft.customer), now=here.now, today=here.today)
    if done.outcome in ("gap", "moved"):
        raise CrmError(f"not marked: {done.why}")
    if done.why is not None:
        raise CrmError(f"marked as sent, but not logged: {done.why}")
    return "already" if done.outcome == "already" else "sent"


def _day(here: Here, text: str, direction: dates.Direction) -> date | None:
    """Return the day a form's field names, read as the command line reads it; None if empty."""
    if not text.strip():
        return None
    try:
        return dates.parse_day(
            text, today=here.today, direction=direction, order=here.collection.config.date_order
        )
    except ValueError as exc:
        raise CrmError(str(exc)) from None
