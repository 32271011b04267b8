"""Results as text: aligned tables that fit 80 columns, stable JSON, and CSV."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal

from crm.core.fields import number_text
from crm.core.model import Problem
from crm.core.text import json_safe, one_line

Format = Literal["table", "json", "csv"]
Row = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table: the row key, its heading, and whether it may be shortened."""

    key: str
    heading: str
    flexible: bool = False


def render(rows: Sequence[Row], columns: Sequence[Column], fmt: Format, width: int = 80) -> str:
    """Return ``rows`` as a table, JSON array or CSV (JSON and CSV carry every key of a row)."""
    if fmt == "json":
        return to_json(list(rows))
    if fmt == "csv":
        # Scripts get every key the JSON has, in the same order; no rows, no header.
        return to_csv(rows, list(rows[0])) if rows else ""
    return table(rows, columns, width)


def to_json(value: Any) -> str:
    """Return ``value`` as indented JSON with dates in ISO form and keys in a stable order."""
    # C1 and bidi controls as \uXXXX: readable by any JSON parser, inert in a terminal.
    return json_safe(json.dumps(value, default=_json_default, ensure_ascii=False, indent=2)) + "\n"


def _json_default(value: Any) -> Any:
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


# False: a CSV cell that a spreadsheet would run as a formula (=, +, -, @ first, as OWASP lists
# them, also tab and carriage return) starts with ' and shows as text (``--safe-csv``).
CSV_FORMULAS: ContextVar[bool] = ContextVar("CSV_FORMULAS", default=True)
# A cell that already starts with ' before one of them gets one more, so that crm import
# (``with_formula``) can tell it from a cell that --safe-csv quoted.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?[0-9][0-9.,]*")


def to_csv(rows: Iterable[Row], keys: Sequence[str]) -> str:
    """Return the ``keys`` of each row as CSV with a header line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(keys)
    safe = not CSV_FORMULAS.get()
    for row in rows:
        cells = [cell(row.get(k)) for k in keys]
        writer.writerow([no_formula(c) for c in cells] if safe else cells)
    return out.getvalue()


def with_formula(text: str) -> str:
    """Return the cell ``no_formula`` made into ``text`` as it was (``crm import`` reads a
    ``--safe-csv`` export back exactly); any other text as it is."""
    return text[1:] if text[:1] == "'" and no_formula(text[1:]) == text else text


def no_formula(text: str) -> str:
    """Return ``text`` with a ' first when a spreadsheet would read it as a formula."""
    if _FORMULA.match(text) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def cell(value: Any) -> str:
    """Return one value as plain text for a table or CSV cell."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, float):
        return number_text(value)  # as written: 1234567, 1234567.5, 4200
    if isinstance(value, date | datetime | time):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def table(rows: Sequence[Row], columns: Sequence[Column], width: int = 80) -> str:
    """Return an aligned text table; flexible columns are cut with '…' to fit ``width``."""
    if not rows:
        return ""
    cells = [[one_line(cell(row.get(c.key))) for c in columns] for row in rows]
    sizes = [[width_of(v) for v in r] for r in cells]  # once per cell: big reports are long
    widths = [max(width_of(c.heading), *(r[i] for r in sizes)) for i, c in enumerate(columns)]
    excess = sum(widths) + 2 * (len(columns) - 1) - width
    for i in sorted(range(len(columns)), key=lambda i: -widths[i]):
        if excess <= 0:
            break
        if columns[i].flexible:
            floor = max(len(columns[i].heading), 8)
            cut = min(excess, widths[i] - floor)
            if cut > 0:
                widths[i] -= cut
                excess -= cut
    headings = [c.heading for c in columns]
    lines = [_line(headings, [width_of(h) for h in headings], widths)]
    lines += [_line(r, size, widths) for r, size in zip(cells, sizes, strict=True)]
    return "\n".join(lines) + "\n"


def _line(values: Sequence[str], sizes: Sequence[int], widths: Sequence[int]) -> str:
    return "  ".join(map(_fit, values, sizes, widths)).rstrip()


def width_of(text: str) -> int:
    """Return how many terminal columns ``text`` takes (CJK is two wide, accents zero)."""
    if text.isascii():
        return len(text)  # no ASCII character is wide or combining; big reports are mostly ASCII
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def _fit(text: str, size: int, width: int) -> str:
    """Return ``text`` (``size`` columns wide) padded to ``width`` columns, or cut with '…'
    when it is wider."""
    if size > width:
        text, size = _prefix(text, width - 1)
        text += "…"
        size += 1
    return text + " " * (width - size)


def _prefix(text: str, room: int) -> tuple[str, int]:
    """Return the longest start of ``text`` that fits in ``room`` columns, and its width: one
    pass, however long the text (a 50 MB name is cut as fast as a short one)."""
    if text.isascii():
        return text[:room], min(len(text), room)
    used = 0
    for i, ch in enumerate(text):
        w = width_of(ch)
        if used + w > room:
            return text[:i], used
        used += w
    return text, used


PROBLEM_COLUMNS = (
    Column("path", "PATH"),
    Column("line", "LINE"),
    Column("severity", "SEVERITY"),
    Column("message", "MESSAGE", flexible=True),
)


def problem_rows(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """Return problems as ``{path, line, severity, message}`` objects for JSON."""
    return [
        {
            "path": str(p.location.path),
            "line": p.location.line,
            "severity": p.severity,
            "message": p.message,
        }
        for p in problems
    ]


def problems_text(problems: Iterable[Problem]) -> str:
    """Return problems one per line as ``path:line: message``."""
    return "".join(f"{p}\n" for p in problems)
