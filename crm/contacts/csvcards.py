"""CSV exports (Google Contacts, Outlook, any spreadsheet with a header) read into ``Card`` values.

Columns are mapped by their header, or by ``--map COLUMN=FIELD``. A bad value costs only its
field: a ``Problem`` located at its row names the column and the card. A row that cannot be
read at all (no name, too many cells) is skipped.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from crm.contacts.cards import (
    ADDRESS_COLUMNS,
    Card,
    Dropped,
    card_fields,
    crm_uid,
    dropped_message,
    list_keys,
    make_card,
)
from crm.contacts.vcard import not_cards, vcard_date
from crm.core import dates, fields
from crm.core.errors import CrmError
from crm.core.fields import address_text
from crm.core.model import Address, Location, Problem
from crm.report.render import with_formula

# Address books and shop spreadsheets write these dates in local forms (11/30/1970, 30.11.1970,
# Outlook's empty 0/0/00); every other field reads as the front matter writes it.
_LOCAL_DATES = ("birthday", "anniversary", "customer_since")
_GOOGLE_MULTI = re.compile(r"^(e-mail|phone) \d+ - value$")
# The address parts by their headers: crm export's, Google's and Outlook's.
_PART_HEADERS = {
    **ADDRESS_COLUMNS,
    "address 1 - street": "street",
    "address 1 - city": "city",
    "address 1 - region": "region",
    "address 1 - postal code": "postcode",
    "address 1 - country": "country",
    "home street": "street",
    "home city": "city",
    "home state": "region",
    "home postal code": "postcode",
    "home country/region": "country",
}
_EVENT = re.compile(r"^event (\d+) - (type|label|value)$")


def csv_columns(header: Sequence[str], mapping: Mapping[str, str]) -> dict[int, str]:
    """Return which column holds which field: ``mapping`` (header to field) first, then known names."""
    unknown = [col for col in mapping if col not in header]
    if unknown:
        raise CrmError(
            f"--map: no column {', '.join(map(repr, unknown))} in the header", exit_code=2
        )
    mappable = mappable_keys()
    bad = [f for f in mapping.values() if f and f not in mappable]
    if bad:
        raise CrmError(
            f"--map: unknown field {', '.join(map(repr, bad))} (fields: {', '.join(mappable)})",
            exit_code=2,
        )
    known = header_keys()
    columns: dict[int, str] = {}
    for i, col in enumerate(header):
        key = col.strip().lower()
        if col in mapping:
            if mapping[col]:
                columns[i] = mapping[col]
        elif key in known:
            columns[i] = known[key]
        elif _GOOGLE_MULTI.match(key):
            columns[i] = "email" if key.startswith("e-mail") else "phone"
    return columns


def header_keys() -> dict[str, str]:
    """Return the CSV headers (lower case) that name a field, with the field's key.

    A field's own key is its header (the columns ``crm export`` writes, but ``id``: a new
    customer's id comes from its name), and so are the table's other ``headers`` for it.
    """
    found: dict[str, str] = {}
    for f in fields.FIELDS:
        if f.csv and f.key != "id":
            found[f.key] = f.key
        found.update(dict.fromkeys(f.headers, f.key))
    return found


def mappable_keys() -> list[str]:
    """Return the fields ``--map`` may name: the name and every field but ``dates``."""
    return ["name", *(f.key for f in card_fields() if f.kind != "dates")]


def parse_csv(
    text: str, path: Path, mapping: Mapping[str, str] | None = None
) -> tuple[list[Card], list[Problem]]:
    """Return the cards of a CSV export with a header row, and a problem per bad row."""
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return [], [Problem(Location(path, 1), "empty file: a CSV import needs a header row")]
    columns = csv_columns(header, mapping or {})
    if not columns:
        raise not_cards(path)
    lower = [h.strip().lower() for h in header]
    # crm export's `id` column: the row is that customer, whatever its name says now.
    ids = [i for i, h in enumerate(lower) if h == "id" and header[i] not in (mapping or {})]
    events = _event_columns(lower)
    home = [(i, _PART_HEADERS[h]) for i, h in enumerate(lower) if h in _PART_HEADERS]
    cards: list[Card] = []
    problems: list[Problem] = []
    line = reader.line_num
    try:
        for row in reader:
            where = Location(path, line + 1)
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                problems.append(
                    Problem(where, f"row skipped: {len(row)} cells, the header has {len(header)}")
                )
                continue
            # A --safe-csv export's ' before "=", "+", "-", "@" is not part of the value.
            row = [with_formula(c) for c in row] + [""] * (len(header) - len(row))
            drops: list[tuple[str, Dropped]] = []
            try:
                card = _from_row(row, columns, events, home, where, drops, header)
            except ValueError as exc:
                problems.append(Problem(where, f"row skipped: {exc}"))
                continue
            if ids and row[ids[0]].strip():
                card = replace(card, uid=crm_uid(row[ids[0]].strip()))
            cards.append(card)
            problems.extend(
                Problem(where, dropped_message(card.name, column, d)) for column, d in drops
            )
    except csv.Error as exc:
        problems.append(Problem(Location(path, reader.line_num), f"CSV error: {exc}; rest skipped"))
    return cards, problems


def _event_columns(lower: Sequence[str]) -> list[tuple[int, int]]:
    """Return (label column, value column) pairs of Google's ``Event N`` columns."""
    labels: dict[str, int] = {}
    found: list[tuple[int, int]] = []
    for i, col in enumerate(lower):
        if m := _EVENT.match(col):
            if m[2] == "value" and m[1] in labels:
                found.append((labels[m[1]], i))
            elif m[2] != "value":
                labels[m[1]] = i
    return found


