"""Address-book cards: one contact of a vCard or CSV export, as customer fields in front-matter text.

Which fields a card carries, in which order, and how each value is checked and written all come
from the field table (``crm.core.fields``): a field added there travels through import and
export without a change here. ``crm.contacts.vcard`` and ``crm.contacts.csvcards`` read exports
into cards; ``crm.contacts.importer`` turns cards into customers; ``customer_text`` gives a
customer's fields in the same form, for matching a card and for export.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crm.core import dates, fields
from crm.core.fields import Field, number_text, parse_number
from crm.core.model import ADDRESS_PARTS, Customer, ImportantDate, Location, Problem
from crm.edit.names import NAME_KEYS

FieldValue = str | tuple[str, ...]
# `id` names the file (an import never sets it: a new customer gets one from its name, as with
# `crm new`), and `name` is the card's own: neither is one of a card's fields.
IDENTITY = ("id", "name")
# The CSV columns of an address's parts (``crm export`` writes them, ``crm import`` reads them).
ADDRESS_COLUMNS = {f"address_{p}": p for p in ADDRESS_PARTS}
# Not a front matter key: a card's note becomes the body of a new customer file.
NOTE = "note"
# Han, Hiragana, Katakana and Hangul: names written family name first, often without spaces.
_CJK = re.compile(r"[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003ffff]")


@dataclass(frozen=True, slots=True)
class Card:
    """One contact from an address book, as customer fields (front-matter keys to text)."""

    location: Location
    name: str
    fields: tuple[tuple[str, FieldValue], ...] = ()
    # Who the card is, whatever its name: a vCard's UID (``crm:ID`` when crm export wrote it),
    # ``crm:ID`` for a CSV row with an ``id`` column; empty when the card says nothing.
    uid: str = ""

    def get(self, key: str) -> FieldValue | None:
        """Return the card's value for the front-matter ``key``, or None."""
        return dict(self.fields).get(key)

    def items(self, key: str) -> tuple[str, ...]:
        """Return the card's values for ``key`` as a tuple (empty when absent)."""
        return items(self.get(key))


def crm_uid(customer_id: str) -> str:
    """Return the UID ``crm export`` gives the customer ``customer_id``: ``crm:ana-garcia``."""
    return f"crm:{customer_id}"


def items(value: FieldValue | None) -> tuple[str, ...]:
    """Return a card value as a tuple of texts: empty for None, one item for a text."""
    return () if value is None else (value,) if isinstance(value, str) else value


def card_fields() -> tuple[Field, ...]:
    """Return the fields a card carries, in the order a new file gets them.

    That is the table's order, one-line values first, then the lists, then ``dates``.
    """
    # A family is a list of mappings: it travels in JSON exports, not in address-book cards.
    carried = (f for f in fields.FIELDS if f.key not in IDENTITY and f.kind != "family")
    return tuple(sorted(carried, key=lambda f: (f.kind == "dates", f.is_list)))


def list_keys() -> frozenset[str]:
    """Return the keys of the fields that hold a list of text (emails, phones, tags, ...)."""
    return frozenset(f.key for f in fields.FIELDS if f.is_list)


