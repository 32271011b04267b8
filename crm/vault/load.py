"""The vault on disk: find customer files, split front matter from body, parse into customers.

Every data problem comes back as a ``Problem`` value; nothing in here raises on bad input.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path, PurePath
from typing import Any, TypeVar

from crm.core import dates
from crm.core.config import CONFIG_NAME, Config
from crm.core.errors import CrmError
from crm.core.model import (
    STATUSES,
    Away,
    Customer,
    ImportantDate,
    Interaction,
    Location,
    Problem,
    Status,
)

MAX_FILE_BYTES = 1024 * 1024
SKIPPED_DIRS = ("templates",)

_BOUNDARY = re.compile(r"^---[ \t]*$")
_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$")
_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(.*?))?[ \t]*$")
_LOG_HEADING = re.compile(r"^##[ \t]+log[ \t]*#*[ \t]*$", re.IGNORECASE)
_HEADING = re.compile(r"^(#{1,6})[ \t]")
_BULLET = re.compile(r"^[-*+][ \t]+(?:\[([ xX])\][ \t]+)?(.*)$")
_ENTRY = re.compile(
    r"^(?P<date>\d[\d-]*)(?:[ \t]+(?P<time>\d{1,2}:\d{2}))?"
    r"(?:[ \t]+(?P<kind>[A-Za-z][\w-]*):(?:[ \t]+(?P<text>.*))?)?[ \t]*$"
)
# Unquoted plain scalars that a YAML 1.1 parser (PyYAML, Hugo's older parsers) reads as
# something other than text.
# _BULLET followed by _ENTRY, in one match: the common log line, where both would match.
_QUICK_ENTRY = re.compile(
    r"^[-*+][ \t]+(?:\[([ xX])\][ \t]+)?(\d{4}-\d{2}-\d{2})(?:[ \t]+(\d{1,2}:\d{2}))?"
    r"[ \t]+([A-Za-z][\w-]*):(?:[ \t]+(.*))?[ \t]*$"
)
_DAYS: dict[str, date] = {}  # the same few hundred log dates recur across a vault
_YAML11_SURPRISE = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
    r"|[-+]?0[0-9_]+|[-+]?(?:0|[1-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?)$"
)
_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])[&*][^\s,\]}]+")
_TEXT_FIELDS = ("name", "first_name", "last_name", "company", "address", "segment", "id")
_TEXT_OR_LIST_FIELDS = ("email", "phone")
_NULLS = ("", "~", "null", "Null", "NULL")
KNOWN_KEYS = frozenset(
    _TEXT_FIELDS
    + _TEXT_OR_LIST_FIELDS
    + (
        "tags", "status", "value", "likes", "dislikes", "birthday", "anniversary", "dates",
        "customer_since", "cadence", "last_contact", "next_contact", "snooze_until", "away",
        "max_contacts",
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Vault:
    """The customers of a vault and the problems met while loading it."""

    root: Path
    customers: tuple[Customer, ...]
    problems: tuple[Problem, ...]


def find_root(start: Path, explicit: str | None, env: str | None) -> Path:
    """Return the vault folder: ``explicit``, else ``env``, else the nearest ``crm.toml`` upwards."""
    chosen = explicit or env
    if chosen:
        root = Path(chosen)
        if not root.is_dir():
            raise CrmError(f"vault folder not found: {root}", exit_code=2)
        return root
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise CrmError(
        "no vault found: pass --vault DIR, set CRM_VAULT, or run inside a folder with crm.toml "
        "(crm init creates one)",
        exit_code=2,
    )


def find_files(root: Path, config: Config) -> tuple[list[Path], list[Problem]]:
    """Return the customer files under ``root`` (sorted) and problems with symlinks."""
    files: list[Path] = []
    problems: list[Problem] = []
    real_root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        folder = Path(dirpath)
        at_top = folder == root
        keep = []
        for d in sorted(dirnames):
            if d.startswith(".") or (at_top and d in SKIPPED_DIRS):
                continue
            sub = folder / d
            if sub.is_symlink():
                problems.extend(_symlink_problem(sub, real_root, "folder"))
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in filenames:
            if not name.endswith(".md") or name.startswith("."):
                continue
            if at_top and name.lower() == "readme.md":
                continue
            path = folder / name
            rel = path.relative_to(root).as_posix()
            if not _selected(rel, config):
                continue
            if path.is_symlink():
                found = _symlink_problem(path, real_root, "file")
                if found:
                    problems.extend(found)
                    continue
            files.append(path)
    files.sort()
    return files, problems


def _symlink_problem(path: Path, real_root: Path, what: str) -> list[Problem]:
    """Return a problem for a symlink that loops or leaves the vault; folders are never followed."""
    # A file's problems point at line 1 like any other; a folder has no lines.
    where = Location(path, 1 if what == "file" else None)
    try:
        target = path.resolve(strict=True)
    except RuntimeError:
        return [Problem(where, f"symlinked {what} loops; skipped")]
    except OSError:
        return [Problem(where, f"symlinked {what} points nowhere; skipped")]
    if not target.is_relative_to(real_root):
        return [Problem(where, f"symlinked {what} leaves the vault ({target}); skipped")]
    if what == "folder":
        # Inside the vault the real folder is walked anyway; following would count files twice.
        return [Problem(where, "symlinked folder inside the vault is not followed", "warning")]
    return []


def _selected(rel: str, config: Config) -> bool:
    if config.include and not any(glob_match(rel, g) for g in config.include):
        return False
    return not any(glob_match(rel, g) for g in config.exclude)


@functools.cache
def _glob_regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*/|\*\*|\*|\?)", pattern)
    wild = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wild.get(p, re.escape(p)) for p in parts))


def glob_match(rel: str, pattern: str) -> bool:
    """Return True when the vault-relative path matches: ``*`` stays in a folder, ``**`` crosses."""
    return _glob_regex(pattern).fullmatch(rel) is not None


def load_vault(root: Path, config: Config) -> Vault:
    """Return every customer under ``root`` with all problems; bad files never stop the load."""
    files, problems = find_files(root, config)
    parsed = (parse_path(path, root) for path in files)
    return assemble(root, parsed, problems)


def assemble(
    root: Path,
    parsed: Iterable[tuple[Customer | None, list[Problem]]],
    problems: Iterable[Problem] = (),
) -> Vault:
    """Return a vault from parsed files, reporting duplicate ids (see ``id_owner_first``)."""
    all_problems = list(problems)
    by_id: dict[str, list[Customer]] = {}
    for customer, file_problems in parsed:
        all_problems.extend(file_problems)
        if customer is not None:
            by_id.setdefault(customer.id, []).append(customer)
    seen: dict[str, Customer] = {}
    for cid, clash in by_id.items():
        clash.sort(key=lambda c: id_owner_first(cid, c.location.path))
        seen[cid] = clash[0]
        for loser in clash[1:]:
            all_problems.append(
                Problem(
                    loser.location,
                    f"duplicate id '{cid}' (also {_relative(clash[0].location, root)})",
                )
            )
    customers = tuple(sorted(seen.values(), key=lambda c: (c.name.casefold(), c.id)))
    all_problems.sort(key=problem_order)
    return Vault(root, customers, tuple(all_problems))


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def fenced_lines(lines: Sequence[str]) -> frozenset[int]:
    """Return the indexes of lines inside Markdown fenced code blocks, the fences included."""
    if not any("``" in line or "~~" in line for line in lines):
        return frozenset()
    inside: set[int] = set()
    opened: str | None = None
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if opened is None:
            if m:
                opened = m[1]
                inside.add(i)
        else:
            inside.add(i)
            if m and m[1][0] == opened[0] and len(m[1]) >= len(opened) and not line.strip(" `~\t"):
                opened = None
    return frozenset(inside)


def id_owner_first(cid: str, path: PurePath) -> tuple[bool, PurePath]:
    """Sort key for files claiming one id: the file named after it wins, then the first path."""
    return (path.stem != cid, path)


def _relative(where: Location, root: Path) -> Location:
    """Return ``where`` with its path relative to the vault root when it lies inside it."""
    try:
        return Location(where.path.relative_to(root), where.line)
    except ValueError:
        return where


def problem_order(p: Problem) -> tuple[str, int, str]:
    """Return a sort key that lists problems by file, then line."""
    return (str(p.location.path), p.location.line or 0, p.message)


def parse_path(path: Path, root: Path) -> tuple[Customer | None, list[Problem]]:
    """Return the customer in the file at ``path`` and its problems."""
    where = Location(path, 1)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [Problem(where, f"file is too large ({size} bytes; the limit is 1 MiB)")]
        data = path.read_bytes()
    except OSError as exc:
        return None, [Problem(where, f"cannot read file: {exc.strerror or exc}")]
    return parse_bytes(data, path, default_id(path, root))


def default_id(path: Path, root: Path) -> str:
    """Return the id a file gets when its front matter has none: its name without ``.md``."""
    return path.stem


def parse_bytes(data: bytes, path: Path, fallback_id: str) -> tuple[Customer | None, list[Problem]]:
    """Return the customer held by a file's bytes, and its problems (pure: no I/O)."""
    where = Location(path, 1)
    if len(data) > MAX_FILE_BYTES:
        return None, [Problem(where, f"file is too large ({len(data)} bytes; the limit is 1 MiB)")]
    if b"\x00" in data:
        nul_line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        return None, [
            Problem(Location(path, nul_line), "binary file (NUL byte); not a customer file")
        ]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        return None, [
            Problem(Location(path, bad_line), f"not UTF-8 text (byte 0x{bad}); save it as UTF-8")
        ]
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    if not text.strip():
        return None, [
            Problem(Location(path, 1), "empty file; a customer file starts with '---' front matter")
        ]
    if not _BOUNDARY.match(lines[0]):
        return None, [
            Problem(Location(path, 1), "no front matter: the file must start with a '---' line")
        ]
    end = next((i for i in range(1, len(lines)) if _END.match(lines[i])), None)
    if end is None:
        return None, [
            Problem(Location(path, 1), "front matter is not closed: add a '---' line after it")
        ]
    fm_lines = lines[1:end]
    raw, problem = _load_yaml("\n".join(fm_lines), path)
    if problem is not None:
        return None, [problem]
    if not isinstance(raw, dict):
        if raw in (None, ""):
            message = "front matter is empty: a customer needs at least a name"
        else:
            kind = "a list" if isinstance(raw, list) else "plain text"
            message = f"front matter must be a mapping of keys to values, not {kind}"
        return None, [Problem(Location(path, 2), message)]
    key_lines: dict[str, int] = {}
    plain: dict[str, str] = {}
    for number, text_line in enumerate(fm_lines, start=2):
        if m := _TOP_KEY.match(text_line):
            key_lines.setdefault(m[1], number)
            if m[2] is not None:
                plain[m[1]] = m[2]
    body_start = end + 2
    return _Fields(raw, path, key_lines, plain).customer(fallback_id, lines[end + 1 :], body_start)


