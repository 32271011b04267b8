"""What a name may hold: any text a person can be called, typed as they typed it, on one line.

A name is kept as typed, whatever YAML would make of it (``No``, ``0123``, ``- Bob``): the writer
quotes it where it must (``crm.edit.yamltext``). Spaces around it are not part of it, as every
reader trims them. What a name may not hold is a line break or another control character (a tab
is fine): ``crm new``, ``crm set`` and ``crm import`` refuse such a name with the reason.
"""

from __future__ import annotations

import unicodedata

# The keys that hold a name.
NAME_KEYS = ("name", "first_name", "last_name")
_BREAKS = frozenset("\n\r\x0b\x0c\x85\u2028\u2029")


def name_problem(key: str, value: str) -> str | None:
    """Return why ``value`` cannot be the name ``key`` (None when it can): a name is one line
    of text, with no control character but a tab (spaces around it are not part of it)."""
    bad = {c: what for c in value.strip() if (what := _not_in_a_name(c))}
    if not bad:
        return None
    c, what = next(iter(bad.items()))
    # The name is quoted on one line: what it may not hold is shown as its escape.
    shown = "".join(
        ch.encode("unicode_escape").decode() if ch in bad else ch for ch in value.strip()
    )
    return (
        f"{key} '{shown}' holds {what} (U+{ord(c):04X}): "
        "a name is one line of text, without control characters"
    )


def _not_in_a_name(c: str) -> str | None:
    """Return what the character ``c`` is when a name may not hold it, else None."""
    if c in _BREAKS:
        return "a line break"
    if c != "\t" and unicodedata.category(c) == "Cc":
        return "a control character"
    if unicodedata.category(c) == "Cs" or c in ("\ufffe", "\uffff"):
        return "a character that is not text"
    return None
