"""An array of tables in ``crm.toml`` (``[[closures]]``, ``[[occasions]]``), read table by table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def each_table(
    value: Any,
    name: str,
    keys: tuple[str, ...],
    make: Callable[[dict[str, Any], str, Callable[..., None]], T | None],
    bad: Callable[..., None],
    hint: str,
) -> list[tuple[int, T]]:
    """Return what ``make`` reads from each ``[[name]]`` table, with the table's number (from 1);
    problems name the table by number (``closures[2].to: ...``), so that ``crm check`` can point
    at its line."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        bad(f"{name} must be tables: [[{name}]] with {hint}")
        return []
    found = []
    for n, tab in enumerate(value, start=1):
        where = f"{name}[{n}]"
        for key in tab:
            if key not in keys:
                bad(f"{where}.{key}: unknown key, ignored (known: {', '.join(keys)})", "warning")
        made = make(tab, where, bad)
        if made is not None:
            found.append((n, made))
    return found
