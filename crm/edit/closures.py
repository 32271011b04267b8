"""``crm closed``: add or remove one ``[[closures]]`` table of ``crm.toml``, touching nothing else.

The text functions are pure: ``add_closure(text, closure)`` appends a new table after the last
``[[closures]]`` table (else at the end of the file), one blank line before it;
``remove_closure(text, start)`` deletes the table of the closure starting on ``start`` and one
blank line beside it, so that adding and then removing gives back the same bytes. Lines keep
their own endings, a new line takes the file's (CRLF stays CRLF), a BOM stays, and comments stay
where they are. A table runs from its header to its last key line, plus the comment lines
right under it (commented-out keys, ``# notice_days = 21``); comments above a header, or run
straight into one, belong to the next table. ``save_closure`` and ``drop_closure`` edit the
vault's file under its lock, then read it back with ``load_config`` and put the old bytes back
if it no longer says what was meant.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from crm.core.closures import NOTICE_DAYS, NOTICE_TEMPLATE, Closure, parse_closures
from crm.core.config import CONFIG_NAME, load_config
from crm.core.errors import CrmError
from crm.core.model import Problem
from crm.edit import atomic

BOM = "\ufeff"
TABLE = "closures"
HEADER = f"[[{TABLE}]]"
_HEADER_LINE = re.compile(r"^[ \t]*(\[\[?)([^\[\]#]+?)(\]\]?)[ \t]*(?:#.*)?$")
# Control characters TOML's basic strings cannot hold as they are.
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\f": "\\f"}


def toml_string(text: str) -> str:
    """Return ``text`` as a TOML basic string, quoted and escaped."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def table_lines(closure: Closure) -> list[str]:
    """Return the lines (without endings) of the ``[[closures]]`` table for ``closure``."""
    lines = [HEADER, f"from = {closure.start}", f"to = {closure.end}"]
    if closure.reason:
        lines.append(f"reason = {toml_string(closure.reason)}")
    if closure.notice != NOTICE_TEMPLATE:
        lines.append(f"notice = {toml_string(closure.notice)}")
    if closure.notice_days != NOTICE_DAYS:
        lines.append(f"notice_days = {closure.notice_days}")
    return lines


def add_closure(text: str, closure: Closure) -> str:
    """Return ``text`` (crm.toml) with a new ``[[closures]]`` table for ``closure``.

    Refuses (exit 2) a closure that ends before it starts, is already there or overlaps another.
    """
    if closure.end < closure.start:
        raise CrmError(f"TO {closure.end} is before FROM {closure.start}", exit_code=2)
    if any(c in closure.reason for c in "\r\n"):
        raise CrmError("a reason is one line of text", exit_code=2)
    for other in closures_in(text):
        if (other.start, other.end) == (closure.start, closure.end):
            raise CrmError(f"crm.toml already has the closure {other}", exit_code=2)
        if other.start <= closure.end and closure.start <= other.end:
            raise CrmError(
                f"{closure.start} to {closure.end} overlaps the closure {other}; "
                f"remove it first (crm closed --remove {other.start})",
                exit_code=2,
            )
    bom, lines = _lines(text)
    nl = _newline(lines)
    tables = _bodies(text, lines)
    at = tables[-1].stop if tables else _content_end(lines)
    new = [line + nl for line in table_lines(closure)]
    if at > 0:
        new.insert(0, nl)  # the blank line between the last table and the new one
    elif lines:
        new.append(nl)  # first in a file of blank lines: the blank goes after it
    if at > 0 and not lines[at - 1].endswith("\n"):
        lines[at - 1] += nl  # the old last line had no line ending
    return bom + "".join(lines[:at] + new + lines[at:])


