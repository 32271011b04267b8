"""A fast reader for the simple YAML that customer front matter holds, or ``None`` to fall back.

The vault reads front matter with PyYAML's ``BaseLoader`` (every scalar stays text). At
100,000 files that loader dominates a cold index, yet almost every front matter is the same
few shapes: ``key: text``, ``key: "text"``, ``key: [a, b]``, a block list, a one-level
mapping (``away:``) and a list of one-level mappings (``dates:``). This module reads exactly
those and returns what ``BaseLoader`` returns for them; for anything else (block scalars,
anchors, tags, comments after values, multi-line scalars, escapes, duplicate keys, odd
characters...) it returns ``None`` and the caller uses PyYAML. Property tests in
tests/test_fastyaml.py hold it to that.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

# Characters YAML accepts as printable, minus the ones it treats as line breaks or BOM;
# no tab, no CR: either sends the text to PyYAML.
_PRINTABLE = re.compile(
    "[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*"
)
_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*))?")
# What may not start a plain scalar: YAML's indicators and a space. "-", "?" and ":" may, in
# block context, when a non-space follows.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@` ")
# Inside a flow sequence a plain scalar holds none of these (and no ":" at all).
_FLOW_STOPS = re.compile(r"[:,\[\]{}]")
_DOUBLE = re.compile(r'"([^"\\]*)"')
_SINGLE = re.compile(r"'([^']*)'")

Value = str | list[Any] | dict[str, Any]


def scalar(text: str) -> str | None:
    """Return the block-context scalar written as ``text`` (no trailing spaces), or None."""
    if not text:
        return None
    first = text[0]
    if first == '"':
        m = _DOUBLE.fullmatch(text)
        return m[1] if m else None
    if first == "'":
        m = _SINGLE.fullmatch(text)
        return m[1] if m else None
    return text if _plain(text) else None


# The plain-scalar tests are string operations, not one regex with lookarounds per character:
# that regex's backtracking took time and memory far out of proportion to a long value.
def _plain(text: str) -> bool:
    """Return True when ``text`` is a plain scalar in block context: no indicator first ("-",
    "?", ":" only before a non-space), no ": " or " #" inside, no ":" or space last."""
    first = text[0]
    if first in _INDICATORS and (first not in "-?:" or text[1:2] in ("", " ")):
        return False
    return text.find("\n", 1) < 0 and ": " not in text and " #" not in text and text[-1] not in ": "


def _flow_item(text: str) -> str | None:
    """Return ``text`` when it is a plain scalar inside a flow sequence: no flow indicators,
    no ":" at all, and no "?" first (libyaml reads "[?x]" as a mapping)."""
    if not text:
        return None
    first = text[0]
    if first in _INDICATORS and (first != "-" or text[1:2] in ("", " ", ",", "[", "]", "{", "}")):
        return None
    if _FLOW_STOPS.search(text, 1) or " #" in text or text[-1] == " ":
        return None
    return text


def _value(text: str) -> Value | None:
    """Return the value after ``key: `` on one line: a scalar or a one-line flow sequence."""
    text = text.rstrip(" ")
    if text.startswith("["):
        if not text.endswith("]"):
            return None
        inner = text[1:-1].strip(" ")
        if not inner:
            return []
        if '"' in inner or "'" in inner:
            return None  # a quoted item may hold a comma; only PyYAML can tell
        items = []
        for part in inner.split(","):
            item = _flow_item(part.strip(" "))
            if item is None:
                return None
            items.append(item)
        return items
    return scalar(text)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def load(text: str) -> dict[str, Value] | None:
    """Return what PyYAML's BaseLoader returns for ``text``, or None when unsure."""
    return load_lines(text.split("\n"))


def load_lines(lines: Sequence[str]) -> dict[str, Value] | None:
    """Return what PyYAML's BaseLoader returns for ``"\\n".join(lines)``, or None when unsure
    (taking the lines, a big front matter is not copied once more)."""
    if not all(map(_PRINTABLE.fullmatch, lines)):
        return None
    result: dict[str, Value] = {}
    n = 0
    count = len(lines)
    while n < count:
        line = lines[n]
        n += 1
        if not line.strip(" ") or line[0] == "#":
            continue
        m = _KEY_LINE.fullmatch(line)
        if m is None:
            return None
        key, rest = m[1], m[2]
        if key in result:
            return None
        if rest is not None and rest.strip(" "):
            value = _value(rest)
            if value is None:
                return None
            result[key] = value
            continue
        # ``key:`` alone: a block below it, or an empty value.
        block: list[str] = []
        while n < count:
            nxt = lines[n]
            if nxt.strip(" ") and (nxt[0] != " " and not nxt.startswith("- ")):
                break
            block.append(nxt)
            n += 1
        while block and not block[-1].strip(" "):
            block.pop()
        if not block:
            result[key] = ""
            continue
        found = _block(block)
        if found is None:
            return None
        result[key] = found
    return result or None


def _block(lines: list[str]) -> Value | None:
    """Return a block list or a one-level mapping written on ``lines`` (all of one indent)."""
    body = [line for line in lines if line.strip(" ")]
    indent = _indent(body[0])
    if body[0][indent:].startswith("- "):
        return _sequence(body, indent)
    if indent == 0:
        return None
    mapping = _mapping([line[indent:] for line in body if _indent(line) == indent])
    if mapping is None or len(mapping) != len(body):
        return None
    return mapping


def _mapping(lines: list[str]) -> dict[str, Value] | None:
    """Return ``key: scalar`` lines as a mapping; None for anything deeper."""
    found: dict[str, Value] = {}
    for line in lines:
        m = _KEY_LINE.fullmatch(line)
        if m is None or m[1] in found or m[2] is None:
            return None
        value = scalar(m[2].rstrip(" "))
        if value is None:
            return None
        found[m[1]] = value
    return found


def _sequence(lines: list[str], indent: int) -> list[Any] | None:
    """Return ``- item`` lines (scalars, or one-level mappings) as a list."""
    items: list[Any] = []
    dash = " " * indent + "- "
    inner = indent + 2
    n = 0
    while n < len(lines):
        line = lines[n]
        n += 1
        if not line.startswith(dash):
            return None
        text = line[inner:].rstrip(" ")
        if _KEY_LINE.fullmatch(text) is None:
            value = scalar(text)
            if value is None:
                return None
            items.append(value)
            continue
        group = [text]
        while n < len(lines) and _indent(lines[n]) == inner:
            group.append(lines[n][inner:])
            n += 1
        mapping = _mapping(group)
        if mapping is None:
            return None
        items.append(mapping)
    return items
