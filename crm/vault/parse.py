"""Parsing one customer file: bytes to front matter and body, then to a ``Customer``.

Every data problem comes back as a ``Problem`` value; nothing in here raises on bad input.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from crm.core.dates import DateOrder, parse_date, parse_range
from crm.core.model import Customer, Location, Problem
from crm.vault.reader import FrontMatter, problem_order
from crm.vault.syntax import TOP_KEY, front_matter_end

# Past this size a file still loads in full, with a warning: every command reads it again.
LARGE_FILE_BYTES = 10 * 1000 * 1000
_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])[&*][^\s,\]}]+")

Parsed = tuple[Customer | None, list[Problem]]


def parse_path(path: Path, root: Path, *, date_order: DateOrder | None = None) -> Parsed:
    """Return the customer in the file at ``path`` and its problems.

    ``date_order`` (``[vault] date_order``) says how slash dates in the log read.
    """
    where = Location(path, 1)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [Problem(where, f"cannot read file: {exc.strerror or exc}")]
    return parse_bytes(data, path, default_id(path, root), date_order=date_order)


def key_line(path: Path, key: str) -> int | None:
    """Return the line on which the front matter of the file at ``path`` writes ``key``."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    end = front_matter_end(lines)
    if isinstance(end, str):
        return None
    return next(
        (n for n, t in enumerate(lines[1:end], 2) if (m := TOP_KEY.match(t)) and m[1] == key),
        None,
    )


def default_id(path: Path, root: Path) -> str:
    """Return the id a file gets when its front matter has none: its name without ``.md``."""
    return path.stem


def parse_bytes(
    data: bytes, path: Path, fallback_id: str, *, date_order: DateOrder | None = None
) -> Parsed:
    """Return the customer held by a file's bytes, and its problems (pure: no I/O)."""
    customer, problems = _parse(data, path, fallback_id, date_order)
    if len(data) > LARGE_FILE_BYTES:
        problems.insert(0, large_file_problem(path, len(data)))
    return customer, problems


def large_file_problem(path: Path, size: int) -> Problem:
    """Return the warning for a file past ``LARGE_FILE_BYTES``, which still loads in full."""
    return Problem(
        Location(path, 1),
        f"file is {size / 1e6:.1f} MB (over {LARGE_FILE_BYTES // 1_000_000} MB): it loads, "
        "but every command reads all of it; move pasted mail or old notes elsewhere",
        "warning",
    )


def _parse(data: bytes, path: Path, fallback_id: str, date_order: DateOrder | None) -> Parsed:
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
    end = front_matter_end(lines)
    if isinstance(end, str):
        return None, [Problem(Location(path, 1), end)]
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
    repeated: dict[str, list[int]] = {}  # a key written twice: every line it is on
    for number, text_line in enumerate(fm_lines, start=2):
        if m := TOP_KEY.match(text_line):
            if m[1] in key_lines:
                repeated.setdefault(m[1], [key_lines[m[1]]]).append(number)
            else:
                key_lines[m[1]] = number
            if m[2] is not None:
                plain[m[1]] = m[2]
    found: list[Problem] = []
    if repeated:
        found = strictest(raw, repeated, fm_lines, path)
    reader = FrontMatter(raw, path, key_lines, plain, date_order)
    customer, problems = reader.customer(fallback_id, lines[end + 1 :], end + 2)
    return customer, sorted([*found, *problems], key=problem_order)


def strictest(
    raw: dict[str, Any], repeated: dict[str, list[int]], fm_lines: list[str], path: Path
) -> list[Problem]:
    """Return an error for each key written more than once, naming its lines, and set ``raw``
    to the stricter reading of the keys that hold someone back (``STRICT``): until the file is
    fixed, nobody is written to because a later line quietly undid an earlier no."""
    problems = []
    tops = [n for n, t in enumerate(fm_lines, start=2) if TOP_KEY.match(t)]
    for key, at in repeated.items():
        lines = ", ".join(map(str, at[:-1])) + f" and {at[-1]}"
        rule = STRICT.get(key)
        reading = f"until then {rule[0]} counts" if rule else "until then the last one counts"
        message = f"{key} is written {len(at)} times (lines {lines}): keep one; {reading}"
        problems.append(Problem(Location(path, at[-1]), message))
        if rule is None:
            continue
        values = []
        for start in at:
            stop = next((n for n in tops if n > start), len(fm_lines) + 2)
            block, _ = _load_yaml("\n".join(fm_lines[start - 2 : stop - 2]), path)
            if isinstance(block, dict) and key in block:
                values.append(block[key])
        if values:
            raw[key] = rule[1](values)
    return problems


def _union(values: list[Any]) -> Any:
    items: list[Any] = []
    for v in values:
        for item in v if isinstance(v, list) else [v]:
            if item not in items:
                items.append(item)
    return items


_RANK = {"lost": 0, "paused": 1, "active": 2, "lead": 3}


def _strictest_status(values: list[Any]) -> Any:
    known = [v for v in values if isinstance(v, str) and v.strip().lower() in _RANK]
    if not known:
        return values[-1]
    return min(known, key=lambda v: _RANK[v.strip().lower()])


def _end(value: Any) -> date:
    """Return the last day of a ``snooze_until`` or ``away`` value (date.min: unreadable)."""
    try:
        if isinstance(value, dict):
            return parse_date(str(value.get("to")))
        if isinstance(value, str):
            try:
                return parse_date(value)
            except ValueError:
                return parse_range(value)[1]
    except ValueError:
        pass
    return date.min


def _latest(values: list[Any]) -> Any:
    return max(reversed(values), key=_end)  # equal ends: the last one written


# The keys that hold someone back, how the file is read while one is written twice, and that
# reading in words.
STRICT: dict[str, tuple[str, Callable[[list[Any]], Any]]] = {
    "opt_out": ("every opt_out (all over any list)", _union),
    "status": ("the strictest status (lost, then paused)", _strictest_status),
    "snooze_until": ("the later snooze", _latest),
    "away": ("the later end", _latest),
}


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
