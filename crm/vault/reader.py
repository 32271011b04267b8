"""Reading a customer's front matter mapping and ``## Log`` into typed fields, with problems.

Which keys exist and how each is typed comes from the field table (``crm.core.fields``); this
module knows only how to read each *kind* of value, and the few structured ones.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from crm.core import dates
from crm.core.dates import DateOrder
from crm.core.fields import FIELDS, KNOWN_KEYS, TYPES, Field, opt_out_items, parse_status
from crm.core.model import (
    ADDRESS_PARTS,
    STATUSES,
    Address,
    Away,
    ContactPerson,
    Customer,
    DateKind,
    ImportantDate,
    Location,
    PartialDate,
    Problem,
    Relative,
    Severity,
    Status,
)
from crm.vault.logline import read_log
from crm.vault.syntax import (
    not_text,
)

NULLS = ("", "~", "null", "Null", "NULL")
# Read first, by hand: a customer needs a name, and the id and status have defaults.
_BY_HAND = frozenset(
    {
        "name",
        "id",
        "status",
        "birthday",
        "anniversary",
        "dates",
        "away",
        "address",
        "family",
        "contact",
    }  # fmt: skip
)
T = TypeVar("T")


def problem_order(p: Problem) -> tuple[str, int, str]:
    """Return a sort key that lists problems by file, then line."""
    return (str(p.location.path), p.location.line or 0, p.message)


class FrontMatter:
    """Turns the text-only front matter mapping into typed customer fields, collecting problems."""

    def __init__(
        self,
        raw: dict[str, Any],
        path: Path,
        key_lines: dict[str, int],
        plain: dict[str, str],
        date_order: DateOrder | None = None,
    ):
        self.raw = raw
        self.date_order = date_order  # how the log's slash dates read (``[vault] date_order``)
        self.path = path
        self.key_lines = key_lines
        self.plain = plain
        self.problems: list[Problem] = []

    def at(self, key: str) -> Location:
        """Return where ``key`` is written (line 2, the first key line, when it is absent)."""
        return Location(self.path, self.key_lines.get(key, 2))

    def problem(self, key: str, message: str, severity: Severity = "error") -> None:
        """Record a problem at the line of ``key``."""
        self.problems.append(Problem(self.at(key), message, severity))

    def present(self, key: str) -> bool:
        """Return True when ``key`` has a value (not missing, empty or null)."""
        value = self.raw.get(key)
        if isinstance(value, str) and value.strip() in NULLS:
            # A quoted "Null" or "~" is that text to every YAML parser: someone may be named so.
            return value.strip() != "" and self.plain.get(key, "")[:1] in ("'", '"')
        return value is not None

    def text(self, key: str, *, wants_text: bool = True) -> str | None:
        """Return the text value of ``key``; a list or mapping there is a problem."""
        if not self.present(key):
            return None
        value = self.raw[key]
        if not isinstance(value, str):
            self.problem(key, f"{key} must be text, not a {_shape(value)}")
            return None
        if wants_text:
            self._warn_yaml11(key)
        return value.strip()

    def _warn_yaml11(self, key: str) -> None:
        written = self.plain.get(key)
        if written is not None and not_text(written):
            self.problem(
                key,
                f"{key}: unquoted {written} is not text to other YAML parsers "
                f'(Obsidian, Hugo, PyYAML); write {key}: "{written}"',
            )

    def texts(self, key: str, *, wants_text: bool = True) -> tuple[str, ...]:
        """Return the text items of ``key``: one text, or a list of texts."""
        if not self.present(key):
            return ()
        value = self.raw[key]
        if isinstance(value, str):
            if wants_text:
                self._warn_yaml11(key)
            return (value.strip(),)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(v.strip() for v in value if v.strip() not in NULLS)
        self.problem(key, f"{key} must be text or a list of text")
        return ()

    def typed(self, key: str, parse: Callable[[str], T]) -> T | None:
        """Return the value of ``key`` parsed from its text; a bad value is a problem."""
        text = self.text(key, wants_text=False)
        if text is None:
            return None
        try:
            return parse(text)
        except ValueError as exc:
            self.problem(key, f"{key}: {exc}")
            return None

    def value(self, f: Field) -> Any:
        """Return the typed value of a plain (not structured) field of the table."""
        if f.kind == "text":
            return self.text(f.key)
        if f.kind == "texts":
            return self.texts(f.key)
        if f.kind == "optout":  # `opt_out: true` is a yes to "no outreach", not a topic
            return opt_out_items(self.texts(f.key, wants_text=False))
        parse = f.type.parse
        assert parse is not None, f.key
        return self.typed(f.key, parse)

    def customer(
        self, fallback_id: str, body_lines: list[str], body_start: int
    ) -> tuple[Customer | None, list[Problem]]:
        """Return the customer (None without a name) and every problem found on the way."""
        cid = self.text("id") or fallback_id
        name = self._name(cid)
        if not name:
            self.problems.insert(
                0, Problem(Location(self.path, 2), "missing 'name': every customer needs a name")
            )
            return None, self.problems
        values = {f.attr: self.value(f) for f in FIELDS if f.key not in _BY_HAND and f.attr}
        contact = self._contact()
        customer = Customer(
            id=cid,
            name=name,
            location=Location(self.path, 1),
            status=self._status(),
            dates=self._dates(),
            away=self._away(),
            address=self._address(),
            family=self._family(),
            contact=contact,
            log=tuple(read_log(self.path, body_lines, body_start, self.date_order, self.problems)),
            extra=tuple(
                (k, _flat(v))
                for k, v in self.raw.items()
                if k not in KNOWN_KEYS and self.present(k)
            ),
            body="\n".join(body_lines),
            **values,
        )
        if customer.hello is None:
            self.problem(
                "name",
                "an organisation with no contact person: add contact: {name: …, first_name: …} "
                "so messages greet a person"
                if customer.is_org
                else "no first_name: add one so greetings can use it",
                "warning",
            )
        self.problems.sort(key=problem_order)
        return customer, self.problems

    def _name(self, cid: str) -> str | None:
        """Return the name; one that is a list or mapping is a problem, and the id stands in."""
        value = self.raw.get("name")
        if self.present("name") and not isinstance(value, str):
            self.problem("name", f"name must be text, not a {_shape(value)}; shown as '{cid}'")
            return cid
        return self.text("name")

    def partial_date(self, text: str) -> PartialDate:
        """Return a birthday or other date of the file; slash dates read by ``date_order``."""
        return dates.parse_partial_date(text, self.date_order)

    def _status(self) -> Status:
        text = (self.text("status") or "active").lower()
        try:
            status = parse_status(text)
        except ValueError as exc:
            self.problem("status", str(exc))
            return "active"
        return next(s for s in STATUSES if s == status)

    def _dates(self) -> tuple[ImportantDate, ...]:
        found: list[ImportantDate] = []
        for key in ("birthday", "anniversary"):
            pd = self.typed(key, self.partial_date)
            if pd is not None:
                kind: DateKind = "birthday" if key == "birthday" else "anniversary"
                found.append(ImportantDate(kind, key.capitalize(), pd, True, self.at(key)))
        if not self.present("dates"):
            return tuple(found)
        items = self.raw["dates"]
        if not isinstance(items, list):
            self.problem("dates", "dates must be a list of {label, date, yearly}")
            return tuple(found)
        for n, item in enumerate(items, start=1):
            if not isinstance(item, dict) or not isinstance(item.get("date"), str):
                self.problem("dates", f"dates item {n} needs at least a 'date'")
                continue
            try:
                pd = self.partial_date(item["date"])
            except ValueError as exc:
                self.problem("dates", f"dates item {n}: {exc}")
                continue
            yearly_text = str(item.get("yearly", "true")).strip().lower()
            if yearly_text not in ("true", "false", "yes", "no"):
                self.problem("dates", f"dates item {n}: yearly must be true or false")
                continue
            yearly = yearly_text in ("true", "yes")
            if not yearly and pd.year is None:
                self.problem("dates", f"dates item {n}: a one-off date needs a year")
                continue
            label = item.get("label")
            label = label.strip() if isinstance(label, str) and label.strip() else "Date"
            found.append(ImportantDate("date", label, pd, yearly, self.at("dates")))
        return tuple(found)

    def _address(self) -> Address | None:
        """Return the address: text (one or several lines), or a mapping of parts."""
        if not self.present("address"):
            return None
        value = self.raw["address"]
        if isinstance(value, str):
            return Address(self.text("address"))
        if not isinstance(value, dict):
            self.problem(
                "address", f"address must be text or a mapping of {', '.join(ADDRESS_PARTS)}"
            )
            return None
        parts: dict[str, str] = {}
        extra: list[tuple[str, str]] = []
        for key, part in value.items():
            if not isinstance(part, str):
                self.problem("address", f"address: {key} must be text, not a {_shape(part)}")
                continue
            if part.strip() in NULLS:
                continue
            if key in ADDRESS_PARTS:
                parts[key] = part.strip()
            else:
                extra.append((str(key), part.strip()))
        if not parts:
            self.problem("address", f"address has none of {', '.join(ADDRESS_PARTS)}")
            return None
        return Address.from_parts(parts, tuple(extra))

    def _family(self) -> tuple[Relative, ...]:
        """Return the family and friends: a list of ``{name, relation, birthday}``."""
        if not self.present("family"):
            return ()
        items = self.raw["family"]
        if not isinstance(items, list):
            self.problem("family", "family must be a list of {name, relation, birthday}")
            return ()
        found: list[Relative] = []
        for n, item in enumerate(items, start=1):
            if isinstance(item, str) and item.strip():
                item = {"name": item}  # `family: [Lucía]`: a name alone
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str) or not name.strip():
                self.problem("family", f"family item {n} needs a 'name'")
                continue
            who = f"family item {n} ({name.strip()})"
            for key in ("relation", "birthday"):
                if item.get(key) is not None and not isinstance(item[key], str):
                    self.problem("family", f"{who}: {key} must be text, not a {_shape(item[key])}")
            relation = item.get("relation")
            relation = relation.strip() if isinstance(relation, str) and relation.strip() else None
            birthday = None
            born = item.get("birthday")
            if isinstance(born, str) and born.strip() not in NULLS:
                try:
                    birthday = self.partial_date(born)
                except ValueError as exc:
                    self.problem("family", f"{who}: birthday: {exc}")
            found.append(Relative(name.strip(), relation, birthday, self.at("family")))
        return tuple(found)

    def _contact(self) -> ContactPerson | None:
        """Return an organisation's contact person: a name, or ``{name, first_name}``."""
        if not self.present("contact"):
            return None
        value = self.raw["contact"]
        if isinstance(value, str):
            return ContactPerson(name=value.strip())
        if not isinstance(value, dict):
            self.problem("contact", "contact must be a name or a mapping of name and first_name")
            return None
        parts: dict[str, str] = {}
        for key in ("name", "first_name"):
            part = value.get(key)
            if part is None:
                continue
            if not isinstance(part, str):
                self.problem("contact", f"contact: {key} must be text, not a {_shape(part)}")
            elif part.strip() not in NULLS:
                parts[key] = part.strip()
        unknown = sorted(str(k) for k in value if k not in ("name", "first_name"))
        if not parts:
            self.problem("contact", "contact has neither name nor first_name")
            return None
        if unknown:
            self.problem(
                "contact",
                f"contact: {', '.join(unknown)} ignored (known: name, first_name)",
                "warning",
            )
        return ContactPerson(parts.get("name"), parts.get("first_name"))

    def _away(self) -> Away | None:
        if not self.present("away"):
            return None
        value = self.raw["away"]
        if isinstance(value, str):  # FROM..TO, the way the field table prints it
            parse = TYPES["away"].parse
            assert parse is not None
            away: Away | None = self.typed("away", parse)
            return away
        if not isinstance(value, dict) or not {"from", "to"} <= value.keys():
            self.problem("away", "away must be FROM..TO or a mapping with 'from' and 'to' dates")
            return None
        try:
            start = dates.parse_date(str(value["from"]))
            end = dates.parse_date(str(value["to"]))
        except ValueError as exc:
            self.problem("away", f"away: {exc}")
            return None
        if end < start:
            self.problem("away", f"away: 'to' ({end}) is before 'from' ({start})")
            return None
        return Away(start, end)


def _shape(value: Any) -> str:
    return "list" if isinstance(value, list) else "mapping" if isinstance(value, dict) else "value"


def _flat(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_flat(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_flat(v)}" for k, v in value.items())
    return str(value)
