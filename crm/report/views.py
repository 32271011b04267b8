"""The two human-facing views: the daily agenda and one customer's profile (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from crm.core.config import Config
from crm.core.fields import FIELDS, Field
from crm.core.model import Customer, Problem
from crm.report import rows
from crm.report.render import Column, cell, problem_rows, to_csv
from crm.report.render import table as render_table
from crm.rules import loyalty, rhythm

AGENDA_DAYS = 14


def leave_alone_notes(customers: Iterable[Customer], config: Config, today: date) -> dict[str, str]:
    """Return, by customer id, why someone must not be contacted now (away, snoozed, paused)."""
    notes: dict[str, str] = {}
    for c in customers:
        state = rhythm.contact_state(c, config, today)
        if c.status == "paused":
            notes[c.id] = "paused"
        elif state.state == "away" and c.away is not None:
            notes[c.id] = f"away until {c.away.end}"
        elif state.state == "snoozed" and c.snooze_until is not None:
            notes[c.id] = f"snoozed until {c.snooze_until}"
    return notes


@dataclass(frozen=True, slots=True)
class Agenda:
    """The daily digest: every section as rows."""

    today: date
    overdue: list[dict[str, Any]]
    due_today: list[dict[str, Any]]
    upcoming: list[dict[str, Any]]
    noisy: list[dict[str, Any]]
    problems: list[Problem]
    thanks: list[dict[str, Any]] = field(default_factory=list)
    winback: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """Return the digest as one JSON object with a list per section."""
        return {
            "today": self.today,
            "overdue": self.overdue,
            "due_today": self.due_today,
            "upcoming": self.upcoming,
            "noisy": self.noisy,
            "problems": problem_rows(self.problems),
            "thanks": self.thanks,
            "winback": self.winback,
        }

    def as_csv(self) -> str:
        """Return every section's items as CSV rows ``section,date,id,name,detail``."""
        flat: list[dict[str, Any]] = []
        for r in self.overdue:
            flat.append(
                {"section": "overdue", "date": r["due"], **r, "detail": f"late {r['late']}"}
            )
        for r in self.due_today:
            flat.append({"section": "due_today", "date": r["due"], **r, "detail": r["last"]})
        for r in self.upcoming:
            flat.append({"section": "upcoming", **r, "detail": r["what"]})
        for r in self.noisy:
            flat.append({"section": "noisy", "date": None, **r, "detail": r["max_contacts"]})
        for r in self.thanks:
            flat.append({"section": "thanks", "date": r["last_thanked"], **r, "detail": _why(r)})
        for r in self.winback:
            flat.append({"section": "winback", "date": r["last_contact"], **r, "detail": r["left"]})
        for p in self.problems:
            flat.append(
                {"section": "problem", "date": None, "id": None, "name": None, "detail": str(p)}
            )
        return to_csv(flat, ["section", "date", "id", "name", "detail"])

    def as_text(self, count: int) -> str:
        """Return the digest as the text a person reads with their coffee."""
        out = [f"Agenda for {self.today:%a %Y-%m-%d} ({count} customers)\n"]

        def section(title: str, items: Sequence[dict[str, Any]], cols: Sequence[Column]) -> None:
            if items:
                out.append(f"\n{title} ({len(items)})\n")
                out.append(_indent(render_table(items, cols, 78)))

        section("Contact now", self.overdue, rows.OVERDUE_COLUMNS)
        section("Due today", self.due_today, rows.OVERDUE_COLUMNS)
        section(f"Next {AGENDA_DAYS} days", self.upcoming, rows.UPCOMING_COLUMNS)
        section("Too much contact: give them a rest", self.noisy, rows.NOISY_COLUMNS)
        section("Say thank you", self.thanks, rows.THANKS_COLUMNS)
        section("Worth winning back", self.winback, rows.WINBACK_COLUMNS)
        if self.problems:
            out.append(f"\nFiles to fix ({len(self.problems)})\n")
            out.extend(f"  {p}\n" for p in self.problems)
        if len(out) == 1:
            out.append("\nNothing to do today.\n")
        return "".join(out)


def agenda(
    customers: Sequence[Customer], problems: Sequence[Problem], config: Config, today: date
) -> Agenda:
    """Return the daily digest for ``today``."""
    notes = leave_alone_notes(customers, config, today)
    soon = [
        u
        for u in rhythm.upcoming(customers, config, today, AGENDA_DAYS)
        if not (u.kind == "due" and u.day == today)
    ]
    return Agenda(
        today=today,
        overdue=[rows.overdue_row(s, today) for s in rhythm.overdue(customers, config, today)],
        due_today=[rows.overdue_row(s, today) for s in rhythm.due_today(customers, config, today)],
        upcoming=[rows.upcoming_row(u, today, notes.get(u.customer.id)) for u in soon],
        noisy=[rows.noisy_row(n) for n in rhythm.noisy(customers, config, today)],
        problems=list(problems),
        thanks=[rows.thanks_row(x) for x in loyalty.thanks(customers, config.loyalty, today)],
        winback=[
            rows.winback_row(x)
            for x in loyalty.winback(customers, config.loyalty, today, kinds=config.kinds)
        ],
    )


