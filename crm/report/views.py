"""The daily agenda, the digest a person reads with their coffee (pure); see also ``profile``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, NamedTuple, TypeVar

from crm.core.config import Config
from crm.core.model import Customer, Problem
from crm.report import rows
from crm.report.render import Column, cell, problem_rows, to_csv
from crm.report.render import table as render_table
from crm.rules import cap, closures, loyalty, replies, rewards, rhythm

AGENDA_DAYS = 14
T = TypeVar("T")
# Where each cut section lists everyone: "… and 10,771 more: crm overdue".
MORE = {
    "replies": "crm replies",
    "overdue": "crm overdue",
    "due_today": "crm upcoming --days 0",
    "upcoming": f"crm upcoming --days {AGENDA_DAYS}",
    "noisy": "crm noisy",
    "thanks": "crm thanks",
    "rewards": "crm rewards",
    "winback": "crm winback",
    "problems": "crm check",
}


def leave_alone_notes(
    customers: Iterable[Customer],
    config: Config,
    today: date,
    known: Sequence[rhythm.ContactState] | None = None,
) -> dict[str, str]:
    """Return, by customer id, why someone must not be contacted now (away, snoozed, paused).

    ``known``: the states of ``customers``, in their order, when the caller has them already.
    """
    people = list(customers)
    notes: dict[str, str] = {}
    found = known if known is not None else rhythm.states(people, config, today)
    for c, state in zip(people, found, strict=True):
        if c.status == "paused":
            notes[c.id] = "paused"
        elif state.state == "away" and c.away is not None:
            notes[c.id] = f"away until {c.away.end}"
        elif state.state == "snoozed" and c.snooze_until is not None:
            notes[c.id] = f"snoozed until {c.snooze_until}"
    return notes


# How a section's rows read: a person to reach (name, reach, said), a dated item (date, what),
# a table of its columns, or one line each (what).
SectionKind = Literal["people", "dated", "table", "lines"]


class Section(NamedTuple):
    """One section of the agenda: its title, its rows, how they read, and their columns."""

    title: str
    rows: Sequence[dict[str, Any]]
    kind: SectionKind
    columns: Sequence[Column] = ()  # none: a dated section shows the keys its rows have
    total: int | None = None  # what the title counts, when it is not the rows (drafts waiting)
    key: str = ""  # the section's name in ``Agenda.more`` and ``MORE``
    more: int = 0  # the rows left out: the digest shows the first ``[agenda] rows``

    @property
    def size(self) -> int:
        """Return the number the title shows: the total, else the rows, shown or left out."""
        return len(self.rows) + self.more if self.total is None else self.total

    @property
    def more_text(self) -> str:
        """Return the line under a cut section: '… and 10,771 more: crm overdue' ('' if none)."""
        return f"… and {self.more:,} more: {MORE[self.key]}" if self.more else ""


def dated_columns(items: Sequence[dict[str, Any]]) -> list[Column]:
    """Return the columns of a dated section: date and what, with when, name and note if set."""
    keys = {k for r in items for k, v in r.items() if v is not None}
    return [c for c in rows.DATED_COLUMNS if c.key in ("date", "what") or c.key in keys]


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
    # Drafts waiting in the outbox, by campaign (the command line reads the outbox).
    drafts: list[tuple[str, int]] = field(default_factory=list)
    # The business's calendar: closed today, closures coming, the day to tell customers.
    closures: list[dict[str, Any]] = field(default_factory=list)
    # Occasions in their lead time, with the messages still to send (``occasion_row``).
    occasions: list[dict[str, Any]] = field(default_factory=list)
    # Replies owed (``reply_row``) and rewards due or coming (``reward_row``).
    replies: list[dict[str, Any]] = field(default_factory=list)
    rewards: list[dict[str, Any]] = field(default_factory=list)
    # How many rows each cut section left out, by section key (``MORE``).
    more: dict[str, int] = field(default_factory=dict)

    @property
    def closed(self) -> dict[str, Any] | None:
        """Return the closure row of today when the business is closed, else None."""
        return next((r for r in self.closures if r["kind"] == "closed"), None)

    def as_json(self) -> dict[str, Any]:
        """Return the digest as one JSON object with a list per section."""
        return {
            "today": self.today,
            "replies": self.replies,
            "overdue": self.overdue,
            "due_today": self.due_today,
            "upcoming": self.upcoming,
            "noisy": self.noisy,
            "problems": problem_rows(self.problems),
            "thanks": self.thanks,
            "rewards": self.rewards,
            "winback": self.winback,
            "drafts": [{"campaign": c, "waiting": n} for c, n in self.drafts],
            "closures": self.closures,
            "occasions": self.occasions,
            "more": {key: self.more.get(key, 0) for key in MORE},
        }

    def as_csv(self) -> str:
        """Return every section's items as CSV rows ``section,date,id,name,detail``."""
        flat: list[dict[str, Any]] = []
        for r in self.replies:
            flat.append({"section": "replies", "date": r["since"], **r, "detail": f"{r['due']}: {r['said']}"})  # fmt: skip
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
        for r in self.rewards:
            flat.append({"section": "rewards", "date": r["last_given"], **r, "detail": f"{r['reward']}: {r['where']}"})  # fmt: skip
        for r in self.winback:
            flat.append({"section": "winback", "date": r["last_contact"], **r, "detail": r["left"]})
        for campaign, waiting in self.drafts:
            detail = f"{waiting} waiting in {campaign}"
            flat.append({"section": "drafts", "date": None, "id": None, "name": None, "detail": detail})  # fmt: skip
        for r in self.closures:
            flat.append({"section": "closures", **r, "id": None, "name": None, "detail": r["what"]})  # fmt: skip
        for r in self.occasions:
            flat.append({"section": "occasions", **r, "id": None, "name": None, "detail": r["what"]})  # fmt: skip
        for p in self.problems:
            flat.append(
                {"section": "problem", "date": None, "id": None, "name": None, "detail": str(p)}
            )
        return to_csv(flat, ["section", "date", "id", "name", "detail"])

    def sections(self) -> list[Section]:
        """Return the sections in the order every rendering shows them (empty ones too)."""
        waiting = sum(n for _, n in self.drafts)
        drafts = [
            {"campaign": c, "waiting": n, "what": f"{c}: {n}: crm send {c}"} for c, n in self.drafts
        ]
        problems = [{"what": str(p)} for p in self.problems]

        def cut(
            title: str, items: Sequence[dict[str, Any]], kind: SectionKind, key: str,
            columns: Sequence[Column] = (),
        ) -> Section:  # fmt: skip
            return Section(title, items, kind, columns, None, key, self.more.get(key, 0))

        return [
            cut("Replies you owe", self.replies, "table", "replies", rows.REPLY_COLUMNS),
            cut("Contact now", self.overdue, "people", "overdue"),
            cut("Due today", self.due_today, "people", "due_today"),
            cut(
                f"Next {AGENDA_DAYS} days",
                self.upcoming,
                "dated",
                "upcoming",
                rows.UPCOMING_COLUMNS,
            ),
            cut(
                "Too much contact: give them a rest",
                self.noisy,
                "table",
                "noisy",
                rows.NOISY_COLUMNS,
            ),
            cut("Say thank you", self.thanks, "table", "thanks", rows.THANKS_COLUMNS),
            cut("Rewards", self.rewards, "table", "rewards", rows.REWARD_COLUMNS),
            cut("Worth winning back", self.winback, "table", "winback", rows.WINBACK_COLUMNS),
            Section("Drafts waiting in the outbox", drafts, "lines", total=waiting),
            Section("Closures and occasions", self.coming(), "lines"),
            cut("Files to fix", problems, "lines", "problems"),
        ]

    def coming(self) -> list[dict[str, Any]]:
        """Return the closures and occasions coming up (not today's closure), by date."""
        found = [r for r in self.closures if r["kind"] != "closed"] + self.occasions
        found.sort(key=lambda r: r["date"])
        return [{**r, "what": f"{r['date']}  {r['what']}"} for r in found]

    def items(self) -> int:
        """Return how many things the digest lists, over all its sections (0: a day off)."""
        return sum(s.size for s in self.sections())

    def title(self, count: int) -> str:
        """Return the agenda's heading: its day and how many customers the vault has."""
        return f"Agenda for {self.today:%a %Y-%m-%d} ({count} customer{'' if count == 1 else 's'})"

    def as_text(self, count: int) -> str:
        """Return the digest as the text a person reads with their coffee."""
        out = [f"{self.title(count)}\n"]
        if (closed := self.closed) is not None:
            out.append(f"\n{closed['what']}\n")
        for s in self.sections():
            if not s.size:
                continue
            out.append(f"\n{s.title} ({s.size})\n")
            if s.kind == "people" or s.key == "replies":
                out.append(_indent(with_said(s.rows, s.columns or rows.CONTACT_NOW_COLUMNS)))
            elif s.kind == "lines":
                out.extend(f"  {r['what']}\n" for r in s.rows)
            else:
                out.append(_indent(render_table(s.rows, s.columns or dated_columns(s.rows), 78)))
            if s.more:
                out.append(f"  {s.more_text}\n")
        if len(out) == 1:
            out.append("\nNothing to do today.\n")
        return "".join(out)


