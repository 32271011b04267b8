"""Each report's rows: the stable JSON/CSV schema (documented in docs/reports.md) and table columns."""

from __future__ import annotations

from datetime import date
from typing import Any

from crm.core.closures import Closure
from crm.core.kinds import NO_KIND
from crm.core.model import Customer, Interaction
from crm.report.render import Column
from crm.rules.audience import PHONE_CHANNELS, channel_for
from crm.rules.cap import Noisy
from crm.rules.loyalty import Lost, Loyal, ago
from crm.rules.replies import Owed, asked_texts, due_text, waiting
from crm.rules.rewards import Earned
from crm.rules.rhythm import CUSTOMER_SINCE, ContactState, Upcoming

LIST_COLUMNS = (
    Column("id", "ID"),
    Column("name", "NAME", flexible=True),
    Column("status", "STATUS"),
    Column("tags", "TAGS", flexible=True),
)

OVERDUE_COLUMNS = (
    Column("name", "NAME", flexible=True),
    Column("late", "LATE"),
    Column("last", "LAST CONTACT", flexible=True),
    Column("cadence", "EVERY"),
    Column("likes", "LIKES", flexible=True),
)

# The agenda's "Contact now": how to reach each person (the last thing said goes below).
CONTACT_NOW_COLUMNS = (
    Column("name", "NAME", flexible=True),
    Column("late", "LATE"),
    Column("reach", "REACH"),
    Column("likes", "LIKES", flexible=True),
)

UPCOMING_COLUMNS = (
    Column("date", "DATE"),
    Column("when", "WHEN"),
    Column("name", "NAME", flexible=True),
    Column("what", "WHAT", flexible=True),
    Column("note", "NOTE", flexible=True),
)

# Any dated item (the next days, a closure, an occasion): the columns its rows have, in order.
DATED_COLUMNS = UPCOMING_COLUMNS

NOISY_COLUMNS = (
    Column("name", "NAME", flexible=True),
    Column("count", "OUTREACH"),
    Column("max_contacts", "LIMIT"),
    Column("since", "SINCE"),
    Column("last", "LATEST", flexible=True),
)


def customer_row(c: Customer) -> dict[str, Any]:
    """Return the ``crm list`` row: the customer's main fields."""
    return {
        "id": c.id,
        "name": c.name,
        "first_name": c.first_name,
        "status": c.status,
        "tags": list(c.tags),
        "segment": c.segment,
        "company": c.company,
        "email": list(c.emails),
        "phone": list(c.phones),
        "path": str(c.location.path),
        "no_contact": c.no_contact,
    }


def list_table_row(row: dict[str, Any]) -> dict[str, Any]:
    """Return a ``customer_row`` for the table: its status says "no contact" when so."""
    if not row["no_contact"]:
        return row
    return {**row, "status": f"{row['status']}, no contact"}


def overdue_row(s: ContactState, today: date) -> dict[str, Any]:
    """Return the ``crm overdue`` row of one contact state."""
    last = s.last
    how = last.entry.kind if last and last.entry else None
    late = "never" if last is None else f"{s.days_overdue or 0}d"
    return {
        "id": s.customer.id,
        "name": s.customer.name,
        "first_name": s.customer.first_name,
        "due": s.due,
        "days_overdue": s.days_overdue,
        "never_contacted": last is None,
        "last_contact": last.day if last else None,
        "last_contact_kind": how,
        "cadence": str(s.cadence) if s.cadence else None,
        "likes": list(s.customer.likes),
        "late": late,
        "last": f"{last.day} {how}" if last and how else (str(last.day) if last else "never"),
        "reach": reach(s.customer),
        "said": said(s),
        "path": str(s.customer.location.path),
    }


def reach(c: Customer) -> str | None:
    """Return how to reach the customer: the phone or email of their channel, else either."""
    by_phone = channel_for(c, "any") in PHONE_CHANNELS
    first = (c.phones, c.emails) if by_phone else (c.emails, c.phones)
    return next((values[0] for values in first if values), None)


def said(s: ContactState) -> str | None:
    """Return the last thing said: the last contact's entry, 'DAY kind: text'."""
    entry = s.last.entry if s.last else None
    if entry is None:
        return str(s.last.day) if s.last else None
    return entry_line(entry)


def entry_line(entry: Interaction) -> str:
    """Return a log entry as one line: '2026-10-20 visit: balayage refresh' ('DAY text' when it
    has no kind)."""
    if entry.kind == NO_KIND:
        return f"{entry.day} {entry.text}".rstrip()
    return f"{entry.day} {entry.kind}: {entry.text}" if entry.text else f"{entry.day} {entry.kind}"


def upcoming_row(u: Upcoming, today: date, note: str | None = None) -> dict[str, Any]:
    """Return the ``crm upcoming`` row of one dated item."""
    return {
        "date": u.day,
        "time": u.at.strftime("%H:%M") if u.at else None,
        "id": u.customer.id,
        "name": u.customer.name,
        "kind": u.kind,
        "label": u.label,
        "age": u.age if u.kind in ("birthday", "relative") else None,
        "years": u.age if u.kind not in ("birthday", "relative") else None,
        "when": when(u.day, today),
        "what": describe(u),
        # A reach-out date already falls after any away period or snooze: no note needed.
        "note": None if u.kind == "due" else note,
        "path": str(u.customer.location.path),
    }


