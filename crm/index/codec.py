"""Customers and problems as compact JSON, for the index; the file's path is supplied on the way back.

Every ``Location`` of a customer points into its own file, so only line numbers are stored and
the path is rebuilt from the vault root at load time: the index stays valid if the vault moves.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from crm.core.model import (
    Away,
    ContactCap,
    Customer,
    ImportantDate,
    Interaction,
    Location,
    PartialDate,
    Problem,
    Span,
)

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_loads = json.loads


def dumps(value: object) -> str:
    """Return ``value`` as compact JSON, non-ASCII kept as is."""
    return _dumps(value)


_from_ordinal = date.fromordinal


def _day(d: date | None) -> int | None:
    return None if d is None else d.toordinal()


def _undate(n: int | None) -> date | None:
    return None if n is None else _from_ordinal(n)


def _span(s: Span | None) -> list[Any] | None:
    return None if s is None else [s.amount, s.unit]


def _unspan(v: list[Any] | None) -> Span | None:
    return None if v is None else Span(v[0], v[1])


def encode_customer(c: Customer) -> str:
    """Return the customer as a JSON array (its path left out)."""
    nc = c.next_contact
    next_contact: Any = (
        None
        if nc is None
        else [nc.toordinal(), nc.hour * 60 + nc.minute]
        if isinstance(nc, datetime)
        else nc.toordinal()
    )
    return _dumps(
        [
            c.id,
            c.name,
            c.location.line,
            c.first_name,
            c.last_name,
            c.emails,
            c.phones,
            c.company,
            c.address,
            c.tags,
            c.segment,
            c.status,
            c.value,
            c.likes,
            c.dislikes,
            [
                [d.kind, d.label, d.date.month, d.date.day, d.date.year, d.yearly, d.location.line]
                for d in c.dates
            ],
            _day(c.customer_since),
            _span(c.cadence),
            _day(c.last_contact),
            next_contact,
            _day(c.snooze_until),
            None if c.away is None else [c.away.start.toordinal(), c.away.end.toordinal()],
            None
            if c.max_contacts is None
            else [c.max_contacts.count, c.max_contacts.period.amount, c.max_contacts.period.unit],
            [
                [
                    i.day.toordinal(),
                    None if i.time is None else i.time.hour * 60 + i.time.minute,
                    i.kind,
                    i.text,
                    i.is_contact,
                    i.location.line,
                ]
                for i in c.log
            ],
            c.extra,
            c.body,
        ]
    )


def decode_customer(text: str, path: Path) -> Customer:
    """Return the customer stored by ``encode_customer``, located in the file at ``path``."""
    (
        cid,
        name,
        line,
        first_name,
        last_name,
        emails,
        phones,
        company,
        address,
        tags,
        segment,
        status,
        value,
        likes,
        dislikes,
        raw_dates,
        since,
        cadence,
        last_contact,
        next_contact,
        snooze,
        away,
        cap,
        log,
        extra,
        body,
    ) = _loads(text)
    nc: date | datetime | None
    if next_contact is None:
        nc = None
    elif isinstance(next_contact, list):
        minutes = next_contact[1]
        nc = datetime.combine(_from_ordinal(next_contact[0]), time(minutes // 60, minutes % 60))
    else:
        nc = _from_ordinal(next_contact)
    return Customer(
        id=cid,
        name=name,
        location=Location(path, line),
        first_name=first_name,
        last_name=last_name,
        emails=tuple(emails),
        phones=tuple(phones),
        company=company,
        address=address,
        tags=tuple(tags),
        segment=segment,
        status=status,
        value=value,
        likes=tuple(likes),
        dislikes=tuple(dislikes),
        dates=tuple(
            ImportantDate(k, lab, PartialDate(m, d, y), yearly, Location(path, ln))
            for k, lab, m, d, y, yearly, ln in raw_dates
        ),
        customer_since=_undate(since),
        cadence=_unspan(cadence),
        last_contact=_undate(last_contact),
        next_contact=nc,
        snooze_until=_undate(snooze),
        away=None if away is None else Away(_from_ordinal(away[0]), _from_ordinal(away[1])),
        max_contacts=None if cap is None else ContactCap(cap[0], Span(cap[1], cap[2])),
        log=tuple(
            Interaction(
                _from_ordinal(day),
                None if at is None else time(at // 60, at % 60),
                kind,
                text,
                is_contact,
                Location(path, ln),
            )
            for day, at, kind, text, is_contact, ln in log
        ),
        extra=tuple((k, v) for k, v in extra),
        body=body,
    )


def encode_problems(problems: list[Problem]) -> str:
    """Return one file's problems as JSON (their path left out)."""
    return _dumps([[p.location.line, p.message, p.severity] for p in problems])


def decode_problems(text: str, path: Path) -> list[Problem]:
    """Return the problems stored by ``encode_problems``, located in the file at ``path``."""
    return [Problem(Location(path, line), message, sev) for line, message, sev in _loads(text)]
