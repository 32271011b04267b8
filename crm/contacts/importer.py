"""``crm import``: match address-book cards to customers, plan the additions and changes, apply them.

Planning is pure: cards and customers in, a ``Plan`` out. A card matches a customer (or a card
met earlier in the same file) by email, then phone, then exact name. A match only ever fills
what is missing: new emails, phones, tags and likes are added, an empty field is set, and a
field that already holds a different value is kept and reported. So importing the same file
twice changes nothing. Applying goes through ``crm.edit``: new customers are created exactly as
``crm new`` creates them, changes are the minimal-diff edits of ``crm set``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from crm.contacts.cards import NOTE, Card, FieldValue, card_fields, customer_text, items, list_keys
from crm.core.config import Config
from crm.core.errors import CrmError
from crm.core.model import Customer, Location, Problem
from crm.edit.changes import Change, EditResult, apply_changes
from crm.edit.new import new_customer
from crm.edit.yamltext import render_scalar


@dataclass(frozen=True, slots=True)
class Addition:
    """A customer to create from one or more cards."""

    name: str
    fields: tuple[tuple[str, FieldValue], ...]
    location: Location


@dataclass(frozen=True, slots=True)
class Update:
    """Changes to an existing customer, and the differing values that were kept."""

    customer: Customer
    changes: tuple[Change, ...]
    kept: tuple[str, ...]
    location: Location


@dataclass(frozen=True, slots=True)
class Plan:
    """What an import would do: create, change, and how many matched customers stay as they are."""

    additions: tuple[Addition, ...]
    updates: tuple[Update, ...]
    unchanged: int


@dataclass
class _Target:
    name: str
    location: Location
    values: dict[str, FieldValue]
    customer: Customer | None = None
    changes: list[Change] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def current_values(c: Customer) -> dict[str, FieldValue]:
    """Return a customer's importable fields as the text a card would carry."""
    found = {f.key: customer_text(c, f) for f in card_fields()}
    return {k: v for k, v in found.items() if v is not None}


def _norm(key: str, text: str) -> str:
    if key == "phone":
        return re.sub(r"[^\d+]", "", text)
    return " ".join(text.split()).casefold()


def plan_import(cards: Iterable[Card], customers: Sequence[Customer]) -> Plan:
    """Return what importing ``cards`` into a vault holding ``customers`` would add and change."""
    targets: list[_Target] = []
    index: dict[tuple[str, str], _Target] = {}

    def remember(t: _Target) -> None:
        index.setdefault(("name", _norm("name", t.name)), t)
        for key in ("email", "phone"):
            for item in items(t.values.get(key)):
                index.setdefault((key, _norm(key, item)), t)

    for c in customers:
        existing = _Target(c.name, c.location, current_values(c), customer=c)
        remember(existing)
    for card in cards:
        keys = [("email", _norm("email", e)) for e in card.items("email")]
        keys += [("phone", _norm("phone", p)) for p in card.items("phone")]
        keys.append(("name", _norm("name", card.name)))
        target = next((index[k] for k in keys if k in index), None)
        if target is None:
            target = _Target(card.name, card.location, {})
            targets.append(target)
        elif target.customer is not None and target not in targets:
            target.location = card.location
            targets.append(target)
        _merge(target, card)
        remember(target)
    additions = [
        Addition(t.name, tuple(t.values.items()), t.location) for t in targets if t.customer is None
    ]
    updates = [
        Update(t.customer, tuple(t.changes), tuple(t.kept), t.location)
        for t in targets
        if t.customer is not None and (t.changes or t.kept)
    ]
    matched = sum(1 for t in targets if t.customer is not None and not t.changes)
    return Plan(tuple(additions), tuple(updates), matched)


