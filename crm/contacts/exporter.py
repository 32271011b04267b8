"""``crm export``: customers as vCard, CSV or JSON, carrying every field the format can hold."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from crm.contacts.vcard import to_vcard
from crm.core.fields import when_text
from crm.core.model import Customer
from crm.report.render import to_csv, to_json

ExportFormat = Literal["vcard", "csv", "json"]
CSV_KEYS = (
    "id", "name", "first_name", "last_name", "email", "phone", "company", "address", "tags",
    "segment", "status", "value", "likes", "dislikes", "birthday", "anniversary",
    "customer_since", "cadence", "last_contact", "next_contact", "snooze_until", "max_contacts",
    "notes", "path",
)  # fmt: skip


def customer_record(c: Customer) -> dict[str, Any]:
    """Return everything a customer file holds as plain JSON-ready values (no derived state)."""
    first = {d.kind: d.date.isoformat() for d in reversed(c.dates) if d.kind != "date"}
    return {
        "id": c.id,
        "name": c.name,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "email": list(c.emails),
        "phone": list(c.phones),
        "company": c.company,
        "address": c.address,
        "tags": list(c.tags),
        "segment": c.segment,
        "status": c.status,
        "value": c.value,
        "likes": list(c.likes),
        "dislikes": list(c.dislikes),
        "birthday": first.get("birthday"),
        "anniversary": first.get("anniversary"),
        "dates": [
            {"label": d.label, "date": d.date.isoformat(), "yearly": d.yearly}
            for d in c.dates
            if d.kind == "date"
        ],
        "customer_since": c.customer_since,
        "cadence": str(c.cadence) if c.cadence else None,
        "last_contact": c.last_contact,
        "next_contact": c.next_contact,
        "snooze_until": c.snooze_until,
        "away": {"from": c.away.start, "to": c.away.end} if c.away else None,
        "max_contacts": str(c.max_contacts) if c.max_contacts else None,
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


def export(customers: Sequence[Customer], fmt: ExportFormat) -> str:
    """Return the customers in ``fmt``: a vCard 3.0 file, a CSV table or a JSON array."""
    if fmt == "vcard":
        return to_vcard(customers)
    records = [customer_record(c) for c in customers]
    if fmt == "json":
        return to_json(records)
    for r in records:
        # report.cell writes floats with %g, which turns 1234567 into 1.23457e+06.
        if r["value"] is not None:
            r["value"] = str(int(r["value"])) if r["value"].is_integer() else repr(r["value"])
        # The front matter's own form, which crm import reads back (no seconds).
        if r["next_contact"] is not None:
            r["next_contact"] = when_text(r["next_contact"])
    return to_csv(records, CSV_KEYS)


def notes_of(c: Customer) -> str:
    """Return the free-text notes of a customer file: its body without the ``## Log`` section."""
    kept: list[str] = []
    in_log = False
    for line in c.body.splitlines():
        if re.match(r"^#{1,2}[ \t]", line):
            in_log = bool(re.match(r"^##[ \t]+log\b", line, re.IGNORECASE))
        if not in_log:
            kept.append(line)
    return "\n".join(kept).strip()
