"""Minimal, validated, atomic edits of customer files (no click).

Three capabilities, used by the CLI and by importers:

- ``new_customer(root, config, name, fields, today=...) -> NewCustomer``: create a customer file
  from ``templates/customer.md`` (or the built-in template) with a slug file name; refuses to
  overwrite and warns about a customer with the same name or email.
- ``apply_changes(path, changes) -> EditResult``: set, extend (``+=``), shrink (``-=``) or unset
  front-matter keys, touching only the lines of those keys.
- ``append_log(path, day, kind, text, time=None)``: add one ``- YYYY-MM-DD kind: text`` line to
  the ``## Log`` section, in date order and in the file's own bullet style.

Every edit works on the file's lines, never on a re-dumped YAML document, so comments, key order,
quoting, list style, CRLF, a BOM and trailing whitespace elsewhere stay byte-for-byte. The result
is re-parsed with the loader and refused if it has a problem the original did not have; a file
whose front matter is already broken is refused with the located problem. Writes are atomic and
guarded by ``<file>.lock`` and by a fingerprint of what was read (see ``crm.edit.atomic``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Literal

from crm.core import dates
from crm.core.errors import CrmError
from crm.core.fields import FIELDS, OPT_OUT_EVERYTHING, opt_out_items, opt_out_word
from crm.core.model import OPT_OUT_ALL, Customer, Problem
from crm.edit import atomic, difftext
from crm.edit.lines import Doc
from crm.edit.logsection import add_log_entry
from crm.edit.names import NAME_KEYS, name_problem
from crm.vault.parse import parse_bytes, yaml_loader

Op = Literal["=", "+=", "-=", "unset"]
# From the field table: which keys hold lists, which hold text, which the loader parses.
LIST_KEYS = tuple(f.key for f in FIELDS if f.is_list and not f.single)
TEXT_OR_LIST_KEYS = tuple(f.key for f in FIELDS if f.is_list and f.single)
_LIST_FIELDS = {f.key: f.attr for f in FIELDS if f.is_list and f.attr}
_TEXT_FIELDS = tuple(f.key for f in FIELDS if f.kind == "text" and f.key != "id")
# Keys whose values the loader parses (dates, spans, numbers), so YAML 1.1 typing cannot hurt them.
TYPED_KEYS = tuple(f.key for f in FIELDS if f.is_parsed)
_KEY = re.compile(r"^[A-Za-z_][\w-]*$")
_KIND = re.compile(r"^[A-Za-z][\w-]*$")


@dataclass(frozen=True, slots=True)
class Change:
    """One front-matter change: ``key=value``, ``key+=item``, ``key-=item`` or unset ``key``."""

    key: str
    op: Op
    value: str | None = None

    def __str__(self) -> str:
        return self.key if self.op == "unset" else f"{self.key}{self.op}{self.value}"


@dataclass(frozen=True, slots=True)
class EditResult:
    """What an edit did: ``changed`` is False when the file already said so (nothing written)."""

    path: Path
    before: str
    after: str

    @property
    def changed(self) -> bool:
        """Return True when the file's text changed."""
        return self.before != self.after

    def diff(self, context: int = 0) -> str:
        """Return a unified diff of the edit (empty when nothing changed), LF line endings."""
        names = (f"a/{self.path.name}", f"b/{self.path.name}")
        return difftext.unified(
            _display_lines(self.before), _display_lines(self.after), names, context
        )

    def added(self) -> list[tuple[int, str]]:
        """Return the 1-based line number and text of every line the edit added or changed."""
        return difftext.added(self.before.splitlines(), self.after.splitlines())


def parse_change(text: str) -> Change:
    """Return ``key=value``, ``key+=item`` or ``key-=item`` as a change."""
    m = re.fullmatch(r"([A-Za-z_][\w-]*?)\s*(\+=|-=|=)(.*)", text, re.DOTALL)
    if not m:
        raise CrmError(
            f"'{text}' is not a change (expected key=value, key+=item or key-=item)", exit_code=2
        )
    if m[1] == "dates":
        # Only importers write a whole dates list (as a flow list); by hand it is crm edit's job.
        raise CrmError("dates is a list of mappings; change it with crm edit", exit_code=2)
    op: Op = m[2]  # type: ignore[assignment]  # the regex allows no other
    return Change(m[1], op, m[3].strip())


