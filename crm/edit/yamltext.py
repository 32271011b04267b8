"""One-line YAML values as text: write a value so every parser reads it back, and read one back.

The front matter is edited as lines (``crm.edit.lines``); these helpers turn a value into the
token that goes after ``key:`` and split an existing line into its token and trailing comment.
"""

from __future__ import annotations

import re
import unicodedata

from crm.vault.reader import NULLS
from crm.vault.syntax import not_text

_INDICATORS = set("?:,[]{}#&*!|>'\"%@`")
_NONCHARS = ("\ufeff", "\ufffe", "\uffff")


def render_scalar(value: str, *, typed: bool = False, flow: bool = False) -> str:
    """Return ``value`` as YAML: plain when every parser reads it back as that text, else quoted.

    ``typed`` values (dates, cadences, numbers) may stay plain where YAML 1.1 would see a
    number or a time; ``flow`` values also avoid ``,[]{}`` and ``?:`` (which end PyYAML's plain ones).
    """
    plain = (
        value
        and value == value.strip()
        and not _unsafe(value)
        and value[0] not in _INDICATORS
        and not re.match(r"-(\s|$)", value)
        and ": " not in value
        and " #" not in value
        and not value.endswith(":")
        and not (flow and any(c in value for c in ",[]{}?:"))
        and (typed or not not_text(value))
        and value not in NULLS
    )
    return value if plain else double_quoted(value)


def _unsafe(value: str) -> bool:
    """Return True when ``value`` holds a character YAML cannot carry raw on one line."""
    return any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or c in _NONCHARS for c in value)


def double_quoted(value: str) -> str:
    """Return ``value`` as a YAML double-quoted scalar, escaping only what must be escaped."""
    out = []
    for c in value:
        code = ord(c)
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\t":
            out.append("\\t")
        elif not _unsafe(c):
            out.append(c)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def single_quoted(value: str) -> str | None:
    """Return ``value`` as a YAML single-quoted scalar, or None when it needs escapes."""
    return None if _unsafe(value) else "'" + value.replace("'", "''") + "'"


def unquote(token: str) -> str:
    """Return the text a one-line YAML scalar token stands for."""
    if len(token) >= 2 and token[0] == token[-1] == '"':
        return _ESCAPE.sub(_unescaped, token[1:-1])
    if len(token) >= 2 and token[0] == token[-1] == "'":
        return token[1:-1].replace("''", "'")
    return token


# YAML's double-quoted escapes: \xXX, \uXXXX, \UXXXXXXXX and the one-letter ones.
_ESCAPE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))", re.DOTALL)
_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
    "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0",
    "L": "\u2028", "P": "\u2029",
}  # fmt: skip


def _unescaped(m: re.Match[str]) -> str:
    code = m[1] or m[2] or m[3]
    if code is None:
        return _ESCAPES.get(m[4], m[0])
    return chr(int(code, 16)) if int(code, 16) <= 0x10FFFF else m[0]


def split_value(rest: str) -> tuple[str, str]:
    """Split what follows ``key:`` into the value token and the rest (spaces, comment)."""
    if not rest or rest[0] == "#":
        return "", rest
    quote: str | None = None
    depth = 0
    i = 0
    while i < len(rest):
        c = rest[i]
        if quote == '"' and c == "\\":
            i += 2
            continue
        if quote:
            if c == quote:
                if quote == "'" and rest[i + 1 : i + 2] == "'":
                    i += 2
                    continue
                quote = None
                if depth == 0:
                    return rest[: i + 1], rest[i + 1 :]
        elif c in "\"'" and (i == 0 or depth > 0):
            quote = c
        elif c in "[{":
            depth += 1
        elif c in "]}" and depth:
            depth -= 1
            if depth == 0:
                return rest[: i + 1], rest[i + 1 :]
        elif depth == 0 and c == "#" and rest[i - 1] in " \t":
            break
        i += 1
    value = rest[:i].rstrip()
    return value, rest[len(value) :]


def flow_items(token: str) -> list[str]:
    """Return the item tokens of a one-line flow list ``[a, "b", 'c']``."""
    items, current, quote = [], "", None
    for c in token[1:-1]:
        if quote:
            current += c
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
            current += c
        elif c == ",":
            items.append(current.strip())
            current = ""
        else:
            current += c
    items.append(current.strip())
    return [item for item in items if item]


def flow_list(template: str, tokens: list[str]) -> str:
    """Return a flow list of ``tokens`` written in the spacing style of ``template``."""
    inner = template[1:-1]
    sep = "," if re.search(r",\S", inner) and not re.search(r",\s", inner) else ", "
    pad = " " if inner.startswith(" ") and inner.strip() else ""
    return "[" + pad + sep.join(tokens) + pad + "]" if tokens else "[]"
