"""Customers and problems as compact JSON, for the index; the file's path is supplied on the way back.

Every ``Location`` of a customer points into its own file, so only line numbers are stored and
the path is rebuilt from the vault root at load time: the index stays valid if the vault moves.
"""

from __future__ import annotations

import json
import zlib
from datetime import date, time
from pathlib import Path
from typing import Any

from crm.core.fields import STORED, TYPES
from crm.core.model import (
    ContactCap,
    Customer,
    ImportantDate,
    Interaction,
    Location,
    PartialDate,
    Problem,
    Relative,
    Span,
)
from crm.rules.loyalty import Visits
from crm.rules.rewards import Days

NO_VISITS = Visits((), ())

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_loads = json.loads


def dumps(value: object) -> str:
    """Return ``value`` as compact JSON, non-ASCII kept as is."""
    return _dumps(value)


_from_ordinal = date.fromordinal
# Field by field from the field table; ``dates`` carry line numbers, so they are done here.
_STORED = tuple((f.attr, f.kind, f.type.store, f.type.load) for f in STORED if f.attr)


def encode_parts(c: Customer, newest: Interaction | None = None) -> tuple[str, bytes]:
    """Return the customer as two JSON arrays (its path left out): the head and the rest.

    The head holds every field, in field table order, and ``newest`` (the newest contact entry
    of the log): enough for the rhythm's rules on a day with no contact after it (see
    ``decode_brief``). The rest holds the log, the extra keys and the body, compressed (zlib,
    level 1: about a quarter of the JSON, for a few microseconds a customer); only whole
    customers read it.
    """
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
    values.append(None if newest is None else _entry(newest))
    rest = _dumps([[_entry(i) for i in c.log], c.extra, c.body])
    return _dumps(values), zlib.compress(rest.encode("utf-8"), 1)


def _entry(i: Interaction) -> list[Any]:
    at = None if i.time is None else i.time.hour * 60 + i.time.minute
    return [i.day.toordinal(), at, i.kind, i.text, i.done, i.location.line]


def _partial(pd: PartialDate | None) -> tuple[int | None, int | None, int | None]:
    return (None, None, None) if pd is None else (pd.month, pd.day, pd.year)


def _fields(head: str, path: Path) -> tuple[int, dict[str, Any], Any]:
    line, *stored, newest = _loads(head)
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
    return line, fields, newest


def _interaction(path: Path, *entry: Any) -> Interaction:
    """Return the log entry ``_entry`` stored: day, minutes, kind, text, done and line."""
    day, at, kind, text, done, line = entry
    at_time = None if at is None else time(at // 60, at % 60)
    return Interaction(_from_ordinal(day), at_time, kind, text, done, Location(path, line))


def decode_parts(head: str, rest: bytes, path: Path) -> Customer:
    """Return the whole customer stored by ``encode_parts``, located in the file at ``path``."""
    line, fields, _ = _fields(head, path)
    log, extra, body = _loads(zlib.decompress(rest))
    return Customer(
        location=Location(path, line),
        log=tuple(_interaction(path, *entry) for entry in log),
        extra=tuple((k, v) for k, v in extra),
        body=body,
        **fields,
    )


def decode_brief(head: str, path: Path) -> Customer:
    """Return the customer of ``head`` with a log of only its newest contact entry.

    The rhythm's rules (``contact_state``, ``upcoming``, ``last_contact``) give the same answers
    for it as for the whole customer on any day with no contact entry after that one; the
    reports read such a brief, not the log, the extra keys and the body.
    """
    line, fields, newest = _fields(head, path)
    log = () if newest is None else (_interaction(path, *newest),)
    return Customer(location=Location(path, line), log=log, **fields)


def encode_problems(problems: list[Problem]) -> str:
    """Return one file's problems as JSON (their path left out)."""
    return _dumps([[p.location.line, p.message, p.severity] for p in problems])


def decode_problems(text: str, path: Path) -> list[Problem]:
    """Return the problems stored by ``encode_problems``, located in the file at ``path``."""
    return [Problem(Location(path, line), message, sev) for line, message, sev in _loads(text)]


def encode_visits(v: Visits) -> str | None:
    """Return the loyalty rules' days as JSON ordinals (None when the log has none)."""
    if not v.visits and not v.thanked:
        return None
    return _dumps([v.visits, v.thanked])


def decode_visits(text: str | None) -> Visits:
    """Return the days ``encode_visits`` stored."""
    if text is None:
        return NO_VISITS
    visits, thanked = _loads(text)
    return Visits(tuple(visits), tuple(thanked))


def encode_outreach(cap: ContactCap, days: list[date]) -> str:
    """Return a contact cap and the sorted outreach days as JSON (ordinals)."""
    return _dumps([cap.count, cap.period.amount, cap.period.unit, [d.toordinal() for d in days]])


def decode_outreach(text: str) -> tuple[ContactCap, list[int]]:
    """Return the cap and days (ordinals) ``encode_outreach`` stored."""
    count, amount, unit, days = _loads(text)
    return ContactCap(count, Span(amount, unit)), days


def decode_owed(text: str) -> list[tuple[int, str, int | None]]:
    """Return the inbound entries ``replies.owed_spans`` gave, as the row stored them."""
    return [(day, at, end) for day, at, end in _loads(text)]


def encode_rewards(days: tuple[Days, ...]) -> str:
    """Return each reward's counted and given days (ordinals) as JSON."""
    return _dumps(days)


def decode_rewards(text: str) -> tuple[Days, ...]:
    """Return the days ``encode_rewards`` stored."""
    return tuple((tuple(counted), tuple(given)) for counted, given in _loads(text))


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