def yaml_loader() -> Any:
    """Return PyYAML's loader that keeps every scalar as text (the C one when it is built).

    Typing is done field by field, so "no" stays "no" and "01234" stays "01234".
    """
    import yaml

    return getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def _load_yaml(text: str, path: Path) -> tuple[Any, Problem | None]:
    from crm.vault import fastyaml  # its large patterns compile only when a file is parsed

    simple = fastyaml.load(text)
    if simple is not None:
        return simple, None
    # Imported here: most front matter never needs PyYAML, and start-up time matters.
    import frontmatter.default_handlers
    import yaml

    try:
        raw = frontmatter.default_handlers.YAMLHandler().load(text, Loader=yaml_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark is not None else 1
        reason = exc.problem or exc.context or "syntax error"
        if exc.problem and exc.context and exc.context_mark is not None:
            # "while parsing a flow sequence" says where the broken construct began.
            reason += f" ({exc.context} started on line {exc.context_mark.line + 2})"
        return None, Problem(Location(path, line), f"invalid YAML: {reason}")
    except (yaml.YAMLError, ValueError) as exc:
        return None, Problem(Location(path, 1), f"invalid YAML: {exc}")
    if _has_alias(raw):
        line = next((n for n, t in enumerate(text.splitlines(), 2) if _ANCHOR.search(t)), 2)
        return None, Problem(
            Location(path, line), "YAML anchors and aliases (&name / *name) are not allowed"
        )
    return raw, None


def _has_alias(value: Any) -> bool:
    """Return True when a container appears twice, which only an alias can cause."""
    seen: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict | list):
            if id(item) in seen:
                return True
            seen.add(id(item))
            stack.extend(item.values() if isinstance(item, dict) else item)
    return False