def remove_closure(text: str, start: date) -> str:
    """Return ``text`` (crm.toml) without the ``[[closures]]`` table of the closure from ``start``.

    An unknown ``start`` is an error (exit 2) that lists the closures' first days.
    """
    bom, lines = _lines(text)
    body = _bodies(text, lines)[_index_of(text, start)]
    first, stop = body.start, body.stop
    if first > 0 and not lines[first - 1].strip():
        first -= 1
    elif stop < len(lines) and not lines[stop].strip():
        stop += 1
    return bom + "".join(lines[:first] + lines[stop:])


def closure_from(text: str, start: date) -> Closure:
    """Return the closure of crm.toml ``text`` that starts on ``start`` (error, exit 2, if none)."""
    found = _each(text)[_index_of(text, start)]
    assert found is not None  # _index_of only points at closures that parse
    return found


def closures_in(text: str) -> list[Closure]:
    """Return the closures of crm.toml ``text`` in file order (the malformed ones left out)."""
    return [c for c in _each(text) if c is not None]


def save_closure(root: Path, closure: Closure) -> Path:
    """Add ``closure`` to the vault's crm.toml (created when missing); return the file's path."""
    return _edit(root, lambda text: add_closure(text, closure), lambda got: closure in got)


def drop_closure(root: Path, start: date) -> Closure:
    """Remove the closure starting on ``start`` from the vault's crm.toml; return it."""
    removed: list[Closure] = []

    def change(text: str) -> str:
        removed.append(closure_from(text, start))
        return remove_closure(text, start)

    _edit(root, change, lambda got: removed[0] not in got)
    return removed[0]


def _edit(
    root: Path, change: Callable[[str], str], meant: Callable[[Sequence[Closure]], bool]
) -> Path:
    """Change crm.toml under its lock; read it back and restore the old bytes unless ``meant``."""
    path = root / CONFIG_NAME
    path = path.resolve() if path.is_symlink() else path  # replacing a link would cut it loose
    with atomic.locked(path):
        data, seen = atomic.read(path) if path.exists() else (b"", None)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise CrmError(f"{path}: not UTF-8 text; nothing written") from None
        _, before = load_config(root)
        new = change(text).encode("utf-8")
        atomic.replace(path, new, seen)
        config, after = load_config(root)
        fresh = _errors(after) - _errors(before)
        if fresh or not meant(config.closures):
            _restore(path, data, existed=seen is not None)
            why = [p.message for p in after if _key(p) in fresh]
            raise CrmError(f"{path}: not changed: {'; '.join(why) or 'it did not read back'}")
    return path


def _restore(path: Path, data: bytes, *, existed: bool) -> None:
    if not existed:
        path.unlink()
        return
    _, now = atomic.read(path)
    atomic.replace(path, data, now)


def _errors(problems: Sequence[Problem]) -> Counter[str]:
    return Counter(_key(p) for p in problems if p.severity == "error")


def _key(problem: Problem) -> str:
    # Removing a table renumbers the ones after it: closures[3] becomes closures[2].
    return re.sub(r"^closures\[\d+\]", "closures[]", problem.message)


def _ignore(message: str, severity: str = "error") -> None:
    """Drop a problem (an error or a warning): crm check reports the closures that do not parse."""


def _each(text: str) -> list[Closure | None]:
    """Return one closure per ``[[closures]]`` table, in file order (None where it is malformed)."""
    try:
        value = tomllib.loads(text.removeprefix(BOM)).get(TABLE, [])
    except tomllib.TOMLDecodeError as exc:
        raise CrmError(f"crm.toml is not valid TOML ({exc}); fix it first (crm check)") from None
    if not isinstance(value, list):
        raise CrmError("closures in crm.toml is not a list of [[closures]] tables; fix it first")
    return [next(iter(parse_closures([tab], _ignore)), None) for tab in value]


def _index_of(text: str, start: date) -> int:
    """Return the place among the ``[[closures]]`` tables of the one that starts on ``start``."""
    found = _each(text)
    hits = [n for n, c in enumerate(found) if c is not None and c.start == start]
    if not hits:
        known = ", ".join(sorted(str(c.start) for c in found if c is not None))
        raise CrmError(
            f"no closure starts on {start} (known: {known or 'none in crm.toml'})", exit_code=2
        )
    if len(hits) > 1:
        raise CrmError(f"two closures start on {start}; remove one by hand", exit_code=2)
    return hits[0]


