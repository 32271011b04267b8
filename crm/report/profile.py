"""One customer's profile, as ``crm show`` prints it: text, JSON or one CSV row (pure)."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from crm.core.config import Config
from crm.core.fields import FIELDS, Field, address_json, family_json
from crm.core.kinds import NO_KIND
from crm.core.model import Address, Customer, Interaction, Relative
from crm.report import rows
from crm.report.render import cell, to_csv
from crm.rules import cap, rhythm
from crm.vault.syntax import notes, open_tasks

# The layout of crm show's field lines; a labelled field of the table not named here follows.
_SHOW_ORDER = (
    "first_name", "last_name", "nickname", "salutation", "language", "company", "segment",
    "email", "phone", "address", "value", "customer_since", "likes", "dislikes",
)  # fmt: skip
SHOWN: tuple[Field, ...] = tuple(
    sorted(
        (f for f in FIELDS if f.label and f.attr),
        key=lambda f: _SHOW_ORDER.index(f.key) if f.key in _SHOW_ORDER else len(_SHOW_ORDER),
    )
)
# The profile's fields that fit one CSV cell (lists are joined), after those of ``customer_row``.
PROFILE_SCALARS = (
    "last_name", "nickname", "salutation", "language", "address", "value", "likes", "dislikes",
    "customer_since",
)  # fmt: skip
CONTACT_SCALARS = ("cadence", "last_contact", "due", "days_overdue", "next_contact", "snooze_until")
NOTE_LINES = 40  # crm show prints the first lines of long notes
STATE_WORDS = {
    "overdue": "overdue",
    "never": "never contacted",
    "due": "due today",
    "ok": "on track",
    "snoozed": "snoozed",
    "away": "away",
    "closed": "waits: the business is closed",
    "inactive": "not contacted (status {status})",
    "no contact": "no contact: opted out of every message",
    "untracked": "no cadence",
}


def planned(c: Customer, today: date) -> list[str]:
    """Return what is still to do: entries dated after today, then the unchecked tasks as written.

    A task (``- [ ] ...``) needs no date; a dated one is listed once, as a task.
    """
    ahead = sorted(
        (i for i in c.log if i.day > today and i.done),
        key=lambda i: (i.day, i.time or time.min),
    )
    return [entry_text(i).strip() for i in ahead] + open_tasks(c.body)


def relative_text(r: Relative) -> str:
    """Return one member of the family as ``show`` prints it: 'Lucía (daughter), born 2018-12-05'."""
    text = r.name + (f" ({r.relation})" if r.relation else "")
    if r.birthday is not None:
        text += f", birthday {r.birthday}" if r.birthday.year is None else f", born {r.birthday}"
    return text


def _entry_json(i: Interaction) -> dict[str, Any]:
    return {
        "date": i.day,
        "time": i.time.strftime("%H:%M") if i.time else None,
        "kind": i.kind,
        "text": i.text,
        "line": i.location.line,
    }


def profile_json(c: Customer, config: Config, today: date, skipped: int = 0) -> dict[str, Any]:
    """Return everything known about one customer, with their contact state on ``today``.

    ``skipped`` is how many lines of the file's Log could not be read (``crm check`` names them).
    """
    state = rhythm.contact_state(c, config, today)
    noisy = cap.too_much_contact(c, config, today)
    todo = planned(c, today)
    return {
        **rows.customer_row(c),
        "last_name": c.last_name,
        "nickname": c.nickname,
        "salutation": c.salutation,
        "language": c.language,
        "hello": c.hello,
        "kind": "org" if c.is_org else "person",
        "contact_person": None
        if c.contact is None
        else {"name": c.contact.name, "first_name": c.contact.first_name},
        "prefer": c.prefer,
        "opt_out": list(c.opt_out),
        "no_contact": c.no_contact,
        "max_contacts": None if c.max_contacts is None else str(c.max_contacts),
        "address": None if c.address is None else address_json(c.address),
        "value": c.value,
        "likes": list(c.likes),
        "dislikes": list(c.dislikes),
        "customer_since": c.customer_since,
        "dates": [
            {"kind": d.kind, "label": d.label, "date": d.date.isoformat(), "yearly": d.yearly}
            for d in c.dates
        ],
        "family": family_json(c.family),
        "contact": {
            "state": state.state,
            "cadence": str(state.cadence) if state.cadence else None,
            "last_contact": state.last.day if state.last else None,
            "due": state.due,
            "days_overdue": state.days_overdue,
            "next_contact": c.next_contact,
            "snooze_until": c.snooze_until,
            "away": {"from": c.away.start, "to": c.away.end} if c.away else None,
            "too_much": None if noisy is None else rows.noisy_row(noisy),
        },
        "upcoming": [rows.upcoming_row(u, today) for u in rhythm.upcoming([c], config, today, 366)],
        "planned": todo,
        "log": [_entry_json(i) for i in sorted(c.log, key=lambda i: i.day)],
        "notes": notes(c.body),
        "skipped_log_lines": skipped,
        "extra": dict(c.extra),
    }


def profile_csv(c: Customer, config: Config, today: date) -> str:
    """Return one customer as a one-row CSV: the keys of ``profile_json`` that hold no table."""
    profile = profile_json(c, config, today)
    contact = profile["contact"]
    away = contact["away"] or {}
    row = {
        **{k: profile[k] for k in (*rows.customer_row(c), *PROFILE_SCALARS)},
        "address": None if c.address is None else str(c.address),
        "contact_state": contact["state"],
        **{k: contact[k] for k in CONTACT_SCALARS},
        "away_from": away.get("from"),
        "away_to": away.get("to"),
    }
    return to_csv([row], list(row))


def _line(label: str, text: str) -> list[str]:
    """Return a labelled line; the lines of a value of several lines stay under its first."""
    first, *more = text.splitlines() or [""]
    return [f"  {label + ':':15} {first}", *(f"  {'':15} {line}" for line in more)]


def _value_text(value: Any) -> str:
    if isinstance(value, Address):
        return "\n".join(value.lines())
    return cell(value)


def profile_items(c: Customer, config: Config, today: date) -> list[tuple[str, str]]:
    """Return the labelled lines of a profile, ``(label, text)``: fields, family, contact
    state, away, snooze, the contact cap (``crm show`` and the phone page show these)."""
    items = []
    for f in SHOWN:
        value = getattr(c, f.attr) if f.attr else None
        if f.key == "opt_out" and c.no_contact:
            items.append((f.label or f.key, "everything: no contact"))
        elif value:
            items.append((f.label or f.key, _value_text(value)))
    if c.family:
        items.append(("family", "\n".join(relative_text(r) for r in c.family)))
    state = rhythm.contact_state(c, config, today)
    words = STATE_WORDS[state.state].format(status=c.status)
    said = [words]
    reached = state.state != "no contact"  # nobody to reach: no rhythm, no due day
    if state.cadence and reached:
        said.append(f"every {state.cadence}")
    if state.last:
        how = f" ({state.last.entry.kind})" if state.last.entry else ""
        said.append(f"last {state.last.day}{how}")
    if state.due and reached:
        said.append(f"due {state.due}")
    items.append(("contact", ", ".join(said)))
    if c.away is not None and c.away.end >= today:
        items.append(("away", f"{c.away.start} to {c.away.end}"))
    if c.snooze_until is not None and c.snooze_until > today:
        items.append(("snoozed until", str(c.snooze_until)))
    if c.max_contacts is not None:
        items.append(("max contacts", str(c.max_contacts)))
    noisy = cap.too_much_contact(c, config, today)
    if noisy is not None:
        items.append(
            ("too much", f"{noisy.count} since {noisy.since}, over {noisy.cap}: give a rest")
        )
    return items


def recent(c: Customer, today: date) -> list[Interaction]:
    """Return what happened, newest first: the log without tasks and entries after today."""
    return sorted(
        (i for i in c.log if _done(i, today)),
        key=lambda i: (i.day, i.time or time.min),
        reverse=True,
    )


def profile_text(
    c: Customer, config: Config, today: date, skipped: int = 0, log_lines: int = 5
) -> str:
    """Return one customer's profile as readable text (``skipped``: unreadable Log lines)."""
    head = f"{c.name} ({c.id})  {c.status}" + ("  organisation" if c.is_org else "")
    if c.tags:
        head += "  #" + " #".join(c.tags)
    out = [head]
    for label, text in profile_items(c, config, today):
        out.extend(_line(label, text))
    coming = rhythm.upcoming([c], config, today, 366)[:5]
    if coming:
        out.append("Next dates:")
        out.extend(f"  {u.day}  {rows.describe(u)}" for u in coming)
    todo = planned(c, today)
    if todo:
        out.append("Planned:")
        out.extend(f"  {item}" for item in todo)
    latest = recent(c, today)
    if latest:
        out.append("Latest log:")
        out.extend(entry_text(i) for i in latest[:log_lines])
    if skipped:
        these = (
            "1 Log line could not be read and is"
            if skipped == 1
            else (f"{skipped} Log lines could not be read and are")
        )
        out.append(f"  ({these} left out: crm check)")
    written = notes(c.body)
    if written:
        out.append("Notes:")
        lines = written.splitlines()
        out.extend(f"  {line}".rstrip() for line in lines[:NOTE_LINES])
        if len(lines) > NOTE_LINES:  # a pasted mail thread: the file has it all
            out.append(f"  … {len(lines) - NOTE_LINES} more lines in the file")
    out.append(f"File: {c.location.path}")
    return "\n".join(out) + "\n"


def _done(i: Interaction, today: date) -> bool:
    """Return True for a log entry of what happened (not a task, not dated after today)."""
    return i.done and i.day <= today


def entry_text(i: Interaction) -> str:
    """Return one log entry as ``show`` prints it, indented: '  2026-11-20 visit: trim'."""
    at = f" {i.time:%H:%M}" if i.time else ""
    kind = NO_KIND if i.kind == NO_KIND else f"{i.kind}:"  # an entry written without a kind
    return f"  {i.day}{at} {kind} {i.text}".rstrip()