T = TypeVar("T")


class _Fields:
    """Turns the text-only front matter mapping into typed customer fields, collecting problems."""

    def __init__(
        self, raw: dict[str, Any], path: Path, key_lines: dict[str, int], plain: dict[str, str]
    ):
        self.raw = raw
        self.path = path
        self.key_lines = key_lines
        self.plain = plain
        self.problems: list[Problem] = []

    def at(self, key: str) -> Location:
        return Location(self.path, self.key_lines.get(key, 2))

    def problem(self, key: str, message: str, severity: Any = "error") -> None:
        self.problems.append(Problem(self.at(key), message, severity))

    def present(self, key: str) -> bool:
        value = self.raw.get(key)
        return value is not None and not (isinstance(value, str) and value.strip() in _NULLS)

    def text(self, key: str, *, wants_text: bool = True) -> str | None:
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
        if written is not None and _YAML11_SURPRISE.match(written):
            self.problem(
                key,
                f"{key}: unquoted {written} is not text to other YAML parsers "
                f'(Obsidian, Hugo, PyYAML); write {key}: "{written}"',
            )

    def texts(self, key: str) -> tuple[str, ...]:
        if not self.present(key):
            return ()
        value = self.raw[key]
        if isinstance(value, str):
            self._warn_yaml11(key)
            return (value.strip(),)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(v.strip() for v in value if v.strip() not in _NULLS)
        self.problem(key, f"{key} must be text or a list of text")
        return ()

    def typed(self, key: str, parse: Callable[[str], T]) -> T | None:
        text = self.text(key, wants_text=False)
        if text is None:
            return None
        try:
            return parse(text)
        except ValueError as exc:
            self.problem(key, f"{key}: {exc}")
            return None

    def customer(
        self, fallback_id: str, body_lines: list[str], body_start: int
    ) -> tuple[Customer | None, list[Problem]]:
        name = self.text("name")
        if not name:
            self.problems.insert(
                0, Problem(Location(self.path, 2), "missing 'name': every customer needs a name")
            )
            return None, self.problems
        customer_id = self.text("id") or fallback_id
        first_name = self.text("first_name")
        if first_name is None:
            self.problem(
                "name",
                "no first_name: add one so greetings can use it",
                "warning",
            )
        status_text = (self.text("status") or "active").lower()
        status: Status = "active"
        if status_text in STATUSES:
            status = status_text
        else:
            self.problem(
                "status", f"status must be one of {', '.join(STATUSES)}, not '{status_text}'"
            )
        log = tuple(self._log(body_lines, body_start))
        customer = Customer(
            id=customer_id,
            name=name,
            location=Location(self.path, 1),
            first_name=first_name,
            last_name=self.text("last_name"),
            emails=self.texts("email"),
            phones=self.texts("phone"),
            company=self.text("company"),
            address=self.text("address"),
            tags=self.texts("tags"),
            segment=self.text("segment"),
            status=status,
            value=self.typed("value", _number),
            likes=self.texts("likes"),
            dislikes=self.texts("dislikes"),
            dates=self._dates(),
            customer_since=self.typed("customer_since", dates.parse_date),
            cadence=self.typed("cadence", dates.parse_span),
            last_contact=self.typed("last_contact", dates.parse_date),
            next_contact=self.typed("next_contact", dates.parse_datetime),
            snooze_until=self.typed("snooze_until", dates.parse_date),
            away=self._away(),
            max_contacts=self.typed("max_contacts", dates.parse_cap),
            log=log,
            extra=tuple(
                (k, _flat(v))
                for k, v in self.raw.items()
                if k not in KNOWN_KEYS and self.present(k)
            ),
            body="\n".join(body_lines),
        )
        self.problems.sort(key=problem_order)
        return customer, self.problems

    def _dates(self) -> tuple[ImportantDate, ...]:
        found: list[ImportantDate] = []
        for key in ("birthday", "anniversary"):
            pd = self.typed(key, dates.parse_partial_date)
            if pd is not None:
                found.append(ImportantDate(key, key.capitalize(), pd, True, self.at(key)))
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
                pd = dates.parse_partial_date(item["date"])
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

    def _away(self) -> Away | None:
        if not self.present("away"):
            return None
        value = self.raw["away"]
        if not isinstance(value, dict) or not {"from", "to"} <= value.keys():
            self.problem("away", "away must be a mapping with 'from' and 'to' dates")
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

    def _log(self, body_lines: list[str], body_start: int) -> Iterator[Interaction]:
        in_log = False
        path = self.path
        fenced = fenced_lines(body_lines)
        for offset, line in enumerate(body_lines):
            if fenced and offset in fenced:
                continue  # an example inside ``` is text, not a heading or an entry
            if in_log and (quick := _QUICK_ENTRY.match(line)):
                # The usual well-formed entry, matched in one go; anything else takes the
                # general path below, which reports the problem.
                task, day_text, at_text, kind, text = quick.groups()
                day = _DAYS.get(day_text) or _day(day_text)
                at = _time(at_text) if at_text else None
                if day is not None and (at is not None or not at_text):
                    kind = kind.lower()
                    yield Interaction(
                        day=day,
                        time=at,
                        kind=kind,
                        text=(text or "").strip(),
                        is_contact=kind != "note" and task != " ",
                        location=Location(path, body_start + offset),
                    )
                    continue
            if h := _HEADING.match(line):
                if _LOG_HEADING.match(line):
                    in_log = True
                elif len(h[1]) <= 2:
                    in_log = False
                continue
            if not in_log or not (b := _BULLET.match(line)):
                continue
            where = Location(self.path, body_start + offset)
            task, rest = b[1], b[2]
            entry = _ENTRY.match(rest)
            if entry is None or entry["kind"] is None:
                if task == " " and not rest[:1].isdigit():
                    continue  # a plain to-do without a date
                self.problems.append(
                    Problem(where, "log entry must read '- YYYY-MM-DD [HH:MM] kind: text'")
                )
                continue
            try:
                day = dates.parse_date(entry["date"])
                at = dates.parse_time(entry["time"]) if entry["time"] else None
            except ValueError as exc:
                self.problems.append(Problem(where, f"log entry: {exc}"))
                continue
            kind = entry["kind"].lower()
            yield Interaction(
                day=day,
                time=at,
                kind=kind,
                text=(entry["text"] or "").strip(),
                is_contact=kind != "note" and task != " ",
                location=where,
            )


def _day(text: str) -> date | None:
    """Return the log date ``text`` (memoised), or None when it is not a real date."""
    try:
        day = dates.parse_date(text)
    except ValueError:
        return None
    if len(_DAYS) < 100_000:
        _DAYS[text] = day
    return day


def _time(text: str) -> time | None:
    try:
        return dates.parse_time(text)
    except ValueError:
        return None


def _number(text: str) -> float:
    try:
        number = float(text.replace("_", ""))
    except ValueError:
        raise ValueError(f"'{text}' is not a number") from None
    if not math.isfinite(number):  # nan and inf are no value, and not valid JSON either
        raise ValueError(f"'{text}' is not a number")
    return number


def _shape(value: Any) -> str:
    return "list" if isinstance(value, list) else "mapping" if isinstance(value, dict) else "value"


def _flat(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_flat(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_flat(v)}" for k, v in value.items())
    return str(value)