def agenda(
    customers: Sequence[Customer],
    problems: Sequence[Problem],
    config: Config,
    today: date,
    drafts: Sequence[tuple[str, int]] = (),
    occasions: Sequence[dict[str, Any]] = (),
    *,
    noisy: Sequence[Customer] | None = None,
    thanked: rhythm.Counted[loyalty.Loyal] | None = None,
    contact: tuple[rhythm.Counted[rhythm.ContactState], rhythm.Counted[rhythm.ContactState]]
    | None = None,
    limit: int | None = None,
    owed: rhythm.Counted[replies.Owed] | None = None,
    earned: rhythm.Counted[rewards.Earned] | None = None,
) -> Agenda:
    """Return the daily digest for ``today``; ``occasions`` are the rows of the occasions in
    their lead time (``occasion_row``: counting their messages takes the templates).

    Each section keeps its first ``limit`` rows (default ``[agenda] rows``; 0: all) and
    counts the rest in ``more``: a digest, where the reports list everyone. ``noisy`` (whole
    customers), ``thanked`` and ``contact`` ("Contact now" and "Due today"), cut to ``limit``,
    are what the index found, when ``customers`` are its briefs, as are ``owed`` (replies)
    and ``earned`` (rewards); else they come from ``customers``.
    """
    keep = config.agenda_rows if limit is None else limit
    more: dict[str, int] = {}

    def first(key: str, items: Sequence[T] | rhythm.Counted[T]) -> Sequence[T]:
        found = items if isinstance(items, rhythm.Counted) else rhythm.counted(items, keep)
        if found.total > len(found.shown):
            more[key] = found.total - len(found.shown)
        return found.shown

    known = None if contact is not None else rhythm.states(customers, config, today)
    soon = first(
        "upcoming",
        [
            u
            for u in rhythm.upcoming(customers, config, today, AGENDA_DAYS, known)
            if not (u.kind == "due" and u.day == today)
        ],
    )
    notes = leave_alone_notes({u.customer.location.path: u.customer for u in soon}.values(), config, today)  # fmt: skip
    if contact is None:
        overdue = first("overdue", rhythm.overdue(customers, config, today, known))
        due_today = first("due_today", rhythm.due_today(customers, config, today, known))
    else:
        overdue, due_today = first("overdue", contact[0]), first("due_today", contact[1])
    noisy_found = first("noisy", cap.noisy(customers if noisy is None else noisy, config, today))
    if thanked is None:
        thanked = rhythm.counted(loyalty.thanks(customers, config.loyalty, today), keep)
    thanks = first("thanks", thanked)
    if owed is None:
        owed = rhythm.counted(replies.replies(customers, config, today), keep)
    if earned is None:
        earned = rhythm.counted(rewards.earned(customers, config, today), keep)
    lost = first("winback", loyalty.winback(customers, config.loyalty, today, kinds=config.kinds))
    return Agenda(
        today=today,
        overdue=[rows.overdue_row(s, today) for s in overdue],
        due_today=[rows.overdue_row(s, today) for s in due_today],
        upcoming=[rows.upcoming_row(u, today, notes.get(u.customer.id)) for u in soon],
        noisy=[rows.noisy_row(n) for n in noisy_found],
        problems=list(first("problems", problems)),
        thanks=[rows.thanks_row(x) for x in thanks],
        winback=[rows.winback_row(x) for x in lost],
        replies=[rows.reply_row(o, today) for o in first("replies", owed)],
        rewards=[rows.reward_row(e) for e in first("rewards", earned)],
        drafts=list(drafts),
        closures=[notice_row(n) for n in closures.notices(config, today, AGENDA_DAYS)],
        occasions=list(occasions),
        more=more,
    )