def apply_changes(path: Path, changes: Sequence[Change], *, dry_run: bool = False) -> EditResult:
    """Apply ``changes`` to the front matter of ``path``, validated and atomically."""
    changes = _one_item_each(changes)
    for change in changes:
        _check_change(change)
    path = _real(path)
    with atomic.locked(path):
        data, seen = atomic.read(path)
        _refuse_broken(path, data, frozenset(c.key for c in changes))
        new = changed_doc(Doc.parse(data), changes).to_bytes()
        validated(path, data, new, changes)
        if new != data and not dry_run:
            atomic.replace(path, new, seen)
    return EditResult(path, _text(data), _text(new))


def append_log(path: Path, day: date, kind: str, text: str, time: time | None = None) -> EditResult:
    """Add one entry to the ``## Log`` section of ``path`` (created when missing)."""
    if not _KIND.match(kind):
        raise CrmError(
            f"'{kind}' is not a log kind (one word, e.g. call, visit, email)", exit_code=2
        )
    text = text.strip()
    if not text:
        raise CrmError(
            f'say what happened: crm log NAME "{kind}: asked about the spring offers"',
            exit_code=2,
        )
    if "\n" in text or "\r" in text:
        raise CrmError("a log entry is one line; put longer notes in the body", exit_code=2)
    stamp = day.isoformat() + (f" {time:%H:%M}" if time else "")
    entry = f"{stamp} {kind.lower()}: {text}"
    path = _real(path)
    with atomic.locked(path):
        data, seen = atomic.read(path)
        _refuse_broken(path, data, frozenset())
        doc = Doc.parse(data)
        add_log_entry(doc, entry, day)
        new = doc.to_bytes()
        customer = validated(path, data, new, [])
        logged = [i for i in customer.log if i.day == day and i.kind == kind.lower()]
        if not any(i.text == text and i.time == time for i in logged):
            raise CrmError(
                f"{path}: the new entry would not be read back as a log entry; nothing written"
            )
        atomic.replace(path, new, seen)
    return EditResult(path, _text(data), _text(new))


def _real(path: Path) -> Path:
    """Return the file a symlink points to: replacing the link itself would cut it loose."""
    return path.resolve() if path.is_symlink() else path


def _display_lines(text: str) -> list[str]:
    # CR and the BOM are kept in the file; a diff shown in a terminal is clearer without them.
    return [line.removesuffix("\r") for line in text.removeprefix("\ufeff").split("\n")]


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _check_change(change: Change) -> None:
    if not _KEY.match(change.key):
        raise CrmError(f"'{change.key}' is not a front-matter key", exit_code=2)
    if change.key == "dates" and not _flow_dates(change):
        raise CrmError("dates is a list of mappings; change it with crm edit", exit_code=2)
    if change.op in ("+=", "-=") and change.key not in LIST_KEYS + TEXT_OR_LIST_KEYS:
        lists = ", ".join(LIST_KEYS + TEXT_OR_LIST_KEYS)
        raise CrmError(f"{change.op} works on list fields ({lists}), not {change.key}", exit_code=2)
    if change.op == "unset" and change.key == "name":
        raise CrmError("name cannot be unset: every customer needs a name", exit_code=2)
    if change.op != "unset" and change.value is None:
        raise CrmError(f"{change.key}: a value is needed", exit_code=2)
    if change.key in NAME_KEYS and change.op == "=":
        if why := name_problem(change.key, change.value or ""):
            raise CrmError(why, exit_code=2)


def _flow_dates(change: Change) -> bool:
    """Return True for ``dates=[{...}, ...]`` on one line, the only dates change allowed."""
    value = (change.value or "").strip()
    one_line = not any(c in value for c in "\r\n")
    return change.op == "=" and one_line and value.startswith("[{") and value.endswith("}]")