def decode(data: bytes) -> str:
    """Return the text of an export: UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Outlook on Windows writes the ANSI code page; latin-1 is the never-failing last resort.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


@dataclass(frozen=True, slots=True)
class Dropped:
    """A value of a card that could not be read: the card is imported without it."""

    key: str
    value: str


# What a value of each kind should have been, for the message about a dropped one.
_WANTED = {
    "number": "a number",
    "date": "a date",
    "when": "a date",
    "yearly": "a date",
    "dates": "a date",
    "span": "a cadence (e.g. 4w)",
    "cap": "a contact limit (e.g. 4/30d)",
    "away": "a date range",
    "status": "a status",
}


def dropped_message(name: str, source: str, dropped: Dropped) -> str:
    """Return ``Tom Weber: BDAY '1985-02-30' is not a date; imported without a birthday``.

    ``source`` is where the value was: a vCard property or a CSV column.
    """
    f = next(f for f in fields.FIELDS if f.key == dropped.key)
    wanted = _WANTED.get(f.kind, "valid")
    what = _WITHOUT.get(f.key) or f"its {(f.label or f.key).replace('_', ' ')}"
    return f"{name}: {source} '{dropped.value}' is not {wanted}{WITHOUT}{what}"


WITHOUT = "; imported without "


def is_dropped(problem: Problem) -> bool:
    """Return True for the problem of a value left out of a card that was imported."""
    return WITHOUT in problem.message


_WITHOUT = {
    "birthday": "a birthday",
    "anniversary": "an anniversary",
    "away": "the away dates",
    "dates": "that date",
}


def make_card(
    where: Location, name: str, values: Mapping[str, FieldValue], uid: str = ""
) -> tuple[Card, list[Dropped]]:
    """Return a card with validated fields in ``card_fields()`` order, and the values it drops.

    A bad value costs only its field (or its ``dates`` item); a card without a name raises
    ValueError.
    """
    name = name.strip()  # kept as written inside: a bad character is refused when it is written
    if not name:
        raise ValueError("no name")
    kept: list[tuple[str, FieldValue]] = []
    dropped: list[Dropped] = []
    for f in card_fields():
        value = values.get(f.key)
        if f.kind == "dates" and isinstance(value, tuple):
            good: list[str] = []
            for item in value:
                try:
                    good.append(checked_date(item))
                except ValueError:
                    dropped.append(Dropped(f.key, item))
            if good:
                kept.append((f.key, tuple(good)))
        elif isinstance(value, tuple):
            unique = tuple(dict.fromkeys(v.strip() for v in value if v.strip()))
            if unique:
                kept.append((f.key, unique))
        elif value is not None and value.strip() and f.key in NAME_KEYS:
            kept.append((f.key, value.strip()))
        elif value is not None and value.strip():
            # An address of several lines arrives on one: the lines joined with ", ".
            text = ", ".join(" ".join(v.split()) for v in value.splitlines() if v.strip())
            try:
                kept.append((f.key, checked(f, text)))
            except ValueError:
                dropped.append(Dropped(f.key, text))
    note = values.get(NOTE)
    if isinstance(note, str) and note.strip():
        kept.append((NOTE, note.strip()))
    return Card(where, name, tuple(kept), uid.strip()), dropped


def checked(f: Field, text: str) -> str:
    """Return ``text`` validated and written the way the front matter holds field ``f``."""
    if f.kind == "number":
        # Spreadsheets group thousands with commas; the decimal point is `.`.
        try:
            return number_text(parse_number(text.replace(",", "")))
        except ValueError:
            raise ValueError(f"{f.key} '{text}' is not a number") from None
    parse = f.type.parse
    if f.kind == "away" and parse is not None:
        try:
            return field_text(f, parse(text))
        except ValueError as exc:
            raise ValueError(f"away: {exc}") from None
    return text if parse is None else field_text(f, parse(text))


def field_text(f: Field, value: Any) -> str:
    """Return one value of field ``f`` as the front matter writes it."""
    text = f.type.text
    return str(value) if text is None else text(value)


def customer_text(c: Customer, f: Field) -> FieldValue | None:
    """Return a customer's value of ``f`` as a card holds it (a tuple for a list); None if unset."""
    value = fields.value_of(c, f)
    if value is None:
        return None
    if f.is_list:
        return tuple(value)
    if f.kind == "dates":
        return tuple(date_item(d) for d in value) or None
    return field_text(f, value)


def checked_date(text: str) -> str:
    """Return a ``dates`` item ``DATE yearly|once LABEL`` validated; raise ValueError if bad."""
    parts = " ".join(text.split()).split(" ", 2)
    if len(parts) < 2 or parts[1] not in ("yearly", "once"):
        raise ValueError(f"date '{text}' is not 'DATE yearly|once LABEL'")
    day = dates.parse_partial_date(parts[0])
    if parts[1] == "once" and day.year is None:
        raise ValueError(f"date '{text}': a one-off date needs a year")
    label = parts[2] if len(parts) == 3 else "Date"
    return f"{day.isoformat()} {parts[1]} {label}"


def date_item(d: ImportantDate) -> str:
    """Return a ``dates`` entry of a customer as ``DATE yearly|once LABEL``."""
    return f"{d.date.isoformat()} {'yearly' if d.yearly else 'once'} {d.label}"


def split_name(name: str) -> tuple[str, str]:
    """Return ``(first, last)`` from a full name: CJK family name first, else Western order."""
    tokens = name.split()
    if _CJK.search(name):
        # Without a space the family name cannot be told apart; crm new's default applies.
        return (" ".join(tokens[1:]), tokens[0]) if len(tokens) > 1 else ("", "")
    first, _, last = name.partition(" ")
    return first, last