def _from_row(
    row: Sequence[str],
    columns: Mapping[int, str],
    events: Sequence[tuple[int, int]],
    home: Sequence[tuple[int, str]],
    where: Location,
    drops: list[tuple[str, Dropped]],
    header: Sequence[str],
) -> Card:
    """Return the card of one row; a value that cannot be read goes to ``drops``, with its column."""
    lists = list_keys()
    values: dict[str, Any] = {}
    column_of: dict[str, str] = {}

    def local_date(key: str, column: str, cell: str) -> None:
        try:
            parsed = _csv_date(cell)
        except ValueError:
            drops.append((column, Dropped(key, cell)))
            return
        if parsed is not None:
            values.setdefault(key, parsed)

    for i, key in columns.items():
        cell = row[i].strip()
        if not cell:
            continue
        if key in lists:
            # Google joins several values of a cell with " ::: " and marks system groups with
            # "*"; Outlook separates categories with ";", spreadsheets (and crm export) with ",".
            items = [v.strip().lstrip("*").strip() for v in re.split(r" ::: |;|,", cell)]
            values.setdefault(key, []).extend(v for v in items if v and v != "myContacts")
        elif key in _LOCAL_DATES:
            local_date(key, header[i], cell)
        else:
            column_of.setdefault(key, header[i])
            values.setdefault(key, cell)
    for label_col, value_col in events:
        if "anniversary" in row[label_col].lower() and row[value_col].strip():
            local_date("anniversary", header[value_col], row[value_col].strip())
    parts: dict[str, str] = {}
    for i, part in home:
        if row[i].strip():
            parts.setdefault(part, " ".join(row[i].split()))
    if parts:  # the parts say more than a one-line address column
        values["address"] = address_text(Address.from_parts(parts))
    name = values.pop("name", "") or " ".join(
        values[k] for k in ("first_name", "last_name") if values.get(k)
    )
    company = values.get("company")
    person = values.get("first_name") or values.get("last_name")
    if isinstance(company, str) and not person and (not name or name == company):
        # A row of an organisation (its name only in the company column): no person's name
        # is made up from it.
        name = name or company
        values.setdefault("kind", "org")
    tuples = {k: tuple(v) for k, v in values.items() if isinstance(v, list)}
    card, dropped = make_card(where, name, {**values, **tuples})
    drops.extend((column_of.get(d.key, d.key), d) for d in dropped)
    return card


def _csv_date(text: str) -> str | None:
    """Return a spreadsheet date as ``YYYY-MM-DD``/``--MM-DD``; None for Outlook's empty ``0/0/00``."""
    if text in ("0/0/00", "0/0/0000", "00.00.0000"):
        return None
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text):
        # Outlook writes month/day/year.
        return dates.parse_partial_date(f"{m[3]}-{int(m[1]):02d}-{int(m[2]):02d}").isoformat()
    if m := re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text):
        return dates.parse_partial_date(f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}").isoformat()
    return vcard_date(text).isoformat()
