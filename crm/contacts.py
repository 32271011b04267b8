"""Address-book cards: vCard and CSV exports read into ``Card`` values, customers written as vCard.

vobject does the vCard syntax (escaping, parameters, quoted-printable, writing and folding);
this module splits a file into cards itself, so that line numbers are right and one broken card
never hides the others, and maps properties onto customer fields. CSV columns are mapped by
their header (Google Contacts, Outlook, or ``--map col=field``). A card or row with a bad value
is a ``Problem`` located at its first line, and is skipped.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm import dates
from crm.errors import CrmError
from crm.model import STATUSES, Customer, Location, PartialDate, Problem

FieldValue = str | tuple[str, ...]
LIST_KEYS = ("email", "phone", "tags", "likes", "dislikes")
SCALAR_KEYS = (
    "first_name", "last_name", "company", "address", "segment", "status", "value", "birthday",
    "anniversary", "customer_since", "cadence",
)  # fmt: skip
FIELDS = ("name", *SCALAR_KEYS, *LIST_KEYS)
# Binary payloads: never needed, and a broken one must not cost the whole card.
_BINARY = frozenset({"PHOTO", "LOGO", "SOUND", "KEY"})
_PROP = re.compile(r"^(?:[\w-]+\.)?([\w-]+)([;:])")
_ANNIVERSARY = ("ANNIVERSARY", "X-ANNIVERSARY", "X-EVOLUTION-ANNIVERSARY", "X-MS-ANNIVERSARY")
_CRM_TEXT = {"X-CRM-STATUS": "status", "X-CRM-SEGMENT": "segment", "X-CRM-VALUE": "value"}
_CRM_TEXT |= {"X-CRM-CUSTOMER-SINCE": "customer_since", "X-CRM-CADENCE": "cadence"}
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


def _card(where: Location, name: str, values: Mapping[str, FieldValue]) -> Card:
    """Return a card with validated fields in ``FIELDS`` order; raise ValueError on a bad one."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("no name")
    kept: list[tuple[str, FieldValue]] = []
    for key in FIELDS[1:]:
        value = values.get(key)
        if isinstance(value, tuple):
            unique = tuple(dict.fromkeys(v.strip() for v in value if v.strip()))
            if unique:
                kept.append((key, unique))
        elif value is not None and value.strip():
            kept.append((key, _checked(key, " ".join(value.split()))))
    return Card(where, name, tuple(kept))


def _checked(key: str, text: str) -> str:
    if key in ("birthday", "anniversary"):
        return dates.parse_partial_date(text).isoformat()
    if key == "customer_since":
        return dates.parse_date(text).isoformat()
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
    values["first_name"], values["last_name"] = first, last
    name = text(lines("FN")[0].value).strip() if lines("FN") else ""
    name = name or " ".join(p for p in (first, last) if p)
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
    try:
        return _card(where, name, values)
    except ValueError as exc:
        raise ValueError(f"{exc}" if str(exc) != "no name" else "no name (FN or N)") from None


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
            "x-crm-value": None if c.value is None else _checked("value", str(c.value)),
            "x-crm-customer-since": c.customer_since.isoformat() if c.customer_since else None,
            "x-crm-cadence": str(c.cadence) if c.cadence else None,
        }
        for prop, value in extras.items():
            if value:
                card.add(prop).value = value
        for prop, items in (("x-crm-like", c.likes), ("x-crm-dislike", c.dislikes)):
            for item in items:
                card.add(prop).value = item
        note = notes_of(c)
        if note:
            card.add("note").value = note
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


# --- CSV -------------------------------------------------------------------------------------

