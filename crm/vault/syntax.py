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
from dataclasses import dataclass

from crm.core.dates import WRITTEN_DATE

BOUNDARY = re.compile(r"^---[ \t]*$")
END = re.compile(r"^(?:---|\.\.\.)[ \t]*$")
# The value is greedy up to its last non-blank character: a lazy ``(.*?)[ \t]*$`` costs a try of
# the tail per character, which a long value makes slow.
TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(.*[^ \t\n]|))?[ \t]*$")
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
# Plain scalars some parser reads as something other than their text, beyond YAML 1.1's
# (``YAML11_SURPRISE``): YAML 1.2's ``.inf``, ``.nan``, ``0o17``, ``0x1F`` and ``1e3``; Go's
# yaml (Hugo) also ``0b101``, ``2026-1-1`` and numbers with ``_`` anywhere (``1_000``, ``-_1``);
# PyYAML's timestamps (``2026-01-01``, a date and a time), and its value and merge tags
# (``=``, ``<<``), which safe_load refuses.
_NOT_TEXT = re.compile(
    r"(?:y|n|yes|no|true|false|on|off|null|~|=|<<|[-+]?\.(?:inf|nan)"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[t \t].*)?)",
    re.IGNORECASE | re.DOTALL,
)
# A number, once its underscores are gone: any base, sexagesimal (``12:30``), with an exponent.
_NUMBER = re.compile(
    r"[-+]?(?:0[box][0-9a-f]*|(?:[0-9]+(?::[0-9]+)*(?:\.[0-9]*)?|\.[0-9]+)(?:e[-+]?[0-9]+)?)",
    re.IGNORECASE,
)


def not_text(value: str) -> bool:
    """Return True when some YAML parser reads the plain scalar ``value`` as other than text."""
    if YAML11_SURPRISE.match(value) or _NOT_TEXT.fullmatch(value):
        return True
    return value[:1] in "+-.0123456789" and bool(_NUMBER.fullmatch(value.replace("_", "")))


NO_FRONT_MATTER = "no front matter: the file must start with a '---' line"
NOT_CLOSED = "front matter is not closed: add a '---' line after it"
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# Git's conflict markers (``conflict-marker-size`` 7) start a line: ``<<<<<<< ours``, the
# diff3 ``||||||| base``, ``=======`` and ``>>>>>>> theirs``.
_MARKER = re.compile(r"(<{7}|\|{7}|={7}|>{7})(?:[ \t].*)?")
_MARKS = ("<<<<<<<", "|||||||", ">>>>>>>")


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


@dataclass(frozen=True, slots=True)
class Conflict:
    """An unresolved git merge conflict: its first and last lines (1-based) and the lines of
    each side. ``end`` (and ``last``) is the ``>>>>>>>`` line."""

    start: int
    end: int
    ours: tuple[str, ...]
    theirs: tuple[str, ...]
    last: int
    theirs_from: int  # the line of the first of ``theirs``

    def message(self) -> str:
        """Return what is wrong: the lines, and each side's first line the other side lacks."""
        ours = [line for line in self.ours if line not in self.theirs]
        theirs = [line for line in self.theirs if line not in self.ours]
        return (
            f"unresolved merge conflict at lines {self.start}-{self.last} (ours: {_side(ours)}, "
            f"theirs: {_side(theirs)}): keep one side and delete the marker lines"
        )


@dataclass(frozen=True, slots=True)
class StrayMarker:
    """A line that looks like a git conflict marker outside any whole conflict: text (a deep
    mail quote), or left over from a merge resolved by hand. ``line`` is 1-based."""

    line: int
    marker: str  # "<<<<<<<", "|||||||" or ">>>>>>>"

    def message(self) -> str:
        """Return what the line may be, and what to do when a merge left it."""
        if self.marker == "<<<<<<<":
            return (
                "a merge conflict marker '<<<<<<<' with no '=======' and '>>>>>>>' lines after "
                "it; if a merge left it, keep one side and delete the marker lines"
            )
        return (
            f"a merge conflict marker '{self.marker}' outside any conflict; "
            "if a merge left it, delete its line"
        )


