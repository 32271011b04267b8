"""Text from the files shown where it cannot drive a terminal: control characters as escapes.

A name written as ``"\\e]0;pwned\\a"`` or ``"\\e[2J"`` would retitle the window or clear the
screen where it is printed, a bidi override would turn the rest of the line around, and a line
break inside a table cell would fake a row. ``printable`` shows each as its escape (``\\x1b``,
``\\u202e``); ``one_line`` also the line breaks and tabs, for a cell. No imports but ``re``:
every command's output passes here (``crm.cli.screen``).
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the invisible bidi controls; ``_CONTROL`` lets tab and
# newline pass (a stream's own layout), ``_IN_A_CELL`` does not.
_CONTROLS = "\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f{_CONTROLS}]")
_IN_A_CELL = re.compile(f"[\x00-\x1f{_CONTROLS}]")
# What JSON (ensure_ascii off) would leave raw but a terminal would act on: C1 and bidi.
_RAW_IN_JSON = re.compile(f"[{_CONTROLS}]")


def _escape(m: re.Match[str]) -> str:
    return m[0].encode("unicode_escape").decode("ascii")


def printable(text: str) -> str:
    """Return ``text`` with every control character but tab and newline as its escape."""
    return _CONTROL.sub(_escape, text) if _CONTROL.search(text) else text


def one_line(text: str) -> str:
    """Return ``text`` with every control character as its escape, line breaks and tabs too."""
    return _IN_A_CELL.sub(_escape, text) if _IN_A_CELL.search(text) else text


def json_safe(encoded: str) -> str:
    """Return JSON text with C1 and bidi controls written as ``\\uXXXX`` (the same data)."""
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m[0]):04x}", encoded)
