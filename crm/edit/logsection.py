"""The ``## Log`` section of a ``Doc``: where its entries run, and adding one in date order.

Headings, bullets and entries are recognised with the file syntax of ``crm.vault.syntax``, so
the editor and the merge driver see the same section the loader reads.
"""

from __future__ import annotations

import re
from datetime import date

from crm.edit.lines import Doc
from crm.vault.logline import entry_date
from crm.vault.syntax import BULLET, HEADING, LOG_HEADING, fenced_lines


def log_run(doc: Doc) -> tuple[int, int]:
    """Return the lines from the first to past the last bullet of ``## Log`` (empty if none)."""
    heading = _log_heading(doc)
    if heading is None:
        return len(doc.lines), len(doc.lines)
    end = _section_end(doc, heading)
    bullets = [i for i in range(heading + 1, end) if BULLET.match(doc.content(doc.lines[i]))]
    if not bullets:
        return heading + 1, heading + 1
    return bullets[0], _block_end(doc, bullets[-1], end)


def add_log_entry(doc: Doc, entry: str, day: date) -> None:
    """Insert ``- entry`` into the ``## Log`` section in date order (appending the section)."""
    heading = _log_heading(doc)
    if heading is None:
        _append_section(doc, entry)
        return
    end = _section_end(doc, heading)
    entries = []  # (first line, line after its block, date)
    for i in range(heading + 1, end):
        b = BULLET.match(doc.content(doc.lines[i]))
        if not b:
            continue
        stop = _block_end(doc, i, end)
        entries.append((i, stop, entry_date(b[2])))
    prefix = "- "
    if entries:
        m = re.match(r"[-*+][ \t]+", doc.content(doc.lines[entries[-1][0]]))
        prefix = m[0] if m else prefix
    dated = [(i, stop, d) for i, stop, d in entries if d is not None]
    if not dated:
        at = max(i for i in range(heading, end) if doc.content(doc.lines[i]).strip()) + 1
    elif dated[0][2] > dated[-1][2]:  # newest first
        at = next((i for i, _, d in dated if d <= day), dated[-1][1])
    else:
        at = next((stop for _, stop, d in reversed(dated) if d <= day), dated[0][0])
    _insert(doc, at, prefix + entry)


def entry_day(line: str) -> date | None:
    """Return the date of a log bullet line, or None when it has none."""
    b = BULLET.match(line)
    return entry_date(b[2]) if b else None


def _log_heading(doc: Doc) -> int | None:
    """Return the line of the ``## Log`` heading, not counting examples in code fences."""
    fenced = _fenced(doc)
    for i in range(doc.fm_end + 1, len(doc.lines)):
        if i not in fenced and LOG_HEADING.match(doc.content(doc.lines[i])):
            return i
    return None


def _fenced(doc: Doc) -> frozenset[int]:
    """Return the indexes of body lines inside fenced code blocks (no headings there)."""
    start = doc.fm_end + 1
    inner = fenced_lines([doc.content(line) for line in doc.lines[start:]])
    return frozenset(start + i for i in inner)


def _section_end(doc: Doc, heading: int) -> int:
    fenced = _fenced(doc)
    for i in range(heading + 1, len(doc.lines)):
        if i in fenced:
            continue
        h = HEADING.match(doc.content(doc.lines[i]))
        if h and len(h[1]) <= 2:
            return i
    return len(doc.lines)


def _block_end(doc: Doc, bullet: int, end: int) -> int:
    """Return the line after a bullet and its indented continuation lines."""
    stop = bullet + 1
    while stop < end:
        text = doc.content(doc.lines[stop])
        if not (text[:1] in (" ", "\t") and text.strip()):
            break
        stop += 1
    return stop


def _insert(doc: Doc, at: int, text: str) -> None:
    if at == len(doc.lines) and doc.lines and not doc.lines[-1].endswith("\n"):
        doc.lines[-1] += doc.nl
    doc.lines.insert(at, text + doc.nl)


def _append_section(doc: Doc, entry: str) -> None:
    if doc.lines and not doc.lines[-1].endswith("\n"):
        doc.lines[-1] += doc.nl
    if len(doc.lines) == doc.fm_end + 1 or doc.content(doc.lines[-1]).strip():
        doc.lines.append(doc.nl)
    doc.lines.extend([f"## Log{doc.nl}", f"- {entry}{doc.nl}"])
