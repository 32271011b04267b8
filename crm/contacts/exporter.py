"""``crm export``: customers as vCard, CSV or JSON, carrying every field the format can hold.

The columns and keys are the field table's (``crm.core.fields``), in its order: JSON has every
field, CSV the fields marked ``csv``, each written as the front matter writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

from crm.contacts.cards import ADDRESS_COLUMNS, customer_text, field_text
from crm.contacts.vcard import to_vcard
from crm.core import fields
from crm.core.fields import Field
from crm.core.kinds import Kinds
from crm.core.model import Customer
from crm.report.render import to_csv, to_json
from crm.rules import rhythm
from crm.vault.syntax import notes

ExportFormat = Literal["vcard", "csv", "json"]


def csv_keys() -> tuple[str, ...]:
    """Return the CSV columns: the table's ``csv`` fields in order, then ``notes`` and ``path``.

    The address has a column of its own (on one line) and one per part (``address_city``...).
    """
    keys: list[str] = []
    for f in fields.FIELDS:
        if f.csv:
            keys.append(f.key)
        if f.kind == "address":
            keys.extend(ADDRESS_COLUMNS)
    return (*keys, "notes", "path")


def customer_record(c: Customer) -> dict[str, Any]:
    """Return everything a customer file holds as plain JSON-ready values (no derived state)."""
    record = {f.key: _json_value(f, fields.value_of(c, f)) for f in fields.FIELDS}
    return record | {
        "extra": dict(c.extra),
        "notes": notes_of(c),
        "log": [
            {
                "date": i.day,
                "time": i.time.strftime("%H:%M") if i.time else None,
                "kind": i.kind,
                "text": i.text,
            }
            for i in c.log
        ],
        "path": str(c.location.path),
    }


def _json_value(f: Field, value: Any) -> Any:
    """Return a field's value for JSON: numbers and dates as they are, lists as arrays."""
    if value is None:
        return None
    if f.is_list:
        return list(value)
    if f.kind == "dates":
        return [{"label": d.label, "date": d.date.isoformat(), "yearly": d.yearly} for d in value]
    if f.kind == "away":
        return {"from": value.start, "to": value.end}
    if f.kind == "address":
        return fields.address_json(value)
    if f.kind == "family":
        return fields.family_json(value)
    if isinstance(value, str | int | float | date):  # to_json writes dates and times in ISO form
        return value
    return field_text(f, value)  # a span, a cap, a year-less date: the front matter's text


def csv_row(c: Customer, kinds: Kinds, today: date | None = None) -> dict[str, Any]:
    """Return a customer's CSV cells: each field as the front matter writes it (lists as tuples)."""
    # The front matter's own text, which crm import reads back (report.cell would write a
    # next_contact with seconds).
    row = {f.key: customer_text(c, f) for f in fields.FIELDS if f.csv}
    address = c.address
    if address is not None:
        row["address"] = address.text if address.text is not None else str(address)
    parts = dict(address.parts()) if address is not None and address.structured else {}
    row |= {column: parts.get(p) for column, p in ADDRESS_COLUMNS.items()}
    if "last_contact" in row:
        # The real last contact, as the reports see it: the newest contact entry counts too.
        last = rhythm.last_contact(c, kinds, today)
        row["last_contact"] = None if last is None else last.day.isoformat()
    return row | {"notes": notes_of(c), "path": str(c.location.path)}


def export(
    customers: Sequence[Customer],
    fmt: ExportFormat,
    kinds: Kinds | None = None,
    today: date | None = None,
) -> str:
    """Return the customers in ``fmt``: a vCard 3.0 file, a CSV table or a JSON array.

    ``kinds`` (the vault's ``[kinds]``) say which log entries are contact, for the CSV's
    ``last_contact``; an entry after ``today`` is a plan, not the last contact.
    """
    kinds = kinds or Kinds()
    if fmt == "vcard":
        return to_vcard(customers)
    if fmt == "json":
        return to_json([customer_record(c) for c in customers])
    return to_csv([csv_row(c, kinds, today) for c in customers], csv_keys())


def notes_of(c: Customer) -> str:
    """Return the free-text notes of a customer file: its body without the ``## Log`` section
    and without empty headings.
    """
    return notes(c.body)