# Headers of Google Contacts (old and new exports), Outlook and plain spreadsheets.
_HEADERS = {
    "name": "name", "full name": "name", "display name": "name",
    "first name": "first_name", "given name": "first_name", "firstname": "first_name",
    "last name": "last_name", "family name": "last_name", "surname": "last_name",
    "lastname": "last_name",
    "email": "email", "e-mail": "email", "e-mail address": "email", "email address": "email",
    "e-mail 2 address": "email", "e-mail 3 address": "email",
    "phone": "phone", "mobile": "phone", "mobile phone": "phone", "home phone": "phone",
    "home phone 2": "phone", "business phone": "phone", "business phone 2": "phone",
    "other phone": "phone", "primary phone": "phone", "car phone": "phone",
    "company": "company", "organization": "company", "organization name": "company",
    "organization 1 - name": "company",
    "address": "address", "address 1 - formatted": "address",
    "birthday": "birthday", "anniversary": "anniversary",
    "tags": "tags", "labels": "tags", "group membership": "tags", "categories": "tags",
    "likes": "likes", "dislikes": "dislikes", "segment": "segment", "status": "status",
    "value": "value", "customer since": "customer_since", "customer_since": "customer_since",
    "cadence": "cadence", "first_name": "first_name", "last_name": "last_name",
}  # fmt: skip
_GOOGLE_MULTI = re.compile(r"^(e-mail|phone) \d+ - value$")
_OUTLOOK_HOME = (
    "home street",
    "home city",
    "home state",
    "home postal code",
    "home country/region",
)
_EVENT = re.compile(r"^event (\d+) - (type|label|value)$")


def csv_columns(header: Sequence[str], mapping: Mapping[str, str]) -> dict[int, str]:
    """Return which column holds which field: ``mapping`` (header to field) first, then known names."""
    unknown = [col for col in mapping if col not in header]
    if unknown:
        raise CrmError(
            f"--map: no column {', '.join(map(repr, unknown))} in the header", exit_code=2
        )
    bad = [f for f in mapping.values() if f and f not in FIELDS]
    if bad:
        raise CrmError(
            f"--map: unknown field {', '.join(map(repr, bad))} (fields: {', '.join(FIELDS)})",
            exit_code=2,
        )
    columns: dict[int, str] = {}
    for i, col in enumerate(header):
        key = col.strip().lower()
        if col in mapping:
            if mapping[col]:
                columns[i] = mapping[col]
        elif key in _HEADERS:
            columns[i] = _HEADERS[key]
        elif _GOOGLE_MULTI.match(key):
            columns[i] = "email" if key.startswith("e-mail") else "phone"
    return columns


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
    lower = [h.strip().lower() for h in header]
    events = _event_columns(lower)
    home = [lower.index(h) for h in _OUTLOOK_HOME if h in lower]
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
            row = row + [""] * (len(header) - len(row))
            try:
                cards.append(_from_row(row, columns, events, home, where))
            except ValueError as exc:
                problems.append(Problem(where, f"row skipped: {exc}"))
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
    home: Sequence[int],
    where: Location,
) -> Card:
    values: dict[str, Any] = {}
    for i, key in columns.items():
        cell = row[i].strip()
        if not cell:
            continue
        if key in LIST_KEYS:
            # Google joins several values of a cell with " ::: " and marks system groups with
            # "*"; Outlook separates categories with ";", spreadsheets (and crm export) with ",".
            items = [v.strip().lstrip("*").strip() for v in re.split(r" ::: |;|,", cell)]
            values.setdefault(key, []).extend(v for v in items if v and v != "myContacts")
        elif key in ("birthday", "anniversary", "customer_since"):
            parsed = _csv_date(cell)
            if parsed is not None:
                values.setdefault(key, parsed)
        else:
            values.setdefault(key, cell)
    for label_col, value_col in events:
        if "anniversary" in row[label_col].lower() and row[value_col].strip():
            parsed = _csv_date(row[value_col].strip())
            if parsed is not None:
                values.setdefault("anniversary", parsed)
    if "address" not in values and home:
        street = ", ".join(row[i].strip() for i in home if row[i].strip())
        if street:
            values["address"] = street
    name = values.pop("name", "") or " ".join(
        values[k] for k in ("first_name", "last_name") if values.get(k)
    )
    lists = {k: tuple(v) for k, v in values.items() if isinstance(v, list)}
    return _card(where, name, {**values, **lists})


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
