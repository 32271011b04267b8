"""``crm import``: match address-book cards to customers, plan the additions and changes, apply them.

Planning is pure: cards and customers in, a ``Plan`` out. A card matches a customer (or a card
met earlier in the same file) by its UID (``crm:ID`` from ``crm export``); else by a shared email
or phone whose name agrees (``crm.rules.duplicates.names_agree``); else by the same full name.
Two people who share an address or a number but not a name stay two: the card makes a new
customer, and the plan lists the pair as a possible duplicate. A match only ever fills
what is missing: new emails, phones, tags and likes are added, an empty field is set, and a
field that already holds a different value is kept and reported. So importing the same file
twice changes nothing. Applying goes through ``crm.edit``: new customers are created exactly as
``crm new`` creates them, changes are the minimal-diff edits of ``crm set``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from crm.contacts.cards import (
    NOTE,
    Card,
    FieldValue,
    card_fields,
    crm_uid,
    customer_text,
    items,
    list_keys,
)
from crm.core.config import Config
from crm.core.errors import CrmError
from crm.core.model import Customer, Location, Problem
from crm.edit.changes import Change, EditResult, apply_changes
from crm.edit.new import new_customer
from crm.edit.yamltext import render_scalar
from crm.rules.duplicates import CONTACTS, PersonName, email_key, name_key, names_agree, phone_key


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
class Duplicate:
    """Two people kept apart although they share an email or phone: their names disagree."""

    first: Customer | Addition
    second: Customer | Addition
    shared: tuple[str, ...]  # the addresses and numbers, as the card writes them


@dataclass(frozen=True, slots=True)
class Plan:
    """What an import would do: create, change, and how many matched customers stay as they are.

    ``duplicates`` are the people this import gives an email or phone that someone of another
    name already has.
    """

    additions: tuple[Addition, ...]
    updates: tuple[Update, ...]
    unchanged: int
    duplicates: tuple[Duplicate, ...] = ()


@dataclass(eq=False)
class _Target:
    name: str
    location: Location
    values: dict[str, FieldValue]
    customer: Customer | None = None
    changes: list[Change] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def person(self) -> PersonName:
        return _person(self.name, self.values)


def _person(name: str, values: Mapping[str, FieldValue]) -> PersonName:
    first, last = values.get("first_name"), values.get("last_name")
    return PersonName(
        name, first if isinstance(first, str) else "", last if isinstance(last, str) else ""
    )


def current_values(c: Customer) -> dict[str, FieldValue]:
    """Return a customer's importable fields as the text a card would carry."""
    found = {f.key: customer_text(c, f) for f in card_fields()}
    return {k: v for k, v in found.items() if v is not None}


def _norm(key: str, text: str, region: str = "") -> str:
    if key == "email":
        return email_key(text)
    if key == "phone":
        return phone_key(text, region)
    return " ".join(text.split()).casefold()