def _merge(target: _Target, card: Card) -> None:
    """Fill what ``target`` lacks from ``card``; record a change when it is an existing customer."""
    lists = list_keys()
    for key, value in card.fields:
        if key in lists:
            have = {_norm(key, v) for v in items(target.values.get(key))}
            for item in items(value):
                if _norm(key, item) in have:
                    continue
                have.add(_norm(key, item))
                target.values[key] = (*items(target.values.get(key)), item)
                if target.customer is not None:
                    target.changes.append(Change(key, "+=", item))
            continue
        if key == NOTE and target.customer is not None:
            continue  # an existing customer's notes and log are the user's own: never touched
        current = target.values.get(key)
        if current is None:
            target.values[key] = value
            if target.customer is not None:
                target.changes.append(Change(key, "=", _setting(key, value)))
        elif key == "dates" and current != value:
            shown = "; ".join(items(value))
            target.kept.append(f"kept dates; {card.location} says '{shown}'")
        elif key != "dates" and _norm(key, str(current)) != _norm(key, str(value)):
            target.kept.append(f"kept {key} '{current}'; {card.location} says '{value}'")


def _setting(key: str, value: FieldValue) -> str:
    """Return the ``crm set`` value for a field: ``dates`` items become a YAML flow list."""
    if key != "dates":
        assert isinstance(value, str)
        return value
    entries = []
    for item in items(value):
        day, how, label = item.split(" ", 2)
        yearly = "" if how == "yearly" else ", yearly: false"
        entries.append(
            f"{{label: {render_scalar(label, flow=True)}, "
            f"date: {render_scalar(day, typed=True, flow=True)}{yearly}}}"
        )
    return "[" + ", ".join(entries) + "]"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What applying a plan did: files created and edited (with their diffs) and what failed."""

    created: tuple[EditResult, ...]
    edited: tuple[EditResult, ...]
    problems: tuple[Problem, ...]


def apply_plan(
    root: Path, config: Config, plan: Plan, *, today: date, dry_run: bool = False
) -> Outcome:
    """Create and edit the customer files of ``plan``; a failing card is a problem, not a stop.

    With ``dry_run`` nothing in the vault is written: edits are computed by ``crm.edit``'s dry
    run, and new customers are created in a temporary copy of the vault's template folder.
    """
    if not dry_run:
        created, problems = _create(root, config, plan.additions, today)
    else:
        with tempfile.TemporaryDirectory(prefix="crm-import-") as tmp:
            scratch = Path(tmp)
            template = root / "templates" / "customer.md"
            if template.is_file():
                (scratch / "templates").mkdir()
                shutil.copyfile(template, scratch / "templates" / "customer.md")
            made, failed = _create(scratch, config, plan.additions, today)
        created = [EditResult(root / r.path.relative_to(scratch), "", r.after) for r in made]
        problems = [Problem(p.location, p.message.replace(str(scratch), str(root))) for p in failed]
    edited: list[EditResult] = []
    for u in plan.updates:
        if not u.changes:
            continue
        try:
            edited.append(apply_changes(u.customer.location.path, u.changes, dry_run=dry_run))
        except CrmError as exc:
            problems.append(Problem(u.location, f"not imported: {exc}"))
    return Outcome(tuple(created), tuple(edited), tuple(problems))


def _create(
    root: Path, config: Config, additions: Sequence[Addition], today: date
) -> tuple[list[EditResult], list[Problem]]:
    created: list[EditResult] = []
    problems: list[Problem] = []
    for a in additions:
        # A list item holding a comma cannot be written in one `key=a, b` go; add it after.
        fields: dict[str, FieldValue] = dict(a.fields)
        note = fields.pop(NOTE, None)
        assert note is None or isinstance(note, str)
        if "dates" in fields:
            fields["dates"] = _setting("dates", fields["dates"])
        later: list[Change] = []
        for key, value in list(fields.items()):
            if isinstance(value, tuple) and any("," in v for v in value):
                fields[key] = tuple(v for v in value if "," not in v)
                later.extend(Change(key, "+=", v) for v in value if "," in v)
                if not fields[key]:
                    del fields[key]
        try:
            # The plan already matched every card against the vault: no need to reload it per card.
            body = None if note is None else f"\n{note}\n"
            made = new_customer(root, config, a.name, fields, today=today, existing=(), body=body)
            if later:
                apply_changes(made.path, later)
        except CrmError as exc:
            problems.append(Problem(a.location, f"not imported: {exc}"))
            continue
        created.append(EditResult(made.path, "", made.path.read_text(encoding="utf-8")))
    return created, problems
