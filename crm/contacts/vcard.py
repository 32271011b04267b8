"""vCard files read into ``Card`` values, and customers written as vCard 3.0.

vobject does the vCard syntax (escaping, parameters, quoted-printable, writing and folding);
this module splits a file into cards itself, so that line numbers are right and one broken card
never hides the others, and maps properties onto customer fields. A card that cannot be read is
a ``Problem`` located at its first line, and is skipped; a bad value in a card costs only that
field, with a ``Problem`` at the value's line.

The properties in ``SPECIAL`` have a shape of their own (names, structured values, URIs, Apple's
year-less dates, dated items, the note) and are mapped by the code below. Every other field of
the table (``crm.core.fields``) with a vCard property travels as one line per value, written the
way the front matter writes it: a field added there needs no change here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from crm.contacts.cards import (
    Card,
    Dropped,
    FieldValue,
    crm_uid,
    dropped_message,
    field_text,
    make_card,
    split_name,
)
from crm.core import dates, fields
from crm.core.errors import CrmError
from crm.core.fields import Field, address_text
from crm.core.model import Address, Customer, Location, PartialDate, Problem
from crm.vault.syntax import without_empty_headings

# The properties this module maps itself; the table names the others.
SPECIAL = frozenset(
    {"FN", "N", "EMAIL", "TEL", "ORG", "ADR", "CATEGORIES", "BDAY", "X-ANNIVERSARY", "X-CRM-DATE"}
)
# Binary payloads: never needed, and a broken one must not cost the whole card.
_BINARY = frozenset({"PHOTO", "LOGO", "SOUND", "KEY"})
_PROP = re.compile(r"^(?:[\w-]+\.)?([\w-]+)([;:])")
_ANNIVERSARY = ("ANNIVERSARY", "X-ANNIVERSARY", "X-EVOLUTION-ANNIVERSARY", "X-MS-ANNIVERSARY")
APPLE_NO_YEAR = 1604


def parse_vcards(text: str, path: Path) -> tuple[list[Card], list[Problem]]:
    """Return the cards of a vCard file (2.1, 3.0, 4.0; many cards) and their problems.

    A bad card is skipped with a problem at its first line; a bad value costs only its field,
    with a problem at its line. Raises ``CrmError`` for a file that holds no card at all.
    """
    import vobject

    if not any(line.strip().upper() == "BEGIN:VCARD" for line in text.splitlines()):
        raise not_cards(path)
    cards: list[Card] = []
    problems: list[Problem] = []
    for start, lines, numbers, problem in _split(text):
        where = Location(path, start)
        if problem:
            problems.append(Problem(where, problem))
            continue
        drops: list[tuple[str, Dropped]] = []
        try:
            component = vobject.readOne("\r\n".join(lines) + "\r\n")
            card = _from_vcard(component, where, drops)
        # vobject raises several unrelated types on bad input; any of them spoils only this card.
        except Exception as exc:
            problems.append(Problem(where, f"card skipped: {_reason(exc)}"))
            continue
        cards.append(card)
        for prop, dropped in drops:
            line = _line_of(prop, dropped.value, lines, numbers) or start
            problems.append(
                Problem(Location(path, line), dropped_message(card.name, prop, dropped))
            )
    return cards, problems


def not_cards(path: Path) -> CrmError:
    """Return the error for an import file that is neither a vCard nor a CSV export."""
    return CrmError(
        f"{path}: not a vCard or CSV file: it has no BEGIN:VCARD line, and its first line is "
        "not a CSV header naming a field (name, first_name, email...); for other headers use "
        "--map COLUMN=FIELD",
        exit_code=1,
    )


def _line_of(prop: str, value: str, lines: Sequence[str], numbers: Sequence[int]) -> int | None:
    """Return the line of the ``prop`` line holding ``value`` (else the first ``prop`` line)."""
    found = [n for line, n in zip(lines, numbers, strict=True) if _prop(line) == prop]
    with_value = [
        n for line, n in zip(lines, numbers, strict=True) if _prop(line) == prop and value in line
    ]
    return next(iter(with_value or found), None)


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return re.sub(r"^At line \d+: ", "", text)


def _split(text: str) -> Iterator[tuple[int, list[str], list[int], str | None]]:
    """Yield ``(first line, logical lines, their line numbers, problem)`` per card, unfolded,
    without binary data.
    """
    physical = text.splitlines()
    start: int | None = None
    lines: list[str] = []
    numbers: list[int] = []
    for number, raw in enumerate(physical, start=1):
        if start is None:
            if raw.strip().upper() == "BEGIN:VCARD":
                start, lines, numbers = number, [raw.strip()], [number]
            elif raw.strip():
                yield number, [], [], "text outside BEGIN:VCARD ... END:VCARD; skipped"
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
            numbers.append(number)
        if raw.strip().upper() == "END:VCARD":
            kept = [
                (ln, n) for ln, n in zip(lines, numbers, strict=True) if _prop(ln) not in _BINARY
            ]
            yield start, [ln for ln, _ in kept], [n for _, n in kept], None
            start = None
    if start is not None:
        yield start, [], [], "card is not closed (no END:VCARD); skipped"


def _prop(line: str) -> str:
    m = _PROP.match(line)
    return m[1].upper() if m else ""


def _soft_break(line: str) -> bool:
    """Return True for a quoted-printable (vCard 2.1) line that continues on the next one."""
    head = line.split(":", 1)[0].upper()
    return line.endswith("=") and "QUOTED-PRINTABLE" in head


def _from_vcard(card: Any, where: Location, drops: list[tuple[str, Dropped]]) -> Card:
    """Return the card of a vobject component; a value that cannot be read goes to ``drops``."""
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
    org = _org_name(lines("ORG"), text)
    if _is_org(lines, text, org, bool(first or last)):
        # An organisation's card: its name is the organisation's, no person's name is made up.
        values["kind"] = "org"
        name = name or org
        first = last = ""
    elif not lines("N") and name:
        first, last = split_name(name)
    values["first_name"], values["last_name"] = first, last
    values["email"] = tuple(_strip_scheme(text(ln.value), "mailto:") for ln in lines("EMAIL"))
    values["phone"] = tuple(_strip_scheme(text(ln.value), "tel:") for ln in lines("TEL"))
    if org:
        values["company"] = org
    if lines("ADR"):
        values["address"] = _address(lines("ADR")[0].value)
    tags: list[str] = []
    for ln in lines("CATEGORIES"):
        tags.extend(ln.value if isinstance(ln.value, list) else str(ln.value).split(","))
    values["tags"] = tuple(tags)

    def read_date(key: str, prop: str, line: Any) -> None:
        try:
            values[key] = _vcard_date(line)
        except ValueError:
            drops.append((prop, Dropped(key, str(line.value).strip())))

    if lines("BDAY"):
        read_date("birthday", "BDAY", lines("BDAY")[0])
    for prop in _ANNIVERSARY:
        if lines(prop) and "anniversary" not in values:
            read_date("anniversary", prop, lines(prop)[0])
    labels = {ln.group: text(ln.value) for ln in lines("X-ABLABEL") if ln.group}
    for ln in lines("X-ABDATE"):
        if "anniversary" in labels.get(ln.group, "").lower() and "anniversary" not in values:
            read_date("anniversary", "X-ABDATE", ln)
    for f, prop in _plain_fields():
        if f.is_list:
            # One line per item, in the card's order.
            values[f.key] = tuple(text(ln.value) for ln in contents.get(prop.lower(), []))
        elif lines(prop):
            values[f.key] = text(lines(prop)[0].value)
    values["dates"] = tuple(_crm_date(ln, text(ln.value)) for ln in contents.get("x-crm-date", []))
    if lines("NOTE"):
        values["note"] = text(lines("NOTE")[0].value)
    try:
        uid = text(lines("UID")[0].value) if lines("UID") else ""
        made, dropped = make_card(where, name, values, uid)
    except ValueError as exc:
        raise ValueError(f"{exc}" if str(exc) != "no name" else "no name (FN or N)") from None
    props = {f.key: f.vcard for f in fields.FIELDS}
    drops.extend((props.get(d.key) or d.key.upper(), d) for d in dropped)
    return made


def _org_name(found: list[Any], text: Callable[[Any], str]) -> str:
    if not found:
        return ""
    org = found[0].value
    return text(org[0] if isinstance(org, list) and org else org).strip()


def _is_org(
    lines: Callable[[str], list[Any]], text: Callable[[Any], str], org: str, person: bool
) -> bool:
    """Return True for an organisation's card: ``KIND:org`` (vCard 4), Apple's
    ``X-ABShowAs:COMPANY``, or an ``ORG`` with no person's name (``N``) beside it."""
    kinds = {text(ln.value).strip().casefold() for ln in (*lines("KIND"), *lines("X-ABSHOWAS"))}
    if kinds & {"org", "organization", "organisation", "company"}:
        return True
    return bool(org) and not person and not kinds & {"individual", "person"}


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
    """Return an ``ADR`` as the front matter writes it: a mapping of parts, or text (street only)."""

    def part(value: Any) -> str:
        return (" ".join(value) if isinstance(value, list) else str(value or "")).strip()

    street = ", ".join(p for p in (part(adr.box), part(adr.extended), part(adr.street)) if p)
    rest = {"city": adr.city, "region": adr.region, "postcode": adr.code, "country": adr.country}
    parts = {k: part(v) for k, v in rest.items() if part(v)}
    if not parts:
        return street  # an address written as text in the street field
    return address_text(Address.from_parts({"street": street, **parts} if street else parts))


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
        card.add("uid").value = crm_uid(c.id)
        card.add("fn").value = c.name
        card.add("n").value = vobject.vcard.Name(family=c.last_name or "", given=c.first_name or "")
        for email in c.emails:
            card.add("email").type_param = "INTERNET"
            card.contents["email"][-1].value = email
        for phone in c.phones:
            card.add("tel").value = phone
        if c.company or c.is_org:
            card.add("org").value = [c.company or c.name]
        if c.is_org:
            card.add("x-abshowas").value = "COMPANY"  # Apple's Contacts files it as a company
        if c.address is not None:
            a = c.address
            card.add("adr").value = vobject.vcard.Address(
                street=a.text if a.text is not None else a.street or "",
                city=a.city or "",
                region=a.region or "",
                code=a.postcode or "",
                country=a.country or "",
            )
        if c.tags:
            card.add("categories").value = list(c.tags)
        for d in c.dates:
            if d.kind == "birthday":
                _add_date(card, "bday", d.date)
            elif d.kind == "anniversary":
                _add_date(card, "x-anniversary", d.date)
        for f, prop in _plain_fields():
            value = fields.value_of(c, f)
            if f.is_list:
                for item in value:
                    card.add(prop).value = item
            elif value is not None and (written := _vcard_text(f, value)):
                card.add(prop).value = written
        for d in c.dates:
            if d.kind == "date":
                line = card.add("x-crm-date")
                line.value = f"{d.date.isoformat()} {d.label}"
                if not d.yearly:
                    line.params["X-YEARLY"] = ["FALSE"]
        if body := without_empty_headings(c.body):
            # The whole body, log included: an import into an empty vault restores the file.
            card.add("note").value = body
        out.append(card.serialize())
    return "".join(out)


def _plain_fields() -> list[tuple[Field, str]]:
    """Return the fields whose vCard property is not in ``SPECIAL``, with that property."""
    return [(f, f.vcard) for f in fields.FIELDS if f.vcard is not None and f.vcard not in SPECIAL]


def _vcard_text(f: Field, value: Any) -> str:
    if f.kind == "away":
        return f"{value.start}/{value.end}"  # an ISO 8601 interval, as calendars write a range
    return field_text(f, value)


def _add_date(card: Any, prop: str, pd: PartialDate) -> None:
    line = card.add(prop)
    if pd.year is None:
        # vCard 3.0 has no year-less date; Apple's convention is the one other apps read.
        line.value = f"{APPLE_NO_YEAR}-{pd.month:02d}-{pd.day:02d}"
        line.params["X-APPLE-OMIT-YEAR"] = [str(APPLE_NO_YEAR)]
    else:
        line.value = pd.isoformat()