def changed_doc(doc: Doc, changes: Sequence[Change]) -> Doc:
    for change in map(_said, changes):
        _check_change(change)
        value = change.value or ""
        if change.op == "unset":
            doc.unset(change.key)
        elif change.op == "+=":
            doc.add_item(change.key, value.strip(), scalar_ok=change.key in TEXT_OR_LIST_KEYS)
        elif change.op == "-=" and change.key == "opt_out" and value == OPT_OUT_ALL:
            for word in doc.items("opt_out"):  # any word of everything the file holds
                if word[0].casefold() in OPT_OUT_EVERYTHING:
                    doc.remove_item("opt_out", word[0])
        elif change.op == "-=":
            doc.remove_item(change.key, value.strip())
        elif change.key in LIST_KEYS:
            doc.set_list(change.key, _items(value))
        elif change.key in TEXT_OR_LIST_KEYS and ("," in value or _bracketed(value)):
            doc.set_list(change.key, _items(value))
        elif change.key == "dates":
            # A whole flow list of mappings, as importers write it; the re-parse validates it.
            doc._put("dates", doc.span("dates"), value.strip())
        elif change.key in _MAPPING_KEYS and (parts := _flow_mapping(change.key, value)):
            # The parts of an address or a contact person as one flow mapping, as importers
            # write it.
            doc.set_mapping(change.key, parts, typed=False, replace=True)
        elif change.key == "away":
            start, end = _away(value)
            doc.set_mapping("away", {"from": start, "to": end})
        else:
            doc.set_scalar(change.key, value.strip(), typed=change.key in TYPED_KEYS)
    return doc


def _said(change: Change) -> Change:
    """Return ``opt_out=true`` as ``opt_out=all``, ``opt_out+=yes`` as ``opt_out+=all`` and
    ``opt_out=no`` as unsetting it: the word written is the one every reader takes as meant."""
    if change.key != "opt_out" or change.op == "unset":
        return change
    if change.op != "=":
        return Change("opt_out", change.op, opt_out_word(change.value or "") or change.value)
    meant = opt_out_items(tuple(_items(change.value or "")))
    return Change("opt_out", "=", ", ".join(meant)) if meant else Change("opt_out", "unset")


def _one_item_each(changes: Sequence[Change]) -> list[Change]:
    """Return ``key+=[a, b]`` (and ``-=``) as one change per item, the way a person means it."""
    found: list[Change] = []
    for change in changes:
        if change.op in ("+=", "-=") and _bracketed(change.value or ""):
            found.extend(Change(change.key, change.op, item) for item in _items(change.value or ""))
        else:
            found.append(change)
    return found


_MAPPING_KEYS = ("address", "contact")


def _flow_mapping(key: str, value: str) -> dict[str, str] | None:
    """Return ``{key: text, ...}`` written on one line as a mapping; None for any other value."""
    import yaml

    value = value.strip()
    if not (value.startswith("{") and value.endswith("}")) or any(c in value for c in "\r\n"):
        return None
    try:
        parsed = yaml.load(value, Loader=yaml_loader())
    except yaml.YAMLError:
        raise CrmError(f"{key}: '{value}' is not a mapping of parts", exit_code=2) from None
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        raise CrmError(f"{key}: '{value}' is not a mapping of parts", exit_code=2)
    return {str(k): v for k, v in parsed.items()}


def _bracketed(value: str) -> bool:
    text = value.strip()
    return text.startswith("[") and text.endswith("]")


def _items(value: str) -> list[str]:
    """Return the items of a list value: ``a, b``, or ``[a, b]`` whose items may be quoted."""
    if not _bracketed(value):
        return [item.strip() for item in value.split(",") if item.strip()]
    items, current, quote = [], "", ""
    for ch in value.strip()[1:-1]:
        if quote:
            current += ch
            quote = "" if ch == quote and not current.endswith("\\" + ch) else quote
        elif ch in "\"'" and not current.strip():
            current, quote = ch, ch
        elif ch == ",":
            items.append(current)
            current = ""
        else:
            current += ch
    return [_unquote(item.strip()) for item in [*items, current] if item.strip()]


