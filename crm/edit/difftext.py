"""What an edit changed, as lines: the unified diff it prints and the lines it added.

Both compare only what lies between the lines the two texts share at their start and end, so
an edit of a huge file, or of one with thousands of identical lines (a pasted mail's blank
lines), costs the size of the edit, not the square of the file (difflib is quadratic in the
lines it compares).
"""

from __future__ import annotations

import difflib
import re

_HUNK = re.compile(r"@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def _middle(a: list[str], b: list[str], keep: int) -> tuple[int, list[str], list[str]]:
    """Return where the lines that differ start (less ``keep`` lines of context), and the lines
    of ``a`` and ``b`` from there to the end of what differs (plus ``keep``)."""
    short = min(len(a), len(b))
    head = 0
    while head < short and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < short - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    start = max(0, head - keep)
    cut = max(0, tail - keep)
    return start, a[start : len(a) - cut], b[start : len(b) - cut]


def unified(a: list[str], b: list[str], names: tuple[str, str], context: int) -> str:
    """Return a unified diff of lines ``a`` and ``b``, in ``difflib.unified_diff``'s format.

    Only the lines between the shared head and tail are compared, so where a change could sit
    in more than one place (a line added to a run of equal lines), its hunks may align
    differently from difflib's diff of the whole texts: another diff, equally valid (applied
    to ``a``, it gives ``b``).
    """
    start, a_mid, b_mid = _middle(a, b, context)
    out = []
    for line in difflib.unified_diff(
        a_mid, b_mid, fromfile=names[0], tofile=names[1], n=context, lineterm=""
    ):
        if start and (m := _HUNK.fullmatch(line)):
            line = f"@@ -{int(m[1]) + start}{m[2] or ''} +{int(m[3]) + start}{m[4] or ''} @@"
        out.append(line + "\n")
    return "".join(out)


def added(before: list[str], after: list[str]) -> list[tuple[int, str]]:
    """Return the 1-based line number and text of every line of ``after`` added or changed."""
    start, a_mid, b_mid = _middle(before, after, 0)
    matcher = difflib.SequenceMatcher(None, a_mid, b_mid, autojunk=False)
    return [
        (start + n + 1, b_mid[n])
        for tag, _, _, j1, j2 in matcher.get_opcodes()
        if tag in ("replace", "insert")
        for n in range(j1, j2)
    ]
