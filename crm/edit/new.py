"""Creating a customer file: a slug file name, the vault's template, validated fields."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from crm.core.config import Config
from crm.core.errors import CrmError
from crm.core.fields import parse_entity
from crm.core.model import Customer
from crm.edit import atomic
from crm.edit.changes import Change, changed_doc, validated
from crm.edit.init import TEMPLATE_TEXT
from crm.edit.lines import Doc
from crm.edit.names import name_problem
from crm.edit.yamltext import double_quoted, render_scalar, single_quoted
from crm.vault.load import load_vault
from crm.vault.syntax import front_matter_end

_TRANSLIT = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "đ": "d",
     "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH", "ı": "i"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class NewCustomer:
    """A created customer file and warnings such as a customer with the same name or email."""

    path: Path
    warnings: tuple[str, ...] = ()


# Names Windows keeps for devices, whatever the extension: a vault may be synced to one.
_RESERVED = frozenset(
    ["con", "prn", "aux", "nul", *(f"{p}{n}" for p in ("com", "lpt") for n in range(1, 10))]
)
# Marks (a decomposed "ë") and format characters (a right-to-left mark) a given name may hold.
_NAME_MARKS = frozenset(["Mn", "Mc", "Me", "Cf"])
MAX_STEM_BYTES = 100  # well inside the 255 bytes a file name may have, with room for ".md"


def slug(name: str) -> str:
    """Return a file-name stem for ``name``: ASCII when it transliterates, else readable Unicode.

    Always a safe name: never empty, at most ``MAX_STEM_BYTES`` of UTF-8 (cut at a hyphen when
    it can be), and never a name Windows reserves (``con``, ``nul``, ``com1``...).
    """
    folded = unicodedata.normalize("NFKD", name.translate(_TRANSLIT))
    ascii_text = folded.encode("ascii", "ignore").decode().lower()
    stem = re.sub(r"[^a-z0-9]+", "-", ascii_text.replace("'", "")).strip("-")
    if not stem or len(stem) * 2 < len(re.sub(r"\W", "", name)):
        # Mostly non-Latin names (李伟, Ελένη) stay readable instead of collapsing to nothing.
        stem = re.sub(r"[^\w]+", "-", name.casefold()).strip("-_") or "customer"
    if len(stem.encode()) > MAX_STEM_BYTES:
        cut = stem.encode()[:MAX_STEM_BYTES].decode(errors="ignore")
        stem = (cut.rpartition("-")[0] or cut).strip("-_")
    return f"{stem}-customer" if stem in _RESERVED else stem


def new_customer(
    root: Path,
    config: Config,
    name: str,
    fields: Mapping[str, object],
    *,
    today: date,
    existing: Sequence[Customer] | None = None,
    body: str | None = None,
) -> NewCustomer:
    """Create the customer ``name`` from the vault's template and return its path and warnings.

    Same-name and same-email warnings compare with ``existing``, or with the vault loaded afresh.
    ``body``, when given, replaces everything after the template's front matter.
    """
    name = name.strip()  # as every reader of the file trims it
    if not name:
        raise CrmError("a customer needs a name", exit_code=2)
    if why := name_problem("name", name):
        raise CrmError(why, exit_code=2)
    path = _new_path(root, config, name)
    template = _without_hints(_template(root))
    first, last = name_parts(name)
    values = {"name": name, "first_name": first, "last_name": last, "today": today.isoformat()}
    text = _fill(template, values)
    if body is not None:
        head = Doc.parse(text.encode())
        kept = head.lines[: head.fm_end + 1]
        kept[-1] = head.content(kept[-1]) + head.ending(head.fm_end)
        text = "".join(kept) + body
    changes = [_field_change(key, value) for key, value in fields.items()]
    if is_org(name, fields):
        # An organisation has no first or last name: none is invented from its name.
        changes += [Change("first_name", "unset"), Change("last_name", "unset")]
        if "kind" not in fields:
            changes.append(Change("kind", "=", "org"))
    data = changed_doc(Doc.parse(text.encode()), changes).to_bytes()
    # Compared with an empty file, every error of the new file is new: any refuses the write.
    customer = validated(path, b"", data, changes)
    others = load_vault(root, config).customers if existing is None else existing
    warnings = _similar(others, customer)
    if not first and customer.hello is None and not customer.is_org:
        warnings.append(
            f"no first_name: '{name}' does not start with a given name; "
            "add one so greetings can use it"
        )
    atomic.replace(path, data, None)
    return NewCustomer(path, tuple(warnings))


def name_parts(name: str) -> tuple[str, str]:
    """Return the first and last name a full name suggests: its first word and the rest.

    A first word that is no given name (``- Bob``, ``a: b``, ``#1 Fan``, ``3M``) suggests
    neither: ``("", "")``. A given name holds a letter, and besides letters only the marks,
    apostrophes, hyphens and dots names are written with (``Zoë``, ``O'Brien``, ``J.``).
    """
    first, last = (*name.split(None, 1), "")[:2]
    if not any(c.isalpha() for c in first) or not all(map(_in_given_name, first)):
        return "", ""
    return first, last


def _in_given_name(c: str) -> bool:
    return c.isalpha() or c in "'\u2019.-\u2010" or unicodedata.category(c) in _NAME_MARKS


def is_org(name: str, fields: Mapping[str, object]) -> bool:
    """Return True when a new customer is an organisation: ``kind: org``, or named as its
    company with no first or last name given (``crm new "Acme" --company Acme``)."""
    kind = fields.get("kind")
    if isinstance(kind, str):
        try:
            return parse_entity(kind) == "org"
        except ValueError:
            return False  # the new file's check names the bad kind
    company = fields.get("company")
    return (
        isinstance(company, str)
        and company.strip().casefold() == name.casefold()
        and not fields.get("first_name")
        and not fields.get("last_name")
    )


def _new_path(root: Path, config: Config, name: str) -> Path:
    folder = root
    if config.include:
        # A vault that selects customers by include globs gets new files where they are looked for.
        prefix = re.split(r"[*?\[]", config.include[0], maxsplit=1)[0]
        folder = root / prefix.rpartition("/")[0]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug(name)}.md"
    if path.exists():
        raise CrmError(f"refusing to overwrite {path}: it already exists", exit_code=1)
    return path


def _template(root: Path) -> str:
    """Return the vault's customer template, or the built-in one when it has none."""
    path = root / "templates" / "customer.md"
    if not path.is_file():
        return TEMPLATE_TEXT
    try:
        text = path.read_bytes().decode("utf-8")
        Doc.parse(text.encode())
    except (OSError, UnicodeDecodeError, CrmError) as exc:
        raise CrmError(f"cannot use {path}: {exc}") from None
    return text.removeprefix("\ufeff")


def _without_hints(template: str) -> str:
    """Return the template without the comment lines of its front matter: hints for whoever
    edits the template, not part of every customer (a comment after a value stays)."""
    lines = template.splitlines(keepends=True)
    end = front_matter_end([line.rstrip("\r\n") for line in lines])
    if isinstance(end, str):
        return template
    kept = [
        line for n, line in enumerate(lines) if not (0 < n < end and line.lstrip().startswith("#"))
    ]
    return "".join(kept)


def _fill(template: str, values: Mapping[str, str]) -> str:
    """Return ``template`` with each ``{key}`` of ``values`` replaced, in one pass: a value
    that holds a placeholder (``crm new "{today} Smith"``) is kept as typed."""
    keys = "|".join(map(re.escape, values))
    placeholder = re.compile(rf"([\"']?)\{{({keys})\}}\1")

    def filled_in(m: re.Match[str]) -> str:
        quote, key = m[1], m[2]
        value = values[key]
        # A placeholder the template quotes keeps its quotes, with what they need escaped.
        if quote == '"':
            return double_quoted(value)
        if quote == "'":
            return single_quoted(value) or double_quoted(value)
        return render_scalar(value, typed=key == "today") if value else ""

    out = []
    for line in template.splitlines(keepends=True):
        filled = placeholder.sub(filled_in, line)
        if filled != line:
            ending = line[len(line.rstrip("\r\n")) :]
            filled = filled.rstrip("\r\n").rstrip() + ending
        out.append(filled)
    return "".join(out)


def _field_change(key: str, value: object) -> Change:
    if isinstance(value, date):
        return Change(key, "=", value.isoformat())
    if isinstance(value, str):
        return Change(key, "=", value)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        if any("," in v for v in value):
            raise CrmError(f"{key}: list items may not contain commas", exit_code=2)
        return Change(key, "=", ", ".join(value))
    raise CrmError(f"{key}: unsupported value {value!r}", exit_code=2)


def _similar(customers: Sequence[Customer], new: Customer) -> list[str]:
    warnings = []
    emails = {e.casefold() for e in new.emails}
    same = " ".join(new.name.split()).casefold()
    for other in customers:
        if " ".join(other.name.split()).casefold() == same:
            warnings.append(f"a customer named '{other.name}' already exists: {other.location}")
        for email in other.emails:
            if email.casefold() in emails:
                warnings.append(f"{email} is also the email of {other.name}: {other.location}")
    return warnings
