"""Parsing one customer file: bytes to front matter and body, then to a ``Customer``.

Every data problem comes back as a ``Problem`` value; nothing in here raises on bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from crm.core.dates import DateOrder, parse_date, parse_range
from crm.core.model import Customer, Location, Problem
from crm.vault.files import read_regular
from crm.vault.reader import FrontMatter, problem_order
from crm.vault.syntax import (
    TOP_KEY,
    Conflict,
    conflict_markers,
    front_matter_end,
    may_hold_conflict,
    one_side,
)

# Past this size a file still loads in full, with a warning: every command reads it again.
LARGE_FILE_BYTES = 10 * 1000 * 1000
ALIASES = "YAML anchors and aliases (&name / *name) are not allowed"

Parsed = tuple[Customer | None, list[Problem]]


def parse_path(path: Path, root: Path, *, date_order: DateOrder | None = None) -> Parsed:
    """Return the customer in the file at ``path`` and its problems.

    ``date_order`` (``[vault] date_order``) says how slash dates in the log read.
    """
    where = Location(path, 1)
    try:
        data = read_regular(path)  # never blocks: a FIFO put here after the scan is refused
    except OSError as exc:
        return None, [Problem(where, f"cannot read file: {exc.strerror or exc}")]
    size = len(data)
    read = _lines(data, path)
    del data  # a big file: its bytes go before its parts are read
    return _sized(_parse(read, path, default_id(path, root), date_order), path, size)


def key_line(path: Path, key: str) -> int | None:
    """Return the line on which the front matter of the file at ``path`` writes ``key``."""
    try:
        lines = read_regular(path).decode("utf-8-sig").splitlines()
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
    return _sized(_parse(_lines(data, path), path, fallback_id, date_order), path, len(data))


def large_file_problem(path: Path, size: int) -> Problem:
    """Return the warning for a file past ``LARGE_FILE_BYTES``, which still loads in full."""
    return Problem(
        Location(path, 1),
        f"file is {size / 1e6:.1f} MB (over {LARGE_FILE_BYTES // 1_000_000} MB): it loads, "
        "but every command reads all of it; move pasted mail or old notes elsewhere",
        "warning",
    )


def _sized(parsed: Parsed, path: Path, size: int) -> Parsed:
    customer, problems = parsed
    if size > LARGE_FILE_BYTES:
        problems.insert(0, large_file_problem(path, size))
    return customer, problems


# The lines, the merge conflicts and a warning for each stray conflict marker; or the problem.
Read = tuple[list[str], list[Conflict], list[Problem]] | Problem


def _lines(data: bytes, path: Path) -> Read:
    """Return the lines of a file's bytes (no line endings, no BOM), its merge conflicts and a
    warning for each stray conflict marker; or why it has no lines.

    Only the lines outlive this call: of a big file, one copy is held at a time.
    """
    if b"\x00" in data:
        nul_line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        return Problem(Location(path, nul_line), "binary file (NUL byte); not a customer file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        return Problem(Location(path, bad_line), f"not UTF-8 text (byte 0x{bad}); save it as UTF-8")
    text = text.removeprefix("\ufeff")
    if not text or text.isspace():
        return Problem(
            Location(path, 1), "empty file; a customer file starts with '---' front matter"
        )
    conflicted = may_hold_conflict(text)
    lines = text.splitlines()
    if not conflicted:
        return lines, [], []
    conflicts, strays = conflict_markers(lines)
    stray = [Problem(Location(path, m.line), m.message(), "warning") for m in strays]
    return lines, conflicts, stray


def _parse(read: Read, path: Path, fallback_id: str, date_order: DateOrder | None) -> Parsed:
    if isinstance(read, Problem):
        return None, [read]
    lines, conflicts, stray = read
    errors = [Problem(Location(path, c.start), c.message()) for c in conflicts]
    found = sorted([*errors, *stray], key=problem_order)
    both = lines
    if conflicts:
        # Read as "ours" until it is resolved: the customer stays listed, with the problem.
        lines = one_side(both, conflicts)
    end = front_matter_end(lines)
    if isinstance(end, str):
        return None, [*found, Problem(Location(path, 1), end)]
    fm_lines = lines[1:end]
    raw, problem = _load_yaml(fm_lines, path)
    if problem is not None:
        return None, sorted([*found, problem], key=problem_order)
    if not isinstance(raw, dict):
        if raw in (None, ""):
            message = "front matter is empty: a customer needs at least a name"
        else:
            kind = "a list" if isinstance(raw, list) else "plain text"
            message = f"front matter must be a mapping of keys to values, not {kind}"
        return None, sorted([*found, Problem(Location(path, 2), message)], key=problem_order)
    key_lines: dict[str, int] = {}
    plain: dict[str, str] = {}
    repeated: dict[str, list[int]] = {}  # a key written twice: every line it is on
    for number, text_line in enumerate(fm_lines, start=2):
        if m := TOP_KEY.match(text_line):
            if m[1] in key_lines:
                repeated.setdefault(m[1], [key_lines[m[1]]]).append(number)
            else:
                key_lines[m[1]] = number
            start, stop = m.span(2)
            # Kept for the YAML 1.1 check: a long value could only be a number there, and a
            # copy of every long one would double a big file's memory.
            if start >= 0 and (stop - start <= 64 or text_line[start] in "+-0123456789"):
                plain[m[1]] = m[2]
    if repeated:
        found += strictest(raw, repeated, fm_lines, path)
    if conflicts:
        _stricter_of_theirs(raw, one_side(both, conflicts, theirs=True), path)
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
            block, _ = _load_yaml(fm_lines[start - 2 : stop - 2], path)
            if isinstance(block, dict) and key in block:
                values.append(block[key])
        if values:
            raw[key] = rule[1](values)
    return problems


def _stricter_of_theirs(raw: dict[str, Any], theirs: list[str], path: Path) -> None:
    """Set, in ``raw`` (the "ours" side of a file with a merge conflict), each key that holds
    someone back (``STRICT``) to the stricter of both sides, as for a key written twice: until
    the conflict is resolved, "ours" never quietly undoes a no written on "theirs"."""
    end = front_matter_end(theirs)
    if isinstance(end, str):
        return
    other, _ = _load_yaml(theirs[1:end], path)
    if not isinstance(other, dict):
        return
    for key, (_, rule) in STRICT.items():
        if key in other:
            raw[key] = rule([raw[key], other[key]] if key in raw else [other[key]])


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


def _load_yaml(lines: list[str], path: Path) -> tuple[Any, Problem | None]:
    """Return what the front matter ``lines`` hold, or the problem that stops reading them."""
    from crm.vault import fastyaml  # its large patterns compile only when a file is parsed

    simple = fastyaml.load_lines(lines)
    if simple is not None:
        return simple, None
    # Imported here: most front matter never needs PyYAML, and start-up time matters.
    import frontmatter.default_handlers
    import yaml

    text = "\n".join(lines)
    try:
        raw = frontmatter.default_handlers.YAMLHandler().load(text, Loader=yaml_loader())
    except yaml.MarkedYAMLError as exc:
        return None, _yaml_problem(exc, path)
    except (yaml.YAMLError, ValueError) as exc:
        return None, Problem(Location(path, 1), f"invalid YAML: {exc}")
    if "&" in text or "*" in text:
        # Loaded, an alias shares the value it repeats (no bomb goes off); still, refuse it.
        problem = _alias_problem(text, path)
        if problem is not None:
            return None, problem
    return raw, None


# A PyYAML context that names the opening of a construct ("[", "{", a quote) that is never
# closed: the opening is where to look, not the line where the parser gave up.
_OPENED = ("while parsing a flow sequence", "while parsing a flow mapping", "quoted scalar")


def _yaml_problem(exc: Any, path: Path) -> Problem:
    """Return the located problem of PyYAML's ``MarkedYAMLError`` ``exc`` on front matter (which
    starts on line 2)."""
    problem, context = exc.problem, exc.context
    at = exc.problem_mark or exc.context_mark
    line = at.line + 2 if at is not None else 1
    reason = problem or context or "syntax error"
    opened = exc.context_mark.line + 2 if exc.context_mark is not None else None
    if problem and context and opened is not None:
        if not any(c in context for c in _OPENED):
            reason += f" ({context} started on line {opened})"
        elif "escape" in problem:  # a bad escape is a character of its own: point at it
            reason += (
                f" ({context})" if opened == line else f" ({context} that opens on line {opened})"
            )
        else:
            gave_up = f"; the parser gave up on line {line}" if line != opened else ""
            reason += f" ({context} that opens on this line{gave_up})"
            line = opened
    return Problem(Location(path, line), f"invalid YAML: {reason}")


def _alias_problem(text: str, path: Path) -> Problem | None:
    """Return the problem of the first YAML alias (``*name``) in ``text``, else of its first
    anchor (``&name``), or None when it has neither.

    Customer files never need them, and other tools would expand them (an alias bomb).
    """
    import yaml

    anchor: Any = None
    try:
        for token in yaml.scan(text, Loader=yaml_loader()):
            if isinstance(token, yaml.AliasToken):
                line = token.start_mark.line + 2
                return Problem(
                    Location(path, line), f"{ALIASES}: write out the value *{token.value} repeats"
                )
            if anchor is None and isinstance(token, yaml.AnchorToken):
                anchor = token
    except yaml.YAMLError:
        pass  # the loader read it; what the scanner balks at past the aliases is no alias
    if anchor is None:
        return None
    line = anchor.start_mark.line + 2
    return Problem(Location(path, line), f"{ALIASES}: remove &{anchor.value}")
