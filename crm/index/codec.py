"""Customers and problems as compact JSON, for the index; the file's path is supplied on the way back.

Every ``Location`` of a customer points into its own file, so only line numbers are stored and
the path is rebuilt from the vault root at load time: the index stays valid if the vault moves.
"""

from __future__ import annotations

import json
from datetime import date, time
from pathlib import Path
from typing import Any

from crm.core.fields import STORED, TYPES
from crm.core.model import (
    Customer,
    ImportantDate,
    Interaction,
    Location,
    PartialDate,
    Problem,
    Relative,
)

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_loads = json.loads


def dumps(value: object) -> str:
    """Return ``value`` as compact JSON, non-ASCII kept as is."""
    return _dumps(value)


_from_ordinal = date.fromordinal
# Field by field from the field table; ``dates`` carry line numbers, so they are done here.
_STORED = tuple((f.attr, f.kind, f.type.store, f.type.load) for f in STORED if f.attr)


def encode_customer(c: Customer) -> str:
    """Return the customer as a JSON array (its path left out), in field table order."""
    values: list[Any] = [c.location.line]
    for attr, kind, store, _ in _STORED:
        value = getattr(c, attr)
        if kind == "dates":
            value = [
                [d.kind, d.label, d.date.month, d.date.day, d.date.year, d.yearly, d.location.line]
                for d in value
            ]
        elif kind == "family":
            value = [[r.name, r.relation, *_partial(r.birthday), r.location.line] for r in value]
        elif store is not None and value is not None:
            value = store(value)
        values.append(value)
    values.append(
        [
            [
                i.day.toordinal(),
                None if i.time is None else i.time.hour * 60 + i.time.minute,
                i.kind,
                i.text,
                i.done,
                i.location.line,
            ]
            for i in c.log
        ]
    )
    values += (c.extra, c.body)
    return _dumps(values)


def _partial(pd: PartialDate | None) -> tuple[int | None, int | None, int | None]:
    return (None, None, None) if pd is None else (pd.month, pd.day, pd.year)


def decode_customer(text: str, path: Path) -> Customer:
    """Return the customer stored by ``encode_customer``, located in the file at ``path``."""
    line, *stored, log, extra, body = _loads(text)
    fields: dict[str, Any] = {}
    for (attr, kind, _, load), value in zip(_STORED, stored, strict=True):
        if kind == "dates":
            value = tuple(
                ImportantDate(k, lab, PartialDate(m, d, y), yearly, Location(path, ln))
                for k, lab, m, d, y, yearly, ln in value
            )
        elif kind == "family":
            value = tuple(
                Relative(n, rel, None if m is None else PartialDate(m, d, y), Location(path, ln))
                for n, rel, m, d, y, ln in value
            )
        elif load is not None and value is not None:
            value = load(value)
        fields[attr] = value
    return Customer(
        location=Location(path, line),
        log=tuple(
            Interaction(
                _from_ordinal(day),
                None if at is None else time(at // 60, at % 60),
                kind,
                text,
                done,
                Location(path, ln),
            )
            for day, at, kind, text, done, ln in log
        ),
        extra=tuple((k, v) for k, v in extra),
        body=body,
        **fields,
    )


def encode_problems(problems: list[Problem]) -> str:
    """Return one file's problems as JSON (their path left out)."""
    return _dumps([[p.location.line, p.message, p.severity] for p in problems])


def decode_problems(text: str, path: Path) -> list[Problem]:
    """Return the problems stored by ``encode_problems``, located in the file at ``path``."""
    return [Problem(Location(path, line), message, sev) for line, message, sev in _loads(text)]


_store_address = TYPES["address"].store
_load_address = TYPES["address"].load
FACET_COLUMNS = "tags, segment, status, company, address"


def encode_facets(c: Customer) -> tuple[str, str | None, str, str | None, str | None]:
    """Return what the report filters look at in ``c``, as the blocks table stores it."""
    address = None if c.address is None or _store_address is None else _store_address(c.address)
    return (
        _dumps(list(c.tags)),
        c.segment,
        c.status,
        c.company,
        None if address is None else _dumps(address),
    )


def decode_facets(
    tags: str, segment: str | None, status: str, company: str | None, address: str | None
) -> tuple[tuple[str, ...], str | None, str, str | None, Any]:
    """Return the values ``encode_facets`` stored: tags, segment, status, company, address."""
    place = None if address is None or _load_address is None else _load_address(_loads(address))
    return tuple(_loads(tags)), segment, status, company, place
