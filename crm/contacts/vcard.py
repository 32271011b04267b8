"""Address-book cards: vCard files read into ``Card`` values, and customers written as vCard.

vobject does the vCard syntax (escaping, parameters, quoted-printable, writing and folding);
this module splits a file into cards itself, so that line numbers are right and one broken card
never hides the others, and maps properties onto customer fields. A card with a bad value is a
``Problem`` located at its first line, and is skipped. ``crm.contacts_csv`` reads CSV exports
into the same ``Card`` values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from crm.core import dates
from crm.core.model import STATUSES, Customer, ImportantDate, Location, PartialDate, Problem

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
# Binary payloads: never needed, and a broken one must not cost the whole card.
_BINARY = frozenset({"PHOTO", "LOGO", "SOUND", "KEY"})
_PROP = re.compile(r"^(?:[\w-]+\.)?([\w-]+)([;:])")
_ANNIVERSARY = ("ANNIVERSARY", "X-ANNIVERSARY", "X-EVOLUTION-ANNIVERSARY", "X-MS-ANNIVERSARY")
_CRM_TEXT = {"X-CRM-STATUS": "status", "X-CRM-SEGMENT": "segment", "X-CRM-VALUE": "value"}
_CRM_TEXT |= {"X-CRM-CUSTOMER-SINCE": "customer_since", "X-CRM-CADENCE": "cadence"}
_CRM_TEXT |= {"X-CRM-LAST-CONTACT": "last_contact", "X-CRM-NEXT-CONTACT": "next_contact"}
_CRM_TEXT |= {"X-CRM-SNOOZE-UNTIL": "snooze_until", "X-CRM-AWAY": "away"}
_CRM_TEXT |= {"X-CRM-MAX-CONTACTS": "max_contacts"}
# Han, Hiragana, Katakana and Hangul: names written family name first, often without spaces.
_CJK = re.compile(r"[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003ffff]")
_CRM_LIST = {"X-CRM-LIKE": "likes", "X-CRM-DISLIKE": "dislikes"}
APPLE_NO_YEAR = 1604


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


# --- vCard -----------------------------------------------------------------------------------


def parse_vcards(text: str, path: Path) -> tuple[list[Card], list[Problem]]:
    """Return the cards of a vCard file (2.1, 3.0, 4.0; many cards) and a problem per bad card."""
    import vobject

    cards: list[Card] = []
    problems: list[Problem] = []
    for start, lines, problem in _split(text):
        where = Location(path, start)
        if problem:
            problems.append(Problem(where, problem))
            continue
        try:
            component = vobject.readOne("\r\n".join(lines) + "\r\n")
            cards.append(_from_vcard(component, where))
        # vobject raises several unrelated types on bad input; any of them spoils only this card.
        except Exception as exc:
            problems.append(Problem(where, f"card skipped: {_reason(exc)}"))
    return cards, problems


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return re.sub(r"^At line \d+: ", "", text)


def _split(text: str) -> Iterator[tuple[int, list[str], str | None]]:
    """Yield ``(first line, logical lines, problem)`` per card, unfolded, without binary data."""
    physical = text.splitlines()
    start: int | None = None
    lines: list[str] = []
    for number, raw in enumerate(physical, start=1):
        if start is None:
            if raw.strip().upper() == "BEGIN:VCARD":
                start, lines = number, [raw.strip()]
            elif raw.strip():
                yield number, [], "text outside BEGIN:VCARD ... END:VCARD; skipped"
            continue
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif lines and _soft_break(lines[-1]):
            lines[-1] = lines[-1][:-1] + raw
        elif lines and _prop(lines[-1]) in _BINARY and raw.strip() and not _PROP.match(raw):
            # Some 2.1 exporters write base64 photo lines without the folding space.
            lines[-1] += raw.strip()
        elif raw.strip():
            lines.append(raw)
        if raw.strip().upper() == "END:VCARD":
            yield start, [ln for ln in lines if _prop(ln) not in _BINARY], None
            start = None
    if start is not None:
        yield start, [], "card is not closed (no END:VCARD); skipped"


def _prop(line: str) -> str:
    m = _PROP.match(line)
    return m[1].upper() if m else ""


def _soft_break(line: str) -> bool:
    """Return True for a quoted-printable (vCard 2.1) line that continues on the next one."""
    head = line.split(":", 1)[0].upper()
    return line.endswith("=") and "QUOTED-PRINTABLE" in head


def _from_vcard(card: Any, where: Location) -> Card:
    contents: dict[str, list[Any]] = card.contents
    values: dict[str, FieldValue] = {}

    def lines(key: str) -> list[Any]:
        found = contents.get(key.lower(), [])
        # Preferred values first, as phones list them; otherwise the card's own order.
        return sorted(found, key=lambda ln: not _is_pref(ln))

    def text(value: Any) -> str:
        return " ".join(value) if isinstance(value, list) else str(value)

    first = last = ""
    if lines("N"):
        n = lines("N")[0].value
        first, last = text(n.given).strip(), text(n.family).strip()
    name = text(lines("FN")[0].value).strip() if lines("FN") else ""
    name = name or " ".join(p for p in (first, last) if p)
    if not lines("N") and name:
        first, last = split_name(name)
    values["first_name"], values["last_name"] = first, last
    values["email"] = tuple(_strip_scheme(text(ln.value), "mailto:") for ln in lines("EMAIL"))
    values["phone"] = tuple(_strip_scheme(text(ln.value), "tel:") for ln in lines("TEL"))
    if lines("ORG"):
        org = lines("ORG")[0].value
        values["company"] = text(org[0] if isinstance(org, list) and org else org)
    if lines("ADR"):
        values["address"] = _address(lines("ADR")[0].value)
    tags: list[str] = []
    for ln in lines("CATEGORIES"):
        tags.extend(ln.value if isinstance(ln.value, list) else str(ln.value).split(","))
    values["tags"] = tuple(tags)
    if lines("BDAY"):
        values["birthday"] = _vcard_date(lines("BDAY")[0])
    for prop in _ANNIVERSARY:
        if lines(prop) and "anniversary" not in values:
            values["anniversary"] = _vcard_date(lines(prop)[0])
    labels = {ln.group: text(ln.value) for ln in lines("X-ABLABEL") if ln.group}
    for ln in lines("X-ABDATE"):
        if "anniversary" in labels.get(ln.group, "").lower() and "anniversary" not in values:
            values["anniversary"] = _vcard_date(ln)
    for prop, key in _CRM_TEXT.items():
        if lines(prop):
            values[key] = text(lines(prop)[0].value)
    for prop, key in _CRM_LIST.items():
        values[key] = tuple(text(ln.value) for ln in contents.get(prop.lower(), []))
    values["dates"] = tuple(_crm_date(ln, text(ln.value)) for ln in contents.get("x-crm-date", []))
    if lines("NOTE"):
        values["note"] = text(lines("NOTE")[0].value)
    try:
        return make_card(where, name, values)
    except ValueError as exc:
        raise ValueError(f"{exc}" if str(exc) != "no name" else "no name (FN or N)") from None


def _crm_date(line: Any, value: str) -> str:
    day, _, label = value.strip().partition(" ")
    yearly = [v.lower() for v in line.params.get("X-YEARLY", [])]
    return f"{day} {'once' if 'false' in yearly else 'yearly'} {label}"


def _is_pref(line: Any) -> bool:
    types = [t.lower() for v in line.params.get("TYPE", []) for t in v.split(",")]
    singles = [s.lower() for s in line.singletonparams]
    return "pref" in types or "pref" in singles or "PREF" in line.params


def _strip_scheme(value: str, scheme: str) -> str:
    value = value.strip()
    return value[len(scheme) :] if value.lower().startswith(scheme) else value


def _address(adr: Any) -> str:
    def part(value: Any) -> str:
        return (" ".join(value) if isinstance(value, list) else str(value or "")).strip()

    town = " ".join(p for p in (part(adr.code), part(adr.city)) if p)
    pieces = (part(adr.box), part(adr.extended), part(adr.street), town, part(adr.region))
    return ", ".join(p for p in (*pieces, part(adr.country)) if p)


def _vcard_date(line: Any) -> str:
    """Return a vCard date as ``YYYY-MM-DD`` or ``--MM-DD`` (year-less, including Apple's)."""
    raw = str(line.value).strip()
    pd = vcard_date(raw)
    omit = line.params.get("X-APPLE-OMIT-YEAR")
    if pd.year is not None and (pd.year == APPLE_NO_YEAR or (omit and str(pd.year) in omit)):
        pd = PartialDate(pd.month, pd.day)
    return pd.isoformat()


def vcard_date(text: str) -> PartialDate:
    """Return ``YYYY-MM-DD``, ``YYYYMMDD``, ``--MMDD`` or ``--MM-DD`` (time part ignored)."""
    day = text.split("T", 1)[0].strip()
    m = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})|--(\d{2})-?(\d{2})", day)
    if not m:
        raise ValueError(f"'{text}' is not a date")
    if m[1]:
        return dates.parse_partial_date(f"{m[1]}-{m[2]}-{m[3]}")
    return dates.parse_partial_date(f"--{m[4]}-{m[5]}")