def _unquote(item: str) -> str:
    if len(item) >= 2 and item[0] == item[-1] == '"':
        return item[1:-1].replace('\\"', '"')
    if len(item) >= 2 and item[0] == item[-1] == "'":
        return item[1:-1].replace("''", "'")
    return item


def _away(value: str) -> tuple[str, str]:
    try:
        start, end = dates.parse_range(value)
    except ValueError as exc:
        raise CrmError(f"away: {exc}", exit_code=2) from None
    return start.isoformat(), end.isoformat()


def _errors(problems: Sequence[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def _refuse_broken(path: Path, data: bytes, keys: frozenset[str]) -> None:
    """Refuse a file with errors, unless every error sits on a key this edit replaces."""
    customer, problems = parse_bytes(data, path, path.stem)
    errors = _errors(problems)
    if customer is not None and keys and errors:
        try:
            doc = Doc.parse(data)
        except CrmError:  # a merge conflict: its problem says where, in the listing below
            doc = None
        if doc is not None:
            lines = {n for key in keys for n in doc.key_line_numbers(key)}
            errors = [p for p in errors if p.location.line not in lines]
    if customer is None or errors:
        listing = "\n".join(f"  {p}" for p in (errors or _errors(problems)))
        raise CrmError(
            f"refusing to edit {path}: fix its problems first (crm edit):\n{listing}", exit_code=1
        )


def validated(path: Path, old: bytes, new: bytes, changes: Sequence[Change]) -> Customer:
    """Return the customer of ``new``; refuse it when it has an error ``old`` did not have."""
    customer = _without_new_errors(path, old, new, changes)
    before, _ = parse_bytes(old, path, path.stem)
    for key, want in _expected(before, changes).items():
        got = getattr(customer, _LIST_FIELDS.get(key, key))
        if got != want:
            raise CrmError(
                f"not written: {key} would read back as {got!r}, not {want!r}; "
                "change it with crm edit",
            )
    return customer


def _expected(before: Customer | None, changes: Sequence[Change]) -> dict[str, object]:
    """Return what each list or text field must read back as after ``changes``."""
    want: dict[str, object] = {}
    for change in changes:
        key, value = change.key, (change.value or "").strip()
        if key == "opt_out":
            value = opt_out_word(value) or value
        if key in _LIST_FIELDS:
            current = want.get(key)
            items = current if isinstance(current, tuple) else ()
            if current is None and before is not None:
                items = getattr(before, _LIST_FIELDS[key])
            if change.op == "unset":
                items = ()
            elif change.op == "=":
                items = tuple(_items(value))
            elif change.op == "+=":
                items = items if value in items else (*items, value)
            else:
                items = tuple(i for i in items if i != value)
            want[key] = opt_out_items(items) if key == "opt_out" else items
        elif key in _TEXT_FIELDS and change.op == "unset":
            want[key] = None
        elif key in _TEXT_FIELDS and value:
            want[key] = value
    return want


def _without_new_errors(path: Path, old: bytes, new: bytes, changes: Sequence[Change]) -> Customer:
    _, old_problems = parse_bytes(old, path, path.stem)
    customer, new_problems = parse_bytes(new, path, path.stem)
    fresh = Counter(p.message for p in _errors(new_problems))
    fresh.subtract(p.message for p in _errors(old_problems))
    added = [m for m, n in fresh.items() if n > 0]
    if customer is None or added:
        what = ", ".join(str(c) for c in changes) or "the edit"
        reasons = "; ".join(added or [p.message for p in new_problems])
        raise CrmError(f"not written: {what}: {reasons}", exit_code=2)
    return customer


__all__ = [
    "Change",
    "EditResult",
    "append_log",
    "apply_changes",
    "parse_change",
]