def describe(u: Upcoming) -> str:
    """Return a short phrase for an upcoming item, e.g. 'birthday (turns 37)'."""
    if u.kind == "birthday":
        return "birthday" + (f" (turns {u.age})" if u.age is not None else "")
    if u.kind == "relative":
        return f"{u.label}'s birthday" if u.age is None else f"{u.label} turns {u.age}"
    if u.kind == "followup":
        # The label says when a closure moved it: "Follow-up (planned 2026-12-30)".
        moved = u.label.removeprefix("Follow-up")
        return "follow-up" + (f" at {u.at.strftime('%H:%M')}" if u.at else "") + moved
    if u.kind == "due":
        return "reach out"
    if u.label == CUSTOMER_SINCE:
        return f"{u.age} years as a customer"
    label = "anniversary" if u.kind == "anniversary" else u.label
    return label + (f" ({u.age} years)" if u.age is not None else "")


def when(day: date, today: date) -> str:
    """Return 'today', 'tomorrow', 'Fri' (this week) or 'in 12d'."""
    delta = (day - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if 1 < delta < 7:
        return day.strftime("%a")
    return f"in {delta}d"


def noisy_row(n: Noisy) -> dict[str, Any]:
    """Return the ``crm noisy`` row of one over-contacted customer."""
    latest = n.entries[-1]
    return {
        "id": n.customer.id,
        "name": n.customer.name,
        "count": n.count,
        "max_contacts": str(n.cap),
        "since": n.since,
        "entries": [f"{i.day} {i.kind}" for i in n.entries],
        "last": f"{latest.day} {latest.kind}",
        "path": str(n.customer.location.path),
    }


THANKS_COLUMNS = (
    Column("name", "NAME", flexible=True),
    Column("visits", "VISITS"),
    Column("value", "VALUE"),
    Column("thanked", "LAST THANKED"),
    Column("likes", "LIKES", flexible=True),
)

WINBACK_COLUMNS = (
    Column("name", "NAME", flexible=True),
    Column("value", "VALUE"),
    Column("left", "LEFT"),
    Column("likes", "LIKES", flexible=True),
)


def thanks_row(x: Loyal) -> dict[str, Any]:
    """Return the ``crm thanks`` row of one loyal customer."""
    c = x.customer
    return {
        "id": c.id,
        "name": c.name,
        "first_name": c.first_name,
        "visits": x.visits,
        "last_visit": x.last_visit,
        "value": c.value,
        "last_thanked": x.last_thanked,
        "thanked": str(x.last_thanked) if x.last_thanked else "never",
        "likes": list(c.likes),
        "path": str(c.location.path),
    }


def winback_row(x: Lost) -> dict[str, Any]:
    """Return the ``crm winback`` row of one lost customer."""
    c = x.customer
    return {
        "id": c.id,
        "name": c.name,
        "first_name": c.first_name,
        "value": c.value,
        "last_contact": x.last_contact,
        "days_gone": x.days_gone,
        "left": ago(x.days_gone) + (" ago" if x.days_gone is not None else ""),
        "likes": list(c.likes),
        "path": str(c.location.path),
    }


# What they asked goes under each person (``views.with_said``), or in the "said" column.
REPLY_COLUMNS = (
    Column("name", "NAME", flexible=True),
    Column("waiting", "WAITING"),
    Column("due", "REPLY"),
    Column("reach", "REACH"),
)


def reply_row(o: Owed, today: date) -> dict[str, Any]:
    """Return the ``crm replies`` row of one customer waiting for an answer."""
    c = o.customer
    asked = list(asked_texts(o))
    return {
        "id": c.id,
        "name": c.name,
        "first_name": c.first_name,
        "since": o.since,
        "waiting": waiting(o.since, today),
        "late_on": o.late_on,
        "late": o.late(today),
        "due": due_text(o, today),
        "kind": o.asked[0].kind,
        "asked": asked,
        "said": "; ".join(entry_line(i) for i in o.asked),
        "reach": reach(c),
        "path": str(c.location.path),
    }


REWARD_COLUMNS = (
    Column("name", "NAME", flexible=True),
    Column("reward", "REWARD", flexible=True),
    Column("where", "STANDING"),
    Column("rule", "EARNED"),
    Column("given", "LAST GIVEN"),
)


def reward_row(e: Earned) -> dict[str, Any]:
    """Return the ``crm rewards`` row of one reward due or coming; for someone who opted out of
    every message it says "no contact" (give it at their next visit) and names no template."""
    c, r = e.customer, e.reward
    where = "due" if e.standing == "due" else f"1 {r.kind} to go"
    return {
        "id": c.id,
        "name": c.name,
        "first_name": c.first_name,
        "reward": r.name,
        "rule": r.rule,
        "standing": e.standing,
        "where": f"{where}, no contact" if c.no_contact else where,
        "count": e.count,
        "last_given": e.last_given,
        "given": str(e.last_given) if e.last_given else "never",
        "template": None if c.no_contact else r.template,
        "no_contact": c.no_contact,
        "likes": list(c.likes),
        "path": str(c.location.path),
    }


CLOSURE_COLUMNS = (
    Column("from", "FROM"),
    Column("to", "TO"),
    Column("days", "DAYS"),
    Column("reason", "REASON", flexible=True),
    Column("notice", "NOTICE"),
    Column("tell_on", "TELL ON"),
)


def closure_row(c: Closure) -> dict[str, Any]:
    """Return the ``crm closed --list`` row of one closure."""
    return {
        "from": c.start,
        "to": c.end,
        "days": (c.end - c.start).days + 1,
        "reason": c.reason,
        "notice": c.notice,
        "notice_days": c.notice_days,
        "tell_on": c.notice_day,
    }