def notice_row(n: closures.Notice) -> dict[str, Any]:
    """Return one line of the business's calendar: its day, kind and text."""
    return {"date": n.day, "kind": n.kind, "what": n.text, "from": n.closure.start, "to": n.closure.end}  # fmt: skip


def occasion_row(
    text: str, name: str, day: date, template: str, campaign: str, to_send: int
) -> dict[str, Any]:
    """Return an occasion in its lead time: 'Holiday greetings: 38 to send by 12-24: crm draft holiday'."""
    what = f"{text}: crm draft {template}"
    return {"date": day, "name": name, "template": template, "campaign": campaign, "to_send": to_send, "what": what}  # fmt: skip


def _why(row: dict[str, Any]) -> str:
    """Return why a customer counts as loyal, e.g. '4 visits, value 4200'."""
    parts = [f"{row['visits']} visits"]
    if row["value"] is not None:
        parts.append(f"value {cell(row['value'])}")
    return ", ".join(parts)


def with_said(items: Sequence[dict[str, Any]], columns: Sequence[Column], width: int = 78) -> str:
    """Return a table of people with what was said under each ("Contact now": the last
    contact; "Replies you owe": what they asked), cut to ``width``."""
    lines = render_table(items, columns, width).split("\n")[:-1]
    out = [lines[0]]
    for row, line in zip(items, lines[1:], strict=True):
        out.append(line)
        if row["said"]:
            out.append(_cut(f"  {row['said']}", width))
    return "\n".join(out) + "\n"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _indent(text: str) -> str:
    return "".join(f"  {line}\n" for line in text.splitlines())