def _side(lines: Sequence[str]) -> str:
    first = next((line.strip() for line in lines if line.strip()), "")
    if not first:
        return "nothing"
    return f"'{first}'" if len(first) <= 40 else f"'{first[:39]}\u2026'"


def may_hold_conflict(text: str) -> bool:
    """Return True unless ``text`` surely holds no merge conflict (a fast test before
    ``merge_conflicts``)."""
    return any(mark in text for mark in _MARKS)


def merge_conflicts(lines: Sequence[str]) -> list[Conflict]:
    """Return the git merge conflicts written in ``lines`` (without their line endings)."""
    return conflict_markers(lines)[0]


def conflict_markers(lines: Sequence[str]) -> tuple[list[Conflict], list[StrayMarker]]:
    """Return the git merge conflicts written in ``lines`` (without their line endings), and
    the marker lines that belong to none.

    A conflict is ``<<<<<<<``, ours, an optional diff3 ``|||||||`` and base, ``=======``,
    theirs and ``>>>>>>>``, in that order. Lines in fenced code blocks are text. Any other
    ``<<<<<<<``, ``|||||||`` or ``>>>>>>>`` line is stray, but for a ``>>>>>>>`` next to another
    line quoted with ``>`` (a deep mail quote); a lone ``=======`` is Markdown (a heading's
    underline), never a marker.
    """
    marked = [
        (i, m[1][0])
        for i, line in enumerate(lines)
        if line[:1] in ("<", "|", "=", ">") and (m := _MARKER.fullmatch(line))
    ]
    if not any(mark != "=" for _, mark in marked):
        return [], []
    fenced = fenced_lines(lines)
    conflicts: list[Conflict] = []
    strays: list[int] = []
    start: int | None = None  # the index of the open block's ``<<<<<<<``
    base = theirs = -1  # the indexes of its ``|||||||`` and ``=======``, -1 before them
    for i, mark in marked:
        if i in fenced:
            continue
        if mark == "<":
            if start is not None:
                strays.append(start)
            start, base, theirs = i, -1, -1
        elif start is None:
            if mark != "=":
                strays.append(i)
        elif theirs >= 0:
            if mark == ">":
                ours = lines[start + 1 : base if base >= 0 else theirs]
                side = lines[theirs + 1 : i]
                conflicts.append(Conflict(start + 1, i + 1, (*ours,), (*side,), i + 1, theirs + 2))
                start = None
        elif mark == "=":
            theirs = i
        elif mark == "|" and base < 0:
            base = i
        elif mark == ">":  # no ``=======``: no conflict
            strays += [start, i]
            start = None
    if start is not None:
        strays.append(start)
    found = [
        StrayMarker(i + 1, lines[i][:7])
        for i in sorted(strays)
        if not (lines[i][0] == ">" and _quoted_next_to(lines, i))
    ]
    return conflicts, found


def _quoted_next_to(lines: Sequence[str], i: int) -> bool:
    """Return True when the line before or after line ``i`` is quoted mail (starts with ``>``)."""
    return any(0 <= j < len(lines) and lines[j][:1] == ">" for j in (i - 1, i + 1))


def one_side(
    lines: Sequence[str], conflicts: Sequence[Conflict], *, theirs: bool = False
) -> list[str]:
    """Return ``lines`` with each conflict read as one side ("ours", or "theirs"): the markers
    and the other lines of the block become blank lines, so every other line keeps its number.
    A block that starts the file moves the side up into the marker's place (the file must start
    with its ``---``)."""
    kept = list(lines)
    for c in conflicts:
        side, first = (c.theirs, c.theirs_from) if theirs else (c.ours, c.start + 1)
        kept[c.start - 1 : c.last] = [""] * (c.last - c.start + 1)
        at = 0 if c.start == 1 else first - 1
        kept[at : at + len(side)] = side
    return kept
