"""The one field table: every front matter key a customer file can hold, described once.

Each ``Field`` says which ``Customer`` attribute holds the key, what type its value has
(``FieldType``: how text parses into it, how it is written back as text, how the index stores
it), how ``crm show`` labels it, which vCard property and CSV header carry it, and whether
``crm search`` reads it. The loader, the editor's checks, the index codec, import and export,
search and ``show`` all read this table; adding a field is one entry here (see
docs/architecture.md).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal

from crm.core import dates
from crm.core.model import (
    ADDRESS_PARTS,
    OPT_OUT_ALL,
    STATUSES,
    Address,
    Away,
    ContactCap,
    ContactPerson,
    Customer,
    EntityKind,
    Relative,
    Span,
)

Kind = Literal[
    "text", "texts", "status", "number", "date", "when", "span", "cap", "yearly", "away", "dates",
    "address", "family", "channel", "optout", "entity", "person",
]  # fmt: skip
CHANNELS = ("email", "sms", "whatsapp")
# What people write for a channel, read as one of CHANNELS.
_CHANNEL_WORDS = {
    "e-mail": "email",
    "mail": "email",
    "text": "sms",
    "texts": "sms",
    "wa": "whatsapp",
}


def number_text(value: float) -> str:
    """Return a number the way a person writes it: ``1234567``, ``1234567.5``, never ``1.2e+06``."""
    return str(int(value)) if value.is_integer() else repr(value)


def parse_number(text: str) -> float:
    """Return the number written as ``text`` (``_`` allowed as a digit separator)."""
    try:
        number = float(text.replace("_", ""))
    except ValueError:
        raise ValueError(f"'{text}' is not a number") from None
    if not math.isfinite(number):  # nan and inf are no value, and not valid JSON either
        raise ValueError(f"'{text}' is not a number")
    return number


def when_text(when: date | datetime) -> str:
    """Return a ``next_contact`` as the front matter writes it: ``YYYY-MM-DD[ HH:MM]``."""
    return when.strftime("%Y-%m-%d %H:%M") if isinstance(when, datetime) else when.isoformat()


def parse_status(text: str) -> str:
    """Return a status in lower case; raise ValueError when it is not one of ``STATUSES``."""
    if text.lower() not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not '{text}'")
    return text.lower()


def parse_channel(text: str) -> str:
    """Return the channel ``text`` names (``text`` is sms, ``mail`` is email); else ValueError."""
    word = text.strip().lower()
    word = _CHANNEL_WORDS.get(word, word)
    if word not in CHANNELS:
        raise ValueError(f"'{text}' is not a channel (one of {', '.join(CHANNELS)})")
    return word


# What people write for "no outreach of any kind" and for "none": ``opt_out: true`` is a no.
OPT_OUT_EVERYTHING = frozenset({"all", "true", "yes", "y", "on", "everything", "any"})
OPT_OUT_NOTHING = frozenset({"false", "no", "n", "off", "none", "nothing"})


def opt_out_word(word: str) -> str | None:
    """Return what one ``opt_out`` word means: ``all`` for a word of everything (true, yes),
    None for a word of none (false, no), else the topic, kind or channel as written."""
    folded = word.casefold()
    if folded in OPT_OUT_EVERYTHING:
        return OPT_OUT_ALL
    return None if folded in OPT_OUT_NOTHING else word


def opt_out_items(items: tuple[str, ...]) -> tuple[str, ...]:
    """Return what ``opt_out`` items mean, in the file's order: each word as ``opt_out_word``
    reads it, once, without the words of none. The topics stay beside ``all`` (which refuses
    everything anyway), so that taking ``all`` back leaves them in force."""
    meant = (opt_out_word(i) for i in items)
    return tuple(dict.fromkeys(m for m in meant if m is not None))


# What people write for an organisation or a person (vCard 4's KIND values among them).
_ENTITY_WORDS: dict[str, EntityKind] = {
    "org": "org",
    "organisation": "org",
    "organization": "org",
    "company": "org",
    "business": "org",
    "person": "person",
    "individual": "person",
}


def parse_entity(text: str) -> EntityKind:
    """Return ``org`` or ``person`` for what ``kind:`` says; raise ValueError otherwise."""
    word = _ENTITY_WORDS.get(text.strip().casefold())
    if word is None:
        raise ValueError(f"'{text}' is neither org nor person")
    return word


def person_text(p: ContactPerson) -> str:
    """Return a contact person as the front matter writes it: a flow mapping of name parts."""
    pairs = [(k, v) for k, v in (("name", p.name), ("first_name", p.first_name)) if v]
    return "{" + ", ".join(f"{k}: {_flow_scalar(v)}" for k, v in pairs) + "}"


def address_text(a: Address) -> str:
    """Return an address as the front matter writes it: its text, or a flow mapping of parts."""
    if a.text is not None:
        return a.text
    pairs = (*a.parts(), *a.extra)
    return "{" + ", ".join(f"{k}: {_flow_scalar(v)}" for k, v in pairs) + "}"


_PLAIN = re.compile(r"[^\W\d_][^,\[\]{}:#\n]*(?<! )")
_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})


def _flow_scalar(value: str) -> str:
    """Return ``value`` plain when every YAML parser reads it as this text, else double-quoted."""
    if _PLAIN.fullmatch(value) and value.casefold() not in _WORDS:
        return value
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def address_json(a: Address) -> Any:
    """Return an address for JSON: its text, or an object of its parts (and other keys)."""
    return a.text if a.text is not None else dict((*a.parts(), *a.extra))


def family_json(family: tuple[Relative, ...]) -> list[dict[str, str | None]]:
    """Return the family for JSON: ``[{name, relation, birthday}]``, the birthday as written."""
    return [
        {
            "name": r.name,
            "relation": r.relation,
            "birthday": None if r.birthday is None else str(r.birthday),
        }
        for r in family
    ]


def _address_stored(a: Address) -> Any:
    return [a.text, *(getattr(a, p) for p in ADDRESS_PARTS), [list(kv) for kv in a.extra]]


def _address_loaded(value: Any) -> Address:
    text, street, city, region, postcode, country, extra = value
    pairs = tuple((k, v) for k, v in extra)
    return Address(text, street, city, region, postcode, country, pairs)


def _ordinal(day: date) -> int:
    return day.toordinal()


def _when_stored(when: date | datetime) -> Any:
    if isinstance(when, datetime):
        return [when.toordinal(), when.hour * 60 + when.minute]
    return when.toordinal()


def _when_loaded(value: Any) -> date | datetime:
    if isinstance(value, list):
        minutes = value[1]
        return datetime.combine(date.fromordinal(value[0]), time(minutes // 60, minutes % 60))
    return date.fromordinal(value)


@dataclass(frozen=True, slots=True)
class FieldType:
    """How the values of one kind parse from text, print as text, and are stored in the index.

    ``parse`` and ``text`` are for single scalar values (None: the kind is structured and the
    loader reads it itself); ``store``/``load`` turn a value into JSON and back (None: as is).
    """

    parse: Callable[[str], Any] | None = None
    text: Callable[[Any], str] | None = None
    store: Callable[[Any], Any] | None = None
    load: Callable[[Any], Any] | None = None


TYPES: dict[Kind, FieldType] = {
    "text": FieldType(str.strip, str),
    "texts": FieldType(load=tuple),
    "status": FieldType(parse_status, str),
    "number": FieldType(parse_number, number_text),
    "date": FieldType(dates.parse_date, date.isoformat, _ordinal, date.fromordinal),
    "when": FieldType(dates.parse_datetime, when_text, _when_stored, _when_loaded),
    "span": FieldType(
        dates.parse_span, str, lambda s: [s.amount, s.unit], lambda v: Span(v[0], v[1])
    ),
    "cap": FieldType(
        dates.parse_cap,
        str,
        lambda c: [c.count, c.period.amount, c.period.unit],
        lambda v: ContactCap(v[0], Span(v[1], v[2])),
    ),
    "yearly": FieldType(dates.parse_partial_date, str),
    "away": FieldType(
        lambda text: Away(*dates.parse_range(text)),
        lambda a: f"{a.start}..{a.end}",
        store=lambda a: [a.start.toordinal(), a.end.toordinal()],
        load=lambda v: Away(date.fromordinal(v[0]), date.fromordinal(v[1])),
    ),
    "dates": FieldType(),
    # Text or a mapping of parts: the loader reads it; a card carries ``address_text``'s form.
    "address": FieldType(None, address_text, _address_stored, _address_loaded),
    "family": FieldType(),  # a list of mappings: the loader and the codec read it themselves
    "channel": FieldType(parse_channel, str),
    "optout": FieldType(load=tuple),
    "entity": FieldType(parse_entity, str),
    # A name, or a mapping of name parts: the loader reads it, a card carries its flow mapping.
    "person": FieldType(
        None,
        person_text,
        lambda p: [p.name, p.first_name],
        lambda v: ContactPerson(v[0], v[1]),
    ),
}


@dataclass(frozen=True, slots=True)
class Field:
    """One front matter key and everything that reads or writes it.

    ``attr`` is the ``Customer`` attribute (None for ``birthday``/``anniversary``, which land
    in ``Customer.dates``); ``label`` is the line ``crm show`` prints (None: not on its own
    line); ``vcard`` the vCard property; ``csv`` whether ``crm export --format csv`` has the
    column, and ``headers`` the other CSV headers that ``crm import`` maps onto the key.
    ``single`` marks a list field whose lone value is written as plain text (``email: a@b.c``)
    rather than as a one-item list.
    """

    key: str
    kind: Kind
    attr: str | None
    label: str | None = None
    vcard: str | None = None
    csv: bool = True
    headers: tuple[str, ...] = ()
    search: bool = False
    single: bool = False

    @property
    def type(self) -> FieldType:
        """Return how values of this field parse, print and are stored."""
        return TYPES[self.kind]

    @property
    def is_list(self) -> bool:
        """Return True when the field holds a list of text (a scalar is read as one item)."""
        return self.kind in ("texts", "optout")

    @property
    def is_parsed(self) -> bool:
        """Return True when the loader turns the text into another type (a date, a number...)."""
        return self.kind not in (
            "text", "texts", "optout", "status", "dates", "address", "family", "person"
        )  # fmt: skip


F = Field
# In the order of an export: the CSV columns, JSON keys and vCard properties follow it.
FIELDS: tuple[Field, ...] = (
    F("id", "text", "id", search=True),
    F("name", "text", "name", vcard="FN", headers=("full name", "display name"), search=True),
    F("first_name", "text", "first_name", "first name", vcard="N",
      headers=("first name", "given name", "firstname"), search=True),
    F("last_name", "text", "last_name", "last name", vcard="N",
      headers=("last name", "family name", "surname", "lastname"), search=True),
    F("nickname", "text", "nickname", "nickname", vcard="NICKNAME", headers=("nick name",),
      search=True),
    F("salutation", "text", "salutation", "salutation", vcard="X-CRM-SALUTATION"),
    F("language", "text", "language", "language", vcard="X-CRM-LANGUAGE"),
    F("email", "texts", "emails", "email", vcard="EMAIL",
      headers=("e-mail", "e-mail address", "email address", "e-mail 2 address",
               "e-mail 3 address"), search=True, single=True),
    F("phone", "texts", "phones", "phone", vcard="TEL",
      headers=("mobile", "mobile phone", "home phone", "home phone 2", "business phone",
               "business phone 2", "other phone", "primary phone", "car phone"), search=True,
      single=True),
    F("company", "text", "company", "company", vcard="ORG",
      headers=("organization", "organization name", "organization 1 - name"), search=True),
    F("address", "address", "address", "address", vcard="ADR",
      headers=("address 1 - formatted", "home address"), search=True),
    F("tags", "texts", "tags", vcard="CATEGORIES",
      headers=("labels", "group membership", "categories"), search=True),
    F("segment", "text", "segment", "segment", vcard="X-CRM-SEGMENT", search=True),
    F("status", "status", "status", vcard="X-CRM-STATUS", search=True),
    F("value", "number", "value", "value", vcard="X-CRM-VALUE"),
    F("likes", "texts", "likes", "likes", vcard="X-CRM-LIKE", search=True),
    F("dislikes", "texts", "dislikes", "dislikes", vcard="X-CRM-DISLIKE", search=True),
    F("birthday", "yearly", None, vcard="BDAY"),
    F("anniversary", "yearly", None, vcard="X-ANNIVERSARY"),
    F("dates", "dates", "dates", vcard="X-CRM-DATE", csv=False),
    F("family", "family", "family", csv=False),
    F("customer_since", "date", "customer_since", "customer since",
      vcard="X-CRM-CUSTOMER-SINCE", headers=("customer since",)),
    F("cadence", "span", "cadence", vcard="X-CRM-CADENCE"),
    F("last_contact", "date", "last_contact", vcard="X-CRM-LAST-CONTACT"),
    F("next_contact", "when", "next_contact", vcard="X-CRM-NEXT-CONTACT"),
    F("snooze_until", "date", "snooze_until", vcard="X-CRM-SNOOZE-UNTIL"),
    F("away", "away", "away", vcard="X-CRM-AWAY", csv=False),
    F("max_contacts", "cap", "max_contacts", vcard="X-CRM-MAX-CONTACTS"),
    F("prefer", "channel", "prefer", "prefers", vcard="X-CRM-PREFER"),
    F("opt_out", "optout", "opt_out", "opted out", vcard="X-CRM-OPT-OUT"),
    F("kind", "entity", "kind", "kind", vcard="KIND"),
    F("contact", "person", "contact", "contact person", vcard="X-CRM-CONTACT",
      headers=("contact person",)),
)  # fmt: skip
del F

BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
KNOWN_KEYS = frozenset(BY_KEY)
# The Customer attributes the index stores field by field (``dates`` is stored as items).
STORED = tuple(f for f in FIELDS if f.attr is not None)


def field(key: str) -> Field:
    """Return the field of the front matter ``key``; raise KeyError for an unknown key."""
    return BY_KEY[key]


def value_of(customer: Customer, f: Field) -> Any:
    """Return the customer's value of ``f`` in its real type, or None when the file has none.

    ``birthday`` and ``anniversary`` (no ``attr``) are the first date of that kind in
    ``Customer.dates``; ``dates`` is the tuple of the other dates (the file's ``dates`` items).
    """
    if f.attr is None:
        return next((d.date for d in customer.dates if d.kind == f.key), None)
    value = getattr(customer, f.attr)
    if f.kind == "dates":
        return tuple(d for d in value if d.kind == "date")
    return value
