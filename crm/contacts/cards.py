"""Address-book cards: one contact of a vCard or CSV export, as customer fields in front-matter text.

``crm.contacts.vcard`` and ``crm.contacts.csvcards`` read exports into these cards, and
``crm.contacts.importer`` turns them into customers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from crm.core import dates
from crm.core.model import STATUSES, ImportantDate, Location

FieldValue = str | tuple[str, ...]
LIST_KEYS = ("email", "phone", "tags", "likes", "dislikes")
SCALAR_KEYS = (
    "first_name", "last_name", "company", "address", "segment", "status", "value", "birthday",
    "anniversary", "customer_since", "cadence", "last_contact", "next_contact", "snooze_until",
    "away", "max_contacts",
)  # fmt: skip
# Only vCard carries these: `dates` items read "DATE yearly|once LABEL", `note` is the file's body.
VCARD_KEYS = ("dates", "note")
FIELDS = ("name", *SCALAR_KEYS, *LIST_KEYS, *VCARD_KEYS)
# Han, Hiragana, Katakana and Hangul: names written family name first, often without spaces.
_CJK = re.compile(r"[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003ffff]")


@dataclass(frozen=True, slots=True)
class Card:
    """One contact from an address book, as customer fields (front-matter keys to text)."""

    location: Location
    name: str
    fields: tuple[tuple[str, FieldValue], ...] = ()

    def get(self, key: str) -> FieldValue | None:
        """Return the card's value for the front-matter ``key``, or None."""
        return dict(self.fields).get(key)

    def items(self, key: str) -> tuple[str, ...]:
        """Return the card's values for ``key`` as a tuple (empty when absent)."""
        value = self.get(key)
        return () if value is None else (value,) if isinstance(value, str) else value


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


def make_card(where: Location, name: str, values: Mapping[str, FieldValue]) -> Card:
    """Return a card with validated fields in ``FIELDS`` order; raise ValueError on a bad one."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("no name")
    kept: list[tuple[str, FieldValue]] = []
    for key in FIELDS[1:]:
        value = values.get(key)
        if key == "note":
            if isinstance(value, str) and value.strip():
                kept.append((key, value.strip()))
        elif key == "dates" and isinstance(value, tuple):
            if value:
                kept.append((key, tuple(checked_date(v) for v in value)))
        elif isinstance(value, tuple):
            unique = tuple(dict.fromkeys(v.strip() for v in value if v.strip()))
            if unique:
                kept.append((key, unique))
        elif value is not None and value.strip():
            kept.append((key, checked(key, " ".join(value.split()))))
    return Card(where, name, tuple(kept))


def checked(key: str, text: str) -> str:
    """Return ``text`` validated and written the way the front matter holds ``key``."""
    if key in ("birthday", "anniversary"):
        return dates.parse_partial_date(text).isoformat()
    if key in ("customer_since", "last_contact", "snooze_until"):
        return dates.parse_date(text).isoformat()
    if key == "next_contact":
        return when_text(dates.parse_datetime(text))
    if key == "max_contacts":
        return str(dates.parse_cap(text))
    if key == "away":
        parts = re.split(r"\s*(?:/|\.\.)\s*", text.strip())
        if len(parts) != 2:
            raise ValueError(f"away '{text}' is not a range (expected FROM/TO)")
        start, end = (dates.parse_date(p) for p in parts)
        if end < start:
            raise ValueError(f"away: 'to' ({end}) is before 'from' ({start})")
        return f"{start.isoformat()}..{end.isoformat()}"
    if key == "cadence":
        return str(dates.parse_span(text))
    if key == "status":
        if text.lower() not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not '{text}'")
        return text.lower()
    if key == "value":
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            raise ValueError(f"value '{text}' is not a number") from None
        return str(int(number)) if number.is_integer() else repr(number)
    return text


def when_text(when: date | datetime) -> str:
    """Return a ``next_contact`` as the front matter writes it: ``YYYY-MM-DD[ HH:MM]``."""
    return when.strftime("%Y-%m-%d %H:%M") if isinstance(when, datetime) else when.isoformat()


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