# -- the file as lines ------------------------------------------------------------------------


def _lines(text: str) -> tuple[str, list[str]]:
    """Return the BOM (or "") and the lines of ``text``, each with its own ending."""
    bom = BOM if text.startswith(BOM) else ""
    parts = text.removeprefix(BOM).split("\n")
    return bom, [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _content(line: str) -> str:
    return line.rstrip("\n").removesuffix("\r")


def _newline(lines: Sequence[str]) -> str:
    """Return the file's line ending: its first line's, LF for an empty file."""
    return "\r\n" if lines and lines[0].endswith("\r\n") else "\n"


def _content_end(lines: Sequence[str]) -> int:
    """Return the index after the file's last line that is not blank."""
    return next((i + 1 for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), 0)


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _tables(lines: Sequence[str]) -> list[tuple[str, range]]:
    """Return every table's header (``[feed]``, ``[[closures]]``, unspaced) and its lines.

    A table's lines are its header through its last key line, and the comment lines right
    under that; comments that run straight into the next header belong to the next table.
    """
    headers = _headers(lines)
    found = []
    for n, (i, name) in enumerate(headers):
        nxt = headers[n + 1][0] if n + 1 < len(headers) else len(lines)
        last = next(
            (j for j in range(nxt - 1, i, -1) if lines[j].strip() and not _is_comment(lines[j])),
            i,
        )
        end = last + 1
        while end < nxt and lines[end].strip() and _is_comment(lines[end]):
            end += 1
        if end == nxt < len(lines):
            end = last + 1  # attached to the next header
        found.append((name, range(i, end)))
    return found


def _bodies(text: str, lines: Sequence[str]) -> list[range]:
    """Return the lines of each ``[[closures]]`` table; refuse closures written another way."""
    bodies = [body for name, body in _tables(lines) if name == HEADER]
    if len(bodies) != len(_each(text)):
        raise CrmError(
            "crm.toml writes its closures in a way crm does not edit "
            "(not one [[closures]] header each); change them by hand"
        )
    return bodies


def _headers(lines: Sequence[str]) -> list[tuple[int, str]]:
    """Return the index and the header of every table (``[feed]``, ``[[closures]]``), unspaced.

    Lines inside multi-line strings and arrays are values, never headers.
    """
    found = []
    quote: str | None = None
    depth = 0
    for i, line in enumerate(lines):
        text = _content(line)
        m = _HEADER_LINE.match(text)
        if quote is None and depth == 0 and m and len(m[1]) == len(m[3]):
            name = re.sub(r"[ \t]+", "", m[2])
            found.append((i, f"[[{name}]]" if m[1] == "[[" else f"[{name}]"))
            continue
        quote, depth = _carry(text, quote, depth)
    return found


def _carry(text: str, quote: str | None, depth: int) -> tuple[str | None, int]:
    """Return the open multi-line string (its quotes) and array depth after the line ``text``."""
    j = 0
    while j < len(text):
        if quote is not None:
            if quote == '"""' and text[j] == "\\":
                j += 2
                continue
            if text.startswith(quote, j):
                quote, j = None, j + 3
                continue
            j += 1
            continue
        ch = text[j]
        if ch == "#":
            break
        if text.startswith(('"""', "'''"), j):
            quote, j = text[j : j + 3], j + 3
            continue
        if ch in "\"'":
            j = _string_end(text, j)
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        j += 1
    return quote, depth


def _string_end(text: str, j: int) -> int:
    """Return the index after the one-line string that opens at ``text[j]``."""
    quote, k = text[j], j + 1
    while k < len(text) and text[k] != quote:
        k += 2 if quote == '"' and text[k] == "\\" else 1
    return k + 1