class _Index:
    """The people known so far (the vault's, then each card's) by UID, contact and full name."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.by_uid: dict[str, _Target] = {}
        self.by_contact: dict[tuple[str, str], list[_Target]] = {}
        self.by_name: dict[str, _Target] = {}

    def contacts(self, values: Mapping[str, FieldValue]) -> list[tuple[tuple[str, str], str]]:
        """Return the (kind, key) of each email and phone in ``values``, with its text."""
        return [
            ((kind, _norm(kind, text, self.region)), text)
            for kind in CONTACTS
            for text in items(values.get(kind))
        ]

    def remember(self, t: _Target, uid: str = "") -> None:
        if uid:
            self.by_uid.setdefault(uid, t)
        self.by_name.setdefault(name_key(t.name), t)
        for key, _ in self.contacts(t.values):
            holders = self.by_contact.setdefault(key, [])
            if t not in holders:
                holders.append(t)

    def match(self, card: Card) -> _Target | None:
        """Return whom ``card`` is: by UID; by a shared email or phone and an agreeing name;
        else by the same full name."""
        if card.uid and card.uid in self.by_uid:
            return self.by_uid[card.uid]
        who = _person(card.name, dict(card.fields))
        for key, _ in self.contacts(dict(card.fields)):
            for t in self.by_contact.get(key, ()):
                if names_agree(t.person(), who):
                    return t
        return self.by_name.get(name_key(card.name))

    def others(self, target: _Target, card: Card) -> list[tuple[_Target, str]]:
        """Return who else, of another name, has an email or phone that ``card`` gives ``target``."""
        had = {key for key, _ in self.contacts(target.values)}
        found = []
        for key, text in self.contacts(dict(card.fields)):
            if key in had:
                continue
            for t in self.by_contact.get(key, ()):
                if t is not target and not names_agree(t.person(), target.person()):
                    found.append((t, text))
        return found


def plan_import(cards: Iterable[Card], customers: Sequence[Customer], *, region: str = "") -> Plan:
    """Return what importing ``cards`` into a vault holding ``customers`` would add and change.

    A card is the customer (or the card met earlier in the file) with its UID; else the one
    sharing an email or phone whose name agrees (``names_agree``); else the one of the same
    full name. Phone numbers without a country code read in ``region``.
    """
    targets: list[_Target] = []
    touched: set[int] = set()  # the existing customers among ``targets``
    index = _Index(region)
    pairs: dict[tuple[int, int], tuple[_Target, _Target, list[str]]] = {}
    for c in customers:
        index.remember(_Target(c.name, c.location, current_values(c), customer=c), crm_uid(c.id))
    for card in cards:
        target = index.match(card)
        if target is None:
            target = _Target(card.name, card.location, {})
            targets.append(target)
        elif target.customer is not None and id(target) not in touched:
            touched.add(id(target))
            target.location = card.location
            targets.append(target)
        for other, text in index.others(target, card):
            pairs.setdefault((id(other), id(target)), (other, target, []))[2].append(text)
        _merge(target, card, region)
        index.remember(target, card.uid)
    made = {
        id(t): Addition(t.name, tuple(t.values.items()), t.location)
        for t in targets
        if t.customer is None
    }
    updates = [
        Update(t.customer, tuple(t.changes), tuple(t.kept), t.location)
        for t in targets
        if t.customer is not None and (t.changes or t.kept)
    ]
    matched = sum(1 for t in targets if t.customer is not None and not t.changes)

    def who(t: _Target) -> Customer | Addition:
        return t.customer if t.customer is not None else made[id(t)]

    duplicates = [Duplicate(who(a), who(b), tuple(dict.fromkeys(s))) for a, b, s in pairs.values()]
    return Plan(tuple(made.values()), tuple(updates), matched, tuple(duplicates))


def _merge(target: _Target, card: Card, region: str) -> None:
    """Fill what ``target`` lacks from ``card``; record a change when it is an existing customer."""
    lists = list_keys()
    for key, value in card.fields:
        if key in lists:
            have = {_norm(key, v, region) for v in items(target.values.get(key))}
            for item in items(value):
                if _norm(key, item, region) in have:
                    continue
                have.add(_norm(key, item, region))
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
    made_from: tuple[Addition, ...] = ()  # the addition of each file in ``created``

    def path_of(self, who: Customer | Addition) -> Path | None:
        """Return the file of a customer, or of an addition (None when it was not created)."""
        if isinstance(who, Customer):
            return who.location.path
        return next(
            (r.path for a, r in zip(self.made_from, self.created, strict=True) if a is who), None
        )


def duplicate_notes(plan: Plan, outcome: Outcome) -> list[str]:
    """Return ``possible duplicate: A and B share ana@example.com`` for each pair created."""
    notes = []
    for d in plan.duplicates:
        first, second = outcome.path_of(d.first), outcome.path_of(d.second)
        if first is not None and second is not None:
            notes.append(f"possible duplicate: {first} and {second} share {', '.join(d.shared)}")
    return notes


def apply_plan(
    root: Path, config: Config, plan: Plan, *, today: date, dry_run: bool = False
) -> Outcome:
    """Create and edit the customer files of ``plan``; a failing card is a problem, not a stop.

    With ``dry_run`` nothing in the vault is written: edits are computed by ``crm.edit``'s dry
    run, and new customers are created in a temporary copy of the vault's template folder.
    """
    if not dry_run:
        made, created, problems = _create(root, config, plan.additions, today)
    else:
        with tempfile.TemporaryDirectory(prefix="crm-import-") as tmp:
            scratch = Path(tmp)
            template = root / "templates" / "customer.md"
            if template.is_file():
                (scratch / "templates").mkdir()
                shutil.copyfile(template, scratch / "templates" / "customer.md")
            made, scratched, failed = _create(scratch, config, plan.additions, today)
        created = [EditResult(root / r.path.relative_to(scratch), "", r.after) for r in scratched]
        problems = [Problem(p.location, p.message.replace(str(scratch), str(root))) for p in failed]
    edited: list[EditResult] = []
    for u in plan.updates:
        if not u.changes:
            continue
        try:
            edited.append(apply_changes(u.customer.location.path, u.changes, dry_run=dry_run))
        except CrmError as exc:
            problems.append(Problem(u.location, f"not imported: {exc}"))
    return Outcome(tuple(created), tuple(edited), tuple(problems), tuple(made))


def _create(
    root: Path, config: Config, additions: Sequence[Addition], today: date
) -> tuple[list[Addition], list[EditResult], list[Problem]]:
    made_from: list[Addition] = []
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
        made_from.append(a)
        created.append(EditResult(made.path, "", made.path.read_text(encoding="utf-8")))
    return made_from, created, problems