def _why(row: dict[str, Any]) -> str:
    """Return why a customer counts as loyal, e.g. '4 visits, value 4200'."""
    parts = [f"{row['visits']} visits"]
    if row["value"] is not None:
        parts.append(f"value {cell(row['value'])}")
    return ", ".join(parts)


def _indent(text: str) -> str:
    return "".join(f"  {line}\n" for line in text.splitlines())


def profile_json(c: Customer, config: Config, today: date) -> dict[str, Any]:
    """Return everything known about one customer, with their contact state on ``today``."""
    state = rhythm.contact_state(c, config, today)
    return {
        **rows.customer_row(c),
        "last_name": c.last_name,
        "address": c.address,
        "value": c.value,
        "likes": list(c.likes),
        "dislikes": list(c.dislikes),
        "customer_since": c.customer_since,
        "dates": [
            {"kind": d.kind, "label": d.label, "date": d.date.isoformat(), "yearly": d.yearly}
            for d in c.dates
        ],
        "contact": {
            "state": state.state,
            "cadence": str(state.cadence) if state.cadence else None,
            "last_contact": state.last.day if state.last else None,
            "due": state.due,
            "days_overdue": state.days_overdue,
            "next_contact": c.next_contact,
            "snooze_until": c.snooze_until,
            "away": {"from": c.away.start, "to": c.away.end} if c.away else None,
        },
        "upcoming": [rows.upcoming_row(u, today) for u in rhythm.upcoming([c], config, today, 366)],
        "log": [
            {
                "date": i.day,
                "time": i.time.strftime("%H:%M") if i.time else None,
                "kind": i.kind,
                "text": i.text,
                "line": i.location.line,
            }
            for i in sorted(c.log, key=lambda i: i.day)
        ],
        "extra": dict(c.extra),
    }


# The layout of crm show's field lines; a labelled field of the table not named here follows.
_SHOW_ORDER = (
    "first_name", "last_name", "company", "segment", "email", "phone", "address", "value",
    "customer_since", "likes", "dislikes",
)  # fmt: skip
SHOWN: tuple[Field, ...] = tuple(
    sorted(
        (f for f in FIELDS if f.label and f.attr),
        key=lambda f: _SHOW_ORDER.index(f.key) if f.key in _SHOW_ORDER else len(_SHOW_ORDER),
    )
)


def profile_csv(c: Customer, config: Config, today: date) -> str:
    """Return one customer as a one-row CSV: the keys of ``profile_json`` that hold no table."""
    profile = profile_json(c, config, today)
    contact = profile["contact"]
    away = contact["away"] or {}
    row = {
        **{k: profile[k] for k in (*rows.customer_row(c), *PROFILE_SCALARS)},
        "contact_state": contact["state"],
        **{k: contact[k] for k in CONTACT_SCALARS},
        "away_from": away.get("from"),
        "away_to": away.get("to"),
    }
    return to_csv([row], list(row))


# The profile's fields that fit one CSV cell (lists are joined), after those of ``customer_row``.
PROFILE_SCALARS = ("last_name", "address", "value", "likes", "dislikes", "customer_since")
CONTACT_SCALARS = ("cadence", "last_contact", "due", "days_overdue", "next_contact", "snooze_until")


STATE_WORDS = {
    "overdue": "overdue",
    "never": "never contacted",
    "due": "due today",
    "ok": "on track",
    "snoozed": "snoozed",
    "away": "away",
    "inactive": "not contacted (status {status})",
    "untracked": "no cadence",
}


def profile_text(c: Customer, config: Config, today: date, log_lines: int = 5) -> str:
    """Return one customer's profile as readable text."""
    state = rhythm.contact_state(c, config, today)
    head = f"{c.name} ({c.id})  {c.status}"
    if c.tags:
        head += "  #" + " #".join(c.tags)
    out = [head]
    for f in SHOWN:
        value = getattr(c, f.attr) if f.attr else None
        if value:
            out.append(f"  {(f.label or f.key) + ':':15} {cell(value)}")
    words = STATE_WORDS[state.state].format(status=c.status)
    said = [words]
    if state.cadence:
        said.append(f"every {state.cadence}")
    if state.last:
        how = f" ({state.last.entry.kind})" if state.last.entry else ""
        said.append(f"last {state.last.day}{how}")
    if state.due:
        said.append(f"due {state.due}")
    out.append(f"  {'contact:':15} {', '.join(said)}")
    if c.away is not None and c.away.end >= today:
        out.append(f"  {'away:':15} {c.away.start} to {c.away.end}")
    if c.snooze_until is not None and c.snooze_until > today:
        out.append(f"  {'snoozed until:':15} {c.snooze_until}")
    if c.max_contacts is not None:
        out.append(f"  {'max contacts:':15} {c.max_contacts}")
    coming = rhythm.upcoming([c], config, today, 366)[:5]
    if coming:
        out.append("Next dates:")
        out.extend(f"  {u.day}  {rows.describe(u)}" for u in coming)
    recent = sorted(c.log, key=lambda i: (i.day, i.time or time.min), reverse=True)
    if recent:
        out.append("Latest log:")
        for i in recent[:log_lines]:
            at = f" {i.time:%H:%M}" if i.time else ""
            out.append(f"  {i.day}{at} {i.kind}: {i.text}".rstrip())
    out.append(f"File: {c.location.path}")
    return "\n".join(out) + "\n"