def to_vcard(customers: Sequence[Customer]) -> str:
    """Return the customers as one vCard 3.0 file (deterministic; re-imports to the same fields)."""
    import vobject

    out: list[str] = []
    for c in customers:
        card = vobject.vCard()
        card.add("uid").value = f"crm:{c.id}"
        card.add("fn").value = c.name
        card.add("n").value = vobject.vcard.Name(family=c.last_name or "", given=c.first_name or "")
        for email in c.emails:
            card.add("email").type_param = "INTERNET"
            card.contents["email"][-1].value = email
        for phone in c.phones:
            card.add("tel").value = phone
        if c.company:
            card.add("org").value = [c.company]
        if c.address:
            card.add("adr").value = vobject.vcard.Address(street=c.address)
        if c.tags:
            card.add("categories").value = list(c.tags)
        for d in c.dates:
            if d.kind == "birthday":
                _add_date(card, "bday", d.date)
            elif d.kind == "anniversary":
                _add_date(card, "x-anniversary", d.date)
        extras = {
            "x-crm-status": c.status,
            "x-crm-segment": c.segment,
            "x-crm-value": None if c.value is None else checked("value", str(c.value)),
            "x-crm-customer-since": c.customer_since.isoformat() if c.customer_since else None,
            "x-crm-cadence": str(c.cadence) if c.cadence else None,
            "x-crm-last-contact": c.last_contact.isoformat() if c.last_contact else None,
            "x-crm-next-contact": when_text(c.next_contact) if c.next_contact else None,
            "x-crm-snooze-until": c.snooze_until.isoformat() if c.snooze_until else None,
            "x-crm-away": f"{c.away.start}/{c.away.end}" if c.away else None,
            "x-crm-max-contacts": str(c.max_contacts) if c.max_contacts else None,
        }
        for prop, value in extras.items():
            if value:
                card.add(prop).value = value
        for prop, items in (("x-crm-like", c.likes), ("x-crm-dislike", c.dislikes)):
            for item in items:
                card.add(prop).value = item
        for d in c.dates:
            if d.kind == "date":
                line = card.add("x-crm-date")
                line.value = f"{d.date.isoformat()} {d.label}"
                if not d.yearly:
                    line.params["X-YEARLY"] = ["FALSE"]
        if c.body.strip():
            # The whole body, log included: an import into an empty vault restores the file.
            card.add("note").value = c.body.strip()
        out.append(card.serialize())
    return "".join(out)


def _add_date(card: Any, prop: str, pd: PartialDate) -> None:
    line = card.add(prop)
    if pd.year is None:
        # vCard 3.0 has no year-less date; Apple's convention is the one other apps read.
        line.value = f"{APPLE_NO_YEAR}-{pd.month:02d}-{pd.day:02d}"
        line.params["X-APPLE-OMIT-YEAR"] = [str(APPLE_NO_YEAR)]
    else:
        line.value = pd.isoformat()


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
