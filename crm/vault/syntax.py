"""The syntax of a customer file, shared by every reader and writer of one.

A file is ``---``, YAML front matter, a closing ``---`` (or ``...``), then a Markdown body.
In the body, the ``## Log`` section (up to the next heading of level 1 or 2) holds one bullet
per contact: ``- YYYY-MM-DD [HH:MM] kind: text``, or the date written another way (``2 Nov 2026``,
``[[2026-11-02]]``, ...), with or without a kind (see docs/format.md). Lines inside fenced code blocks are text:
never a heading, never an entry. The loader (``crm.vault.parse``), the editor
(``crm.edit.lines``), the merge driver and the exporters all read files through these names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from crm.core.dates import WRITTEN_DATE

BOUNDARY = re.compile(r"^---[ \t]*$")
END = re.compile(r"^(?:---|\.\.\.)[ \t]*$")
TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(.*?))?[ \t]*$")
LOG_HEADING = re.compile(r"^##[ \t]+log[ \t]*#*[ \t]*$", re.IGNORECASE)
HEADING = re.compile(r"^(#{1,6})[ \t]")
BULLET = re.compile(r"^[-*+][ \t]+(?:\[([ xX])\][ \t]+)?(.*)$")
# The date that starts a log entry: any written date (``crm.core.dates.DATE_FORMS``), bare,
# bold (``**2026-11-02**``) or an Obsidian daily-note link (``[[2026-11-02]]``, ``[[...|alias]]``).
ENTRY_DATE = re.compile(
    rf"^(?:(?P<link>\[\[)|(?P<bold>\*\*))?(?P<date>{WRITTEN_DATE})"
    r"(?(link)(?:\|[^\]]*)?\]\])(?(bold)\*\*)",
    re.IGNORECASE,
)
# What may follow the date: a time, then ``:`` or a dash, then an optional ``kind:`` (or
# ``kind -``), then the text. Without a kind the entry is a contact of kind ``NO_KIND``.
ENTRY_REST = re.compile(
    r"^(?:[ \t]+(?P<time>\d{1,2}:\d{2})(?!\d|:\d))?(?:[ \t]*:|[ \t]+[-\u2013\u2014])?"
    r"(?:[ \t]+(?P<kind>[A-Za-z][\w-]*)(?::|[ \t]+[-\u2013\u2014])(?=[ \t]|$))?"
    r"(?:[ \t]+(?P<text>.*?))?[ \t]*$"
)
# BULLET followed by ENTRY, in one match: the common log line, where both would match.
QUICK_ENTRY = re.compile(
    r"^[-*+][ \t]+(?:\[([ xX])\][ \t]+)?(\d{4}-\d{2}-\d{2})(?:[ \t]+(\d{1,2}:\d{2}))?"
    r"[ \t]+([A-Za-z][\w-]*):(?:[ \t]+(.*))?[ \t]*$"
)
# Unquoted plain scalars that a YAML 1.1 parser (PyYAML, Hugo's older parsers) reads as
# something other than text.
YAML11_SURPRISE = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
    r"|[-+]?0[0-9_]+|[-+]?(?:0|[1-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?)$"
)
NO_FRONT_MATTER = "no front matter: the file must start with a '---' line"
NOT_CLOSED = "front matter is not closed: add a '---' line after it"
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def front_matter_end(lines: Sequence[str]) -> int | str:
    """Return the index of the line that closes the front matter, or why there is none.

    ``lines`` are the file's lines without their endings (and without a BOM).
    """
    if not lines or not BOUNDARY.match(lines[0]):
        return NO_FRONT_MATTER
    return next((i for i in range(1, len(lines)) if END.match(lines[i])), NOT_CLOSED)


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


def log_mask(body: Sequence[str], fenced: frozenset[int] | None = None) -> list[bool]:
    """Return, for each body line, whether it lies in a ``## Log`` section (its heading included).

    A section runs to the next heading of level 1 or 2; a fenced line is never a heading.
    """
    if fenced is None:
        fenced = fenced_lines(body)
    mask: list[bool] = []
    in_log = False
    for i, line in enumerate(body):
        if line[:1] == "#" and i not in fenced and (h := HEADING.match(line)):
            if LOG_HEADING.match(line):
                in_log = True
            elif len(h[1]) <= 2:
                in_log = False
        mask.append(in_log)
    return mask


def notes(body: str) -> str:
    """Return the free-text notes of a body: every line outside the ``## Log`` sections.

    Empty headings (a template's bare ``## Notes``) are left out.
    """
    lines = body.splitlines()
    mask = log_mask(lines)
    kept = "\n".join(line for line, in_log in zip(lines, mask, strict=True) if not in_log)
    return without_empty_headings(kept).strip()


def open_tasks(body: str) -> list[str]:
    """Return the unchecked task items (``- [ ] ...``) of the ``## Log`` sections, as written."""
    lines = body.splitlines()
    fenced = fenced_lines(lines)
    mask = log_mask(lines, fenced)
    found = []
    for i, line in enumerate(lines):
        if mask[i] and i not in fenced and (m := BULLET.match(line)) and m[1] == " ":
            found.append(m[2].strip())
    return found


def without_empty_headings(text: str) -> str:
    """Return Markdown ``text`` without its empty headings (a template's bare ``## Notes``).

    A heading is empty when nothing but blank lines and empty headings follow it before the
    next heading of its level or higher; a ``#`` inside a fenced code block is not a heading.
    """
    lines = text.splitlines()
    fenced = fenced_lines(lines)
    levels = [
        len(m[1]) if i not in fenced and (m := HEADING.match(line)) else 0
        for i, line in enumerate(lines)
    ]
    drop: set[int] = set()
    for i, level in enumerate(levels):
        if not level:
            continue
        j = i + 1
        while j < len(lines) and not (levels[j] and levels[j] <= level):
            if not levels[j] and lines[j].strip():
                break
            j += 1
        else:
            drop.add(i)
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                drop.add(j)  # and the blank lines under it, so no gap is left
                j += 1
    return "\n".join(line for i, line in enumerate(lines) if i not in drop).strip()
